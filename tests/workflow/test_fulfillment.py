"""The order workflow after payment, executed by moto's ASL engine: split by warehouse, pick and pack tasks
completed by staff over the API, stock commit, label, carrier pickup and delivery by signed webhook,
cancellation before shipping, retries and the compensations (each run twice leaving the same state).
Emails are asserted from what SES recorded.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import requests
from shop.errors import ServiceBusy

from shoplocal.stack import STRIPE_KEY
from tests.factories import (
    checkout,
    emails_to,
    entered_states,
    execution_arn,
    history,
    hooked,
    make_product,
    ok,
    open_task,
    order_item,
    order_view,
    pick_and_pack,
    prepare_checkout,
    put_in_cart,
    stock_of,
    wait_for,
    wait_paid,
    wait_status,
)

pytestmark = pytest.mark.workflow


def refunds_for(stack: Any, intent_id: str) -> list[dict[str, Any]]:
    resp = requests.get(f"{stack.stripe_base}/v1/refunds", params={"payment_intent": intent_id, "limit": 100},
                        auth=(STRIPE_KEY, ""), timeout=10)
    resp.raise_for_status()
    return list(resp.json()["data"])


def two_warehouse_order(stack: Any, admin: Any, *, pm: str = "pm_card_visa") -> tuple[Any, str, Any, dict[str, Any]]:
    """A shopper's order of 3 units that only two warehouses together can ship (2 + 1)."""
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 2, "b": 2}, weight_grams=500, price=1000)
    put_in_cart(stack, shopper.id_token, product.skus[0], 3)
    placed = ok(checkout(stack, shopper.id_token, payment_method_id=pm), 201)
    return shopper, placed["order_id"], product, placed


def end_workflow(stack: Any, order_id: str) -> None:
    """Leave no execution waiting on a task token behind (moto keeps a thread per waiting execution):
    fail every open task's token of the order."""
    from shop.config import function_environment
    from shop.fulfillment import repository as repo
    from shop.fulfillment.models import TaskKind, TaskStatus
    from shop.fulfillment.split import task_id_for
    from shop.workflow import send_failure

    with function_environment(stack.function_env("WarehouseFunction")):
        for shipment in repo.order_items(order_id)[1]:
            for kind in TaskKind:
                found = repo.get_task(task_id_for(shipment.shipment_id, kind.value))
                if found and found[0].status == TaskStatus.OPEN and found[1]:
                    send_failure(found[1], "TestOver", "test finished")


def subjects(stack: Any, email: str) -> list[str]:
    return [m["subject"] for m in emails_to(stack, email)]


def wait_mails(stack: Any, email: str, n: int, timeout: float = 30) -> list[dict[str, Any]]:
    stack.drain_async()
    return list(wait_for(lambda: len(m := emails_to(stack, email)) >= n and m, timeout, f"{n} mails to {email}"))


# ------------------------------------------------------------------ the whole way
def test_two_warehouses_are_picked_packed_labelled_shipped_and_delivered(stack, admin, staff):
    shopper, order_id, product, placed = two_warehouse_order(stack, admin)
    sku = product.skus[0]
    wait_paid(stack, order_id)
    split = order_view(stack, shopper.id_token, order_id)
    assert split["status"] == "FULFILLING"
    assert [(s["warehouse_id"], s["items"][0]["quantity"], s["status"]) for s in split["shipments"]] == [
        (product.warehouses[0], 2, "PICKING"), (product.warehouses[1], 1, "PICKING")]

    for shipment in split["shipments"]:
        pick_and_pack(stack, staff.id_token, order_id, shipment["warehouse_id"], extra_grams=200)
        open_task(stack, staff.id_token, shipment["warehouse_id"], order_id, "pickup")
    packed = order_view(stack, shopper.id_token, order_id)
    assert packed["status"] == "DISPATCHING"
    # label cost by the parcel's route zone (origin warehouse country -> DE) and started kilograms of the
    # weighed parcel: the DE warehouse's parcel is domestic (490 + 100/kg), the FR one's eu (990 + 200/kg)
    for s, units, (base, per_kg) in zip(packed["shipments"], (2, 1), ((490, 100), (990, 200)), strict=True):
        assert s["status"] == "PACKED" and s["package_weight_grams"] == 500 * units + 200
        kilos = -(-(500 * units + 200) // 1000)
        assert s["shipping_cost"] == {"amount": base + per_kg * kilos, "currency": "EUR"}
        assert s["carrier"] == "ShopPost" and s["tracking_url"].endswith(s["tracking_number"])
    # the packed stock left the shelves: on hand down, nothing reserved any more
    assert stock_of(stack, sku) == {product.warehouses[0]: {"on_hand": 0, "available": 0, "reserved": 0},
                                    product.warehouses[1]: {"on_hand": 1, "available": 1, "reserved": 0}}

    first, second = packed["shipments"]
    assert ok(stack.carrier_webhook(first["tracking_number"], "picked_up"))["workflow_resumed"] is True
    wait_for(lambda: order_view(stack, shopper.id_token, order_id)["shipments"][0]["status"] == "SHIPPED", 20,
             "the first parcel shipped")
    assert order_view(stack, shopper.id_token, order_id)["status"] == "DISPATCHING"  # one parcel still here
    ok(stack.carrier_webhook(second["tracking_number"], "picked_up"))
    wait_status(stack, shopper.id_token, order_id, "SHIPPED")
    done = stack.wait_execution(execution_arn(stack, order_id), timeout=30)
    assert done["status"] == "SUCCEEDED", done
    states = entered_states(history(stack, order_id))
    # each parcel's pickup task is its last state (the scan that completes it hands the parcel over), and the
    # Map is the execution's last state (no Succeed after it)
    assert states.count("PickAndPack") == states.count("AwaitPickup") == 2
    exited = [e["stateExitedEventDetails"]["name"] for e in history(stack, order_id) if "stateExitedEventDetails" in e]
    assert states[-1] == "AwaitPickup" and exited[-1] == "FulfilShipments"

    ok(stack.carrier_webhook(first["tracking_number"], "delivered"))
    assert order_view(stack, shopper.id_token, order_id)["status"] == "SHIPPED"  # not all delivered yet
    ok(stack.carrier_webhook(second["tracking_number"], "delivered"))
    final = order_view(stack, shopper.id_token, order_id)
    assert final["status"] == "DELIVERED" and final["payment"]["status"] == "paid"
    assert all(s["status"] == "DELIVERED" and s["delivered_at"] for s in final["shipments"])

    mails = wait_mails(stack, shopper.email, 5)
    got = subjects(stack, shopper.email)
    assert len(got) == 5, got
    assert sum("confirmation" in s.lower() for s in got) == 1
    bodies = {m["subject"]: m["body"] for m in mails}
    assert any(first["tracking_number"] in b for b in bodies.values())
    assert any(second["tracking_number"] in b for b in bodies.values())
    confirmation = next(m for m in mails if "confirmation" in m["subject"].lower())
    total = placed["totals"]["total"]["amount"]
    assert f"EUR {total // 100}.{total % 100:02d}" in confirmation["body"]


@pytest.mark.audited  # the invariant audit runs around it
def test_a_task_and_its_shipment_change_are_written_together_and_a_repeat_writes_nothing(stack, admin):
    """Opening the pack task (shipment PICKING -> PACKING) or the pickup task (the carrier's booking) is one
    transaction with the task's creation; a repeat finds either there and writes nothing (the step then goes
    on one write at a time, as a retried step always did)."""
    from shop.config import function_environment
    from shop.fulfillment import repository as fulfillment_repo
    from shop.fulfillment.models import TaskKind, TaskStatus, WarehouseTask
    from shop.fulfillment.split import task_id_for

    prep = prepare_checkout(stack, admin, "open-together", quantity=1)
    ok(checkout(stack, prep.shopper.id_token, prep.key), 201)
    wait_paid(stack, prep.order_id)
    with function_environment(stack.function_env("FulfillmentFunction")):
        [shipment] = fulfillment_repo.order_items(prep.order_id)[1]
        assert shipment.status.value == "PICKING"
        task = WarehouseTask(task_id=task_id_for(shipment.shipment_id, "pack"), kind=TaskKind.PACK,
                             status=TaskStatus.OPEN, order_id=prep.order_id, shipment_id=shipment.shipment_id,
                             warehouse_id=shipment.warehouse_id, checklist=shipment.items,
                             created_at="2026-12-01T00:00:00Z", instructions="pack")
        change = fulfillment_repo.pack_started_action(prep.order_id, shipment.shipment_id)
        assert fulfillment_repo.store_task_with(task, "token-1", change) is True
        stored = fulfillment_repo.get_task(task.task_id)
        assert stored is not None and stored[0].status == TaskStatus.OPEN and stored[1] == "token-1"
        [packing] = fulfillment_repo.order_items(prep.order_id)[1]
        assert packing.status.value == "PACKING"
        # again (the shipment moved on, the task exists): refused as a whole
        again = fulfillment_repo.pack_started_action(prep.order_id, shipment.shipment_id)
        assert fulfillment_repo.store_task_with(task, "token-2", again) is False
        assert fulfillment_repo.get_task(task.task_id) == stored
        assert fulfillment_repo.order_items(prep.order_id)[1] == [packing]
        # a booking recorded with a task that exists already: neither is written
        booking = {"confirmation": "PU-1", "window_start": "2026-12-02T08:00:00Z", "window_end": "2026-12-02T12:00:00Z"}
        pickup = fulfillment_repo.pickup_booked_action(prep.order_id, shipment.shipment_id, booking)
        assert fulfillment_repo.store_task_with(task, "token-3", pickup) is False
        assert fulfillment_repo.order_items(prep.order_id)[1] == [packing] and packing.pickup is None


@pytest.mark.audited  # the invariant audit runs around it
def test_the_split_reads_the_sold_levels_and_publishes_stock_low_for_a_level_at_its_reorder_point(
        stack, admin, staff):
    """The split reads the levels of the warehouses the order was allocated from (one batch by key): their bins
    go on the pick list, and a level the sale took to its reorder point is reported (StockLow, cause the
    order) while the untouched SKU is not."""
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 5}, n_skus=2)
    wh = product.warehouses[0]
    low, other = product.skus
    ok(stack.request("PUT", f"/admin/inventory/{low}/{wh}", token=admin.id_token,
                     json={"on_hand": 5, "reorder_point": 3, "reorder_quantity": 4, "bin": "A-07"}))
    ok(stack.request("PUT", f"/admin/inventory/{other}/{wh}", token=admin.id_token, json={"on_hand": 5, "bin": "B-02"}))
    seen: list[dict[str, Any]] = []

    def stock_low(logical_id: str, event: dict[str, Any]) -> None:
        if logical_id == "RestockFunction" and isinstance(event, dict) and event.get("detail-type") == "StockLow" \
                and event.get("detail", {}).get("sku") in (low, other):
            seen.append(event["detail"])

    put_in_cart(stack, shopper.id_token, low, 2)
    put_in_cart(stack, shopper.id_token, other, 1)
    stack.drain_async()
    with hooked(stack, stock_low):
        order_id = ok(checkout(stack, shopper.id_token), 201)["order_id"]
        wait_paid(stack, order_id)
        stack.drain_async()
    caused = [d for d in seen if d["cause"] == f"order {order_id}"]
    assert [(d["sku"], d["warehouse_id"], d["available"], d["reorder_point"]) for d in caused] == [(low, wh, 3, 3)]
    pick = open_task(stack, staff.id_token, wh, order_id, "pick")
    assert {i["sku"]: (i["quantity"], i["bin"]) for i in pick["checklist"]} == {low: (2, "A-07"), other: (1, "B-02")}


def test_a_fulfillment_lambda_failing_twice_is_retried_and_the_order_goes_on(stack, admin, monkeypatch):
    from shop.fulfillment import service

    prep = prepare_checkout(stack, admin, "split-retry", quantity=1, stock={"a": 3})
    shopper, key, order_id = prep.shopper, prep.key, prep.order_id
    attempts: list[str] = []
    real_split = service.split

    def flaky(oid: str) -> dict[str, Any]:  # the split, ConfirmAndSplit's second part (after the confirmation)
        if oid == order_id:
            attempts.append("split")
            if len(attempts) <= 2:
                raise ServiceBusy("DynamoDB throttled the split")
        return dict(real_split(oid))

    monkeypatch.setattr(service, "split", flaky)
    ok(checkout(stack, shopper.id_token, key), 201)
    wait_paid(stack, order_id)
    assert attempts == ["split", "split", "split"]
    failures = [e["lambdaFunctionFailedEventDetails"]["error"] for e in history(stack, order_id)
                if e["type"] == "LambdaFunctionFailed"]
    assert failures == ["ServiceBusy", "ServiceBusy"]
    view = order_view(stack, shopper.id_token, order_id)
    assert view["status"] == "FULFILLING" and len(view["shipments"]) == 1  # split once despite three runs


# ------------------------------------------------------------------ cancellation
def test_cancel_while_picking_releases_refunds_stops_the_workflow_and_is_idempotent(stack, admin, staff):
    shopper, order_id, product, placed = two_warehouse_order(stack, admin)
    sku = product.skus[0]
    wait_paid(stack, order_id)
    pick = open_task(stack, staff.id_token, product.warehouses[0], order_id, "pick")
    intent_id = order_view(stack, shopper.id_token, order_id)["payment"]["payment_intent_id"]

    assert stack.request("POST", f"/orders/{order_id}/cancel", token=stack.user().id_token).status == 404
    cancelled = ok(stack.request("POST", f"/orders/{order_id}/cancel", token=shopper.id_token))
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["payment"]["status"] == "refunded"
    assert cancelled["payment"]["refund"]["amount"] == placed["totals"]["total"]
    assert all(s["status"] == "CANCELLED" for s in cancelled["shipments"])
    state = (order_item(stack, order_id), stock_of(stack, sku))
    assert all(level == {"on_hand": 2, "available": 2, "reserved": 0} for level in state[1].values())
    [refund] = refunds_for(stack, intent_id)
    assert refund["amount"] == placed["totals"]["total"]["amount"]
    # the failed task tokens end the workflow (both parcels' waits), without touching anything
    done = stack.wait_execution(execution_arn(stack, order_id), timeout=20)
    assert done["status"] == "SUCCEEDED" and entered_states(history(stack, order_id))[-1] == "CancelledMeanwhile"
    listed = ok(stack.request("GET", f"/warehouse/{product.warehouses[0]}/tasks", token=staff.id_token))
    assert order_id not in {t["order_id"] for t in listed["items"]}
    late = stack.request("POST", f"/warehouse/tasks/{pick['task_id']}/complete", token=staff.id_token,
                         json={"picked": [{"sku": sku, "quantity": 2}]})
    assert late.status == 409 and "cancelled" in late.json()["error"]["message"]

    # the compensation again, by the shopper and by the workflow's own cancel step: nothing changes
    again = ok(stack.request("POST", f"/orders/{order_id}/cancel", token=shopper.id_token))
    assert again["status"] == "CANCELLED" and again["payment"]["refund"] == cancelled["payment"]["refund"]
    step = stack.invoke("FulfillmentFunction", {"action": "cancel", "order_id": order_id})
    assert step["status"] == "CANCELLED"
    assert (order_item(stack, order_id), stock_of(stack, sku)) == state
    assert len(refunds_for(stack, intent_id)) == 1

    wait_mails(stack, shopper.email, 3)
    got = [s.lower() for s in subjects(stack, shopper.email)]
    assert len(got) == 3, got  # confirmation, cancellation, refund: each once despite the repeats
    assert sum("cancel" in s for s in got) == 1 and sum("refund" in s for s in got) == 1


@pytest.mark.audited  # the invariant audit runs around it
def test_a_pick_completed_after_the_cancellation_is_refused_and_changes_nothing(stack, admin, staff):
    """The pick's DONE is conditional on the order still shipping, in the same transaction (no read first):
    after a cancellation the completion is a 409 order_cancelled, the task stays CANCELLED. Also when the
    cancellation has closed the order but not yet reached its tasks (the task still OPEN)."""
    prep = prepare_checkout(stack, admin, "pick-after-cancel", quantity=1)
    ok(checkout(stack, prep.shopper.id_token, prep.key), 201)
    wait_paid(stack, prep.order_id)
    pick = open_task(stack, staff.id_token, prep.product.warehouses[0], prep.order_id, "pick")
    body = {"picked": [{"sku": i["sku"], "quantity": i["quantity"]} for i in pick["checklist"]]}
    ddb, table = stack.client("dynamodb"), stack.physical_id("OrdersTable")
    key = {"pk": {"S": f"TASK#{pick['task_id']}"}, "sk": {"S": "TASK"}}

    ok(stack.request("POST", f"/orders/{prep.order_id}/cancel", token=prep.shopper.id_token))
    refused = stack.request("POST", f"/warehouse/tasks/{pick['task_id']}/complete", token=staff.id_token, json=body)
    assert refused.status == 409 and refused.json()["error"]["code"] == "order_cancelled", refused.body
    assert ddb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["status"]["S"] == "CANCELLED"

    # the order closed, its task not yet cancelled (the cancellation's second half still to come)
    ddb.update_item(TableName=table, Key=key, UpdateExpression="SET #s = :open", ExpressionAttributeNames={
        "#s": "status"}, ExpressionAttributeValues={":open": {"S": "OPEN"}})
    refused = stack.request("POST", f"/warehouse/tasks/{pick['task_id']}/complete", token=staff.id_token, json=body)
    assert refused.status == 409 and refused.json()["error"]["code"] == "order_cancelled", refused.body
    assert refused.json()["error"]["details"]["status"] == "CANCELLED"
    item = ddb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert item["status"]["S"] == "OPEN" and "result" not in item
    assert order_item(stack, prep.order_id)["status"]["S"] == "CANCELLED"


def test_cancel_after_a_parcel_is_packed_is_refused(stack, admin, staff):
    shopper, order_id, product, _ = two_warehouse_order(stack, admin)
    wait_paid(stack, order_id)
    pick_and_pack(stack, staff.id_token, order_id, product.warehouses[1])
    open_task(stack, staff.id_token, product.warehouses[1], order_id, "pickup")  # labelled: nothing moves now
    wait_status(stack, shopper.id_token, order_id, "DISPATCHING")
    before = (order_item(stack, order_id), stock_of(stack, product.skus[0]))
    refused = stack.request("POST", f"/orders/{order_id}/cancel", token=shopper.id_token)
    assert refused.status == 409, refused.body
    assert refused.json()["error"]["code"] == "already_shipping"
    assert "DISPATCHING" in refused.json()["error"]["message"]
    assert (order_item(stack, order_id), stock_of(stack, product.skus[0])) == before
    end_workflow(stack, order_id)


def test_cancel_during_payment_never_leaves_a_charge(stack, admin):
    """The shopper cancels while the payment step is running: the step finds the order cancelled and charges
    nothing (or the cancellation refunds what it took)."""
    prep = prepare_checkout(stack, admin, "cancel-pay", quantity=2, stock={"a": 3})
    shopper, key, order_id, product = prep.shopper, prep.key, prep.order_id, prep.product
    reached, go = threading.Event(), threading.Event()

    def hold(logical_id: str, event: dict[str, Any]) -> None:
        if logical_id == "PaymentFunction" and event.get("order_id") == order_id and \
                event.get("action", "charge") == "charge":
            reached.set()
            go.wait(timeout=30)

    with hooked(stack, hold):
        ok(checkout(stack, shopper.id_token, key), 201)
        assert reached.wait(timeout=30)
        cancelled = ok(stack.request("POST", f"/orders/{order_id}/cancel", token=shopper.id_token))
        go.set()
    assert cancelled["status"] == "CANCELLED" and cancelled["payment"]["status"] != "refunded"
    wait_for(lambda: stack.client("stepfunctions").describe_execution(
        executionArn=execution_arn(stack, order_id))["status"] != "RUNNING", 30, "the workflow to end")
    assert order_item(stack, order_id)["status"]["S"] == "CANCELLED"
    assert stock_of(stack, product.skus[0])[product.warehouses[0]] == {"on_hand": 3, "available": 3, "reserved": 0}
    intents = requests.get(f"{stack.stripe_base}/v1/payment_intents", params={"limit": 100}, auth=(STRIPE_KEY, ""),
                           timeout=10).json()["data"]
    charged = [pi for pi in intents if (pi.get("metadata") or {}).get("order_id") == order_id
               and pi["status"] == "succeeded"]
    assert all(refunds_for(stack, pi["id"]) for pi in charged)  # anything charged was refunded


def test_a_permanent_fulfillment_failure_cancels_and_refunds_and_the_compensation_is_idempotent(stack, admin,
                                                                                                  monkeypatch):
    from shop.fulfillment import service

    prep = prepare_checkout(stack, admin, "split-dies", quantity=2, stock={"a": 3})
    shopper, key, order_id, product = prep.shopper, prep.key, prep.order_id, prep.product
    real_split = service.split

    def broken(oid: str) -> dict[str, Any]:  # the split, ConfirmAndSplit's second part (the order is PAID)
        if oid == order_id:
            raise RuntimeError("bug in the split")
        return dict(real_split(oid))

    monkeypatch.setattr(service, "split", broken)
    placed = ok(checkout(stack, shopper.id_token, key), 201)
    done = stack.wait_execution(execution_arn(stack, order_id), timeout=60)
    assert done["status"] == "FAILED" and done["error"] == "FulfillmentFailed", done
    assert entered_states(history(stack, order_id))[-2:] == ["CancelAfterFailure", "FulfillmentFailed"]
    view = order_view(stack, shopper.id_token, order_id)
    assert view["status"] == "CANCELLED" and view["payment"]["status"] == "refunded"
    [refund] = refunds_for(stack, view["payment"]["payment_intent_id"])
    assert refund["amount"] == placed["totals"]["total"]["amount"]
    state = (order_item(stack, order_id), stock_of(stack, product.skus[0]))
    assert state[1][product.warehouses[0]] == {"on_hand": 3, "available": 3, "reserved": 0}
    for _ in range(2):
        assert stack.invoke("FulfillmentFunction", {"action": "cancel", "order_id": order_id})["status"] == "CANCELLED"
    assert (order_item(stack, order_id), stock_of(stack, product.skus[0])) == state
    assert len(refunds_for(stack, view["payment"]["payment_intent_id"])) == 1
    wait_mails(stack, shopper.email, 3)
    assert sum("refund" in s.lower() for s in subjects(stack, shopper.email)) == 1


def test_declined_payment_emails_the_shopper_once_and_its_compensations_are_idempotent(stack, admin):
    shopper, order_id, product, _ = two_warehouse_order(stack, admin, pm="pm_card_chargeCustomerFail")
    done = stack.wait_execution(execution_arn(stack, order_id), timeout=60)
    assert done["status"] == "FAILED" and done["error"] == "PaymentFailed"
    state = (order_item(stack, order_id), stock_of(stack, product.skus[0]))
    assert state[0]["status"]["S"] == "PAYMENT_FAILED"
    for _ in range(2):
        abandoned = stack.invoke("PaymentFunction", {"action": "abandon", "order_id": order_id})
        assert abandoned["status"] == "declined"
        released = stack.invoke("ReleaseReservationFunction", {"order_id": order_id, "reason": "PAYMENT_FAILED"})
        assert released == {"order_id": order_id, "released": False, "status": "PAYMENT_FAILED"}
    after = order_item(stack, order_id)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in state[0].items() if k != "updated_at"}
    assert stock_of(stack, product.skus[0]) == state[1]
    [mail] = wait_mails(stack, shopper.email, 1)
    stack.drain_async()
    assert len(emails_to(stack, shopper.email)) == 1
    assert order_id in mail["subject"] and "payment" in mail["subject"].lower()


# ------------------------------------------------------------------ staff and carrier input
def test_warehouse_routes_refuse_wrong_people_and_wrong_input(stack, admin, staff):
    shopper, order_id, product, _ = two_warehouse_order(stack, admin)
    wait_paid(stack, order_id)
    wh = product.warehouses[0]
    pick = open_task(stack, staff.id_token, wh, order_id, "pick")
    assert [(i["quantity"], i["bin"]) for i in pick["checklist"]] == [(2, "UNASSIGNED")]
    path = f"/warehouse/tasks/{pick['task_id']}/complete"

    assert stack.request("GET", f"/warehouse/{wh}/tasks", token=shopper.id_token).status == 403
    assert stack.request("POST", path, json={"picked": []}).status == 401
    assert stack.request("POST", path, token=shopper.id_token, json={"picked": []}).status == 403
    short = stack.request("POST", path, token=staff.id_token,
                          json={"picked": [{"sku": product.skus[0], "quantity": 1}]})
    assert short.status == 422 and short.json()["error"]["details"]["fields"][0]["field"] == "body.picked"
    negative = stack.request("POST", path, token=staff.id_token,
                             json={"picked": [{"sku": product.skus[0], "quantity": -2}]})
    assert negative.status == 422 and "picked" in negative.body
    weight_on_pick = stack.request("POST", path, token=staff.id_token, json={"package_weight_grams": 500})
    assert weight_on_pick.status == 422
    assert stack.request("POST", "/warehouse/tasks/tsk_nope_1_pick/complete", token=staff.id_token,
                         json={"picked": []}).status == 404

    good = {"picked": [{"sku": product.skus[0], "quantity": 2}]}
    first = ok(stack.request("POST", path, token=staff.id_token, json=good))
    # PickAndPack: the pick's completion opens the pack task with the workflow's token, it resumes nothing
    assert first["status"] == "DONE" and first["workflow_resumed"] is False
    replay = ok(stack.request("POST", path, token=staff.id_token, json=good))  # the same answer: harmless
    assert replay == first
    other = stack.request("POST", path, token=staff.id_token, json={"picked": [{"sku": product.skus[0], "quantity": 2}],
                                                                     "note": "again"})
    assert other.status == 200  # a note is not a different result
    pack = open_task(stack, staff.id_token, wh, order_id, "pack")
    light = stack.request("POST", f"/warehouse/tasks/{pack['task_id']}/complete", token=staff.id_token,
                          json={"package_weight_grams": 10})
    assert light.status == 422 and light.json()["error"]["details"]["items_weight_grams"] == 1000
    pickup_path = f"/warehouse/tasks/{pick['task_id'].replace('_pick', '_pickup')}/complete"
    assert stack.request("POST", pickup_path, token=staff.id_token, json={"package_weight_grams": 1}).status == 404
    end_workflow(stack, order_id)


def test_carrier_webhooks_are_verified_deduplicated_and_an_exception_is_emailed(stack, admin, staff):
    shopper, order_id, product, _ = two_warehouse_order(stack, admin)
    wait_paid(stack, order_id)
    pick_and_pack(stack, staff.id_token, order_id, product.warehouses[0])
    parcel = wait_for(lambda: order_view(stack, shopper.id_token, order_id)["shipments"][0]["tracking_number"], 20,
                      "the first label")
    body = json.dumps({"event_id": "cevt-forged", "tracking_number": parcel, "status": "delivered",
                       "occurred_at": "2026-11-27T10:00:00Z"})
    forged = stack.request("POST", "/webhooks/carrier", body=body,
                           headers={"Carrier-Signature": "t=1795500000,v1=" + "0" * 64})
    assert forged.status == 401 and forged.json()["error"]["code"] == "bad_signature"
    assert stack.request("POST", "/webhooks/carrier", body=body).status == 401
    assert stack.carrier_webhook("SPUNKNOWN0000000", "picked_up").status == 404
    bad = stack.carrier_webhook(parcel, "teleported")
    assert bad.status == 422 and "body.status" in bad.body

    first = ok(stack.carrier_webhook(parcel, "exception", event_id="cevt-exc-1", description="address unreadable"))
    again = ok(stack.carrier_webhook(parcel, "exception", event_id="cevt-exc-1", description="address unreadable"))
    assert again == first and first["status"] == "EXCEPTION"
    view = order_view(stack, shopper.id_token, order_id)
    assert [t["event_id"] for t in view["shipments"][0]["tracking"]] == ["cevt-exc-1"]
    # delivered without a pickup scan: the pickup is implied and the workflow's parcel goes on
    ok(stack.carrier_webhook(parcel, "delivered"))
    assert order_view(stack, shopper.id_token, order_id)["shipments"][0]["status"] == "DELIVERED"
    mails = wait_mails(stack, shopper.email, 4)
    problem = [m for m in mails if "address unreadable" in m["body"]]
    assert len(problem) == 1 and order_id in problem[0]["subject"]
    end_workflow(stack, order_id)
