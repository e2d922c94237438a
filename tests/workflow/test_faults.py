"""Fault injection at the adapters (issue 7): a real order is driven through the order workflow (checkout,
Step Functions on moto, the Lambda tasks in-process, localstripe), one fault is injected where the code meets
Stripe, DynamoDB, the Lambda runtime or an at-least-once sender, and afterwards ``assert_invariants`` checks
the four properties every fault must leave intact:

(a) no lost order: the order exists, in a defined status, and its execution ended (with the expected
    outcome) or waits in the expected state;
(b) no double charge: localstripe's PaymentIntents and charges for the order (metadata order_id) hold at
    most one captured charge; a paid order captured its total exactly once, a closed one was never charged
    or refunded in full, and the order's record agrees with Stripe;
(c) no stock leak: per stock level available + reserved == on_hand, reserved == what the live order still
    holds, the units that left equal the order's packed parcels, and on_hand == the ledger's total
    (shop.inventory.repository.ledger_total);
(d) the order reached the terminal (or well-defined waiting) status the fault calls for.

How faults get in: ``tests.factories.stripe_faults`` wraps the payments adapter's Stripe HTTP client under
the stripe library (a 500, a read timeout, or a timeout after Stripe processed the request; the library's
own retries run). ``tests.factories.dynamodb_faults`` wraps ``shop.aws.client``: every in-process function
gets its DynamoDB client from that one cache (looked up per call, never bound at import), so the chosen
calls of the workflow's writes raise botocore ClientErrors as DynamoDB would once botocore's retries are
spent. A Lambda crash is an exception whose class is named ``Lambda.Unknown``, the error Step Functions
reports for a function that died (timeout, out of memory, exit); the local invoker reports the class name.

Already proven elsewhere, so not repeated here:
- card declined (pm_card_chargeCustomerFail): test_order_workflow.py
  test_declined_card_fails_the_execution_and_releases_the_stock, and test_fulfillment.py
  test_declined_payment_emails_the_shopper_once_and_its_compensations_are_idempotent;
- unknown payment method refused by Stripe: test_order_workflow.py
  test_unknown_payment_method_fails_once_without_retries_and_releases_the_stock;
- the payment step crashing after creating the intent before recording it, after the charge before recording
  the outcome (retried), and dying for good after the charge (AbandonPayment finds it paid):
  test_order_workflow.py test_crash_after_creating_the_intent_before_recording_it_still_charges_once,
  test_crash_after_the_charge_before_recording_the_outcome_does_not_charge_again,
  test_a_payment_step_dying_for_good_after_the_charge_confirms_the_order_instead_of_releasing_it;
- the charge step dying every time before Stripe (compensated, compensation idempotent):
  test_order_saga.py test_a_crashing_task_is_compensated_and_the_compensation_is_idempotent;
- ConfirmAndSplit (the confirmation) and ReleaseReservation invoked twice, concurrent releases, the charge
  sample replayed on a paid order, the cancel and abandon steps run twice: test_order_workflow.py
  test_confirm_twice_leaves_the_order_paid_once,
  test_release_is_idempotent_and_the_workflow_then_finds_the_order_closed,
  test_concurrent_releases_give_the_stock_back_once, test_good_card_pays_the_order_and_keeps_the_stock_reserved;
  test_fulfillment.py test_cancel_while_picking_releases_refunds_stops_the_workflow_and_is_idempotent,
  test_a_permanent_fulfillment_failure_cancels_and_refunds_and_the_compensation_is_idempotent;
- a replayed Stripe event that is not an order's payment, and a replayed carrier ``exception`` event:
  test_order_workflow.py test_stripe_webhook_refuses_missing_or_forged_signatures_and_ignores_replays,
  test_fulfillment.py test_carrier_webhooks_are_verified_deduplicated_and_an_exception_is_emailed;
- the 3-D Secure wait timing out (intent cancelled, stock released): test_order_workflow.py
  test_3ds_not_completed_in_time_releases_the_stock_and_the_intent_can_no_longer_be_charged.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from shoplocal.stack import STRIPE_KEY
from tests.factories import (
    DynamoFault,
    Prepared,
    StripeFault,
    checkout,
    dynamodb_faults,
    emails_to,
    entered_states,
    execution_arn,
    function_failures,
    history,
    hooked,
    ok,
    open_task,
    order_item,
    order_view,
    order_write,
    pick_and_pack,
    prepare_checkout,
    shopper_authenticates,
    stripe_faults,
    stripe_signature,
    three_ds_card,
    uid,
    wait_for,
    wait_paid,
)

pytestmark = [pytest.mark.workflow, pytest.mark.audited]

PAID_OR_LATER = frozenset({"PAID", "FULFILLING", "DISPATCHING", "SHIPPED", "DELIVERED"})
CLOSED = frozenset({"PAYMENT_FAILED", "EXPIRED", "CANCELLED"})
# a recorded intent of a closed order must be unable to take money later
DEAD_INTENT = frozenset({"canceled", "requires_payment_method", "succeeded"})

# what Step Functions reports for a Lambda function that crashed or timed out (not a Python identifier: the
# local invoker reports the exception's class name as the error, as Lambda reports errorType)
LambdaCrash = type("Lambda.Unknown", (Exception,), {})


# ------------------------------------------------------------------ the four properties
def stripe_get(stack: Any, path: str, **params: Any) -> Any:
    resp = requests.get(f"{stack.stripe_base}{path}", params=params, auth=(STRIPE_KEY, ""), timeout=10)
    resp.raise_for_status()
    return resp.json()


def intents_for(stack: Any, order_id: str) -> list[dict[str, Any]]:
    """Every PaymentIntent localstripe holds for the order (metadata order_id)."""
    found, after = [], None
    for _ in range(100):
        page = stripe_get(stack, "/v1/payment_intents", limit=100, **({"starting_after": after} if after else {}))
        found += [pi for pi in page["data"] if (pi.get("metadata") or {}).get("order_id") == order_id]
        if not page.get("has_more") or not page["data"]:
            return found
        after = page["data"][-1]["id"]
    raise AssertionError("too many payment intents to page through")


def charges_of(stack: Any, intent: dict[str, Any]) -> list[dict[str, Any]]:
    listed = (intent.get("charges") or {}).get("data")
    if listed is not None:
        return list(listed)
    latest = intent.get("latest_charge")
    if latest is None:
        return []
    return [latest if isinstance(latest, dict) else stripe_get(stack, f"/v1/charges/{latest}")]


def wait_execution_state(stack: Any, order_id: str, state: str, timeout: float = 45) -> None:
    """Wait until the order's execution has entered ``state`` (an AssertionError at once if it ends first)."""
    sfn = stack.client("stepfunctions")

    def reached() -> bool:
        if state in entered_states(history(stack, order_id)):
            return True
        desc = sfn.describe_execution(executionArn=execution_arn(stack, order_id))
        assert desc["status"] == "RUNNING", (
            f"the execution ended {desc['status']} {desc.get('error')} before {state}: "
            f"{entered_states(history(stack, order_id))}")
        return False

    wait_for(reached, timeout, f"{order_id} to reach {state}")


def assert_invariants(stack: Any, prep: Prepared, *, status: str, execution: str,
                      timeout: float = 45) -> dict[str, Any]:
    """The four properties, once the execution has settled. ``execution`` is what it must have come to:
    "SUCCEEDED", "FAILED:<error>" or "RUNNING@<state it waits in>". Returns the order and its parts."""
    from shop.config import function_environment
    from shop.fulfillment import repository as fulfillment_repo
    from shop.inventory.repository import ledger_total

    order_id = prep.order_id
    sfn = stack.client("stepfunctions")
    arn = execution_arn(stack, order_id)
    waits_in = execution.partition("@")[2] if execution.startswith("RUNNING@") else None

    def settled() -> dict[str, Any] | None:
        desc = sfn.describe_execution(executionArn=arn)
        if desc["status"] != "RUNNING":
            return dict(desc)
        if waits_in and entered_states(history(stack, order_id))[-1:] == [waits_in] and \
                order_item(stack, order_id)["status"]["S"] == status:
            return dict(desc)
        return None

    desc = wait_for(settled, timeout, f"the execution of {order_id} to settle ({execution})", interval=0.2)
    with function_environment(stack.function_env("FulfillmentFunction")):
        raw, shipments = fulfillment_repo.order_items(order_id)  # the order decoded, and its shipments
        # (a) no lost order: it exists, in a defined status, and its execution is where it must be
        assert raw is not None, f"order {order_id} is lost"
        order = raw
        assert order.status.value in PAID_OR_LATER | CLOSED | {"PENDING_PAYMENT", "PAYMENT_PROCESSING"}
        got = desc["status"] + (f":{desc.get('error')}" if desc["status"] == "FAILED" else "")
        if desc["status"] == "RUNNING":
            got += f"@{entered_states(history(stack, order_id))[-1]}"
        assert got == execution, (f"execution {got}, expected {execution}; states "
                                  f"{entered_states(history(stack, order_id))}; order {order.status.value}")
        # (d) the status the fault must end in
        assert order.status.value == status, (order.status.value, status, order.timeline)

        # (b) no double charge: count what Stripe captured and refunded for this order
        intents = intents_for(stack, order_id)
        captured = [(pi, ch) for pi in intents for ch in charges_of(stack, pi)
                    if ch["status"] == "succeeded" and ch.get("captured", True)]
        refunds = [r for pi, _ in captured for r in stripe_get(stack, "/v1/refunds", payment_intent=pi["id"],
                                                                 limit=100)["data"]]
        assert len(captured) <= 1, f"charged {len(captured)} times: {[ch['id'] for _, ch in captured]}"
        assert len([pi for pi in intents if pi["status"] == "succeeded"]) <= 1, intents
        taken = sum(ch["amount"] for _, ch in captured) - sum(r["amount"] for r in refunds)
        if order.status.value in PAID_OR_LATER:
            assert len(captured) == 1 and not refunds, (captured, refunds)
            assert taken == order.totals.total.amount
            assert captured[0][0]["id"] == order.payment_intent_id, "the charged intent is not the order's"
        else:
            assert taken == 0, f"a {order.status.value} order kept {taken} of the shopper's money"
            if refunds:
                assert [r["id"] for r in refunds] == [order.refund_id], (refunds, order.refund_id)
                assert order.refunded is not None and order.refunded.amount == sum(r["amount"] for r in refunds)
            recorded = [pi for pi in intents if pi["id"] == order.payment_intent_id]
            assert all(pi["status"] in DEAD_INTENT for pi in recorded), recorded

        # (c) no stock leak, per stock level of the product
        holding = order.status.value in ("PENDING_PAYMENT", "PAYMENT_PROCESSING", "PAID", "FULFILLING",
                                          "DISPATCHING")
        held: dict[tuple[str, str], int] = {}
        left: dict[tuple[str, str], int] = {}
        if shipments:
            for s in shipments:
                for item in s.items:
                    key = (item.sku, s.warehouse_id)
                    if s.packed_at is not None:
                        left[key] = left.get(key, 0) + item.quantity
                    elif holding and s.status.value != "CANCELLED":
                        held[key] = held.get(key, 0) + item.quantity
        elif holding:
            for line in order.lines:
                for a in line.allocations:
                    held[(line.sku, a.warehouse_id)] = held.get((line.sku, a.warehouse_id), 0) + a.quantity
        ddb, table = stack.client("dynamodb"), stack.physical_id("InventoryTable")
        for sku in prep.product.skus:
            rows = ddb.query(TableName=table, KeyConditionExpression="pk = :p", ConsistentRead=True,
                             ExpressionAttributeValues={":p": {"S": f"SKU#{sku}"}})["Items"]
            # a level is its item WH#<wh> plus, when sharded, its shard items WH#<wh>#S<n> (available and
            # reserved are the sums over them; on_hand and shipped live on the level item)
            by_wh: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                by_wh.setdefault(row["sk"]["S"].removeprefix("WH#").split("#S")[0], []).append(row)
            assert set(by_wh) == set(prep.product.warehouses), sorted(by_wh)
            for wh, slots in by_wh.items():
                [level_item] = [r for r in slots if r["sk"]["S"] == f"WH#{wh}"]
                level = {k: sum(int(r[k]["N"]) for r in (slots if k in ("available", "reserved") else [level_item])
                                if k in r) for k in ("on_hand", "available", "reserved", "shipped")}
                where = f"{sku}@{wh}: {level}"
                assert level["available"] + level["reserved"] == level["on_hand"], where
                assert level["available"] >= 0 and level["reserved"] >= 0, where
                assert level["reserved"] == held.get((sku, wh), 0), f"{where}, the order holds {held}"
                assert level["shipped"] == left.get((sku, wh), 0), f"{where}, packed {left}"
                movements = ddb.query(TableName=table, KeyConditionExpression="pk = :p", ConsistentRead=True,
                                      ExpressionAttributeValues={":p": {"S": f"LEDGER#{sku}#{wh}"}})["Items"]
                out = -sum(int(m["delta"]["N"]) for m in movements if m["kind"]["S"] == "shipment")
                assert out == left.get((sku, wh), 0), f"{where}: the ledger shipped {out}"
                assert ledger_total(sku, wh) == level["on_hand"], f"{where}: ledger {ledger_total(sku, wh)}"
    return {"order": order, "shipments": shipments, "intents": intents, "execution": desc}


# ------------------------------------------------------------------ helpers
def place(stack: Any, prep: Prepared, pm: str = "pm_card_visa") -> dict[str, Any]:
    return dict(ok(checkout(stack, prep.shopper.id_token, prep.key, payment_method_id=pm), 201))


def lambda_failures(order_id: str, stack: Any) -> list[str]:
    """The errors the order's functions failed their steps with (tests.factories.function_failures)."""
    return function_failures(history(stack, order_id))


def tracking_of(stack: Any, prep: Prepared) -> str:
    return str(wait_for(lambda: order_view(stack, prep.shopper.id_token, prep.order_id)["shipments"][0]
                        ["tracking_number"], 30, f"the label of {prep.order_id}"))


def delivered(stack: Any, prep: Prepared) -> None:
    """The carrier delivers the labelled parcel (a delivery implies the pickup: the workflow ends)."""
    ok(stack.carrier_webhook(tracking_of(stack, prep), "delivered"))


def snapshot(stack: Any, prep: Prepared) -> tuple[Any, ...]:
    """Everything a replayed step could change: the order's items (order, shipments, tracking lookups are
    keyed on it or its tasks), its tasks, and the stock rows and ledger of its product."""
    ddb = stack.client("dynamodb")
    orders, inventory = stack.physical_id("OrdersTable"), stack.physical_id("InventoryTable")

    def query(table: str, pk: str) -> list[Any]:
        return list(ddb.query(TableName=table, KeyConditionExpression="pk = :p", ConsistentRead=True,
                              ExpressionAttributeValues={":p": {"S": pk}})["Items"])

    shipments = [i for i in query(orders, f"ORDER#{prep.order_id}") if i["sk"]["S"].startswith("SHIPMENT#")]
    tasks = [query(orders, f"TASK#{s['shipment_id']['S']}_{kind}") for s in shipments
             for kind in ("pick", "pack", "pickup")]
    stock = [query(inventory, f"SKU#{sku}") for sku in prep.product.skus]
    ledger = [query(inventory, f"LEDGER#{sku}#{wh}") for sku in prep.product.skus for wh in prep.product.warehouses]
    return query(orders, f"ORDER#{prep.order_id}"), tasks, stock, ledger


class Recorder:
    """A hook keeping every event a function was invoked with for the order (as Step Functions sent it)."""

    def __init__(self, order_id: str, logical_id: str):
        self.order_id, self.logical_id = order_id, logical_id
        self.events: list[dict[str, Any]] = []

    def __call__(self, logical_id: str, event: dict[str, Any]) -> None:
        if logical_id == self.logical_id and isinstance(event, dict) and event.get("order_id") == self.order_id:
            self.events.append(json.loads(json.dumps(event)))

    def first(self, action: str) -> dict[str, Any]:
        return next(e for e in self.events if e.get("action") == action)


# ------------------------------------------------------------------ Stripe
@pytest.mark.parametrize(("kind", "path"), [
    ("500", r"^/v1/payment_intents/pi_\w+/confirm$"),  # the provider answers 500 to the charge
    ("timeout", r"^/v1/payment_intents$"),  # creating the intent times out before reaching Stripe
])
def test_a_provider_outage_during_the_payment_is_retried_and_charges_once(stack, admin, kind, path):
    prep = prepare_checkout(stack, admin, f"fault-{kind}", quantity=2)
    # three HTTP attempts: the stripe library's own two retries, so the whole task fails once
    fault = StripeFault(kind, "POST", path, prep.order_id, times=3)
    with stripe_faults(stack, fault):
        place(stack, prep)
        assert_invariants(stack, prep, status="FULFILLING", execution="RUNNING@PickAndPack")
    assert fault.injected == 3 and len(fault.seen) == 4  # the workflow's retry then went through
    assert lambda_failures(prep.order_id, stack) == ["DependencyFailed"]
    # every attempt, by the library and by the workflow, carried the same idempotency key
    keys = {s["idempotency_key"] for s in fault.seen}
    assert len(keys) == 1 and None not in keys, fault.seen


def test_a_provider_failing_the_charge_for_good_cancels_the_intent_and_releases_the_stock(stack, admin):
    prep = prepare_checkout(stack, admin, "fault-500-down", quantity=2)
    fault = StripeFault("500", "POST", r"^/v1/payment_intents/pi_\w+/confirm$", prep.order_id, times=1000)
    with stripe_faults(stack, fault):
        place(stack, prep)
        settled = assert_invariants(stack, prep, status="PAYMENT_FAILED", execution="FAILED:PaymentFailed")
    assert fault.injected == 12  # 4 task attempts (3 retries) x 3 HTTP attempts, then the compensation
    assert entered_states(history(stack, prep.order_id)) == [
        "TakePayment", "AbandonPayment", "AbandonOutcome", "ReleaseAfterDecline", "ReleaseOutcome", "PaymentFailed"]
    [intent] = settled["intents"]
    assert intent["status"] == "canceled"  # can never be charged for the closed order


@pytest.mark.parametrize(("step", "path"), [
    ("confirm", r"^/v1/payment_intents/pi_\w+/confirm$"),
    ("create", r"^/v1/payment_intents$"),
])
def test_a_timeout_after_stripe_accepted_the_request_does_not_charge_twice(stack, admin, step, path):
    """Stripe did the work, the answer was lost, the stripe library retries with the same idempotency key.
    localstripe ignores idempotency keys (Stripe would replay its first answer), so this is the worst case:
    a retried create makes a second intent (never confirmed), a retried confirm is refused (the intent is
    past confirmation) and must be read back as the charge it was, not taken for a decline. (It was taken
    for one: the order went PAYMENT_FAILED with its stock released while the shopper stayed charged; fixed
    in stripe_adapter.confirm_intent.)"""
    prep = prepare_checkout(stack, admin, f"fault-lost-{step}", quantity=1)
    fault = StripeFault("timeout_after", "POST", path, prep.order_id, times=1)
    with stripe_faults(stack, fault):
        place(stack, prep)
        settled = assert_invariants(stack, prep, status="FULFILLING", execution="RUNNING@PickAndPack")
    assert fault.injected == 1 and len(fault.seen) == 2
    assert fault.seen[0]["idempotency_key"] == fault.seen[1]["idempotency_key"] is not None
    assert lambda_failures(prep.order_id, stack) == []
    if step == "create":  # the lost intent stays unconfirmed: nothing can ever charge it
        assert sorted(pi["status"] for pi in settled["intents"]) == ["requires_confirmation", "succeeded"]


# ------------------------------------------------------------------ DynamoDB
def test_throttled_workflow_writes_are_retried_and_the_order_is_delivered(stack, admin, staff):
    prep = prepare_checkout(stack, admin, "fault-throttle", quantity=2, stock={"a": 4})
    oid = prep.order_id
    faults = (DynamoFault("update_item", "ProvisionedThroughputExceededException", order_write(oid, "PAID")),
              DynamoFault("transact_write_items", "ThrottlingException", order_write(oid, "FULFILLING")),
              DynamoFault("transact_write_items", "ProvisionedThroughputExceededException",
                          order_write(oid, "DISPATCHING")))
    with dynamodb_faults(*faults):
        place(stack, prep)
        wait_paid(stack, oid)
        pick_and_pack(stack, staff.id_token, oid, prep.product.warehouses[0])
        wait_execution_state(stack, oid, "AwaitPickup")
    delivered(stack, prep)
    assert_invariants(stack, prep, status="DELIVERED", execution="SUCCEEDED")
    assert [f.injected for f in faults] == [1, 1, 1]
    # confirm and split: each retried by the workflow; the stock commit is the pack completion's (issue 12),
    # which retries it itself
    assert lambda_failures(oid, stack) == ["ServiceBusy"] * 2


def test_a_throttled_release_after_a_decline_is_retried(stack, admin):
    prep = prepare_checkout(stack, admin, "fault-throttle-release", quantity=3)
    fault = DynamoFault("transact_write_items", "ProvisionedThroughputExceededException",
                        order_write(prep.order_id, "PAYMENT_FAILED"), times=2)
    with dynamodb_faults(fault):
        place(stack, prep, pm="pm_card_chargeCustomerFail")
        assert_invariants(stack, prep, status="PAYMENT_FAILED", execution="FAILED:PaymentFailed")
    assert fault.injected == 2 and lambda_failures(prep.order_id, stack) == ["ServiceBusy"] * 2


def test_transaction_conflicts_on_the_split_and_the_stock_commit_are_retried(stack, admin, staff):
    """DynamoDB cancels a transaction that meets another one on the same item (TransactionConflict): two
    parcels of one order packed at the same moment both update the order. That is contention, not a
    refusal: the step is retried, never turned into a cancellation of a paid order. (Both were raised as
    Conflict, not retried, and CancelAfterFailure cancelled and refunded the order, a packed parcel
    included; fixed in shop.fulfillment.repository.)"""
    prep = prepare_checkout(stack, admin, "fault-conflict", quantity=2, stock={"a": 4})
    oid = prep.order_id
    faults = (DynamoFault("transact_write_items", "TransactionCanceledException", order_write(oid, "FULFILLING")),
              DynamoFault("transact_write_items", "TransactionCanceledException", order_write(oid, "DISPATCHING"),
                          at=2))  # the stock row's update conflicts
    with dynamodb_faults(*faults):
        place(stack, prep)
        wait_paid(stack, oid)
        pick_and_pack(stack, staff.id_token, oid, prep.product.warehouses[0])
        wait_execution_state(stack, oid, "AwaitPickup")
    delivered(stack, prep)
    assert_invariants(stack, prep, status="DELIVERED", execution="SUCCEEDED")
    assert [f.injected for f in faults] == [1, 1]
    # the stock commit is the pack completion's transaction (issue 12): the completion retries it itself
    assert lambda_failures(oid, stack) == ["ServiceBusy"]


def test_a_transaction_conflict_on_the_release_is_retried(stack, admin):
    prep = prepare_checkout(stack, admin, "fault-conflict-release", quantity=3)
    fault = DynamoFault("transact_write_items", "TransactionCanceledException",
                        order_write(prep.order_id, "PAYMENT_FAILED"))
    with dynamodb_faults(fault):
        place(stack, prep, pm="pm_card_chargeCustomerFail")
        assert_invariants(stack, prep, status="PAYMENT_FAILED", execution="FAILED:PaymentFailed")


def test_a_transaction_conflict_on_the_confirmation_is_retried(stack, admin):
    prep = prepare_checkout(stack, admin, "fault-conflict-confirm", quantity=1)
    fault = DynamoFault("update_item", "TransactionConflictException", order_write(prep.order_id, "PAID"))
    with dynamodb_faults(fault):
        place(stack, prep)
        assert_invariants(stack, prep, status="FULFILLING", execution="RUNNING@PickAndPack")


# ------------------------------------------------------------------ a Lambda dying between two writes
def test_the_stock_commit_dying_after_its_transaction_is_retried_without_committing_twice(
        stack, admin, staff, monkeypatch):
    """The parcel's stock transaction committed, then the function died. (Lambda.Unknown was not retried:
    the cancellation was refused for the packed parcel and the execution ended NeedsAttention; the state
    machine now retries it on every step, each being safe to repeat.)"""
    from shop.fulfillment import repository as fulfillment_repo

    prep = prepare_checkout(stack, admin, "fault-crash-commit", quantity=2, stock={"a": 4})
    real = fulfillment_repo.commit_shipment
    crashed: list[bool] = []

    def crash_once(order: Any, shipment: Any, weight: int) -> bool:
        committed = real(order, shipment, weight)
        if order.order_id == prep.order_id and not crashed:
            crashed.append(committed)
            raise LambdaCrash("RequestId: local Error: Runtime exited after the stock transaction")
        return committed

    monkeypatch.setattr(fulfillment_repo, "commit_shipment", crash_once)
    place(stack, prep)
    wait_paid(stack, prep.order_id)
    pick_and_pack(stack, staff.id_token, prep.order_id, prep.product.warehouses[0])
    wait_execution_state(stack, prep.order_id, "AwaitPickup")
    delivered(stack, prep)
    assert_invariants(stack, prep, status="DELIVERED", execution="SUCCEEDED")
    # the pack completion committed the parcel (issue 12); the workflow's commit (now the label step's first
    # part), crashed and retried, finds it committed and commits nothing twice
    assert crashed == [False] and lambda_failures(prep.order_id, stack) == ["Lambda.Unknown"]
    timeline = [t["M"]["status"]["S"] for t in order_item(stack, prep.order_id)["timeline"]["L"]]
    assert timeline.count("DISPATCHING") == 1 and timeline.count("LABEL_CREATED") == 1


@pytest.mark.parametrize("when", ["after_the_confirmation", "after_the_split"])
def test_confirm_and_split_dying_midway_is_retried_and_confirms_and_splits_once(stack, admin, monkeypatch, when):
    """ConfirmAndSplit (issue 17: ConfirmOrder and SplitOrder in one step) dies after the order was made PAID but
    before the split, or after the split's write: Step Functions retries the step (Lambda.Unknown), whose
    confirmation finds the order PAID (or FULFILLING) and whose split finds it split, so the order is confirmed
    once, split once (one set of shipments) and the shopper gets one confirmation mail."""
    from shop.fulfillment import service as fulfillment_service

    prep = prepare_checkout(stack, admin, f"fault-crash-{when}", quantity=2, stock={"a": 4})
    real_split = fulfillment_service.split
    crashed: list[str] = []

    def crash_once(order_id: str) -> dict[str, Any]:
        if order_id != prep.order_id or crashed:
            return dict(real_split(order_id))
        crashed.append(order_item(stack, order_id)["status"]["S"])
        if when == "after_the_split":
            real_split(order_id)
        raise LambdaCrash(f"RequestId: local Error: Runtime exited {when.replace('_', ' ')}")

    monkeypatch.setattr(fulfillment_service, "split", crash_once)
    place(stack, prep)
    settled = assert_invariants(stack, prep, status="FULFILLING", execution="RUNNING@PickAndPack")
    assert crashed == ["PAID"] and lambda_failures(prep.order_id, stack) == ["Lambda.Unknown"]
    states = entered_states(history(stack, prep.order_id))
    assert states.count("ConfirmAndSplit") == 1 and states.count("FulfilShipments") == 1
    timeline = [t.status for t in settled["order"].timeline]
    assert timeline.count("PAID") == 1 and timeline.count("FULFILLING") == 1, timeline
    shipments = [i for i in stack.client("dynamodb").query(
        TableName=stack.physical_id("OrdersTable"), KeyConditionExpression="pk = :p", ConsistentRead=True,
        ExpressionAttributeValues={":p": {"S": f"ORDER#{prep.order_id}"}})["Items"]
        if i["sk"]["S"].startswith("SHIPMENT#")]
    assert len(shipments) == 1  # one warehouse: one shipment, made once
    mails = wait_for(lambda: [m for m in emails_to(stack, prep.shopper.email)
                              if "confirmation" in m["subject"].lower()], 30, "the confirmation mail")
    assert len(mails) == 1, [m["subject"] for m in mails]


def test_the_pickup_step_dying_after_the_label_before_its_token_buys_one_label_and_mails_once(
        stack, admin, staff, monkeypatch):
    """AwaitPickup buys the parcel's label, then records its token on the pickup task (issue 17: the label step
    merged into the pickup step, one state). The invocation dies in between: Step Functions retries the step
    (Lambda.Unknown), which finds the label recorded, buys none, and opens the task; the shopper gets one
    packed mail."""
    from shop.fulfillment import carrier
    from shop.fulfillment import repository as fulfillment_repo

    prep = prepare_checkout(stack, admin, "fault-crash-label", quantity=1)
    real_store, real_carrier = fulfillment_repo.store_task_checked, carrier.carrier_for
    crashed: list[str] = []
    bought: list[str] = []

    def crash_once(task: Any, *args: Any, **kwargs: Any) -> bool:
        if task.order_id == prep.order_id and task.kind.value == "pickup" and not crashed:
            crashed.append(task.task_id)
            raise LambdaCrash("RequestId: local Error: Runtime exited after the label, before the token")
        return bool(real_store(task, *args, **kwargs))

    class Counting:
        def __init__(self, port: Any) -> None:
            self.port = port

        def __getattr__(self, name: str) -> Any:
            return getattr(self.port, name)

        def buy_label(self, request: Any) -> Any:
            if request.order_id == prep.order_id:
                bought.append(request.shipment_id)
            return self.port.buy_label(request)

    monkeypatch.setattr(fulfillment_repo, "store_task_checked", crash_once)
    monkeypatch.setattr(carrier, "carrier_for", lambda settings: Counting(real_carrier(settings)))
    place(stack, prep)
    wait_paid(stack, prep.order_id)
    pick_and_pack(stack, staff.id_token, prep.order_id, prep.product.warehouses[0])
    wait_execution_state(stack, prep.order_id, "AwaitPickup")
    pickup = open_task(stack, staff.id_token, prep.product.warehouses[0], prep.order_id, "pickup")
    tracking = tracking_of(stack, prep)
    wait_for(lambda: [m for m in emails_to(stack, prep.shopper.email) if tracking in m["subject"]], 30,
             "the packed mail")
    delivered(stack, prep)
    assert_invariants(stack, prep, status="DELIVERED", execution="SUCCEEDED")
    assert crashed == [pickup["task_id"]] and lambda_failures(prep.order_id, stack) == ["Lambda.Unknown"]
    assert bought == [pickup["shipment_id"]]  # one label bought, by the attempt that crashed
    states = entered_states(history(stack, prep.order_id))
    assert states.count("AwaitPickup") == 1 and "CreateLabel" not in states
    timeline = [t["M"]["status"]["S"] for t in order_item(stack, prep.order_id)["timeline"]["L"]]
    assert timeline.count("LABEL_CREATED") == 1
    packed = [m for m in emails_to(stack, prep.shopper.email) if "has been packed" in m["subject"]]
    assert len(packed) == 1, [m["subject"] for m in packed]


def test_the_cancellation_dying_after_the_refund_refunds_once_and_records_it(stack, admin, monkeypatch):
    """Fulfillment fails for good, so the workflow cancels the paid order; that step dies after Stripe refunded
    but before the refund was recorded. Its retry finds the refund by its key instead of refunding again.
    (The retry used to fail too: stripe_adapter.refund read a StripeObject's metadata with .get, an
    AttributeError whenever the intent had a refund; the order stayed CANCELLED with its refund unrecorded.)"""
    from shop.orders import repository as orders_repo

    prep = prepare_checkout(stack, admin, "fault-crash-refund", quantity=2)
    real = orders_repo.record_refund
    crashed: list[str] = []

    from shop.fulfillment import service as fulfillment_service

    real_split = fulfillment_service.split

    def broken_split(order_id: str) -> dict[str, Any]:  # ConfirmAndSplit's second part: the order is PAID
        if order_id == prep.order_id:
            raise RuntimeError("bug in the split")
        return dict(real_split(order_id))

    def crash_once(order_id: str, refund_id: str, *args: Any, **kwargs: Any) -> bool:
        if order_id == prep.order_id and not crashed:
            crashed.append(refund_id)
            raise LambdaCrash("RequestId: local Error: Runtime exited after the refund")
        return bool(real(order_id, refund_id, *args, **kwargs))

    monkeypatch.setattr(orders_repo, "record_refund", crash_once)
    monkeypatch.setattr(fulfillment_service, "split", broken_split)
    place(stack, prep)
    settled = assert_invariants(stack, prep, status="CANCELLED", execution="FAILED:FulfillmentFailed")
    assert settled["order"].refund_id == crashed[0]  # the refund the crashed attempt made, recorded once
    assert lambda_failures(prep.order_id, stack) == ["RuntimeError", "Lambda.Unknown"]


# ------------------------------------------------------------------ at-least-once deliveries
def test_the_same_stripe_webhook_event_twice_resumes_the_payment_once(stack, admin):
    prep = prepare_checkout(stack, admin, "fault-dup-stripe", quantity=1)
    place(stack, prep, pm=three_ds_card(stack))
    intent_id = shopper_authenticates(stack, prep.shopper.id_token, prep.order_id)["payment"]["payment_intent_id"]
    # Stripe delivers at least once: the same event twice (localstripe also sends its own event for it)
    body = json.dumps({"id": f"evt_dup_{uid(12)}", "object": "event", "type": "payment_intent.succeeded",
                       "data": {"object": {"id": intent_id, "object": "payment_intent",
                                           "metadata": {"order_id": prep.order_id}}}})
    answers = [stack.request("POST", "/webhooks/stripe", body=body,
                             headers={"Stripe-Signature": stripe_signature(body)}) for _ in range(2)]
    assert [a.status for a in answers] == [200, 200] and answers[0].json() == answers[1].json()
    assert answers[0].json()["handled"] is True and answers[0].json()["status"] == "succeeded"
    settled = assert_invariants(stack, prep, status="FULFILLING", execution="RUNNING@PickAndPack")
    again = stack.request("POST", "/webhooks/stripe", body=body, headers={"Stripe-Signature": stripe_signature(body)})
    assert again.json() == answers[0].json()  # also once the workflow went on
    states = entered_states(history(stack, prep.order_id))
    assert states.count("TakePayment") == 1 and states.count("ConfirmAndSplit") == 1
    timeline = [t.status for t in settled["order"].timeline]
    assert timeline.count("PAID") == 1, timeline


def test_warehouse_completions_and_task_invocations_delivered_twice_have_one_effect(stack, admin, staff):
    prep = prepare_checkout(stack, admin, "fault-dup-tasks", quantity=2, stock={"a": 4})
    wh = prep.product.warehouses[0]
    recorder = Recorder(prep.order_id, "FulfillmentFunction")
    with hooked(stack, recorder):
        place(stack, prep)
        wait_paid(stack, prep.order_id)
        pick = open_task(stack, staff.id_token, wh, prep.order_id, "pick")
        path = f"/warehouse/tasks/{pick['task_id']}/complete"
        body = {"picked": [{"sku": i["sku"], "quantity": i["quantity"]} for i in pick["checklist"]]}
        first, second = (ok(stack.request("POST", path, token=staff.id_token, json=body)) for _ in range(2))
        # PickAndPack: the pick's completion opens the pack task with the workflow's token (resumes nothing)
        assert second == first and first["workflow_resumed"] is False
        pack = open_task(stack, staff.id_token, wh, prep.order_id, "pack")
        weight = {"package_weight_grams": sum(i["weight_grams"] * i["quantity"] for i in pack["checklist"]) + 100}
        barrier = threading.Barrier(2)

        def complete(_: int) -> Any:
            barrier.wait(timeout=10)
            return stack.request("POST", f"/warehouse/tasks/{pack['task_id']}/complete", token=staff.id_token,
                                 json=weight)

        with ThreadPoolExecutor(max_workers=2) as pool:
            packed = list(pool.map(complete, range(2)))
        assert [p.status for p in packed] == [200, 200], [p.body for p in packed]
        assert packed[0].json()["result"] == packed[1].json()["result"]
        wait_execution_state(stack, prep.order_id, "AwaitPickup")
        open_task(stack, staff.id_token, wh, prep.order_id, "pickup")

    # Step Functions delivers a task at least once: each recorded invocation again, with its own event (PickAndPack's
    # finds its pick and pack done: its token, used already, is resumed again to no effect)
    before = snapshot(stack, prep)
    # the pickup step buys the label first and carries the pack's weight (it commits if need be): delivered again
    # (its own token) it finds the label bought and the task open, and buys nothing
    label = next(e for e in recorder.events if e.get("action") == "open_task" and e.get("create_label"))
    assert label["kind"] == "pickup" and label["package_weight_grams"] == weight["package_weight_grams"]
    pick_and_pack = recorder.first("open_task")
    assert (pick_and_pack["kind"], pick_and_pack["then"]) == ("pick", "pack")
    for event in (recorder.first("confirm_and_split"), pick_and_pack, label):
        stack.invoke("FulfillmentFunction", event)
    # a stock commit delivered for the packed parcel (the exchanges workflow's step; the order workflow's
    # commit is the pack completion's) finds it committed
    commit = {"action": "commit_stock", "order_id": label["order_id"], "shipment_id": label["shipment_id"],
              "package_weight_grams": weight["package_weight_grams"]}
    assert stack.invoke("FulfillmentFunction", commit)["committed"] is False
    assert snapshot(stack, prep) == before
    states = entered_states(history(stack, prep.order_id))
    assert states.count("AwaitPickup") == 1 and "CommitStock" not in states
    delivered(stack, prep)
    assert_invariants(stack, prep, status="DELIVERED", execution="SUCCEEDED")


def test_a_pack_completion_whose_token_a_retried_step_replaced_resumes_with_the_stored_one(
        stack, admin, staff, monkeypatch):
    """Completing the pack task sends the token read before its transaction (no read back). A retried
    PickAndPack step may have stored a new token in between (the first attempt's token is then dead): Step
    Functions refuses the old one, the stored one is read once and the workflow resumes with it."""
    from shop.fulfillment import repository as fulfillment_repo

    prep = prepare_checkout(stack, admin, "fault-stale-token", quantity=1)
    wh = prep.product.warehouses[0]
    place(stack, prep)
    wait_paid(stack, prep.order_id)
    pick = open_task(stack, staff.id_token, wh, prep.order_id, "pick")
    ok(stack.request("POST", f"/warehouse/tasks/{pick['task_id']}/complete", token=staff.id_token,
                     json={"picked": [{"sku": i["sku"], "quantity": i["quantity"]} for i in pick["checklist"]]}))
    pack = open_task(stack, staff.id_token, wh, prep.order_id, "pack")
    ddb, table = stack.client("dynamodb"), stack.physical_id("OrdersTable")
    key = {"pk": {"S": f"TASK#{pack['task_id']}"}, "sk": {"S": "TASK"}}
    live = ddb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["task_token"]["S"]

    def set_token(token: str) -> None:
        ddb.update_item(TableName=table, Key=key, UpdateExpression="SET task_token = :t",
                        ExpressionAttributeValues={":t": {"S": token}})

    set_token("a-dead-token-of-the-first-attempt")  # what the completion reads first
    real = fulfillment_repo.pack_shipment

    def retried_step_meanwhile(*args: Any, **kwargs: Any) -> Any:
        set_token(live)  # the retried step's token, stored between the completion's read and its transaction
        return real(*args, **kwargs)

    monkeypatch.setattr(fulfillment_repo, "pack_shipment", retried_step_meanwhile)
    weight = sum(i["weight_grams"] * i["quantity"] for i in pack["checklist"]) + 100
    done = ok(stack.request("POST", f"/warehouse/tasks/{pack['task_id']}/complete", token=staff.id_token,
                            json={"package_weight_grams": weight}))
    assert done["status"] == "DONE" and done["workflow_resumed"] is True
    assert done["result"] == {"package_weight_grams": weight} and done["completed_by"] and done["completed_at"]
    wait_execution_state(stack, prep.order_id, "AwaitPickup")
    delivered(stack, prep)
    assert_invariants(stack, prep, status="DELIVERED", execution="SUCCEEDED")


def test_the_same_carrier_events_twice_have_one_effect(stack, admin, staff):
    prep = prepare_checkout(stack, admin, "fault-dup-carrier", quantity=1)
    recorder = Recorder(prep.order_id, "FulfillmentFunction")
    with hooked(stack, recorder):
        place(stack, prep)
        wait_paid(stack, prep.order_id)
        pick_and_pack(stack, staff.id_token, prep.order_id, prep.product.warehouses[0])
        tracking = tracking_of(stack, prep)
        wait_execution_state(stack, prep.order_id, "AwaitPickup")
        open_task(stack, staff.id_token, prep.product.warehouses[0], prep.order_id, "pickup")

        # the pickup scan twice at the same moment: one is processed, the other answered 503 (retry later)
        pickup_id = f"cevt-pick-{uid()}"
        with ThreadPoolExecutor(max_workers=2) as pool:
            scans = list(pool.map(lambda _: stack.carrier_webhook(tracking, "picked_up", event_id=pickup_id),
                                  range(2)))
        assert sorted(s.status for s in scans) in ([200, 200], [200, 503]), [s.body for s in scans]
        first = next(s.json() for s in scans if s.status == 200)
        assert first["workflow_resumed"] is True
        assert ok(stack.carrier_webhook(tracking, "picked_up", event_id=pickup_id)) == first  # the retry
        assert_invariants(stack, prep, status="SHIPPED", execution="SUCCEEDED")

    shipped = snapshot(stack, prep)
    # the last task delivered again (the pickup task's opening, its token used), and a MarkShipped step (the
    # exchanges workflow's; the scan did it here) for the parcel: nothing changes
    pickup = next(e for e in recorder.events if e.get("action") == "open_task" and e.get("kind") == "pickup")
    stack.invoke("FulfillmentFunction", pickup)
    stack.invoke("FulfillmentFunction", {"action": "mark_shipped", "order_id": prep.order_id,
                                         "shipment_id": pickup["shipment_id"]})
    assert snapshot(stack, prep) == shipped

    delivery_id = f"cevt-dlv-{uid()}"
    answers = [ok(stack.carrier_webhook(tracking, "delivered", event_id=delivery_id)) for _ in range(2)]
    assert answers[0] == answers[1] and answers[0]["status"] == "DELIVERED"
    settled = assert_invariants(stack, prep, status="DELIVERED", execution="SUCCEEDED")
    [shipment] = settled["shipments"]
    assert [t.event_id for t in shipment.tracking] == [pickup_id, delivery_id]
    assert [t.status for t in settled["order"].timeline].count("DELIVERED") == 1
    # confirmation, parcel packed, parcel delivered: each once although its event came twice or more
    stack.drain_async()
    wait_for(lambda: len(emails_to(stack, prep.shopper.email)) >= 3, 30, "the order's emails")
    stack.drain_async()
    subjects = [m["subject"] for m in emails_to(stack, prep.shopper.email)]
    assert len(subjects) == 3 and len(set(subjects)) == 3, subjects
