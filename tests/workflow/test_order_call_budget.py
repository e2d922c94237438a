"""DynamoDB calls of one order's flow, counted (issue 17: "carry what the workflow already knows; read
consistently only where a decision needs it").

One order, checkout to DELIVERED (one parcel): the workflow's steps and the requests that drive it (the warehouse
task completions, the carrier's delivery scan) read the order record by key once, in the split; every other step
decides by a conditional write, or reads the order with its shipments in one query of the order's partition. The
figures are budgets (at most), measured when the re-reads were removed: lower is fine, higher is a regression.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.factories import (
    calls_by_function,
    checkout,
    deliver,
    entered_states,
    execution_arn,
    history,
    ok,
    prepare_checkout,
    wait_paid,
)

pytestmark = [pytest.mark.workflow, pytest.mark.audited]  # the invariant audit runs around each test

# the order flow's own functions (the event consumers, the cart and the checkout are counted elsewhere)
FLOW = ("PaymentFunction", "FulfillmentFunction", "WarehouseFunction", "WebhooksFunction")
KEY_READS = ("get_item", "batch_get_item", "transact_get_items")


def flow_calls(stack: Any) -> Any:
    """Every DynamoDB call made by the flow's functions while inside: (function, operation, sort key or pk
    prefix of the item read by key). The Stripe webhook is left out (localstripe posts it when it likes)."""

    def label(logical_id: str, request: dict[str, Any]) -> str | None:
        stripe = str(request.get("path", "")).endswith("/webhooks/stripe")
        polling = request.get("httpMethod", "POST") != "POST"  # the test's waiting (task list), not the flow
        return logical_id if logical_id in FLOW and not (stripe or polling) else None

    def describe(_: str, kwargs: dict[str, Any]) -> str:
        key = kwargs.get("Key") or {}
        if not key and kwargs.get("RequestItems"):  # a batch read: named by its first key
            key = next(iter(kwargs["RequestItems"].values()))["Keys"][0]
        return str(key.get("sk", {}).get("S") or key.get("pk", {}).get("S", "")).split("#")[0]

    return calls_by_function(stack, label, describe)


def test_one_order_reads_its_record_by_key_once(stack, admin, staff):
    prep = prepare_checkout(stack, admin, "call-budget", quantity=2, stock={"a": 5})
    with flow_calls(stack) as calls:
        ok(checkout(stack, prep.shopper.id_token, prep.key), 201)
        wait_paid(stack, prep.order_id)
        deliver(stack, staff.id_token, prep.shopper.id_token, prep.order_id, prep.product.warehouses[0])
    reads = Counter((fn, item) for fn, op, item in calls if op in KEY_READS)
    per_function = Counter(fn for fn, _, _ in calls)
    # the order record by key: once, the split's (its plan needs the lines; the write is conditional on PAID)
    assert sum(n for (fn, item), n in reads.items() if item == "ORDER") == 1, reads
    assert reads[("FulfillmentFunction", "ORDER")] == 1, reads
    # the rest by key: the split's stock levels in the warehouses the order's allocations name (one batch, not
    # a query per SKU), the task a completion names (pick; pack: its transaction's outcome is known, the token
    # read before it is used (the pick's: carried to the pack task it opens), and read again only if Step Functions
    # refuses it) and the carrier's tracking number; no shipment is read by key
    assert reads == Counter({("FulfillmentFunction", "ORDER"): 1, ("FulfillmentFunction", "WH"): 1,
                             ("WarehouseFunction", "TASK"): 2, ("WebhooksFunction", "TRACKING"): 1}), reads
    # budgets per function (measured: charge 3, confirm 1 (ConfirmAndSplit's first part, issue 17: the confirmation's
    # budget moved with it from ConfirmOrderFunction into FulfillmentFunction), split 3 (the order, the stock batch, the
    # split's transaction) + two tasks 2 (one transaction each of the task, the order's check and the shipment's part:
    # a pickup's check that it is booked; from the split's entry the execution carries, no read; the pack task is
    # the pick completion's, issue 17: PickAndPack) + label 2 (query + one transaction of the label with the carrier's
    # pickup booking, in the pickup step's invocation before its task; the stock commit that was its own step is the
    # pack completion's, checked on the shipment the label reads), pick 2 (the task, then one transaction of its DONE,
    # the order's check, the shipment's PICKING -> PACKING and the pack task with the same token: what the Pack step's
    # opening wrote) + pack 2 (the task, which carries the parcel's reservations, then the commit's transaction: no
    # read of the order), the delivery scan 6 with its idempotency record (it hands the parcel over too: no
    # MarkShipped step; the only parcel's delivery and the order's DELIVERED are one transaction))
    assert per_function["PaymentFunction"] <= 3, per_function
    assert per_function["FulfillmentFunction"] <= 1 + 7, per_function  # confirm 1 + the rest of fulfillment 7
    assert per_function["WarehouseFunction"] <= 4 and per_function["WebhooksFunction"] <= 6, per_function
    assert sum(per_function.values()) <= 21, per_function


def test_one_order_takes_five_state_transitions(stack, admin, staff):
    """Step Functions Standard bills each state entered: one order with one parcel enters 5 (no Choice after
    the payment or the confirmation, no stock-commit or mark-shipped step, no Succeed after the Map; issue 17:
    the payment step waits on its token and fails it on a decline, the confirmation and the split one step, pick
    and pack one waiting state, the label bought by the pickup step)."""
    prep = prepare_checkout(stack, admin, "transition-budget", quantity=2, stock={"a": 5})
    ok(checkout(stack, prep.shopper.id_token, prep.key), 201)
    wait_paid(stack, prep.order_id)
    deliver(stack, staff.id_token, prep.shopper.id_token, prep.order_id, prep.product.warehouses[0])
    done = stack.wait_execution(execution_arn(stack, prep.order_id), timeout=60)
    assert done["status"] == "SUCCEEDED", done
    assert entered_states(history(stack, prep.order_id)) == [
        "TakePayment", "ConfirmAndSplit", "FulfilShipments", "PickAndPack", "AwaitPickup"]
