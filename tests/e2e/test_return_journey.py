"""After the sale, over HTTP: buy two products with a coupon, the order is delivered, return one line, the
warehouse inspects it, the line is refunded in part through Stripe (localstripe) and its sellable units are
back in stock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from shoplocal.stack import STRIPE_KEY
from tests.factories import eur, make_product, open_task, order_view, pick_and_pack, uid, wait_for, wait_status

pytestmark = [pytest.mark.e2e, pytest.mark.audited]


def test_buy_with_a_coupon_return_one_line_partial_refund_and_stock_back(stack, admin, staff):
    base, http = stack.base_url, requests.Session()
    product = make_product(stack, admin.id_token, stock={"a": 10}, price=4000, n_skus=2)
    keep, give_back = product.skus
    wh = product.warehouses[0]
    code = f"E2E{uid(6).upper()}"
    window = {"starts_at": (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "ends_at": (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert stack.request("PUT", f"/admin/coupons/{code}", token=admin.id_token,
                         json={"percent": 10, **window}).status == 200

    shopper = stack.user()
    auth = {"Authorization": f"Bearer {shopper.id_token}"}
    for sku, qty in ((keep, 1), (give_back, 2)):
        assert http.put(f"{base}/cart/items/{sku}", json={"quantity": qty}, headers=auth, timeout=30).ok
    assert http.put(f"{base}/cart/coupon", json={"code": code}, headers=auth, timeout=30).ok
    placed = http.post(f"{base}/checkout", headers={**auth, "Idempotency-Key": f"ret-{uid(12)}"}, timeout=60, json={
        "payment_method_id": "pm_card_visa", "shipping_address": {
            "name": "Ada", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "DE"}})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    order_id = order["order_id"]
    assert order["totals"]["discount"] == eur(1200)  # 10 % of 12000

    # fulfilled and delivered
    wait_status(stack, shopper.id_token, order_id, "FULFILLING", timeout=60)
    pick_and_pack(stack, staff.id_token, order_id, wh)
    parcel = wait_for(lambda: order_view(stack, shopper.id_token, order_id)["shipments"][0]["tracking_number"], 30,
                      "the label")
    assert stack.carrier_webhook(parcel, "delivered").status == 200
    wait_status(stack, shopper.id_token, order_id, "DELIVERED")
    before = {lv["warehouse_id"]: lv for lv in http.get(f"{base}/admin/inventory/{give_back}", timeout=30, headers={
        "Authorization": f"Bearer {admin.id_token}"}).json()["levels"]}[wh]

    # return both units of one line; another shopper cannot see it, more than delivered is refused
    too_many = http.post(f"{base}/orders/{order_id}/returns", headers=auth, timeout=30,
                         json={"lines": [{"sku": give_back, "quantity": 3, "reason": "changed_mind"}]})
    assert too_many.status_code == 422 and too_many.json()["error"]["details"]["returnable"] == 2
    other = {"Authorization": f"Bearer {stack.user().id_token}"}
    assert http.post(f"{base}/orders/{order_id}/returns", headers=other, timeout=30,
                     json={"lines": [{"sku": give_back, "quantity": 1, "reason": "damaged"}]}).status_code == 404
    requested = http.post(f"{base}/orders/{order_id}/returns", headers=auth, timeout=30,
                          json={"lines": [{"sku": give_back, "quantity": 2, "reason": "not_as_described"}]})
    assert requested.status_code == 201, requested.text
    ret = requested.json()
    # the line cost 8000, less its share of the coupon (800), plus 19 % tax on the rest: 7200 + 1368
    assert ret["refund_total"] == eur(8568) and ret["status"] == "REQUESTED"
    assert http.get(f"{base}/returns/{ret['return_id']}", headers=other, timeout=30).status_code == 404

    # the warehouse receives the parcel: one unit sellable, one damaged
    task = open_task(stack, staff.id_token, wh, order_id, "return", timeout=30)
    assert [(i["sku"], i["quantity"]) for i in task["checklist"]] == [(give_back, 2)]
    staff_auth = {"Authorization": f"Bearer {staff.id_token}"}
    wrong = http.post(f"{base}/warehouse/tasks/{task['task_id']}/complete", headers=staff_auth, timeout=30,
                      json={"inspected": [{"sku": give_back, "sellable": 1, "damaged": 0}]})
    assert wrong.status_code == 422
    done = http.post(f"{base}/warehouse/tasks/{task['task_id']}/complete", headers=staff_auth, timeout=30,
                     json={"inspected": [{"sku": give_back, "sellable": 1, "damaged": 1}]})
    assert done.status_code == 200, done.text

    deadline = time.monotonic() + 60
    while (status := http.get(f"{base}/returns/{ret['return_id']}", headers=auth, timeout=30).json())[
            "status"] != "REFUNDED":
        assert time.monotonic() < deadline, status
        time.sleep(0.25)
    assert status["refunded"] == eur(8568) and status["label"]["tracking_number"]
    intent = order_view(stack, shopper.id_token, order_id)["payment"]["payment_intent_id"]
    refunds = requests.get(f"{stack.stripe_base}/v1/refunds", params={"payment_intent": intent}, timeout=10,
                           auth=(STRIPE_KEY, "")).json()["data"]
    assert [r["amount"] for r in refunds] == [8568]  # partial: the kept line is not refunded
    after = {lv["warehouse_id"]: lv for lv in http.get(f"{base}/admin/inventory/{give_back}", timeout=30, headers={
        "Authorization": f"Bearer {admin.id_token}"}).json()["levels"]}[wh]
    assert after["on_hand"] == before["on_hand"] + 1 and after["available"] == before["available"] + 1
    stack.drain_async()
    wait_for(lambda: any("refund" in m["subject"].lower() for m in stack.sent_emails()
                         if shopper.email in m["destinations"]), 30, "the refund email")
