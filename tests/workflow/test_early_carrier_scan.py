"""A carrier scan that arrives before the workflow has opened the parcel's pickup task.

The label is printed, the parcel handed over and scanned, and the carrier's webhook comes in while the
workflow's AwaitPickup step has bought the label but not yet opened the task (it does both, issue 17; they were
two steps, CreateLabel and AwaitPickup, when this was seen in the benchmark under load). The scan stores the
pickup task as done; when the workflow opens it, it resumes at once, and the execution ends instead of
waiting for a scan that already came.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.factories import (
    checkout,
    make_product,
    ok,
    order_view,
    pick_and_pack,
    put_in_cart,
    wait_for,
    wait_paid,
    wait_status,
)

pytestmark = pytest.mark.workflow


@pytest.mark.parametrize("scan", ["picked_up", "delivered"])
def test_a_scan_before_the_pickup_task_is_opened_still_ends_the_workflow(stack, admin, staff, scan, monkeypatch):
    from shop.fulfillment import service

    product = make_product(stack, admin.id_token, stock={"a": 3})
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    order_id = checkout(stack, shopper.id_token).json()["order_id"]
    wait_paid(stack, order_id)

    scanned, held = threading.Event(), threading.Event()

    real_open = service.open_task

    def hold_pickup(order: str, shipment_id: str, kind: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # the step bought the label (its first part); it opens the pickup task only after the scan
        if order == order_id and kind.value == "pickup":
            held.set()
            scanned.wait(timeout=30)
        return dict(real_open(order, shipment_id, kind, *args, **kwargs))

    monkeypatch.setattr(service, "open_task", hold_pickup)
    pick_and_pack(stack, staff.id_token, order_id, product.warehouses[0])
    assert held.wait(timeout=30), "the workflow never came to open the pickup task"
    tracking = order_view(stack, shopper.id_token, order_id)["shipments"][0]["tracking_number"]
    ok(stack.carrier_webhook(tracking, scan))
    scanned.set()

    arn = stack.physical_id("OrderStateMachine").replace(":stateMachine:", ":execution:") + ":" + order_id
    wait_for(lambda: stack.client("stepfunctions").describe_execution(executionArn=arn)["status"] == "SUCCEEDED",
             30, "the order workflow to end")
    if scan == "delivered":
        wait_status(stack, shopper.id_token, order_id, "DELIVERED")
    else:
        wait_status(stack, shopper.id_token, order_id, "SHIPPED")
        ok(stack.carrier_webhook(tracking, "delivered"))
        wait_status(stack, shopper.id_token, order_id, "DELIVERED")
