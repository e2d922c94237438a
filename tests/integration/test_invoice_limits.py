"""Supplier invoices never pay for goods twice (issue 12, row 3): the three-way match counts what is already
invoiced, each PO line's ``invoiced`` counter moves in the same transaction as the MATCHED invoice (conditioned
on invoiced <= received - returned), settlement is conditioned on settled <= invoiced, a DISPUTED invoice
consumes nothing and cannot be settled, and units already invoiced cannot be returned to the supplier."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.factories import AdminApi, eur, supplied_sku, uid

pytestmark = pytest.mark.integration


@pytest.fixture
def received_po(stack: Any, api: AdminApi) -> dict[str, Any]:
    """A submitted PO of 10 units at 600 of one SKU, all 10 received."""
    s = supplied_sku(stack, api, min_order_quantity=1)
    sku, wh, sid = s["sku"], s["wh"], s["supplier"]
    po_id = api("POST", "/admin/purchase-orders", 201, json={
        "supplier_id": sid, "warehouse_id": wh, "lines": [{"sku": sku, "quantity": 10}]})["po_id"]
    api("POST", f"/admin/purchase-orders/{po_id}/submit")
    api("POST", f"/admin/purchase-orders/{po_id}/receipts",
        json={"receipt_id": f"dn-{uid()}", "lines": [{"sku": sku, "quantity": 10}]})
    return {"po_id": po_id, "sku": sku, "wh": wh}


def invoice(api: AdminApi, po_id: str, invoice_id: str, sku: str, quantity: int, expect: Any = 200) -> Any:
    return api("POST", f"/admin/purchase-orders/{po_id}/invoices", expect, json={
        "invoice_id": invoice_id, "lines": [{"sku": sku, "quantity": quantity, "unit_price": eur(600)}]})


def audit_po(api: AdminApi, po_id: str) -> dict[str, Any]:
    """The PO-level money invariants: per line invoiced <= received - returned; settled <= invoiced; the
    counters equal what the counted invoices say (all but DISPUTED ones and MATCHED ones from before the counters)."""
    po = api("GET", f"/admin/purchase-orders/{po_id}")
    counted = [i for i in po["invoices"] if i.get("counted")]  # MATCHED ones are counted when recorded
    assert all(i["status"] == "MATCHED" for i in po["invoices"] if i["status"] != "DISPUTED" and not i.get("counted"))
    for line in po["lines"]:
        assert 0 <= line["invoiced"] <= line["received"] - line["returned"], line
        assert line["invoiced"] == sum(ln["quantity"] for i in counted for ln in i["lines"] if ln["sku"] == line["sku"])
    invoiced = sum(i["invoice_total"]["amount"] for i in counted)
    settled = sum(i["invoice_total"]["amount"] for i in po["invoices"] if i["status"] == "SETTLED")
    assert po["invoiced_amount"] == eur(invoiced) and po["settled_amount"] == eur(settled)
    assert settled <= invoiced
    return po


def test_the_same_goods_invoiced_twice_are_paid_once(api, received_po):
    po_id, sku = received_po["po_id"], received_po["sku"]
    first = invoice(api, po_id, "INV-1", sku, 10)
    second = invoice(api, po_id, "INV-2", sku, 10)
    assert first["status"] == "MATCHED"
    assert second["status"] == "DISPUTED"
    assert [(d["kind"], d["expected"], d["invoiced"]) for d in second["differences"]] == [("quantity", 0, 10)]
    assert api("POST", f"/admin/purchase-orders/{po_id}/invoices/INV-1/settle")["status"] == "SETTLED"
    refused = api("POST", f"/admin/purchase-orders/{po_id}/invoices/INV-2/settle", 409)
    assert refused["error"]["code"] == "invoice_disputed"
    po = audit_po(api, po_id)
    assert po["lines"][0]["invoiced"] == 10 and po["settled_amount"] == eur(6000)
    # the replay of the first invoice changes nothing
    assert invoice(api, po_id, "INV-1", sku, 10)["replayed"] is True
    assert audit_po(api, po_id)["lines"][0]["invoiced"] == 10


def test_partial_invoices_add_up_to_what_was_received(api, received_po):
    po_id, sku = received_po["po_id"], received_po["sku"]
    assert invoice(api, po_id, "INV-a", sku, 4)["status"] == "DISPUTED"  # 4 of 10 invoiced: a quantity difference
    # a disputed invoice consumed nothing: the full quantity still matches
    assert invoice(api, po_id, "INV-b", sku, 10)["status"] == "MATCHED"
    assert invoice(api, po_id, "INV-c", sku, 1)["status"] == "DISPUTED"
    audit_po(api, po_id)


@pytest.mark.audited
@pytest.mark.xdist_group("concurrency")
def test_parallel_identical_invoices_end_one_matched_one_disputed(api, received_po):
    po_id, sku = received_po["po_id"], received_po["sku"]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: invoice(api, po_id, f"INV-P{i}", sku, 10), range(4)))
    assert sorted(r["status"] for r in results) == ["DISPUTED", "DISPUTED", "DISPUTED", "MATCHED"]
    with ThreadPoolExecutor(4) as pool:
        settles = list(pool.map(lambda i: api.stack.request(
            "POST", f"/admin/purchase-orders/{po_id}/invoices/INV-P{i}/settle", token=api.token), range(4)))
    assert sorted(r.status for r in settles) == [200, 409, 409, 409]
    assert audit_po(api, po_id)["settled_amount"] == eur(6000)


def test_invoiced_units_cannot_go_back_to_the_supplier(api, received_po):
    po_id, sku = received_po["po_id"], received_po["sku"]
    invoice(api, po_id, "INV-1", sku, 10)
    refused = api("POST", f"/admin/purchase-orders/{po_id}/returns", 409, json={
        "return_id": "rn-late", "reason": "damaged", "lines": [{"sku": sku, "quantity": 2}]})
    assert refused["error"]["details"]["invoiced"] == 10
    assert refused["error"]["details"]["field"] == "body.lines.0.quantity"
    audit_po(api, po_id)


def test_returns_before_invoicing_lower_what_can_be_invoiced(api, received_po):
    po_id, sku = received_po["po_id"], received_po["sku"]
    api("POST", f"/admin/purchase-orders/{po_id}/returns", json={
        "return_id": "rn-1", "reason": "damaged", "lines": [{"sku": sku, "quantity": 3}]})
    assert invoice(api, po_id, "INV-10", sku, 10)["status"] == "DISPUTED"
    assert invoice(api, po_id, "INV-7", sku, 7)["status"] == "MATCHED"
    assert api("POST", f"/admin/purchase-orders/{po_id}/returns", 409, json={
        "return_id": "rn-2", "reason": "damaged", "lines": [{"sku": sku, "quantity": 1}]})
    audit_po(api, po_id)


@pytest.mark.audited
@pytest.mark.xdist_group("concurrency")
def test_one_invoice_settled_in_parallel_is_paid_once(api, received_po):
    po_id, sku = received_po["po_id"], received_po["sku"]
    invoice(api, po_id, "INV-1", sku, 10)
    with ThreadPoolExecutor(4) as pool:
        settles = list(pool.map(lambda _: api.stack.request(
            "POST", f"/admin/purchase-orders/{po_id}/invoices/INV-1/settle", token=api.token), range(4)))
    assert [r.status for r in settles] == [200] * 4, [r.body for r in settles]
    assert all(r.json()["status"] == "SETTLED" for r in settles)
    assert audit_po(api, po_id)["settled_amount"] == eur(6000)


def test_invoices_matched_before_the_counters_are_counted_when_settled(stack, api, received_po):
    """Old data: two MATCHED invoices for the same goods, recorded before the counters existed. Settling the
    first counts it; the second is refused (its goods are invoiced already)."""
    from shop.dynamo import to_item

    po_id, sku = received_po["po_id"], received_po["sku"]
    table = stack.function_env("ProcurementFunction")["PROCUREMENT_TABLE"]
    for invoice_id in ("OLD-1", "OLD-2"):
        stack.client("dynamodb").put_item(TableName=table, Item=to_item({
            "pk": f"PO#{po_id}", "sk": f"INVOICE#{invoice_id}", "invoice_id": invoice_id, "po_id": po_id,
            "lines": [{"sku": sku, "quantity": 10, "unit_price": eur(600)}], "status": "MATCHED",
            "differences": [], "invoice_total": eur(6000), "expected_total": eur(6000),
            "recorded_at": "2026-01-01T00:00:00Z"}))
    assert api("POST", f"/admin/purchase-orders/{po_id}/invoices/OLD-1/settle")["status"] == "SETTLED"
    refused = api("POST", f"/admin/purchase-orders/{po_id}/invoices/OLD-2/settle", 409)
    assert refused["error"]["code"] == "invoice_over_limit"
    po = audit_po(api, po_id)
    assert po["lines"][0]["invoiced"] == 10 and po["settled_amount"] == eur(6000)
