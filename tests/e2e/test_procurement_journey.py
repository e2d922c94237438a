"""Procurement end to end over HTTP: stock sells down below its reorder point, a draft purchase order appears
for the best supplier contract, the buyer submits it, goods are received, stock is available again, the
supplier's invoice matches and is settled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.factories import ADDRESS, eur, make_product, uid, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.audited]


def test_sell_down_restock_receive_and_settle(stack, admin):
    base, http = stack.base_url, requests.Session()
    staff = {"Authorization": f"Bearer {admin.id_token}"}

    def call(method: str, path: str, expect: int = 200, **kw) -> dict:
        resp = http.request(method, f"{base}{path}", headers=staff, timeout=30, **kw)
        assert resp.status_code == expect, (method, path, resp.status_code, resp.text)
        return dict(resp.json())

    product = make_product(stack, admin.id_token, stock={"a": 6}, price=1500)
    sku, wh = product.skus[0], product.warehouses[0]
    call("PUT", f"/admin/inventory/{sku}/{wh}", json={"on_hand": 6, "reorder_point": 3, "reorder_quantity": 10})

    # two suppliers; the cheaper valid contract wins, an expired cheaper one does not count
    today = datetime.now(UTC).date()
    cheap, dear = f"sup-{uid()}", f"sup-{uid()}"
    for sid in (cheap, dear):
        call("PUT", f"/admin/suppliers/{sid}", json={"name": sid, "email": f"{sid}@example.com", "currency": "EUR"})
    window = {"valid_from": str(today - timedelta(days=30)), "valid_to": str(today + timedelta(days=300))}
    call("PUT", f"/admin/suppliers/{dear}/contracts/c-dear", json={
        "sku": sku, "unit_cost": eur(700), "lead_time_days": 2, "min_order_quantity": 5, **window})
    call("PUT", f"/admin/suppliers/{cheap}/contracts/c-cheap", json={
        "sku": sku, "unit_cost": eur(600), "lead_time_days": 5, "min_order_quantity": 12, **window})
    call("PUT", f"/admin/suppliers/{dear}/contracts/c-expired", json={
        "sku": sku, "unit_cost": eur(100), "lead_time_days": 1, "min_order_quantity": 1,
        "valid_from": str(today - timedelta(days=60)), "valid_to": str(today - timedelta(days=1))})

    # a shopper buys 4 of the 6: available 2 <= reorder point 3 once the order is paid
    shopper = stack.user()
    auth = {"Authorization": f"Bearer {shopper.id_token}"}
    assert http.put(f"{base}/cart/items/{sku}", json={"quantity": 4}, headers=auth, timeout=30).status_code == 200
    order = http.post(f"{base}/checkout", headers={**auth, "Idempotency-Key": f"restock-{uid(12)}"}, timeout=60,
                      json={"payment_method_id": "pm_card_visa", "shipping_address": ADDRESS})
    assert order.status_code == 201, order.text

    def draft_for_sku() -> dict | None:
        stack.drain_async()
        drafts = call("GET", "/admin/purchase-orders", params={"status": "DRAFT", "limit": "100"})["items"]
        return next((p for p in drafts if p["lines"][0]["sku"] == sku), None)

    po = wait_for(draft_for_sku, 30, "the automatic draft purchase order")
    assert po["auto"] is True and po["supplier_id"] == cheap and po["warehouse_id"] == wh
    assert [(ln["quantity"], ln["unit_cost"], ln["contract_id"]) for ln in po["lines"]] == [(12, eur(600), "c-cheap")]
    assert po["total"] == eur(12 * 600)
    po_id = po["po_id"]

    submitted = call("POST", f"/admin/purchase-orders/{po_id}/submit")
    assert submitted["status"] == "SUBMITTED"
    [level] = call("GET", f"/admin/inventory/{sku}")["levels"]
    assert (level["available"], level["reserved"], level["incoming"]) == (2, 4, 12)

    over = http.post(f"{base}/admin/purchase-orders/{po_id}/receipts", headers=staff, timeout=30,
                     json={"receipt_id": f"dn-{uid()}", "lines": [{"sku": sku, "quantity": 13}]})
    assert over.status_code == 409 and over.json()["error"]["code"] == "over_receipt"
    first = call("POST", f"/admin/purchase-orders/{po_id}/receipts",
                 json={"receipt_id": "dn-0001", "lines": [{"sku": sku, "quantity": 8}]})
    assert first["status"] == "PARTIALLY_RECEIVED" and first["replayed"] is False
    again = call("POST", f"/admin/purchase-orders/{po_id}/receipts",
                 json={"receipt_id": "dn-0001", "lines": [{"sku": sku, "quantity": 8}]})
    assert again["replayed"] is True and again["lines"][0]["received"] == 8  # counted once
    done = call("POST", f"/admin/purchase-orders/{po_id}/receipts",
                json={"receipt_id": "dn-0002", "lines": [{"sku": sku, "quantity": 4}]})
    assert done["status"] == "RECEIVED" and [r["receipt_id"] for r in done["receipts"]] == ["dn-0001", "dn-0002"]
    [level] = call("GET", f"/admin/inventory/{sku}")["levels"]
    assert (level["on_hand"], level["available"], level["reserved"], level["incoming"]) == (18, 14, 4, 0)
    detail = http.get(f"{base}/products/{product.product_id}", timeout=30).json()
    assert detail["skus"][0]["available"] == 14 and detail["skus"][0]["in_stock"] is True

    moves = call("GET", f"/admin/inventory/{sku}/{wh}/movements")
    assert sum(m["delta"] for m in moves["items"]) == moves["on_hand"] == 18
    assert sorted(m["kind"] for m in moves["items"]) == ["count", "receipt", "receipt"]

    invoice = call("POST", f"/admin/purchase-orders/{po_id}/invoices", json={
        "invoice_id": "inv-2026-001", "lines": [{"sku": sku, "quantity": 12, "unit_price": eur(600)}]})
    assert invoice["status"] == "MATCHED" and invoice["differences"] == []
    assert invoice["invoice_total"] == invoice["expected_total"] == eur(7200)
    settled = call("POST", f"/admin/purchase-orders/{po_id}/invoices/inv-2026-001/settle")
    assert settled["status"] == "SETTLED" and settled["settled_at"]
    assert call("POST", f"/admin/purchase-orders/{po_id}/invoices/inv-2026-001/settle")["status"] == "SETTLED"
    closed = call("POST", f"/admin/purchase-orders/{po_id}/close")
    assert closed["status"] == "CLOSED"
