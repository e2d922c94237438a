"""DynamoDB calls per request on the hot paths, counted (not timed): issue 7's budget.

POST /checkout must be ONE TransactWriteItems plus at most two other calls, whatever the cart holds (several
lines, stock in two warehouses, a sale and a coupon): a batch read of the cart and the would-be order, and a
batch read of the SKUs, products, stock levels, sales and coupon. The cart view is one read of the cart and
one batch read. The calls are counted on the thread that runs the function, while it runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.factories import calls_by_function, checkout, make_product, ok, put_in_cart, uid

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)
WINDOW = {"starts_at": (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
          "ends_at": (NOW + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")}


@contextmanager
def dynamodb_calls(function: str, stack: Any) -> Iterator[Counter[str]]:
    """Count the DynamoDB operations made by invocations of ``function`` (its logical id) while inside (the
    call budgets' shared spy, tests.factories.calls_by_function); the counts are there once the block ends."""
    counted: Counter[str] = Counter()
    with calls_by_function(stack, lambda logical_id, _event: logical_id if logical_id == function else None,
                           lambda _op, _kwargs: None) as calls:
        yield counted
    counted.update(op for _fn, op, _ in calls)


def test_checkout_is_one_transaction_and_two_reads(stack, admin):
    shopper = stack.user()
    products = [make_product(stack, admin.id_token, stock={"a": 3, "b": 4}, price=2500) for _ in range(3)]
    sale = f"budget-{uid(6)}"
    ok(stack.request("PUT", f"/admin/sales/{sale}", token=admin.id_token,
                     json={"name": sale, "scope": "sku", "target": products[0].skus[0], "percent": 10, **WINDOW}))
    code = f"B{uid(8).upper()}"
    ok(stack.request("PUT", f"/admin/coupons/{code}", token=admin.id_token,
                     json={"percent": 5, "global_limit": 100, "per_customer_limit": 1, **WINDOW}))
    for product in products:
        put_in_cart(stack, shopper.id_token, product.skus[0], 2)
    put_in_cart(stack, shopper.id_token, products[1].skus[0], 5)  # needs both warehouses
    ok(stack.request("PUT", "/cart/coupon", token=shopper.id_token, json={"code": code}))

    with dynamodb_calls("CartFunction", stack) as cart_calls:
        cart = ok(stack.request("GET", "/cart", token=shopper.id_token))
    assert {d["code"] for d in cart["discounts"]} == {f"SALE:{sale}", code}
    assert dict(cart_calls) == {"get_item": 1, "batch_get_item": 1}

    key = f"budget-{uid(12)}"
    with dynamodb_calls("CheckoutFunction", stack) as calls:
        resp = checkout(stack, shopper.id_token, key)
    assert resp.status == 201, resp.body
    order = resp.json()
    assert order["totals"]["discount"]["amount"] > 0 and len(order["lines"]) == 3
    assert sorted(len(line["allocations"]) for line in order["lines"]) == [1, 1, 2]
    assert calls["transact_write_items"] == 1
    assert sum(calls.values()) - calls["transact_write_items"] <= 2, dict(calls)

    # a replay is answered from the order its first read finds: one read, no transaction
    with dynamodb_calls("CheckoutFunction", stack) as replay_calls:
        again = checkout(stack, shopper.id_token, key)
    assert again.status == 201 and again.json()["replayed"] is True
    assert again.json()["order_id"] == order["order_id"]
    assert dict(replay_calls) == {"batch_get_item": 1}


def test_stock_in_a_warehouse_added_after_the_list_was_cached_is_found(stack, admin):
    """The warehouse list may be a copy up to a minute old; a checkout that comes up short looks again before
    it refuses (two reads more, only then)."""
    first = make_product(stack, admin.id_token, stock={"a": 5})
    warm = stack.user()
    put_in_cart(stack, warm.id_token, first.skus[0], 1)
    assert checkout(stack, warm.id_token).status == 201  # the list is now cached, without the next warehouse
    from shop.inventory import repository as inventory

    stale = inventory._warehouses_seen
    shopper = stack.user()
    fresh = make_product(stack, admin.id_token, stock={"new": 2})  # a warehouse created just now
    put_in_cart(stack, shopper.id_token, fresh.skus[0], 2)
    # the functions share this process's modules; on AWS the checkout's container keeps its own older copy
    inventory._warehouses_seen = stale
    with dynamodb_calls("CheckoutFunction", stack) as calls:
        resp = checkout(stack, shopper.id_token)
    assert resp.status == 201, resp.body
    assert resp.json()["lines"][0]["allocations"] == [{"warehouse_id": fresh.warehouses[0], "quantity": 2}]
    assert dict(calls) == {"batch_get_item": 3, "query": 1, "transact_write_items": 1}


def test_a_cart_stored_without_product_ids_still_checks_out(stack, admin):
    """Carts written before lines carried their product id cost one SKU lookup more, and nothing else."""
    product = make_product(stack, admin.id_token, stock={"a": 5})
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, product.skus[0], 2)
    table = stack.physical_id("CartsTable")
    stack.client("dynamodb").update_item(TableName=table, Key={"customer_id": {"S": shopper.user_id}},
                                         UpdateExpression="REMOVE products")
    with dynamodb_calls("CheckoutFunction", stack) as calls:
        resp = checkout(stack, shopper.id_token)
    assert resp.status == 201, resp.body
    assert dict(calls) == {"batch_get_item": 3, "transact_write_items": 1}
