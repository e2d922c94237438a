"""A shopper's whole journey over HTTP against the local gateway, as a browser app would make it."""

from __future__ import annotations

import time

import pytest
import requests

from tests.factories import make_product, stock_of, uid

pytestmark = pytest.mark.e2e


def test_register_browse_buy_and_see_the_order_paid(stack):
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

    deadline = time.monotonic() + 60
    while (status := http.get(f"{base}/orders/{order_id}", headers=auth, timeout=30).json()["status"]) != "PAID":
        assert status in ("PENDING_PAYMENT", "PAYMENT_PROCESSING"), status
        assert time.monotonic() < deadline, "order not paid in time"
        time.sleep(0.25)
    listed = http.get(f"{base}/orders", headers=auth, timeout=30).json()["items"]
    assert [o["order_id"] for o in listed] == [order_id]
    assert http.get(f"{base}/cart", headers=auth, timeout=30).json()["items"] == []
    assert all(level["available"] == 0 for level in stock_of(stack, sku).values())
    sold_out = http.get(f"{base}/products/{product.product_id}", timeout=30).json()["skus"][0]
    assert sold_out["available"] == 0 and sold_out["in_stock"] is False
