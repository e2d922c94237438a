"""A shopper fills, prices and empties a cart over real HTTP against the local gateway."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.audited]

TIMEOUT = 10


def test_shopper_cart_over_http(stack: Any) -> None:
    base = stack.base_url
    admin = {"Authorization": f"Bearer {stack.user(groups=('admin',)).id_token}"}
    tag = uuid.uuid4().hex[:8]
    cat, wh = f"e2e-cart-{tag}", f"wh-cart-{tag}"
    assert requests.put(f"{base}/admin/categories/{cat}", json={"name": f"Cart {tag}"}, headers=admin,
                        timeout=TIMEOUT).status_code == 200
    assert requests.put(f"{base}/admin/warehouses/{wh}", json={"name": "E2E", "country": "DE", "zone": "domestic"},
                        headers=admin, timeout=TIMEOUT).status_code == 200
    codes = []
    for i, (price, grams) in enumerate([(1490, 280), (4990, 1060)]):
        code = f"E2C-{tag.upper()}-{i}"
        r = requests.post(f"{base}/admin/products", headers=admin, timeout=TIMEOUT, json={
            "product_id": f"{cat}-p{i}", "name": f"Coffee {i}", "category": cat,
            "skus": [{"sku": code, "name": f"Bag {i}", "price": {"amount": price, "currency": "EUR"},
                      "weight_grams": grams}]})
        assert r.status_code == 201, r.text
        assert requests.put(f"{base}/admin/inventory/{code}/{wh}", json={"on_hand": 5}, headers=admin,
                            timeout=TIMEOUT).status_code == 200
        codes.append(code)

    shopper = {"Authorization": f"Bearer {stack.user().id_token}"}
    assert requests.get(f"{base}/cart", timeout=TIMEOUT).status_code == 401

    r = requests.put(f"{base}/cart/items/{codes[0]}", json={"quantity": 2}, headers=shopper, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    r = requests.put(f"{base}/cart/items/{codes[1]}", json={"quantity": 1}, headers=shopper, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")

    env = stack.function_env("CartFunction")
    from shop.config import Settings  # the cart function's rules: its environment over the code defaults

    settings = Settings.model_validate(env)
    taxes, zones = settings.tax_rates_bps, settings.shipping_zones
    rates = {zone: rate.model_dump() for zone, rate in settings.shipping_rates.items()}
    subtotal, grams = 2 * 1490 + 4990, 2 * 280 + 1060  # 1.62 kg -> 2 started kg
    rate = rates[zones["DE"]]
    shipping = rate["base"] + 2 * rate["per_kg"]
    tax = ((subtotal + shipping) * taxes["DE"] + 5000) // 10_000

    r = requests.get(f"{base}/cart", params={"country": "DE"}, headers=shopper, timeout=TIMEOUT)
    assert r.status_code == 200
    cart = r.json()
    assert [(i["sku"], i["quantity"], i["available"]) for i in cart["items"]] == [(codes[0], 2, 5), (codes[1], 1, 5)]
    assert cart["totals"] == {"subtotal": {"amount": subtotal, "currency": "EUR"},
                              "discount": {"amount": 0, "currency": "EUR"},
                              "shipping": {"amount": shipping, "currency": "EUR"},
                              "tax": {"amount": tax, "currency": "EUR"},
                              "total": {"amount": subtotal + shipping + tax, "currency": "EUR"}}
    assert grams == sum(i["weight_grams"] * i["quantity"] for i in cart["items"])

    r = requests.put(f"{base}/cart/items/{codes[0]}", json={"quantity": 6}, headers=shopper, timeout=TIMEOUT)
    assert r.status_code == 409 and r.json()["error"]["code"] == "out_of_stock"
    r = requests.get(f"{base}/cart", params={"country": "Germany"}, headers=shopper, timeout=TIMEOUT)
    assert r.status_code == 422

    r = requests.delete(f"{base}/cart/items/{codes[0]}", headers=shopper, timeout=TIMEOUT)
    assert r.status_code == 200 and [i["sku"] for i in r.json()["items"]] == [codes[1]]
    r = requests.put(f"{base}/cart/items/{codes[1]}", json={"quantity": 0}, headers=shopper, timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["items"] == []
    assert r.json()["totals"]["total"] == {"amount": 0, "currency": "EUR"}
