"""POST /checkout and the orders routes through the gateway: reservation, refusals, idempotency, ownership."""

from __future__ import annotations

import time
from typing import Any

import pytest
from shop.money import round_half_up

from tests.factories import ADDRESS, checkout, make_product, put_in_cart, stock_of, uid

pytestmark = pytest.mark.integration


def fields(resp: Any) -> list[str]:
    return [f["field"] for f in resp.json()["error"]["details"]["fields"]]


def wait_status(stack: Any, token: str, order_id: str, statuses: set[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        order = stack.request("GET", f"/orders/{order_id}", token=token).json()
        if order["status"] in statuses:
            return order
        if time.monotonic() > deadline:
            raise TimeoutError(f"order {order_id} still {order['status']}")
        time.sleep(0.2)


def test_checkout_reserves_stock_prices_the_order_and_empties_the_cart(stack, admin):
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 10}, price=1250, weight_grams=700)
    sku = product.skus[0]
    put_in_cart(stack, shopper.id_token, sku, 3)
    resp = checkout(stack, shopper.id_token)
    assert resp.status == 201, resp.body
    order = resp.json()
    assert order["status"] == "PENDING_PAYMENT" and order["order_id"].startswith("ord_")
    assert resp.headers["Location"] == f"/orders/{order['order_id']}"
    subtotal = 3 * 1250
    shipping = 490 + 100 * 3  # domestic zone, 2.1 kg -> 3 started kilograms
    tax = round_half_up((subtotal + shipping) * 1900, 10_000)
    totals = order["totals"]
    assert [totals[k]["amount"] for k in ("subtotal", "discount", "shipping", "tax", "total")] == \
        [subtotal, 0, shipping, tax, subtotal + shipping + tax]
    assert order["lines"][0]["allocations"] == [{"warehouse_id": product.warehouses[0], "quantity": 3}]
    level = stock_of(stack, sku)[product.warehouses[0]]
    assert level["reserved"] == 3 and level["available"] == 7 and level["on_hand"] == 10
    assert stack.request("GET", "/cart", token=shopper.id_token).json()["items"] == []


def test_a_line_is_split_only_when_no_warehouse_has_enough(stack, admin):
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 2, "b": 2, "c": 5})
    put_in_cart(stack, shopper.id_token, product.skus[0], 4)
    whole = checkout(stack, shopper.id_token).json()
    assert whole["lines"][0]["allocations"] == [{"warehouse_id": product.warehouses[2], "quantity": 4}]
    other = stack.user()
    put_in_cart(stack, other.id_token, product.skus[0], 3)
    split = checkout(stack, other.id_token).json()
    allocs = split["lines"][0]["allocations"]
    assert sum(a["quantity"] for a in allocs) == 3 and len(allocs) == 2


def test_out_of_stock_names_every_short_sku_and_reserves_nothing(stack, admin):
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 3}, n_skus=3)
    short_a, short_b, fine = product.skus
    for sku in product.skus:
        put_in_cart(stack, shopper.id_token, sku, 2)
    # others buy stock away after the shopper filled the cart
    for sku in (short_a, short_b):
        rival = stack.user()
        put_in_cart(stack, rival.id_token, sku, 2)
        assert checkout(stack, rival.id_token).status == 201
    before = {sku: stock_of(stack, sku) for sku in product.skus}
    resp = checkout(stack, shopper.id_token)
    assert resp.status == 409, resp.body
    err = resp.json()["error"]
    assert err["code"] == "out_of_stock"
    assert err["details"]["skus"] == [{"sku": short_a, "requested": 2, "available": 1},
                                      {"sku": short_b, "requested": 2, "available": 1}]
    assert {sku: stock_of(stack, sku) for sku in product.skus} == before
    assert fine in [i["sku"] for i in stack.request("GET", "/cart", token=shopper.id_token).json()["items"]]


def test_bad_input_is_refused_naming_the_field(stack, admin):
    shopper = stack.user()
    empty = checkout(stack, shopper.id_token)
    assert empty.status == 422 and fields(empty) == ["cart"]
    product = make_product(stack, admin.id_token, stock={"a": 5})
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    body = {"shipping_address": ADDRESS, "payment_method_id": "pm_card_visa"}
    missing_key = stack.request("POST", "/checkout", json=body, token=shopper.id_token)
    assert missing_key.status == 422 and fields(missing_key) == ["header.Idempotency-Key"]
    bad_key = stack.request("POST", "/checkout", json=body, token=shopper.id_token,
                            headers={"Idempotency-Key": "no spaces allowed"})
    assert bad_key.status == 422 and fields(bad_key) == ["header.Idempotency-Key"]
    no_city = {k: v for k, v in ADDRESS.items() if k != "city"}
    resp = checkout(stack, shopper.id_token, address=no_city)
    assert resp.status == 422 and fields(resp) == ["body.shipping_address.city"]
    resp = checkout(stack, shopper.id_token, address={**ADDRESS, "country": "XX"})
    assert resp.status == 422 and fields(resp) == ["body.shipping_address.country"]
    resp = checkout(stack, shopper.id_token, payment_method_id="card 4242")
    assert resp.status == 422 and fields(resp) == ["body.payment_method_id"]
    assert stack.request("POST", "/checkout", json=body, headers={"Idempotency-Key": "k" * 10}).status == 401
    level = stock_of(stack, product.skus[0])[product.warehouses[0]]
    assert level["reserved"] == 0  # nothing was half-written by any refused attempt


def test_same_idempotency_key_returns_the_same_order_and_reserves_once(stack, admin):
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 5})
    put_in_cart(stack, shopper.id_token, product.skus[0], 2)
    key = f"key-{uid(16)}"
    first = checkout(stack, shopper.id_token, key)
    again = checkout(stack, shopper.id_token, key)
    assert first.status == again.status == 201
    assert first.json()["order_id"] == again.json()["order_id"]
    assert stock_of(stack, product.skus[0])[product.warehouses[0]]["reserved"] == 2
    other_body = checkout(stack, shopper.id_token, key, address={**ADDRESS, "city": "Potsdam"})
    assert other_body.status == 422 and other_body.json()["error"]["code"] == "idempotency_key_reused"
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    second = checkout(stack, shopper.id_token)
    assert second.status == 201 and second.json()["order_id"] != first.json()["order_id"]


def test_orders_are_listed_newest_first_paginated_and_private(stack, admin):
    shopper, stranger = stack.user(), stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 10})
    ids = []
    for _ in range(3):
        put_in_cart(stack, shopper.id_token, product.skus[0], 1)
        ids.append(checkout(stack, shopper.id_token).json()["order_id"])
    seen, cursor = [], None
    for _ in range(5):
        page = stack.request("GET", "/orders", token=shopper.id_token,
                             query={"limit": 1, **({"cursor": cursor} if cursor else {})}).json()
        seen += [o["order_id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    detail = stack.request("GET", f"/orders/{ids[0]}", token=shopper.id_token)
    assert detail.status == 200 and detail.json()["lines"][0]["sku"] == product.skus[0]
    assert stack.request("GET", f"/orders/{ids[0]}", token=stranger.id_token).status == 404
    assert stack.request("GET", "/orders/ord_doesnotexist", token=shopper.id_token).status == 404
    assert stack.request("GET", "/orders", token=stranger.id_token).json()["items"] == []
    bad = stack.request("GET", "/orders", token=shopper.id_token, query={"cursor": "%%%"})
    assert bad.status == 422
    assert stack.request("GET", "/orders").status == 401


def test_paid_and_declined_orders_reach_their_final_status(stack, admin):
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 4})
    sku, wh = product.skus[0], product.warehouses[0]
    put_in_cart(stack, shopper.id_token, sku, 1)
    paid = checkout(stack, shopper.id_token).json()
    put_in_cart(stack, shopper.id_token, sku, 2)
    declined = checkout(stack, shopper.id_token, payment_method_id="pm_card_chargeCustomerFail").json()
    done = wait_status(stack, shopper.id_token, paid["order_id"], {"FULFILLING", "PAYMENT_FAILED"})
    assert done["status"] == "FULFILLING" and done["payment"]["payment_intent_id"].startswith("pi_")
    assert done["payment"]["status"] == "paid" and [s["status"] for s in done["shipments"]] == ["PICKING"]
    failed = wait_status(stack, shopper.id_token, declined["order_id"], {"FULFILLING", "PAYMENT_FAILED"})
    assert failed["status"] == "PAYMENT_FAILED" and failed["payment"]["decline_code"]
    assert [t["status"] for t in failed["timeline"]][-1] == "PAYMENT_FAILED"
    assert stock_of(stack, sku)[wh] == {"on_hand": 4, "available": 3, "reserved": 1}


@pytest.mark.parametrize(("function", "event_file", "statuses"), [
    ("CheckoutFunction", "checkout/checkout.json", {201, 409, 422}),
    ("CheckoutFunction", "checkout/checkout_expected_total.json", {201, 409, 422}),  # 409 price_changed too
    ("OrdersFunction", "orders/list_orders.json", {200}),
    ("OrdersFunction", "orders/get_order.json", {200, 404}),
    ("OrdersFunction", "orders/cancel_order.json", {404}),  # the sample order does not exist
    ("OrdersFunction", "orders/request_return.json", {404}),
    ("OrdersFunction", "orders/request_exchange.json", {404}),
    ("OrdersFunction", "orders/get_return.json", {404}),
    ("OrdersFunction", "orders/get_return_label.json", {404}),  # the sample return does not exist
    ("WarehouseFunction", "fulfillment_warehouse/list_tasks.json", {200}),
    ("WarehouseFunction", "fulfillment_warehouse/complete_pick.json", {404}),
    ("WarehouseFunction", "fulfillment_warehouse/complete_pack.json", {404}),
    # the samples carry a placeholder signature: a real sender signs each delivery
    ("WebhooksFunction", "orderflow_webhooks/stripe_payment_intent_succeeded.json", {401}),
    ("WebhooksFunction", "orderflow_webhooks/carrier_delivered.json", {401}),
])
def test_sample_events_are_answered(stack, function, event_file, statuses):
    import json

    from shoplocal.stack import ROOT

    event = json.loads((ROOT / "events" / event_file).read_text())
    result = stack.invoke(function, event)
    assert result["statusCode"] in statuses, result
    json.loads(result["body"])


def test_concurrent_duplicates_of_one_checkout_place_one_order(stack, admin):
    from concurrent.futures import ThreadPoolExecutor

    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 5})
    put_in_cart(stack, shopper.id_token, product.skus[0], 2)
    key = f"dup-{uid(16)}"
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: checkout(stack, shopper.id_token, key), range(6)))
    assert {r.status for r in results} == {201}, [r.body for r in results]
    assert len({r.json()["order_id"] for r in results}) == 1
    assert stock_of(stack, product.skus[0])[product.warehouses[0]]["reserved"] == 2
