"""ReservationSweeperFunction against moto: it releases the stock of orders still PENDING_PAYMENT after their
reservation expired, exactly once, and never touches an order whose payment is running or whose reservation
has not expired yet.

An unpaid order is made by holding its payment step with an invoker hook (the checkout started the real
workflow); the expiry is moved into the past by writing the order item directly.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from shoplocal.stack import ROOT
from tests.factories import checkout, make_product, put_in_cart, stock_of, wait_paid

pytestmark = pytest.mark.integration

SCHEDULED = json.loads((ROOT / "events" / "orders_sweeper" / "scheduled.json").read_text())
PAST = 1000  # epoch seconds, long expired


def execution_arn(stack: Any, order_id: str) -> str:
    machine = stack.physical_id("OrderStateMachine")
    return machine.replace(":stateMachine:", ":execution:") + ":" + order_id


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}}


def order_item(stack: Any, order_id: str) -> dict[str, Any]:
    return stack.client("dynamodb").get_item(TableName=stack.physical_id("OrdersTable"), ConsistentRead=True,
                                             Key=order_key(order_id))["Item"]


def update_order(stack: Any, order_id: str, expression: str, values: dict[str, Any],
                 names: dict[str, str] | None = None) -> None:
    stack.client("dynamodb").update_item(TableName=stack.physical_id("OrdersTable"), Key=order_key(order_id),
                                         UpdateExpression=expression, ExpressionAttributeValues=values,
                                         **({"ExpressionAttributeNames": names} if names else {}))


def sweep(stack: Any) -> dict[str, int]:
    return stack.invoke("ReservationSweeperFunction", SCHEDULED)


def fully_available(stock: dict[str, dict[str, int]]) -> bool:
    return all(s["available"] == s["on_hand"] and s["reserved"] == 0 for s in stock.values())


def reserved(stock: dict[str, dict[str, int]]) -> int:
    return sum(s["reserved"] for s in stock.values())


@contextmanager
def unpaid_order(stack: Any, admin: Any, quantity: int = 2,
                 stock: dict[str, int] | None = None) -> Iterator[tuple[str, str, threading.Event]]:
    """Check out an order whose payment step is held (the shopper has not paid) until the returned event is
    set, or the block ends; yields (order id, sku, release-the-payment event). Removes its hook."""
    from shop.checkout.service import order_id_for

    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock=stock or {"a": 5})
    put_in_cart(stack, shopper.id_token, product.skus[0], quantity)
    key = f"sweep-{product.product_id}"
    order_id = order_id_for(shopper.user_id, key)
    go = threading.Event()

    def hold(logical_id: str, event: dict[str, Any]) -> None:
        if logical_id == "PaymentFunction" and isinstance(event, dict) and event.get("order_id") == order_id:
            go.wait(timeout=60)

    stack.invoker.hooks.append(hold)
    try:
        resp = checkout(stack, shopper.id_token, key)
        assert resp.status == 201, resp.body
        assert resp.json()["order_id"] == order_id
        yield order_id, product.skus[0], go
    finally:
        go.set()
        stack.invoker.hooks.remove(hold)


def test_sweeper_releases_an_expired_unpaid_reservation_exactly_once(stack, admin):
    # two warehouses, so the release gives back every allocation of the order
    with unpaid_order(stack, admin, quantity=4, stock={"a": 2, "b": 5}) as (order_id, sku, go):
        sweep(stack)  # clear whatever other tests left expired, so the counts below are this order's
        held = stock_of(stack, sku)
        assert reserved(held) == 4
        update_order(stack, order_id, "SET reservation_expires_at = :p", {":p": {"N": str(PAST)}})

        first = sweep(stack)
        second = sweep(stack)
        assert first["released"] == 1 and first["failed"] == 0, first
        assert second["released"] == 0 and second["failed"] == 0, second

        item = order_item(stack, order_id)
        assert item["status"]["S"] == "EXPIRED"
        assert "pending_pk" not in item  # left the expiry index
        assert [e["M"]["status"]["S"] for e in item["timeline"]["L"]] == ["PENDING_PAYMENT", "EXPIRED"]
        stock = stock_of(stack, sku)
        assert stock.keys() == held.keys() and fully_available(stock), stock
        assert {w: s["on_hand"] for w, s in stock.items()} == {w: s["on_hand"] for w, s in held.items()}

        go.set()  # the shopper's payment step now runs late: it finds the order closed and charges nothing
        done = stack.wait_execution(execution_arn(stack, order_id), timeout=60)
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"])["error"]["Error"] == "OrderAlreadyClosed"
    assert order_item(stack, order_id) == item
    assert stock_of(stack, sku) == stock


def test_sweeper_leaves_a_reservation_that_has_not_expired(stack, admin):
    with unpaid_order(stack, admin) as (order_id, sku, go):
        before = (order_item(stack, order_id), stock_of(stack, sku))
        assert before[0]["status"]["S"] == "PENDING_PAYMENT" and reserved(before[1]) == 2
        result = sweep(stack)
        assert (order_item(stack, order_id), stock_of(stack, sku)) == before, result

        go.set()  # and the order can still be paid
        wait_paid(stack, order_id)
    assert order_item(stack, order_id)["status"]["S"] == "FULFILLING"
    assert reserved(stock_of(stack, sku)) == 2


@pytest.mark.parametrize("stale_index_entry", [False, True], ids=["left-index", "stale-index-entry"])
def test_sweeper_never_releases_an_order_whose_payment_is_running(stack, admin, stale_index_entry):
    """Payment started (PAYMENT_PROCESSING) and the reservation then expired: the order is the payment's to
    finish. Even with a stale expiry-index entry the release's status condition refuses it."""
    with unpaid_order(stack, admin, quantity=1) as (order_id, sku, go):
        expression = "SET #s = :p, reservation_expires_at = :past"
        values = {":p": {"S": "PAYMENT_PROCESSING"}, ":past": {"N": str(PAST)}}
        if stale_index_entry:
            expression += ", pending_pk = :pending"
            values[":pending"] = {"S": "PENDING"}
        else:
            expression += " REMOVE pending_pk"  # what starting the payment does
        update_order(stack, order_id, expression, values, names={"#s": "status"})
        before = (order_item(stack, order_id), stock_of(stack, sku))

        result = sweep(stack)
        assert result["failed"] == 0, result
        assert (order_item(stack, order_id), stock_of(stack, sku)) == before
        assert reserved(before[1]) == 1

        go.set()  # the payment goes on with the order it started: charged, confirmed, stock still reserved
        wait_paid(stack, order_id)
    assert order_item(stack, order_id)["status"]["S"] == "FULFILLING"
    assert reserved(stock_of(stack, sku)) == 1
    assert sweep(stack)["failed"] == 0


def test_orders_that_cannot_be_released_do_not_hide_the_ones_after_them(stack, admin):
    """More than a page (100) of index entries the sweeper must skip (stale entries of orders whose payment is
    running) sort before a releasable order: the sweeper pages on past them instead of re-reading the first
    page, and releases it."""
    table = stack.physical_id("OrdersTable")
    ddb = stack.client("dynamodb")
    with unpaid_order(stack, admin, quantity=1) as (order_id, sku, _go):
        template = order_item(stack, order_id)
        stuck = [f"{order_id}x{i}" for i in range(105)]
        for fake in stuck:  # copies whose payment runs, expired earlier: first in the expiry index
            ddb.put_item(TableName=table, Item={**template, **order_key(fake), "order_id": {"S": fake},
                                                "status": {"S": "PAYMENT_PROCESSING"},
                                                "reservation_expires_at": {"N": str(PAST - 1)}})
        try:
            update_order(stack, order_id, "SET reservation_expires_at = :p", {":p": {"N": str(PAST)}})
            result = sweep(stack)
            assert result["skipped"] >= len(stuck) and result["failed"] == 0, result
            assert order_item(stack, order_id)["status"]["S"] == "EXPIRED"
            assert reserved(stock_of(stack, sku)) == 0
        finally:
            for fake in stuck:
                ddb.delete_item(TableName=table, Key=order_key(fake))


def test_sweeper_racing_a_payment_failure_releases_once(stack, admin):
    with unpaid_order(stack, admin, quantity=3) as (order_id, sku, _go):
        sweep(stack)
        update_order(stack, order_id, "SET reservation_expires_at = :p", {":p": {"N": str(PAST)}})
        with ThreadPoolExecutor(max_workers=3) as pool:
            swept = pool.submit(sweep, stack)
            released = [pool.submit(stack.invoke, "ReleaseReservationFunction",
                                    {"order_id": order_id, "reason": "PAYMENT_FAILED"}) for _ in range(2)]
            results = [swept.result(timeout=60)["released"]] + [f.result(timeout=60)["released"] for f in released]
        assert sum(results) == 1, results
        assert order_item(stack, order_id)["status"]["S"] in ("EXPIRED", "PAYMENT_FAILED")
        assert fully_available(stock_of(stack, sku))


def test_sample_scheduled_event_is_an_eventbridge_scheduled_event():
    assert SCHEDULED["source"] == "aws.events" and SCHEDULED["detail-type"] == "Scheduled Event"
    assert SCHEDULED["detail"] == {} and SCHEDULED["resources"][0].startswith("arn:aws:events:")
