"""A shopper's whole journey over HTTP against the local gateway, as a browser app would make it."""

from __future__ import annotations

import json
import time

import pytest
import requests
from shop.orderflow.webhooks import carrier_signature

from tests.factories import execution_arn, make_product, stock_of, uid

pytestmark = [pytest.mark.e2e, pytest.mark.audited]


def test_register_browse_buy_pick_pack_ship_and_deliver(stack):
    admin = stack.user(groups=("admin",))
    product = make_product(stack, admin.id_token, stock={"a": 1, "b": 2}, price=2590)
    sku = product.skus[0]
    base = stack.base_url
    http = requests.Session()
    email, password = f"journey-{uid()}@example.com", "Journey-Pass-1"

    registered = http.post(f"{base}/auth/register", json={"email": email, "password": password}, timeout=30)
    assert registered.status_code == 201
    login = http.post(f"{base}/auth/login", json={"email": email, "password": password}, timeout=30)
    assert login.status_code == 200
    auth = {"Authorization": f"Bearer {login.json()['id_token']}"}

    details = http.get(f"{base}/products/{product.product_id}", timeout=30).json()
    assert [(s["sku"], s["available"]) for s in details["skus"]] == [(sku, 3)]
    cart = http.put(f"{base}/cart/items/{sku}", json={"quantity": 3}, headers=auth, timeout=30)
    assert cart.status_code == 200 and cart.json()["totals"]["subtotal"]["amount"] == 3 * 2590

    order = http.post(f"{base}/checkout", headers={**auth, "Idempotency-Key": f"journey-{uid(12)}"}, timeout=60,
                      json={"payment_method_id": "pm_card_visa", "shipping_address": {
                          "name": "Grace Hopper", "line1": "1 Navy Way", "city": "Paris", "postal_code": "75001",
                          "country": "FR"}})
    assert order.status_code == 201, order.text
    order_id = order.json()["order_id"]
    assert sorted(a["quantity"] for a in order.json()["lines"][0]["allocations"]) == [1, 2]

    def get_order() -> dict:
        resp = http.get(f"{base}/orders/{order_id}", headers=auth, timeout=30)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    deadline = time.monotonic() + 60
    while (status := get_order()["status"]) != "FULFILLING":
        assert status in ("PENDING_PAYMENT", "PAYMENT_PROCESSING", "PAID"), status
        assert time.monotonic() < deadline, "order not paid and split in time"
        time.sleep(0.25)
    listed = http.get(f"{base}/orders", headers=auth, timeout=30).json()["items"]
    assert [o["order_id"] for o in listed] == [order_id]
    assert http.get(f"{base}/cart", headers=auth, timeout=30).json()["items"] == []
    assert all(level["available"] == 0 for level in stock_of(stack, sku).values())
    sold_out = http.get(f"{base}/products/{product.product_id}", timeout=30).json()["skus"][0]
    assert sold_out["available"] == 0 and sold_out["in_stock"] is False

    # one parcel per warehouse; warehouse staff pick and pack each one over HTTP
    view = get_order()
    assert view["payment"]["status"] == "paid"
    assert sorted((sh["warehouse_id"], sh["items"][0]["quantity"]) for sh in view["shipments"]) == sorted(
        zip(product.warehouses, [1, 2], strict=True))
    staff = {"Authorization": f"Bearer {stack.user(groups=('warehouse',)).id_token}"}

    def task_for(warehouse_id: str, kind: str) -> dict:
        deadline = time.monotonic() + 30
        while True:
            listed = http.get(f"{base}/warehouse/{warehouse_id}/tasks", headers=staff, timeout=30)
            assert listed.status_code == 200, listed.text
            found = [t for t in listed.json()["items"] if t["order_id"] == order_id and t["kind"] == kind]
            if found:
                return dict(found[0])
            assert time.monotonic() < deadline, f"no {kind} task in {warehouse_id}"
            time.sleep(0.25)

    for shipment in view["shipments"]:
        wh = shipment["warehouse_id"]
        pick = task_for(wh, "pick")
        assert [(i["sku"], i["quantity"]) for i in pick["checklist"]] == [(sku, shipment["items"][0]["quantity"])]
        done = http.post(f"{base}/warehouse/tasks/{pick['task_id']}/complete", headers=staff, timeout=30,
                         json={"picked": [{"sku": i["sku"], "quantity": i["quantity"]} for i in pick["checklist"]]})
        assert done.status_code == 200 and done.json()["status"] == "DONE", done.text
        pack = task_for(wh, "pack")
        grams = sum(i["weight_grams"] * i["quantity"] for i in pack["checklist"]) + 120
        done = http.post(f"{base}/warehouse/tasks/{pack['task_id']}/complete", headers=staff, timeout=30,
                         json={"package_weight_grams": grams})
        assert done.status_code == 200, done.text
        task_for(wh, "pickup")  # labelled, waiting for the carrier

    labelled = get_order()
    assert labelled["status"] == "DISPATCHING"
    assert all(sh["status"] == "PACKED" and sh["tracking_number"] and sh["carrier"] == "ShopPost" and
               sh["shipping_cost"]["amount"] > 0 for sh in labelled["shipments"])
    # stock left the shelves: nothing reserved any more, on hand down by what was packed
    assert all(level == {"on_hand": 0, "available": 0, "reserved": 0} for level in stock_of(stack, sku).values())
    assert http.post(f"{base}/orders/{order_id}/cancel", headers=auth, timeout=30).status_code == 409

    # the carrier scans the parcels (signed webhooks over HTTP)
    secret = stack.secrets["carrier_webhook_secret"]

    def carrier(tracking: str, status: str) -> requests.Response:
        body = json.dumps({"event_id": f"cevt-{uid(12)}", "tracking_number": tracking, "status": status,
                           "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "location": "Hub"})
        return http.post(f"{base}/webhooks/carrier", data=body, timeout=30, headers={
            "Content-Type": "application/json", "Carrier-Signature": carrier_signature(secret, int(time.time()), body)})

    unsigned = http.post(f"{base}/webhooks/carrier", json={"event_id": "x"}, timeout=30)
    assert unsigned.status_code == 401
    for shipment in labelled["shipments"]:
        assert carrier(shipment["tracking_number"], "picked_up").status_code == 200
    deadline = time.monotonic() + 30
    while get_order()["status"] != "SHIPPED":
        assert time.monotonic() < deadline, "order not shipped in time"
        time.sleep(0.25)
    for shipment in labelled["shipments"]:
        assert carrier(shipment["tracking_number"], "in_transit").status_code == 200
        assert carrier(shipment["tracking_number"], "delivered").status_code == 200
    delivered = get_order()
    assert delivered["status"] == "DELIVERED"
    assert all(sh["status"] == "DELIVERED" and [t["status"] for t in sh["tracking"]] ==
               ["picked_up", "in_transit", "delivered"] for sh in delivered["shipments"])
    timeline = [t["status"] for t in delivered["timeline"]]
    assert timeline[:4] == ["PENDING_PAYMENT", "PAYMENT_PROCESSING", "PAID", "FULFILLING"]
    assert timeline[-2:] == ["SHIPPED", "DELIVERED"]
    assert stack.wait_execution(execution_arn(stack, order_id), timeout=30)["status"] == "SUCCEEDED"

    # the shopper's outbox: confirmation, one shipment mail per parcel (with its tracking), delivery mails
    stack.drain_async()
    deadline = time.monotonic() + 30
    while len(mails := [m for m in stack.sent_emails() if email in m["destinations"]]) < 5:
        assert time.monotonic() < deadline, [m["subject"] for m in mails]
        time.sleep(0.25)
    subjects = [m["subject"] for m in mails]
    assert all(order_id in subject for subject in subjects)
    assert len(mails) == 5, subjects
    bodies = " ".join(m["body"] for m in mails)
    assert all(sh["tracking_number"] in bodies for sh in labelled["shipments"])
