"""Procurement against the deployed stack: suppliers and contracts, every purchase order state change and
refusal, receiving, returns to suppliers, three-way invoice matching, automatic restock (one PO however many
triggers race), stock adjustments and the movement ledger (on-hand always equals the sum of its movements)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoplocal.stack import ROOT
from tests.factories import CONTRACT_WINDOW, AdminApi, eur, make_product, supplied_sku, uid

pytestmark = pytest.mark.integration
TODAY = datetime.now(UTC).date()
WINDOW = CONTRACT_WINDOW


@pytest.fixture
def setup(stack: Any, api: AdminApi) -> dict[str, Any]:
    """A stocked SKU in one warehouse, a supplier with a valid contract for it (MOQ 5, 600 per unit)."""
    return supplied_sku(stack, api, min_order_quantity=5)


def level(api: AdminApi, sku: str, wh: str) -> dict[str, Any]:
    return next(lv for lv in api("GET", f"/admin/inventory/{sku}")["levels"] if lv["warehouse_id"] == wh)


def new_po(api: AdminApi, s: dict[str, Any], quantity: int = 10, **line: Any) -> dict[str, Any]:
    return api("POST", "/admin/purchase-orders", 201, json={
        "supplier_id": s["supplier"], "warehouse_id": s["wh"], "lines": [{"sku": s["sku"], "quantity": quantity,
                                                                          **line}]})


def receive(api: AdminApi, po_id: str, sku: str, qty: int, rid: str | None = None, expect: Any = 200) -> Any:
    return api("POST", f"/admin/purchase-orders/{po_id}/receipts", expect,
               json={"receipt_id": rid or f"dn-{uid()}", "lines": [{"sku": sku, "quantity": qty}]})


def ledger_ok(stack: Any, sku: str, wh: str) -> tuple[int, int]:
    from shop.config import function_environment
    from shop.inventory import repository

    with function_environment(stack.function_env("InventoryFunction")):
        current = repository.get_stock(sku, wh)
        assert current is not None
        return current.on_hand, repository.ledger_total(sku, wh)


# ------------------------------------------------------------------ suppliers and contracts
def test_suppliers_and_contracts_are_validated(stack, api, setup):
    sid = setup["supplier"]
    assert sid in {s["supplier_id"] for s in api("GET", "/admin/suppliers")["items"]}
    listed = api("GET", "/admin/contracts", query={"sku": setup["sku"]})["items"]
    assert [(c["contract_id"], c["valid_today"]) for c in listed] == [("main", True)]
    body = {"sku": setup["sku"], "unit_cost": eur(500), "lead_time_days": 1, **WINDOW}
    assert api("PUT", f"/admin/suppliers/nobody-{uid()}/contracts/x", 404, json=body)
    wrong = api("PUT", f"/admin/suppliers/{sid}/contracts/usd", 422, json={**body, "unit_cost": {"amount": 5,
                                                                                                "currency": "USD"}})
    assert wrong["error"]["details"]["fields"][0]["field"] == "body.unit_cost.currency"
    backwards = api("PUT", f"/admin/suppliers/{sid}/contracts/bw", 422, json={
        **body, "valid_from": str(TODAY), "valid_to": str(TODAY - timedelta(days=1))})
    assert "valid_to" in json.dumps(backwards)
    assert api("PUT", f"/admin/suppliers/{sid}", 422, json={"name": "x", "email": "not-an-email", "currency": "EUR"})
    shopper = stack.user()
    assert stack.request("GET", "/admin/suppliers", token=shopper.id_token).status == 403
    assert stack.request("POST", "/admin/purchase-orders", token=shopper.id_token, json={}).status == 403


# ------------------------------------------------------------------ purchase order life
def test_manual_po_takes_the_contract_price_and_enforces_its_minimum(api, setup):
    po = new_po(api, setup, 10)
    assert po["status"] == "DRAFT" and po["auto"] is False
    assert po["lines"][0]["unit_cost"] == eur(600) and po["lines"][0]["contract_id"] == "main"
    assert po["total"] == eur(6000) and po["expected_at"]
    small = api("POST", "/admin/purchase-orders", 422, json={
        "supplier_id": setup["supplier"], "warehouse_id": setup["wh"], "lines": [{"sku": setup["sku"], "quantity": 2}]})
    assert small["error"]["details"]["fields"][0]["field"] == "body.lines.0.quantity"
    other = f"OTHER-{uid().upper()}"
    no_price = api("POST", "/admin/purchase-orders", 422, json={
        "supplier_id": setup["supplier"], "warehouse_id": setup["wh"], "lines": [{"sku": other, "quantity": 2}]})
    assert no_price["error"]["details"]["fields"][0]["field"] == "body.lines.0.unit_cost"
    assert api("POST", "/admin/purchase-orders", 422, json={
        "supplier_id": setup["supplier"], "warehouse_id": f"wh-{uid()}", "lines": [{"sku": setup["sku"],
                                                                                   "quantity": 5}]})
    twice = api("POST", "/admin/purchase-orders", 422, json={
        "supplier_id": setup["supplier"], "warehouse_id": setup["wh"],
        "lines": [{"sku": setup["sku"], "quantity": 5}, {"sku": setup["sku"], "quantity": 6}]})
    assert "once" in json.dumps(twice)
    assert po["po_id"] in {p["po_id"] for p in api("GET", "/admin/purchase-orders",
                                                    query={"status": "DRAFT", "limit": "100"})["items"]}
    assert api("GET", "/admin/purchase-orders/po_00000000000000000000", 404)


def test_every_state_change_and_refusal(stack, api, setup):
    sku, wh = setup["sku"], setup["wh"]
    po = new_po(api, setup, 10)
    pid = po["po_id"]
    assert receive(api, pid, sku, 1, expect=409)["error"]["details"]["status"] == "DRAFT"  # not submitted yet
    assert api("POST", f"/admin/purchase-orders/{pid}/close", 409)

    assert api("POST", f"/admin/purchase-orders/{pid}/submit")["status"] == "SUBMITTED"
    assert api("POST", f"/admin/purchase-orders/{pid}/submit")["status"] == "SUBMITTED"  # idempotent
    assert level(api, sku, wh)["incoming"] == 10
    unknown = api("POST", f"/admin/purchase-orders/{pid}/receipts", 422,
                  json={"receipt_id": "dn-x1", "lines": [{"sku": "NOT-ON-PO", "quantity": 1}]})
    assert unknown["error"]["details"]["fields"][0]["field"] == "body.lines.0.sku"
    over = receive(api, pid, sku, 11, expect=409)
    assert over["error"]["code"] == "over_receipt" and over["error"]["details"]["lines"][0]["outstanding"] == 10
    part = receive(api, pid, sku, 4, "dn-a")
    assert part["status"] == "PARTIALLY_RECEIVED" and part["lines"][0]["outstanding"] == 6
    assert (level(api, sku, wh)["on_hand"], level(api, sku, wh)["incoming"]) == (14, 6)
    other = receive(api, pid, sku, 5, "dn-a", expect=409)  # the same delivery note with other lines
    assert "other lines" in other["error"]["message"]
    assert api("POST", f"/admin/purchase-orders/{pid}/cancel", 409)  # goods arrived: close, not cancel

    closed = api("POST", f"/admin/purchase-orders/{pid}/close")
    assert closed["status"] == "CLOSED"
    assert (level(api, sku, wh)["on_hand"], level(api, sku, wh)["incoming"]) == (14, 0)
    assert receive(api, pid, sku, 1, expect=409)
    assert api("POST", f"/admin/purchase-orders/{pid}/submit", 409)
    timeline = [e["status"] for e in api("GET", f"/admin/purchase-orders/{pid}")["timeline"]]
    assert timeline == ["DRAFT", "SUBMITTED", "PARTIALLY_RECEIVED", "CLOSED"]

    cancelled = new_po(api, setup, 5)
    api("POST", f"/admin/purchase-orders/{cancelled['po_id']}/submit")
    assert level(api, sku, wh)["incoming"] == 5
    assert api("POST", f"/admin/purchase-orders/{cancelled['po_id']}/cancel")["status"] == "CANCELLED"
    assert level(api, sku, wh)["incoming"] == 0
    assert ledger_ok(stack, sku, wh) == (14, 14)


def test_returns_to_the_supplier(stack, api, setup):
    sku, wh = setup["sku"], setup["wh"]
    pid = new_po(api, setup, 6)["po_id"]
    api("POST", f"/admin/purchase-orders/{pid}/submit")
    assert api("POST", f"/admin/purchase-orders/{pid}/returns", 409, json={
        "return_id": "rn-early", "reason": "damaged", "lines": [{"sku": sku, "quantity": 1}]})  # nothing received
    receive(api, pid, sku, 6, "dn-r")
    too_many = api("POST", f"/admin/purchase-orders/{pid}/returns", 409, json={
        "return_id": "rn-1", "reason": "damaged", "lines": [{"sku": sku, "quantity": 7}]})
    assert too_many["error"]["details"]["received_net"] == 6
    back = api("POST", f"/admin/purchase-orders/{pid}/returns", json={
        "return_id": "rn-1", "reason": "damaged", "note": "crushed box", "lines": [{"sku": sku, "quantity": 2}]})
    assert back["lines"][0]["returned"] == 2 and back["lines"][0]["received_net"] == 4
    assert level(api, sku, wh)["on_hand"] == 14
    replay = api("POST", f"/admin/purchase-orders/{pid}/returns", json={
        "return_id": "rn-1", "reason": "damaged", "lines": [{"sku": sku, "quantity": 2}]})
    assert replay["replayed"] is True and level(api, sku, wh)["on_hand"] == 14
    assert api("POST", f"/admin/purchase-orders/{pid}/returns", 422, json={
        "return_id": "rn-2", "reason": "broken", "lines": [{"sku": sku, "quantity": 1}]})
    kinds = [m["kind"] for m in api("GET", f"/admin/inventory/{sku}/{wh}/movements")["items"]]
    assert kinds.count("supplier_return") == 1 and kinds.count("receipt") == 1
    assert ledger_ok(stack, sku, wh) == (14, 14)


def test_invoices_match_or_are_disputed_and_only_matched_ones_settle(api, setup):
    sku = setup["sku"]
    pid = new_po(api, setup, 10)["po_id"]
    api("POST", f"/admin/purchase-orders/{pid}/submit")
    assert api("POST", f"/admin/purchase-orders/{pid}/invoices", 409, json={
        "invoice_id": "inv-early", "lines": [{"sku": sku, "quantity": 10, "unit_price": eur(600)}]})
    receive(api, pid, sku, 8)
    disputed = api("POST", f"/admin/purchase-orders/{pid}/invoices", json={
        "invoice_id": "inv-1", "lines": [{"sku": sku, "quantity": 10, "unit_price": eur(650)}]})
    assert disputed["status"] == "DISPUTED"
    assert sorted(d["kind"] for d in disputed["differences"]) == ["price", "quantity"]
    refused = api("POST", f"/admin/purchase-orders/{pid}/invoices/inv-1/settle", 409)
    assert refused["error"]["code"] == "invoice_disputed" and len(refused["error"]["details"]["differences"]) == 2
    assert api("POST", f"/admin/purchase-orders/{pid}/invoices", 409, json={
        "invoice_id": "inv-1", "lines": [{"sku": sku, "quantity": 8, "unit_price": eur(600)}]})
    within = api("POST", f"/admin/purchase-orders/{pid}/invoices", json={
        "invoice_id": "inv-2", "lines": [{"sku": sku, "quantity": 8, "unit_price": eur(606)}]})  # 1 % tolerance
    assert within["status"] == "MATCHED" and within["expected_total"] == eur(4800)
    assert api("POST", f"/admin/purchase-orders/{pid}/invoices/inv-2/settle")["status"] == "SETTLED"
    assert api("POST", f"/admin/purchase-orders/{pid}/invoices/nope/settle", 404)
    assert [i["invoice_id"] for i in api("GET", f"/admin/purchase-orders/{pid}")["invoices"]] == ["inv-1", "inv-2"]


# ------------------------------------------------------------------ automatic restock
def stock_low_event(sku: str, wh: str) -> dict[str, Any]:
    sample = json.loads((ROOT / "events" / "procurement_restock" / "stock_low.json").read_text())
    return {**sample, "detail": {**sample["detail"], "sku": sku, "warehouse_id": wh}}


def test_concurrent_restock_triggers_create_exactly_one_draft(stack, api, setup):
    sku, wh = setup["sku"], setup["wh"]
    assert stack.invoke("RestockFunction", stock_low_event(sku, wh))["created"] is False  # not low yet
    api("PUT", f"/admin/inventory/{sku}/{wh}", json={"on_hand": 10, "reorder_point": 10, "reorder_quantity": 3})
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda _: stack.invoke("RestockFunction", stock_low_event(sku, wh)), range(10)))
    stack.drain_async()  # and the StockLow the PUT itself published
    created = [r for r in results if r["created"]]
    assert len({r["po_id"] for r in results}) == 1, results
    assert len(created) <= 1
    drafts = [p for p in api("GET", "/admin/purchase-orders", query={"status": "DRAFT", "limit": "100"})["items"]
              if p["lines"][0]["sku"] == sku and p["auto"]]
    assert len(drafts) == 1
    [draft] = drafts
    assert draft["lines"][0]["quantity"] == 5  # max(reorder quantity 3, contract minimum 5)
    # while it is open no second one; once received the level can be restocked again
    api("POST", f"/admin/purchase-orders/{draft['po_id']}/submit")
    assert stack.invoke("RestockFunction", stock_low_event(sku, wh))["created"] is False  # 10 + 5 incoming > 10
    receive(api, draft["po_id"], sku, 5)
    api("POST", f"/admin/inventory/{sku}/{wh}/adjustments", json={"delta": -6, "reason": "damaged"})
    stack.drain_async()
    again = [p for p in api("GET", "/admin/purchase-orders", query={"status": "DRAFT", "limit": "100"})["items"]
             if p["lines"][0]["sku"] == sku and p["auto"]]
    assert len(again) == 1 and again[0]["po_id"] != draft["po_id"]


def test_restock_without_a_valid_contract_orders_nothing(stack, api, admin):
    product = make_product(stack, admin.id_token, stock={"a": 1})
    sku, wh = product.skus[0], product.warehouses[0]
    api("PUT", f"/admin/inventory/{sku}/{wh}", json={"on_hand": 1, "reorder_point": 2, "reorder_quantity": 4})
    result = stack.invoke("RestockFunction", stock_low_event(sku, wh))
    assert result == {"created": False, "reason": f"no valid supplier contract for {sku}", "po_id": None}


# ------------------------------------------------------------------ adjustments and the ledger
def test_adjustments_are_reasoned_and_never_take_reserved_stock(stack, api, setup):
    sku, wh = setup["sku"], setup["wh"]
    assert api("POST", f"/admin/inventory/{sku}/{wh}/adjustments", 422, json={"delta": 0, "reason": "lost"})
    assert api("POST", f"/admin/inventory/{sku}/{wh}/adjustments", 422, json={"delta": 1, "reason": "magic"})
    stack.client("dynamodb").update_item(  # an order holds 7 of the 10
        TableName=stack.physical_id("InventoryTable"),
        Key={"pk": {"S": f"SKU#{sku}"}, "sk": {"S": f"WH#{wh}"}},
        UpdateExpression="SET available = available - :q, reserved = reserved + :q",
        ExpressionAttributeValues={":q": {"N": "7"}})
    refused = api("POST", f"/admin/inventory/{sku}/{wh}/adjustments", 409, json={"delta": -4, "reason": "lost"})
    assert refused["error"]["details"]["available"] == 3
    ok = api("POST", f"/admin/inventory/{sku}/{wh}/adjustments", json={"delta": -3, "reason": "lost",
                                                                        "note": "shelf collapsed"})
    assert (ok["on_hand"], ok["available"], ok["reserved"]) == (7, 0, 7)
    found = api("POST", f"/admin/inventory/{sku}/{wh}/adjustments", json={"delta": 2, "reason": "found"})
    assert found["on_hand"] == 9
    moves = api("GET", f"/admin/inventory/{sku}/{wh}/movements", query={"limit": "2"})
    assert [m["delta"] for m in moves["items"]] == [2, -3] and moves["next_cursor"]
    rest = api("GET", f"/admin/inventory/{sku}/{wh}/movements", query={"cursor": moves["next_cursor"]})
    assert [m["kind"] for m in rest["items"]] == ["count"]
    assert ledger_ok(stack, sku, wh) == (9, 9)


OPS = st.lists(st.one_of(
    st.tuples(st.just("count"), st.integers(0, 30)),
    st.tuples(st.just("adjust"), st.integers(-8, 8)),
    st.tuples(st.just("order"), st.integers(1, 12)),
    st.tuples(st.just("receive"), st.integers(1, 12)),
    st.tuples(st.just("return"), st.integers(1, 5)),
), min_size=1, max_size=8)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_on_hand_always_equals_the_sum_of_its_movements(stack, api, setup, ops):
    """Any sequence of counts, adjustments, purchase orders received and returns, refused or not: on_hand ==
    sum of movements and on_hand == available + reserved, with nothing negative."""
    from shop.config import function_environment
    from shop.errors import DomainError
    from shop.inventory import service as inventory
    from shop.inventory.models import AdjustmentIn, StockIn
    from shop.procurement import service as procurement
    from shop.procurement.models import PurchaseOrderIn, ReceiptIn, SupplierReturnIn

    sku = setup["sku"]
    wh = f"wh-p-{uid()}"
    api("PUT", f"/admin/warehouses/{wh}", json={"name": wh, "country": "DE", "zone": "domestic"})
    open_po: dict[str, Any] = {}
    env = {**stack.function_env("InventoryFunction"), **stack.function_env("ProcurementFunction")}
    with function_environment(env):
        inventory.set_stock(sku, wh, StockIn(on_hand=5))
        for op, n in ops:
            try:
                if op == "count":
                    inventory.set_stock(sku, wh, StockIn(on_hand=n))
                elif op == "adjust" and n:
                    inventory.adjust_stock(sku, wh, AdjustmentIn(delta=n, reason="count_correction"))
                elif op == "order":
                    po = procurement.create_po(PurchaseOrderIn.model_validate(
                        {"supplier_id": setup["supplier"], "warehouse_id": wh,
                         "lines": [{"sku": sku, "quantity": max(n, 5)}]}))
                    procurement.submit(po["po_id"])
                    open_po.update(po)
                elif op == "receive" and open_po:
                    procurement.receive(open_po["po_id"], ReceiptIn(receipt_id=f"dn-{uid()}",
                                                                    lines=[{"sku": sku, "quantity": n}]))
                elif op == "return" and open_po:
                    procurement.return_to_supplier(open_po["po_id"], SupplierReturnIn(
                        return_id=f"rn-{uid()}", reason="damaged", lines=[{"sku": sku, "quantity": n}]))
            except DomainError:
                pass  # a refusal (over-receipt, nothing to return ...) must leave everything consistent
    current = level(api, sku, wh)
    on_hand, total = ledger_ok(stack, sku, wh)
    assert on_hand == total == current["on_hand"]
    assert current["on_hand"] == current["available"] + current["reserved"]
    assert min(current["on_hand"], current["available"], current["incoming"]) >= 0


# ------------------------------------------------------------------ sample events
def test_procurement_sample_events_run_the_whole_chain(stack):
    """events/procurement/*.json are valid `make invoke` inputs: run in order against the seeded shop (the
    sample PO id replaced by the one created), they take a purchase order from draft to closed."""
    stack.seed_demo()
    folder = ROOT / "events" / "procurement"
    chain = ["put_supplier", "list_suppliers", "put_contract", "list_contracts", "create_purchase_order",
             "list_purchase_orders", "get_purchase_order", "submit_purchase_order", "confirm_purchase_order",
             "receive_goods",
             "return_to_supplier", "record_invoice", "settle_invoice", "close_purchase_order"]
    assert sorted([*chain, "cancel_purchase_order"]) == sorted(p.stem for p in folder.glob("*.json"))
    po_id = None
    for name in chain:
        raw = (folder / f"{name}.json").read_text()
        if po_id:
            raw = raw.replace("po_0123456789abcdef0123", po_id)
        result = stack.invoke("ProcurementFunction", json.loads(raw))
        assert result["statusCode"] in (200, 201), (name, result)
        body = json.loads(result["body"])
        if name == "create_purchase_order":
            po_id = body["po_id"]
    assert body["status"] == "CLOSED"
    assert json.loads(stack.invoke("ProcurementFunction", json.loads(
        (folder / "cancel_purchase_order.json").read_text()))["body"])["error"]["code"] == "not_found"
    for name in ("adjust_stock", "list_movements"):
        event = json.loads((ROOT / "events" / "inventory" / f"{name}.json").read_text())
        result = stack.invoke("InventoryFunction", event)
        assert result["statusCode"] == 200, (name, result)
