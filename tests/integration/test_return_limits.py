"""Issue 12, rows 1, 2 and 6 and the refund limits: returns never take back more than was delivered, refunds
never exceed what was captured (on our side, as a condition in the write, and on localstripe's, as Stripe
refuses it), restock never exceeds what came back and happens where the goods were inspected, and return
items never break the shopper's order list."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from shoplocal.stack import STRIPE_KEY
from tests.factories import (
    checkout,
    deliver,
    make_product,
    ok,
    open_task,
    order_item,
    order_view,
    pick_and_pack,
    put_in_cart,
    uid,
    wait_for,
    wait_paid,
    wait_status,
)
from tests.race import assert_stock_conserved, stock_rows

pytestmark = pytest.mark.integration


def _delivered_order(stack: Any, admin: Any, staff: Any, units: int) -> tuple[Any, Any, dict[str, Any]]:
    product = make_product(stack, admin.id_token, stock={"a": 10}, price=1500)
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, product.skus[0], units)
    order = ok(checkout(stack, shopper.id_token), 201)
    wait_status(stack, shopper.id_token, order["order_id"], "FULFILLING", timeout=60)
    deliver(stack, staff.id_token, shopper.id_token, order["order_id"], product.warehouses[0])
    return product, shopper, order


def _refunds(stack: Any, intent: str) -> list[dict[str, Any]]:
    return list(requests.get(f"{stack.stripe_base}/v1/refunds", params={"payment_intent": intent, "limit": 100},
                             timeout=10, auth=(STRIPE_KEY, "")).json()["data"])


def _wait_return(stack: Any, token: str, return_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
    return dict(wait_for(lambda: (r := ok(stack.request("GET", f"/returns/{return_id}", token=token)))
                         and r["status"] == status and r, timeout, f"return {return_id} to become {status}"))


@pytest.mark.audited
def test_parallel_returns_of_the_same_units_one_wins_refund_and_restock_once(stack, admin, staff):
    product, shopper, order = _delivered_order(stack, admin, staff, 3)
    sku, wh, order_id = product.skus[0], product.warehouses[0], order["order_id"]
    before = {r["warehouse"]: r["on_hand"] for r in stock_rows(stack, sku)}[wh]
    barrier = threading.Barrier(8)

    def ask(_: int) -> requests.Response:
        with requests.Session() as http:
            barrier.wait(timeout=60)
            return http.post(f"{stack.base_url}/orders/{order_id}/returns", timeout=120,
                             headers={"Authorization": f"Bearer {shopper.id_token}"},
                             json={"lines": [{"sku": sku, "quantity": 3, "reason": "changed_mind"}]})

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, range(8)))
    created = [a.json() for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    assert len(created) == 1, [(a.status_code, a.text[:200]) for a in answers]
    for a in refused:
        assert a.status_code in (409, 422), a.text
        assert a.json()["error"]["code"] in ("return_quantity_exceeded", "invalid_input"), a.text
    assert int(order_item(stack, order_id)[f"returned.{sku}"]["N"]) == 3

    # staff inspect every return task there is: all three units sellable
    task = open_task(stack, staff.id_token, wh, order_id, "return", timeout=30)
    ok(stack.request("POST", f"/warehouse/tasks/{task['task_id']}/complete", token=staff.id_token,
                     json={"inspected": [{"sku": sku, "sellable": 3, "damaged": 0}]}))
    done = _wait_return(stack, shopper.id_token, created[0]["return_id"], "REFUNDED")
    intent = order_view(stack, shopper.id_token, order_id)["payment"]["payment_intent_id"]
    refunded = sum(r["amount"] for r in _refunds(stack, intent))
    assert refunded == done["refunded"]["amount"] <= order["totals"]["total"]["amount"]
    item = order_item(stack, order_id)
    assert int(item["refunded_amount"]["N"]) == refunded
    after = {r["warehouse"]: r["on_hand"] for r in stock_rows(stack, sku)}[wh]
    assert after - before == 3
    assert_stock_conserved(stack, sku, [order_id])
    # a further return of the same line is refused outright
    again = stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token,
                          json={"lines": [{"sku": sku, "quantity": 1, "reason": "other"}]})
    assert again.status == 422 and again.json()["error"]["details"]["returnable"] == 0, again.body


def test_refunds_of_an_order_never_exceed_what_was_captured(stack, admin, staff):
    """The refund counter on the order is reserved conditionally, once per refund key, before Stripe is
    asked: two refunds that together exceed the capture cannot both pass, and a retried one counts once."""
    from shop.config import function_environment
    from shop.orders import repository as orders_repo
    from shop.orders.repository import RefundLimitExceeded

    _, _, order = _delivered_order(stack, admin, staff, 1)
    order_id, total = order["order_id"], order["totals"]["total"]["amount"]
    with function_environment(stack.function_env("ReturnsFunction")):
        assert orders_repo.reserve_refund(order_id, f"{order_id}:a", total - 100, total) is True
        assert orders_repo.reserve_refund(order_id, f"{order_id}:a", total - 100, total) is False  # a retry
        with pytest.raises(RefundLimitExceeded):
            orders_repo.reserve_refund(order_id, f"{order_id}:b", 101, total)
        assert orders_repo.reserve_refund(order_id, f"{order_id}:c", 100, total) is True
        with pytest.raises(RefundLimitExceeded):
            orders_repo.reserve_refund(order_id, f"{order_id}:d", 1, total)
    assert int(order_item(stack, order_id)["refunded_amount"]["N"]) == total


def _paid_intent(stack: Any, amount: int) -> str:
    auth = (STRIPE_KEY, "")
    intent = requests.post(f"{stack.stripe_base}/v1/payment_intents", auth=auth, timeout=10, data={
        "amount": amount, "currency": "eur", "payment_method": "pm_card_visa"}).json()
    confirmed = requests.post(f"{stack.stripe_base}/v1/payment_intents/{intent['id']}/confirm", auth=auth,
                              timeout=10).json()
    assert confirmed["status"] == "succeeded", confirmed
    return str(intent["id"])


def test_localstripe_refuses_a_refund_above_what_is_left_of_the_charge(stack):
    auth = (STRIPE_KEY, "")
    intent = _paid_intent(stack, 5107)

    def refund(amount: int | None) -> requests.Response:
        data = {"payment_intent": intent, **({"amount": amount} if amount is not None else {})}
        return requests.post(f"{stack.stripe_base}/v1/refunds", auth=auth, timeout=10, data=data)

    too_much = refund(5108)
    assert too_much.status_code == 400 and too_much.json()["error"]["type"] == "invalid_request_error"
    assert refund(4405).status_code == 200
    second = refund(4405)
    assert second.status_code == 400, second.text
    assert "greater than unrefunded amount" in second.json()["error"]["message"]
    assert refund(702).status_code == 200
    full = refund(None)
    assert full.status_code == 400 and full.json()["error"]["code"] == "charge_already_refunded", full.text
    assert sum(r["amount"] for r in _refunds(stack, intent)) == 5107


def test_the_adapter_maps_stripes_refusal_to_a_domain_error(stack):
    from shop.config import function_environment
    from shop.money import Money
    from shop.payments import stripe_adapter
    from shop.payments.errors import RefundRefused

    intent = _paid_intent(stack, 1000)
    with function_environment(stack.function_env("ReturnsFunction")):
        stripe_adapter.refund(intent, Money(amount=900, currency="EUR"), f"k-{uid()}")
        with pytest.raises(RefundRefused):
            stripe_adapter.refund(intent, Money(amount=200, currency="EUR"), f"k-{uid()}")


def test_a_return_never_breaks_the_order_list_or_reviews(stack, admin, staff):
    product, shopper, order = _delivered_order(stack, admin, staff, 2)
    made = ok(stack.request("POST", f"/orders/{order['order_id']}/returns", token=shopper.id_token,
                            json={"lines": [{"sku": product.skus[0], "quantity": 1, "reason": "damaged"}]}), 201)
    assert made["customer_id"] and made["created_at"]  # the API view is unchanged
    listed = stack.request("GET", "/orders", token=shopper.id_token)
    assert listed.status == 200, listed.body
    assert [o["order_id"] for o in listed.json()["items"]] == [order["order_id"]]
    review = stack.request("POST", f"/products/{product.product_id}/reviews", token=shopper.id_token,
                           json={"rating": 5, "title": "Good", "body": "Kept one of two."})
    assert review.status == 201, review.body
    # the return is still the shopper's own, and nobody else's
    assert ok(stack.request("GET", f"/returns/{made['return_id']}", token=shopper.id_token))["status"]
    assert stack.request("GET", f"/returns/{made['return_id']}", token=stack.user().id_token).status == 404


@pytest.mark.audited
def test_a_return_from_two_warehouses_is_restocked_where_it_was_inspected(stack, admin, staff):
    product = make_product(stack, admin.id_token, stock={"a": 5, "b": 5}, price=1200, n_skus=2)
    first, second = product.skus
    wa, wb = product.warehouses
    for sku, wh in ((first, wb), (second, wa)):  # first only in a, second only in b: two parcels
        ok(stack.request("PUT", f"/admin/inventory/{sku}/{wh}", json={"on_hand": 0}, token=admin.id_token))
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, first, 1)
    put_in_cart(stack, shopper.id_token, second, 1)
    order = ok(checkout(stack, shopper.id_token), 201)
    order_id = order["order_id"]
    wait_status(stack, shopper.id_token, order_id, "FULFILLING", timeout=60)
    for wh in (wa, wb):
        pick_and_pack(stack, staff.id_token, order_id, wh)
    def labels() -> list[str] | None:
        parcels = order_view(stack, shopper.id_token, order_id)["shipments"]
        found = [p.get("tracking_number") for p in parcels]
        return found if len(found) == 2 and all(found) else None

    parcels = wait_for(labels, 30, "two parcels with their labels")
    for tracking in parcels:
        ok(stack.carrier_webhook(tracking, "delivered"))
    wait_status(stack, shopper.id_token, order_id, "DELIVERED")
    before = {sku: {r["warehouse"]: r["on_hand"] for r in stock_rows(stack, sku)} for sku in (first, second)}

    made = ok(stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token, json={"lines": [
        {"sku": first, "quantity": 1, "reason": "changed_mind"},
        {"sku": second, "quantity": 1, "reason": "changed_mind"}]}), 201)
    tasks: dict[str, dict[str, Any]] = {}

    def find_tasks() -> bool:
        for wh in (wa, wb):
            listed = ok(stack.request("GET", f"/warehouse/{wh}/tasks", token=staff.id_token, query={"limit": "100"}))
            for t in listed["items"]:
                if t["order_id"] == order_id and t["kind"] == "return":
                    tasks[t["task_id"]] = t
        return bool(tasks)

    wait_for(find_tasks, 30, "the return's inspection task(s)")
    time.sleep(1.0)
    find_tasks()
    inspected_at: dict[str, str] = {}
    for t in tasks.values():
        for line in t["checklist"]:
            inspected_at[line["sku"]] = t["warehouse_id"]
        ok(stack.request("POST", f"/warehouse/tasks/{t['task_id']}/complete", token=staff.id_token, json={
            "inspected": [{"sku": ln["sku"], "sellable": ln["quantity"], "damaged": 0} for ln in t["checklist"]]}))
    assert set(inspected_at) == {first, second}, tasks  # every returned unit is inspected somewhere
    _wait_return(stack, shopper.id_token, made["return_id"], "REFUNDED")
    for sku in (first, second):
        after = {r["warehouse"]: r["on_hand"] for r in stock_rows(stack, sku)}
        grown = {wh: after.get(wh, 0) - before[sku].get(wh, 0) for wh in after}
        assert grown == {**{wh: 0 for wh in after}, inspected_at[sku]: 1}, (sku, inspected_at, grown)
        assert_stock_conserved(stack, sku, [order_id])



def test_a_rejected_return_gives_its_units_back_once(stack, admin, staff):
    from shop.config import function_environment
    from shop.returns import service

    product, shopper, order = _delivered_order(stack, admin, staff, 2)
    sku, order_id = product.skus[0], order["order_id"]
    made = ok(stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token,
                            json={"lines": [{"sku": sku, "quantity": 2, "reason": "other"}]}), 201)
    more = stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token,
                         json={"lines": [{"sku": sku, "quantity": 1, "reason": "other"}]})
    assert more.status == 422 and more.json()["error"]["details"]["returnable"] == 0
    open_task(stack, staff.id_token, product.warehouses[0], order_id, "return", timeout=30)  # AWAITING_GOODS
    with function_environment(stack.function_env("ReturnsFunction")):
        assert service.reject(order_id, made["return_id"], "the parcel never arrived") is True
        assert service.reject(order_id, made["return_id"], "the parcel never arrived") is False
    assert int(order_item(stack, order_id)[f"returned.{sku}"]["N"]) == 0
    assert ok(stack.request("GET", f"/returns/{made['return_id']}", token=shopper.id_token))["status"] == "REJECTED"
    ok(stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token,
                     json={"lines": [{"sku": sku, "quantity": 2, "reason": "other"}]}), 201)


def test_a_cancellation_refund_is_counted_on_the_order_once(stack, admin):
    product = make_product(stack, admin.id_token, stock={"a": 5}, price=2500)
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    order = ok(checkout(stack, shopper.id_token), 201)
    order_id, total = order["order_id"], order["totals"]["total"]["amount"]
    wait_paid(stack, order_id)
    ok(stack.request("POST", f"/orders/{order_id}/cancel", token=shopper.id_token))
    ok(stack.request("POST", f"/orders/{order_id}/cancel", token=shopper.id_token))  # a repeat counts nothing
    item = order_item(stack, order_id)
    assert int(item["refunded_amount"]["N"]) == total and int(item[f"refund.{order_id}:full"]["N"]) == total
    intent = order_view(stack, shopper.id_token, order_id)["payment"]["payment_intent_id"]
    assert sum(r["amount"] for r in _refunds(stack, intent)) == total


@pytest.mark.audited
@pytest.mark.parametrize("stored", ["naive", "not-a-date"])
def test_a_delivery_time_stored_without_a_zone_never_breaks_returns(stack, admin, staff, stored):
    """Row 4, the records side: carrier times are checked now, but a delivery stored before that (no zone, or
    not a date at all) must still let the shopper return the goods (it was a 500 for every later return)."""
    from datetime import UTC, datetime

    product, shopper, order = _delivered_order(stack, admin, staff, 1)
    order_id = order["order_id"]
    table = stack.physical_id("OrdersTable")
    found = stack.client("dynamodb").query(
        TableName=table, KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
        ExpressionAttributeValues={":p": {"S": f"ORDER#{order_id}"}, ":s": {"S": "SHIPMENT#"}})["Items"]
    value = datetime.now(UTC).replace(tzinfo=None).isoformat() if stored == "naive" else "not-a-date"
    for shipment in found:
        stack.client("dynamodb").update_item(TableName=table, Key={"pk": shipment["pk"], "sk": shipment["sk"]},
                                             UpdateExpression="SET delivered_at = :d",
                                             ExpressionAttributeValues={":d": {"S": value}})
    made = stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token,
                         json={"lines": [{"sku": product.skus[0], "quantity": 1, "reason": "changed_mind"}]})
    assert made.status == 201, made.body


def test_a_return_label_is_priced_on_the_route_back_to_the_warehouse(stack, admin, staff):
    """A parcel from a German shopper back to a French warehouse crosses a border: it is priced on the route
    (eu), not by the shopper's country alone (domestic)."""
    from shop.config import function_environment, get_settings
    from shop.pricing import shipping_cost

    product = make_product(stack, admin.id_token, stock={"a": 0, "b": 5}, price=1500)  # b is in FR
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    order = ok(checkout(stack, shopper.id_token), 201)
    order_id = order["order_id"]
    assert order_view(stack, shopper.id_token, order_id)["shipping_address"]["country"] == "DE"
    wait_status(stack, shopper.id_token, order_id, "FULFILLING", timeout=60)
    deliver(stack, staff.id_token, shopper.id_token, order_id, product.warehouses[1])
    made = ok(stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token,
                            json={"lines": [{"sku": product.skus[0], "quantity": 1, "reason": "changed_mind"}]}), 201)
    labelled = wait_for(lambda: (r := ok(stack.request("GET", f"/returns/{made['return_id']}",
                                                        token=shopper.id_token))).get("label") and r,
                        30, "the return label")
    with function_environment(stack.function_env("ReturnsFunction")):
        eu = shipping_cost(get_settings(), "eu", 400, "EUR")
        domestic = shipping_cost(get_settings(), "domestic", 400, "EUR")
    assert eu != domestic
    assert labelled["label"]["cost"] == eu.model_dump(), labelled["label"]
