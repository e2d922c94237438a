"""Row 11 of issue 12: the shopper sends the total they saw (expected_total); a price raised meanwhile makes
checkout answer 409 price_changed with the new totals, and nothing is written (no order, no reservation, the
cart kept)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import ADDRESS, eur, make_product, ok, order_item, put_in_cart, stock_of, uid

pytestmark = [pytest.mark.integration, pytest.mark.audited]


def post_checkout(stack: Any, token: str, key: str, **extra: Any) -> Any:
    return stack.request("POST", "/checkout", token=token, headers={"Idempotency-Key": key},
                         json={"shipping_address": ADDRESS, "payment_method_id": "pm_card_visa", **extra})


def test_a_price_raised_after_the_cart_was_shown_is_refused_with_the_new_totals(stack: Any, admin: Any) -> None:
    from shop.checkout.service import order_id_for

    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 5}, price=1000)
    sku = product.skus[0]
    put_in_cart(stack, shopper.id_token, sku, 1)
    seen = ok(stack.request("GET", "/cart", token=shopper.id_token))["totals"]["total"]
    ok(stack.request("PUT", f"/admin/skus/{sku}/price", token=admin.id_token, json={"price": eur(5000)}))
    before = stock_of(stack, sku)

    key = f"expected-{uid(12)}"
    refused = post_checkout(stack, shopper.id_token, key, expected_total=seen)
    assert refused.status == 409, refused.body
    error = refused.json()["error"]
    assert error["code"] == "price_changed"
    assert error["details"]["expected_total"] == seen
    new_total = error["details"]["totals"]["total"]
    assert new_total["amount"] > seen["amount"] and error["details"]["totals"]["subtotal"] == eur(5000)
    # nothing written: no order, nothing reserved, the cart still holds the line
    with pytest.raises(KeyError):
        order_item(stack, order_id_for(shopper.user_id, key))
    assert stock_of(stack, sku) == before
    assert ok(stack.request("GET", "/cart", token=shopper.id_token))["items"][0]["quantity"] == 1

    # the shopper accepts the new total: the same key checks out, charged exactly what they confirmed
    placed = ok(post_checkout(stack, shopper.id_token, key, expected_total=new_total), 201)
    assert placed["totals"]["total"] == new_total


def test_expected_total_is_optional_and_validated(stack: Any, admin: Any) -> None:
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 5}, price=1000)
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    bad = post_checkout(stack, shopper.id_token, f"expected-{uid(12)}", expected_total=1892)
    assert bad.status == 422 and "expected_total" in bad.body
    assert ok(post_checkout(stack, shopper.id_token, f"expected-{uid(12)}"), 201)["status"] == "PENDING_PAYMENT"
