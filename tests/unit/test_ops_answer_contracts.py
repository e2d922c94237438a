"""Response models of the operations routes (inventory, procurement, support, reports, warehouse, webhooks):
each answer goes through a real resolver route annotated with its model, as in the functions, so what is
checked is what a client gets: keys a service leaves out stay absent (no nulls appear), aliased keys keep
their names (``from``, ``return``, ``json``), and an answer that drifts from its model is a 500, not a leak."""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from shop.analytics import report
from shop.analytics.contracts import DailyReport, SalesTrend
from shop.fulfillment.contracts import WarehouseTaskCompleted
from shop.inventory.contracts import SkuStock, SkuStockLevel, StockMovementPage
from shop.money import Money
from shop.procurement import matching
from shop.procurement.contracts import PurchaseOrderReceived, PurchaseOrderReturned, SupplierInvoiceRecorded
from shop.support.contracts import StaffSupportTicketThread, SupportTicketThread
from shop.webhook_contracts import CarrierWebhookAnswer, StripeWebhookAnswer

from tests.answers import answer, same

pytestmark = pytest.mark.unit


EUR = {"amount": 600, "currency": "EUR"}
LEVEL = {"warehouse_id": "wh-1", "on_hand": 12, "available": 4, "reserved": 8, "incoming": 0, "reorder_point": 0,
         "reorder_quantity": 0}


def test_stock_levels_keep_bin_and_shards_absent_when_the_service_leaves_them_out():
    same(SkuStockLevel, {"sku": "A-1", **LEVEL})
    sharded = {**LEVEL, "bin": "A-01", "shards": 2, "slots": [{"shard": None, "available": 0, "reserved": 0},
                                                             {"shard": 0, "available": 2, "reserved": 4},
                                                             {"shard": 1, "available": 2, "reserved": 4}]}
    same(SkuStock, {"sku": "A-1", "levels": [LEVEL, sharded], "totals": {"on_hand": 24, "available": 8,
                                                                        "reserved": 16}})
    same(StockMovementPage, {"sku": "A-1", "warehouse_id": "wh-1", "on_hand": 12, "next_cursor": None, "items": [
        {"sku": "A-1", "warehouse_id": "wh-1", "delta": 12, "kind": "count", "at": "2026-03-10T10:00:00.000000Z",
         "reason": "opening count"},
        {"sku": "A-1", "warehouse_id": "wh-1", "delta": -1, "kind": "shipment", "at": "2026-03-10T11:00:00.000000Z",
         "ref": "ord_x"}]})


def test_an_undeclared_or_mistyped_key_is_a_500_internal_error():
    for bad in ({"sku": "A-1", **LEVEL, "secret": 1}, {"sku": "A-1", **LEVEL, "on_hand": "many"}):
        status, body = answer(SkuStockLevel, bad)
        assert status == 500 and body == {"error": {"code": "internal_error", "message": "internal error"}}


TICKET = {"ticket_id": "tkt_" + "a" * 20, "customer_id": "u-1", "email": "a@example.com", "subject": "Where?",
          "order_id": None, "status": "open", "created_at": "t0", "updated_at": "t0", "message_count": 1,
          "last_message_by": "customer", "closed_at": None, "closed_by": None}
MESSAGE = {"message_id": "msg_1", "ticket_id": TICKET["ticket_id"], "author": "customer", "text": "hi",
           "created_at": "t0"}


def test_a_shopper_never_gets_the_author_id_of_a_message_staff_do():
    same(SupportTicketThread, {**TICKET, "messages": [MESSAGE]})
    same(StaffSupportTicketThread, {**TICKET, "messages": [{**MESSAGE, "author_id": "u-1"}]})
    status, _ = answer(SupportTicketThread, {**TICKET, "messages": [{**MESSAGE, "author_id": "staff-7"}]})
    assert status == 500


PO_LINE = {"sku": "A-1", "quantity": 10, "unit_cost": EUR, "contract_id": None, "received": 10, "returned": 2,
           "invoiced": 0, "outstanding": 0, "received_net": 8, "invoiceable": 8}
PO = {"po_id": "po_" + "0" * 20, "supplier_id": "acme", "warehouse_id": "wh-1", "status": "RECEIVED",
      "lines": [PO_LINE], "currency": "EUR", "auto": False, "expected_at": "2026-03-12", "created_at": "t0",
      "updated_at": "t1", "timeline": [{"at": "t0", "status": "DRAFT", "note": "created"}], "total": EUR,
      "invoiced_amount": {"amount": 0, "currency": "EUR"}, "settled_amount": {"amount": 0, "currency": "EUR"},
      "receipts": [{"receipt_id": "dn-1", "lines": [{"sku": "A-1", "quantity": 10}], "received_at": "t1"}],
      "returns": [], "invoices": []}


def test_receipts_and_returns_keep_their_stored_shape_and_the_return_key():
    same(PurchaseOrderReceived, {**PO, "receipt": PO["receipts"][0], "replayed": True})
    back = {"return_id": "rn-1", "lines": [{"sku": "A-1", "quantity": 2}], "reason": "damaged",
            "note": "crushed box", "returned_at": "t2"}
    same(PurchaseOrderReturned, {**PO, "returns": [back], "return": back, "replayed": False})
    # a record just written carries note None; stored ones have no note: both are answered without one
    status, body = answer(PurchaseOrderReceived, {**PO, "receipt": {**PO["receipts"][0], "note": None},
                                                  "replayed": False})
    assert status == 200 and "note" not in body["receipt"]


def test_an_invoice_answer_carries_the_match_result_as_the_matcher_builds_it():
    result = matching.match([matching.PoLine(sku="A-1", ordered=10, unit_cost=Money(amount=600, currency="EUR"))],
                            {"A-1": 8},
                            [matching.InvoiceLine(sku="A-1", quantity=9, unit_price=Money(amount=700, currency="EUR")),
                             matching.InvoiceLine(sku="B-1", quantity=1, unit_price=Money(amount=5, currency="USD"))])
    assert {d.kind for d in result.differences} >= {"quantity", "price", "unknown_sku"}
    same(SupplierInvoiceRecorded, {
        "invoice_id": "inv-1", "po_id": PO["po_id"], "supplier_id": "acme",
        "lines": [{"sku": "A-1", "quantity": 9, "unit_price": {"amount": 700, "currency": "EUR"}}],
        **result.to_dict(), "counted": False, "recorded_at": "t3", "replayed": False})


def test_the_daily_report_as_computed_and_the_sales_trend_with_its_from_key():
    facts = [
        {"kind": "paid", "order_id": "o1", "at": "2026-03-10T10:00:00Z", "total": {"amount": 5000, "currency": "EUR"},
         "units": 2, "lines": [{"sku": "A-1", "product_id": "a", "quantity": 2, "amount": 5000}]},
        {"kind": "refund", "order_id": "o0", "at": "2026-03-10T12:00:00Z",
         "amount": {"amount": 500, "currency": "EUR"}},
        {"kind": "shipped", "order_id": "o1", "at": "2026-03-10T20:00:00Z", "paid_at": "2026-03-10T10:00:00Z",
         "warehouse_id": "wh-1"},
        {"kind": "low", "sku": "A-1", "warehouse_id": "wh-1", "available": 0, "incoming": 0, "reorder_point": 2}]
    open_pos = [{"po_id": PO["po_id"], "status": "SUBMITTED", "supplier_id": "acme", "warehouse_id": "wh-1",
                 "auto": True}]
    figures = report.compute(date(2026, 3, 10), facts, open_pos, {"a": "toys"}, currency="EUR",
                             tz=ZoneInfo("Europe/Berlin"), promised_ship_hours=24)
    base = "reports/daily/2026-03-10/report"
    same(DailyReport, {**json.loads(json.dumps(figures)), "objects": {"json": f"{base}.json", "csv": f"{base}.csv",
                                                                      "html": f"{base}.html"},
                       "link": "https://example/report.html", "created_at": "2026-03-11T05:00:00Z", "emailed": True})
    day = {"orders_placed": 1, "orders_paid": 1, "orders_cancelled": 0, "revenue": 5000, "refunds": 500, "units": 2,
           "net": 4500}
    same(SalesTrend, {"from": "2026-03-10", "to": "2026-03-10", "currency": "EUR",
                      "days": [{"date": "2026-03-10", **day}], "totals": day})


TASK = {"task_id": "tsk_1", "kind": "pack", "status": "DONE", "order_id": "ord_1", "shipment_id": "shp_1",
        "warehouse_id": "wh-1", "instructions": "pack it", "created_at": "t0", "completed_at": "t1",
        "completed_by": "staff-1",
        "checklist": [{"sku": "A-1", "name": "A", "quantity": 1, "bin": "UNASSIGNED", "weight_grams": 100}]}


def test_a_task_result_holds_only_the_keys_of_its_kind():
    same(WarehouseTaskCompleted, {**TASK, "result": {"package_weight_grams": 150}, "workflow_resumed": True})
    same(WarehouseTaskCompleted, {**TASK, "kind": "pick", "result": {"picked": [{"sku": "A-1", "quantity": 1}],
                                                                     "note": "ok"}, "workflow_resumed": False})
    same(WarehouseTaskCompleted, {**TASK, "kind": "return", "result": {
        "inspected": [{"sku": "A-1", "sellable": 1, "damaged": 0}]}, "workflow_resumed": False})


def test_webhook_answers_keep_only_the_keys_of_their_outcome():
    same(StripeWebhookAnswer, {"event_id": "evt_1", "type": "charge.succeeded", "handled": False})
    same(StripeWebhookAnswer, {"event_id": "evt_1", "type": "payment_intent.succeeded", "handled": False,
                               "reason": "not a shop order's payment"})
    same(StripeWebhookAnswer, {"event_id": "evt_1", "type": "payment_intent.succeeded", "handled": True,
                               "order_id": "ord_1", "resumed": True, "status": "succeeded"})
    same(StripeWebhookAnswer, {"event_id": "evt_1", "type": "payment_intent.succeeded", "handled": True,
                               "order_id": "ord_1", "resumed": False, "reason": "the workflow is not waiting"})
    same(CarrierWebhookAnswer, {"event_id": "c-1", "order_id": "ord_1", "shipment_id": "shp_1", "status": "SHIPPED",
                                "workflow_resumed": True})
    same(CarrierWebhookAnswer, {"event_id": "c-1", "order_id": "ord_1", "shipment_id": "shp_1",
                                "status": "DELIVERED", "duplicate": True})
