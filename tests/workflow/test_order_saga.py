"""The order state machine executed by moto's ASL engine, with our Lambda tasks in-process.

Faults are injected with invoker hooks (run before a function's handler, like a crash at cold start or a
timeout): transient failures are retried, permanent ones compensated, compensations are idempotent, a
retried payment never charges twice, and the sweeper releases unpaid reservations exactly once.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import requests

from shoplocal.stack import ROOT, STRIPE_KEY
from tests.factories import checkout, execution_arn, hooked, make_product, order_item, put_in_cart, stock_of, wait_paid

pytestmark = pytest.mark.workflow


def status_of(stack: Any, order_id: str) -> str:
    return order_item(stack, order_id)["status"]["S"]


def intents_for(stack: Any, order_id: str) -> list[dict[str, Any]]:
    found, after = [], None
    for _ in range(50):
        params: dict[str, Any] = {"limit": 100, **({"starting_after": after} if after else {})}
        page = requests.get(f"{stack.stripe_base}/v1/payment_intents", params=params, auth=(STRIPE_KEY, ""),
                            timeout=10).json()
        found += [pi for pi in page["data"] if (pi.get("metadata") or {}).get("order_id") == order_id]
        if not page.get("has_more"):
            return found
        after = page["data"][-1]["id"]
    raise AssertionError("too many payment intents to page through")


def place(stack: Any, admin: Any, quantity: int = 1, pm: str = "pm_card_visa") -> tuple[str, str, str, Any]:
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 5})
    put_in_cart(stack, shopper.id_token, product.skus[0], quantity)
    resp = checkout(stack, shopper.id_token, payment_method_id=pm)
    assert resp.status == 201, resp.body
    return resp.json()["order_id"], product.skus[0], product.warehouses[0], shopper


def prepared(stack: Any, admin: Any, label: str, quantity: int = 2) -> tuple[Any, str, str, str, str]:
    """A shopper with a filled cart and the id the checkout will give its order (known in advance, so a
    fault hook can target it): (shopper, idempotency key, order id, sku, warehouse)."""
    from shop.checkout.service import order_id_for

    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 5})
    put_in_cart(stack, shopper.id_token, product.skus[0], quantity)
    key = f"{label}-{product.product_id}"
    return shopper, key, order_id_for(shopper.user_id, key), product.skus[0], product.warehouses[0]


def test_a_crashing_task_is_compensated_and_the_compensation_is_idempotent(stack, admin):
    target: dict[str, str] = {}

    def crash(logical_id: str, event: dict[str, Any]) -> None:
        # the charge step dies every time (not a retried error): AbandonPayment finds nothing was charged
        if logical_id == "PaymentFunction" and event.get("order_id") == target.get("id") and \
                event.get("action", "charge") == "charge":
            raise RuntimeError("process died")

    shopper, key, target["id"], sku, wh = prepared(stack, admin, "crash")
    with hooked(stack, crash):
        assert checkout(stack, shopper.id_token, key).status == 201
        done = stack.wait_execution(execution_arn(stack, target["id"]), timeout=60)
    assert done["status"] == "FAILED" and done["error"] == "PaymentFailed"
    after_first = (order_item(stack, target["id"]), stock_of(stack, sku))
    assert after_first[0]["status"]["S"] == "PAYMENT_FAILED"
    assert after_first[1][wh] == {"on_hand": 5, "available": 5, "reserved": 0}
    for _ in range(2):
        again = stack.invoke("ReleaseReservationFunction", {"order_id": target["id"], "reason": "PAYMENT_FAILED"})
        assert again["released"] is False and again["status"] == "PAYMENT_FAILED"
    assert (order_item(stack, target["id"]), stock_of(stack, sku)) == after_first


def test_sweeper_releases_an_unpaid_expired_reservation_exactly_once(stack, admin):
    gate = threading.Event()
    target: dict[str, str] = {}

    def hold(logical_id: str, event: dict[str, Any]) -> None:
        if logical_id == "PaymentFunction" and event.get("order_id") == target.get("id"):
            gate.wait(timeout=60)  # the shopper never gets to pay before the reservation expires

    shopper, key, target["id"], sku, wh = prepared(stack, admin, "expire")
    ddb, orders = stack.client("dynamodb"), stack.physical_id("OrdersTable")
    key_attr = {"pk": {"S": f"ORDER#{target['id']}"}, "sk": {"S": "ORDER"}}
    sweep = json.loads((ROOT / "events" / "orders_sweeper" / "scheduled.json").read_text())
    with hooked(stack, hold):
        try:
            assert checkout(stack, shopper.id_token, key).status == 201
            not_yet = stack.invoke("ReservationSweeperFunction", sweep)
            assert status_of(stack, target["id"]) == "PENDING_PAYMENT" and not_yet["released"] == 0
            ddb.update_item(TableName=orders, Key=key_attr, UpdateExpression="SET reservation_expires_at = :p",
                            ExpressionAttributeValues={":p": {"N": "1000"}})
            first = stack.invoke("ReservationSweeperFunction", sweep)
            second = stack.invoke("ReservationSweeperFunction", sweep)
        finally:
            gate.set()
        done = stack.wait_execution(execution_arn(stack, target["id"]), timeout=60)
    assert first["released"] >= 1 and second["released"] == 0
    assert status_of(stack, target["id"]) == "EXPIRED"
    assert stock_of(stack, sku)[wh] == {"on_hand": 5, "available": 5, "reserved": 0}
    # the held payment step then finds the order closed and charges nothing
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"])["error"]["Error"] == "OrderAlreadyClosed"
    assert intents_for(stack, target["id"]) == []


def test_sweeper_never_releases_an_order_whose_payment_is_running(stack, admin):
    order_id, sku, wh, _ = place(stack, admin, 1)
    wait_paid(stack, order_id)
    ddb, orders = stack.client("dynamodb"), stack.physical_id("OrdersTable")
    key = {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}}
    before = ddb.get_item(TableName=orders, Key=key, ConsistentRead=True)["Item"]
    # a stale index entry on an order in payment: the release's status condition must refuse it
    ddb.update_item(TableName=orders, Key=key,
                    UpdateExpression="SET #s = :p, pending_pk = :pending, reservation_expires_at = :past",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":p": {"S": "PAYMENT_PROCESSING"}, ":pending": {"S": "PENDING"},
                                               ":past": {"N": "1000"}})
    sweep = json.loads((ROOT / "events" / "orders_sweeper" / "scheduled.json").read_text())
    stack.invoke("ReservationSweeperFunction", sweep)
    assert status_of(stack, order_id) == "PAYMENT_PROCESSING"
    assert stock_of(stack, sku)[wh]["reserved"] == 1
    # put the record back as the workflow left it: the invariant audit of later tests must not see an order in
    # payment that has parcels (a state only this test's tampering makes)
    ddb.put_item(TableName=orders, Item=before)


def test_sweeper_sample_event_is_a_scheduled_event():
    event = json.loads((ROOT / "events" / "orders_sweeper" / "scheduled.json").read_text())
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
