"""Purchase orders reach the supplier (issue 16, item 3), against the deployed stack: a submitted PO is e-mailed
to the supplier once (HTML body, CSV and HTML attachments) however often the submit or its event arrives, a
suppressed address is not mailed, the supplier's confirmed delivery date is recorded (bad input named), and the
automatic restock submits within the supplier's monthly limit and leaves a DRAFT over it, concurrent restocks
never passing the limit together."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shoplocal.deploy import ACCOUNT_ID
from shoplocal.stack import ROOT
from tests.factories import CONTRACT_WINDOW, eur, make_product, uid, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.audited]
TODAY = datetime.now(UTC).date()
RESTOCK = "RestockFunction"


# ------------------------------------------------------------------ helpers
def new_supplier(api: Any, limit: int | None = None) -> tuple[str, str]:
    sid = f"sup-{uid()}"
    address = f"orders-{uid()}@supplier.example"
    body: dict[str, Any] = {"name": f"Supplier {sid}", "email": address, "currency": "EUR"}
    if limit is not None:
        body["auto_submit_limit"] = eur(limit)
    saved = api("PUT", f"/admin/suppliers/{sid}", json=body)
    assert saved["auto_submit_limit"] == (eur(limit) if limit is not None else None)
    return sid, address


def contract(api: Any, sid: str, sku: str, cost: int = 600) -> None:
    api("PUT", f"/admin/suppliers/{sid}/contracts/c-{uid()}", json={
        "sku": sku, "unit_cost": eur(cost), "lead_time_days": 2, "min_order_quantity": 1, **CONTRACT_WINDOW})


def draft_po(stack: Any, api: Any, sid: str, quantity: int = 10) -> tuple[str, str, str]:
    product = make_product(stack, api.token, stock={"a": 5})
    sku, wh = product.skus[0], product.warehouses[0]
    contract(api, sid, sku)
    po = api("POST", "/admin/purchase-orders", 201, json={"supplier_id": sid, "warehouse_id": wh,
                                                          "lines": [{"sku": sku, "quantity": quantity}]})
    return str(po["po_id"]), sku, wh


def raw_mails_to(address: str) -> list[email.message.EmailMessage]:
    """The raw MIME messages moto SES holds for ``address`` (what the supplier would receive)."""
    from moto.ses.models import ses_backends

    found = []
    for msg in list(ses_backends[ACCOUNT_ID]["us-east-1"].sent_messages):
        raw = getattr(msg, "raw_data", None)
        if raw and any(address in d for d in msg.destinations):
            found.append(email.message_from_string(raw, policy=email.policy.default))
    return found


def outbox_to(stack: Any, address: str) -> list[dict[str, Any]]:
    return [m for m in stack.sent_emails() if any(address in d for d in m["destinations"])]


def submitted_event(po_id: str) -> dict[str, Any]:
    sample = json.loads((ROOT / "events" / "procurement_restock" / "purchase_order_submitted.json").read_text())
    return {**sample, "detail": {**sample["detail"], "po_id": po_id}}


def stock_low_event(sku: str, wh: str) -> dict[str, Any]:
    sample = json.loads((ROOT / "events" / "procurement_restock" / "stock_low.json").read_text())
    return {**sample, "detail": {**sample["detail"], "sku": sku, "warehouse_id": wh}}


def at_once(n: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(n)

    def one(i: int) -> Any:
        barrier.wait()
        try:
            return work(i)
        except Exception as exc:  # a concurrent duplicate may be told to retry later (ServiceBusy)
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


# ------------------------------------------------------------------ the e-mail
def test_a_submitted_po_is_mailed_to_the_supplier_once_with_the_csv_and_html(stack, api):
    sid, address = new_supplier(api)
    po_id, sku, _ = draft_po(stack, api, sid, quantity=7)
    api("POST", f"/admin/purchase-orders/{po_id}/submit")
    stack.drain_async()
    mail = wait_for(lambda: api("GET", f"/admin/purchase-orders/{po_id}").get("supplier_mail"), 30, "the PO's mail")
    assert mail["status"] == "SENT" and mail["to"] == address and mail["message_id"]
    assert [(a["filename"], a["content_type"]) for a in mail["attachments"]] == [
        (f"{po_id}.csv", "text/csv"), (f"{po_id}.html", "text/html")]
    [raw] = raw_mails_to(address)
    assert raw["Subject"] == f"Purchase order {po_id} (EUR 42.00)"  # 7 x 6.00, major units
    assert "shop@example.com" in raw["From"]  # the local stack's procurement sender: SenderEmail (address identity)
    assert "42.00" in raw.get_body(preferencelist=("html",)).get_content()
    files = {p.get_filename(): p.get_payload(decode=True).decode() for p in raw.iter_attachments()}
    assert set(files) == {f"{po_id}.csv", f"{po_id}.html"}
    assert f"{sku},7,EUR,6.00,42.00" in files[f"{po_id}.csv"]
    assert {a["filename"]: a["size"] for a in mail["attachments"]} == {k: len(v.encode()) for k, v in files.items()}
    # the local outbox (GET /_local/outbox/email while `make run` runs) shows the attachments and the CSV text
    [listed] = outbox_to(stack, address)
    assert [(a["filename"], a["size"]) for a in listed["attachments"]] == [
        (a["filename"], a["size"]) for a in mail["attachments"]]
    assert listed["attachments"][0]["text"] == files[f"{po_id}.csv"]
    # submitting again, and the event delivered again later: nothing more is sent
    api("POST", f"/admin/purchase-orders/{po_id}/submit")
    replay = stack.invoke(RESTOCK, submitted_event(po_id))
    assert replay["replayed"] is True and replay["status"] == "SENT"
    stack.drain_async()
    assert len(raw_mails_to(address)) == 1


def test_a_double_submit_and_a_doubly_delivered_event_mail_once(stack, api):
    sid, address = new_supplier(api)
    po_id, _, _ = draft_po(stack, api, sid)
    replies = at_once(4, lambda _: stack.request("POST", f"/admin/purchase-orders/{po_id}/submit", token=api.token))
    assert all(r.status in (200, 409) for r in replies) and any(r.status == 200 for r in replies), replies
    events = at_once(4, lambda _: stack.invoke(RESTOCK, submitted_event(po_id)))  # at-least-once delivery
    stack.drain_async()
    wait_for(lambda: (api("GET", f"/admin/purchase-orders/{po_id}").get("supplier_mail") or {}).get("status") == "SENT",
             30, "the mail")
    stack.drain_async()
    assert len(raw_mails_to(address)) == 1, events
    assert sum(1 for e in events if isinstance(e, dict) and e.get("sent") and not e.get("replayed")) <= 1


def test_a_cancelled_po_is_not_mailed_and_a_draft_neither(stack, api):
    sid, address = new_supplier(api)
    po_id, _, _ = draft_po(stack, api, sid)
    assert stack.invoke(RESTOCK, submitted_event(po_id))["sent"] is False  # still DRAFT
    api("POST", f"/admin/purchase-orders/{po_id}/cancel")
    assert "CANCELLED" in stack.invoke(RESTOCK, submitted_event(po_id))["reason"]
    assert raw_mails_to(address) == [] and api("GET", f"/admin/purchase-orders/{po_id}").get("supplier_mail") is None


def test_a_supplier_on_the_suppression_list_is_not_mailed(stack, api):
    from shop.config import function_environment
    from shop.notifications import suppressions
    from shop.notifications.feedback import Suppression

    sid, address = new_supplier(api)
    with function_environment(stack.function_env("EmailFeedbackFunction")):
        suppressions.add(Suppression(email=address, reason="BOUNCE", detail="Permanent/General", feedback_id="fb-1",
                                     ses_message_id="m-1", at="2026-11-27T10:00:00Z"), "2026-11-27T10:00:00Z")
    po_id, _, _ = draft_po(stack, api, sid)
    api("POST", f"/admin/purchase-orders/{po_id}/submit")
    stack.drain_async()
    mail = wait_for(lambda: api("GET", f"/admin/purchase-orders/{po_id}").get("supplier_mail"), 30, "the PO's mail")
    assert mail["status"] == "SUPPRESSED" and "suppression list" in mail["reason"]
    assert raw_mails_to(address) == []


# ------------------------------------------------------------------ the supplier's confirmation
def test_the_supplier_confirmation_is_recorded_once_and_a_new_date_keeps_the_history(stack, api):
    sid, _ = new_supplier(api)
    po_id, sku, _ = draft_po(stack, api, sid)
    path = f"/admin/purchase-orders/{po_id}/confirmation"
    day, later = TODAY + timedelta(days=5), TODAY + timedelta(days=9)
    refused = api("POST", path, 409, json={"confirmed_delivery_date": str(day)})
    assert refused["error"]["details"]["status"] == "DRAFT"
    api("POST", f"/admin/purchase-orders/{po_id}/submit")
    for bad, field in (({"confirmed_delivery_date": str(TODAY - timedelta(days=1))}, "body.confirmed_delivery_date"),
                       ({"confirmed_delivery_date": "31.12.2030"}, "body.confirmed_delivery_date"),
                       ({}, "body.confirmed_delivery_date"),
                       ({"confirmed_delivery_date": str(day), "extra": 1}, "body.extra")):
        answer = api("POST", path, 422, json=bad)
        assert field in [f["field"] for f in answer["error"]["details"]["fields"]], (bad, answer)
    first = api("POST", path, json={"confirmed_delivery_date": str(day), "note": "two pallets"})
    assert first["changed"] is True and first["confirmed_delivery_date"] == str(day) and first["confirmed_at"]
    again = api("POST", path, json={"confirmed_delivery_date": str(day)})
    assert again["changed"] is False and again["timeline"] == first["timeline"]
    moved = api("POST", path, json={"confirmed_delivery_date": str(later)})
    assert moved["changed"] is True and moved["confirmed_delivery_date"] == str(later)
    notes = [e["note"] for e in moved["timeline"] if e["status"] == "CONFIRMED"]
    assert notes == [f"supplier confirmed delivery on {day}: two pallets",
                     f"supplier confirmed delivery on {later} (was {day})"]
    assert api("GET", f"/admin/purchase-orders/{po_id}")["confirmed_delivery_date"] == str(later)
    assert api("POST", "/admin/purchase-orders/po_00000000000000000000/confirmation", 404,
               json={"confirmed_delivery_date": str(day)})
    api("POST", f"/admin/purchase-orders/{po_id}/receipts", json={"receipt_id": "dn-1",
                                                                  "lines": [{"sku": sku, "quantity": 10}]})
    api("POST", f"/admin/purchase-orders/{po_id}/close")
    assert api("POST", path, 409, json={"confirmed_delivery_date": str(later + timedelta(days=1))})
    shopper = stack.user()
    assert stack.request("POST", path, token=shopper.id_token, json={"confirmed_delivery_date": str(day)}).status == 403


# ------------------------------------------------------------------ automatic restock within the limit
def low_skus(stack: Any, api: Any, sid: str, n: int, *, reorder_quantity: int = 5) -> tuple[list[str], str]:
    """n SKUs of a new product in one warehouse, each with a contract of ``sid`` (6.00 a unit) and a stock level at
    its reorder point (10 on hand, reorder point 10): each needs restocking. Setting the levels publishes
    StockLow, which the bus delivers to the restock function too."""
    product = make_product(stack, api.token, stock={"a": 10}, n_skus=n)
    wh = product.warehouses[0]
    for sku in product.skus:
        contract(api, sid, sku)
    for sku in product.skus:
        api("PUT", f"/admin/inventory/{sku}/{wh}", json={"on_hand": 10, "reorder_point": 10,
                                                         "reorder_quantity": reorder_quantity})
    return list(product.skus), wh


def pos_of(api: Any, sid: str) -> list[dict[str, Any]]:
    found = []
    for status in ("DRAFT", "SUBMITTED"):
        found += [p for p in api("GET", "/admin/purchase-orders", query={"status": status, "limit": "100"})["items"]
                  if p["supplier_id"] == sid]
    return found


def test_restock_submits_within_the_limit_through_the_bus_and_mails_the_supplier(stack, api):
    sid, address = new_supplier(api, limit=5000)
    [sku], wh = low_skus(stack, api, sid, 1)  # 5 x 6.00 = 30.00 <= 50.00: submitted at once
    stack.drain_async()
    po = wait_for(lambda: next(iter(pos_of(api, sid)), None), 30, "the automatic PO")
    assert po["status"] == "SUBMITTED" and po["auto"] is True and po["auto_submitted"] is True, po
    assert "submitted automatically" in po["timeline"][-1]["note"]
    level = next(lv for lv in api("GET", f"/admin/inventory/{sku}")["levels"] if lv["warehouse_id"] == wh)
    assert level["incoming"] == 5
    wait_for(lambda: raw_mails_to(address), 30, "the supplier's mail")
    stack.drain_async()
    assert len(raw_mails_to(address)) == 1
    again = stack.invoke(RESTOCK, stock_low_event(sku, wh))  # the level is covered now
    assert again["created"] is False


def test_restock_over_the_limit_stays_draft_for_a_human(stack, api):
    sid, address = new_supplier(api, limit=2999)  # 30.00 is over 29.99
    [sku], wh = low_skus(stack, api, sid, 1)
    stack.drain_async()
    result = stack.invoke(RESTOCK, stock_low_event(sku, wh))  # the bus' delivery created it: this one skips
    [po] = wait_for(lambda: pos_of(api, sid), 30, "the automatic PO")
    assert po["status"] == "DRAFT" and po["auto_submitted"] is False, (po, result)
    note = po["timeline"][0]["note"]
    assert "over the auto-submit limit" in note and "waiting for a human" in note
    stack.drain_async()
    assert raw_mails_to(address) == []
    unlimited, _ = new_supplier(api)  # no limit at all: DRAFT as before
    low_skus(stack, api, unlimited, 1)
    stack.drain_async()
    [po2] = wait_for(lambda: pos_of(api, unlimited), 30, "the automatic PO")
    assert po2["status"] == "DRAFT" and "no auto-submit limit" in po2["timeline"][0]["note"]


def test_concurrent_restocks_of_one_supplier_never_pass_its_limit(stack, api):
    sid, address = new_supplier(api, limit=7000)  # room for two orders of 30.00, not three
    skus, wh = low_skus(stack, api, sid, 4)
    results = at_once(8, lambda i: stack.invoke(RESTOCK, stock_low_event(skus[i % 4], wh)))
    stack.drain_async()
    assert not [r for r in results if isinstance(r, Exception)], results
    pos = wait_for(lambda: (found := pos_of(api, sid)) and len(found) == 4 and found, 30, "one PO per SKU")
    submitted = [p for p in pos if p["status"] == "SUBMITTED"]
    assert len(submitted) == 2, pos
    assert sum(p["total"]["amount"] for p in submitted) <= 7000
    assert sorted(p["lines"][0]["sku"] for p in pos) == sorted(skus)  # one per stock level, never two
    wait_for(lambda: len(raw_mails_to(address)) == 2, 30, "a mail per submitted PO")
    stack.drain_async()
    assert len(raw_mails_to(address)) == 2
    spend = stack.client("dynamodb").get_item(TableName=stack.physical_id("ProcurementTable"), Key={
        "pk": {"S": f"SPEND#{sid}#{datetime.now(UTC).strftime('%Y-%m')}"}, "sk": {"S": "SPEND"}})["Item"]
    assert int(spend["spent"]["N"]) == 6000
