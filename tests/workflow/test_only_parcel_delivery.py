"""The carrier's delivery scan of an order's only parcel (issue 17: a DynamoDB request fewer per order): the
shipment DELIVERED and the order DELIVERED in one transaction (shop.fulfillment.repository.deliver_with_order)
instead of two updates. The transaction's conditions are the two updates' (the shipment's status, the order's
status) plus the shipment being unchanged since the scan read it; when it does not commit, nothing changed and
the two writes are made one by one as before, each deciding on its own condition."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import (
    DynamoFault,
    Prepared,
    calls_by_function,
    checkout,
    dynamodb_faults,
    execution_arn,
    ok,
    order_view,
    order_write,
    pick_and_pack,
    prepare_checkout,
    uid,
    wait_for,
    wait_paid,
    wait_status,
)

pytestmark = [pytest.mark.workflow, pytest.mark.audited]  # the invariant audit runs around each test


def packed(stack: Any, admin: Any, staff: Any, label: str) -> tuple[Prepared, str]:
    """A paid one-parcel order, picked, packed and labelled: (the order, its tracking number)."""
    prep = prepare_checkout(stack, admin, label, quantity=1)
    ok(checkout(stack, prep.shopper.id_token, prep.key), 201)
    wait_paid(stack, prep.order_id)
    pick_and_pack(stack, staff.id_token, prep.order_id, prep.product.warehouses[0])
    tracking = wait_for(lambda: order_view(stack, prep.shopper.id_token, prep.order_id)["shipments"][0]
                        ["tracking_number"], 30, f"the label of {prep.order_id}")
    return prep, str(tracking)


def assert_delivered_once(stack: Any, prep: Prepared, event_id: str) -> None:
    """The order DELIVERED (one timeline entry), its parcel DELIVERED with the scan recorded once, and the
    workflow, which waited on the pickup, resumed to its end."""
    view = wait_status(stack, prep.shopper.id_token, prep.order_id, "DELIVERED")
    assert [t["status"] for t in view["timeline"]].count("DELIVERED") == 1, view["timeline"]
    [parcel] = view["shipments"]
    assert parcel["status"] == "DELIVERED", parcel
    assert [t["event_id"] for t in parcel["tracking"]].count(event_id) == 1, parcel["tracking"]
    assert stack.wait_execution(execution_arn(stack, prep.order_id), timeout=60)["status"] == "SUCCEEDED"


def test_the_only_parcels_delivery_moves_the_order_in_the_same_transaction(stack, admin, staff):
    prep, tracking = packed(stack, admin, staff, "only-parcel")
    event_id = f"cevt-only-{uid()}"  # the webhook's idempotency key: unique per test run

    def label(logical_id: str, request: dict[str, Any]) -> str | None:
        return logical_id if str(request.get("path", "")).endswith("/webhooks/carrier") else None

    def describe(operation: str, kwargs: dict[str, Any]) -> list[str]:
        updates = [a.get("Update") or a.get("ConditionCheck") or {} for a in kwargs.get("TransactItems", ())]
        keys = [u.get("Key", {}) for u in updates] or [kwargs.get("Key") or {}]
        return [str(k.get("sk", {}).get("S", "")).split("#")[0] for k in keys]

    with calls_by_function(stack, label, describe) as calls:
        answer = ok(stack.carrier_webhook(tracking, "delivered", event_id=event_id))
    assert answer["status"] == "DELIVERED" and answer["workflow_resumed"] is True, answer
    writes = [(op, items) for _, op, items in calls if op in ("update_item", "transact_write_items")]
    # the order's item first, then the shipment, in one request; no update of either on its own
    assert ("transact_write_items", ["ORDER", "SHIPMENT"]) in writes, calls
    assert not [w for w in writes if w[0] == "update_item" and w[1][0] in ("ORDER", "SHIPMENT")], calls
    assert_delivered_once(stack, prep, event_id)
    # the same scan again: a redelivery, nothing changes
    again = ok(stack.carrier_webhook(tracking, "delivered", event_id=event_id))
    assert again["status"] == "DELIVERED", again
    assert_delivered_once(stack, prep, event_id)


@pytest.mark.parametrize("reason,at", [("TransactionConflict", 0), ("ConditionalCheckFailed", 1)],
                         ids=["contended", "shipment-changed"])
def test_a_delivery_transaction_that_does_not_commit_falls_back_to_one_write_each(stack, admin, staff, reason, at):
    prep, tracking = packed(stack, admin, staff, f"only-parcel-{at}")
    event_id = f"cevt-only-{uid()}"
    fault = DynamoFault("transact_write_items", "TransactionCanceledException",
                        order_write(prep.order_id, "DELIVERED"), reason=reason, at=at)
    with dynamodb_faults(fault):
        answer = ok(stack.carrier_webhook(tracking, "delivered", event_id=event_id))
    assert fault.injected == 1
    assert answer["status"] == "DELIVERED" and answer["workflow_resumed"] is True, answer
    assert_delivered_once(stack, prep, event_id)


def test_a_shipment_changed_since_it_was_read_is_not_delivered_by_the_transaction(stack, admin, staff):
    """The transaction records what was read plus the delivery (no read back): it commits only if the shipment
    is what was read (its updated_at); else nothing changes."""
    from shop.config import function_environment
    from shop.fulfillment import repository as repo
    from shop.fulfillment.models import SHIPMENT_FROM, ShipmentStatus, TrackingEvent
    from shop.orders.models import OrderStatus

    prep, _ = packed(stack, admin, staff, "only-parcel-stale")
    with function_environment(stack.function_env("WebhooksFunction")):
        order, [shipment] = repo.order_items(prep.order_id)
        assert order is not None and shipment.status == ShipmentStatus.PACKED
        scan = TrackingEvent(event_id=f"cevt-stale-{uid()}", status="delivered", occurred_at=shipment.updated_at)
        stale = shipment.model_copy(update={"updated_at": "2000-01-01T00:00:00Z"})
        assert repo.deliver_with_order(prep.order_id, stale, SHIPMENT_FROM[ShipmentStatus.DELIVERED],
                                       {"delivered_at": scan.occurred_at}, scan,
                                       frozenset({OrderStatus.DISPATCHING}), "all 1 parcel(s) delivered") is None
        assert repo.order_items(prep.order_id) == (order, [shipment])  # nothing written
        done = repo.deliver_with_order(prep.order_id, shipment, SHIPMENT_FROM[ShipmentStatus.DELIVERED],
                                       {"delivered_at": scan.occurred_at}, scan,
                                       frozenset({OrderStatus.DISPATCHING}), "all 1 parcel(s) delivered")
        stored_order, [stored] = repo.order_items(prep.order_id)
    # what it returns is what it stored
    assert done == stored and stored.status == ShipmentStatus.DELIVERED and stored.tracking[-1] == scan
    assert stored_order is not None and stored_order.status == OrderStatus.DELIVERED
    # the carrier's pickup scan, late: the workflow waiting on the pickup ends
    ok(stack.carrier_webhook(str(stored.tracking_number), "picked_up", event_id=f"cevt-pickup-{uid()}"))
    assert stack.wait_execution(execution_arn(stack, prep.order_id), timeout=60)["status"] == "SUCCEEDED"
