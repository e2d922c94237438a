"""The order workflow (statemachines/order.asl.json) executed by moto's ASL engine, tasks run in-process.

Orders are created through the real POST /checkout, which starts the execution itself (name = order id).
Faults are injected with invoker hooks (run before a function's handler) or by making one layer call fail
once (a crash between two steps of a task): transient failures are retried without a second charge,
refusals are compensated, and the compensation and the confirmation are idempotent.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from shop.errors import DependencyFailed

from shoplocal.stack import ROOT, STRIPE_KEY
from tests.conftest import AUTH_TIMEOUT_SECONDS
from tests.factories import (
    checkout,
    emails_to,
    entered_states,
    execution_arn,
    function_failures,
    history,
    hooked,
    make_product,
    order_item,
    put_in_cart,
    shopper_authenticates,
    state_output,
    stock_of,
    stripe_signature,
    three_ds_card,
    wait_for,
    wait_paid,
    wait_parked,
)

pytestmark = pytest.mark.workflow

EVENTS = ROOT / "events"


# ------------------------------------------------------------------ helpers
def timeline_statuses(item: dict[str, Any]) -> list[str]:
    return [entry["M"]["status"]["S"] for entry in item["timeline"]["L"]]


def intents_for(stack: Any, order_id: str) -> list[dict[str, Any]]:
    """Every PaymentIntent localstripe holds for the order (metadata order_id), oldest first."""
    found, after = [], None
    for _ in range(50):
        params: dict[str, Any] = {"limit": 100, **({"starting_after": after} if after else {})}
        resp = requests.get(f"{stack.stripe_base}/v1/payment_intents", params=params, auth=(STRIPE_KEY, ""),
                            timeout=10)
        resp.raise_for_status()
        page = resp.json()
        found += [pi for pi in page["data"] if (pi.get("metadata") or {}).get("order_id") == order_id]
        if not page.get("has_more") or not page["data"]:
            return found
        after = page["data"][-1]["id"]
    raise AssertionError("too many payment intents to page through")


class Calls:
    """A hook recording which functions were invoked for one order."""

    def __init__(self, order_id: str):
        self.order_id = order_id
        self.names: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, logical_id: str, event: dict[str, Any]) -> None:
        if isinstance(event, dict) and event.get("order_id") == self.order_id:
            with self._lock:
                self.names.append(logical_id)
                if event.get("action"):
                    self.names.append(f"{logical_id}:{event['action']}")

    def count(self, logical_id: str, action: str | None = None) -> int:
        """Invocations of ``logical_id`` (with that ``action`` in the event, when given)."""
        return self.names.count(logical_id if action is None else f"{logical_id}:{action}")


class Gate:
    """A hook holding the order's payment step until opened (the shopper has not paid yet)."""

    def __init__(self, order_id: str):
        self.order_id = order_id
        self.opened = threading.Event()
        self.reached = threading.Event()

    def __call__(self, logical_id: str, event: dict[str, Any]) -> None:
        if logical_id == "PaymentFunction" and isinstance(event, dict) and event.get("order_id") == self.order_id:
            self.reached.set()
            self.opened.wait(timeout=60)


def prepared(stack: Any, admin: Any, label: str, quantity: int = 2,
             stock: dict[str, int] | None = None) -> tuple[Any, str, str, str]:
    """A shopper with a filled cart, and the id its checkout will give the order (known in advance so a
    hook can target it before the execution starts): (shopper, idempotency key, order id, sku)."""
    from shop.checkout.service import order_id_for

    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock=stock or {"a": 5})
    put_in_cart(stack, shopper.id_token, product.skus[0], quantity)
    key = f"{label}-{product.product_id}"
    return shopper, key, order_id_for(shopper.user_id, key), product.skus[0]


def place(stack: Any, shopper: Any, key: str, pm: str = "pm_card_visa") -> dict[str, Any]:
    resp = checkout(stack, shopper.id_token, key, payment_method_id=pm)
    assert resp.status == 201, resp.body
    return resp.json()


def finish(stack: Any, order_id: str, timeout: float = 60) -> dict[str, Any]:
    return stack.wait_execution(execution_arn(stack, order_id), timeout=timeout)


def sample(name: str, **overrides: Any) -> dict[str, Any]:
    return {**json.loads((EVENTS / name).read_text()), **overrides}


def paid_order(stack: Any, admin: Any, label: str, quantity: int = 2) -> tuple[str, str]:
    shopper, key, order_id, sku = prepared(stack, admin, label, quantity)
    place(stack, shopper, key)
    wait_paid(stack, order_id)
    return order_id, sku


# ------------------------------------------------------------------ outcomes
def test_good_card_pays_the_order_and_keeps_the_stock_reserved(stack, admin):
    shopper, key, order_id, sku = prepared(stack, admin, "visa", quantity=2)
    calls = Calls(order_id)
    with hooked(stack, calls):
        placed = place(stack, shopper, key)
        output = wait_paid(stack, order_id)

    assert output["payment"]["status"] == "succeeded"
    assert output["split"]["confirmation"] == {"order_id": order_id, "status": "PAID"}
    # wait_paid returns once FulfilShipments is entered; its first iteration's PickAndPack follows a moment later
    def picking() -> list[str] | None:
        entered = entered_states(history(stack, order_id))
        return entered if "PickAndPack" in entered else None

    states = wait_for(picking, 30, f"{order_id}'s PickAndPack step")
    assert states[:4] == ["TakePayment", "ConfirmAndSplit", "FulfilShipments", "PickAndPack"]
    assert calls.names.count("PaymentFunction") == 1 and calls.count("FulfillmentFunction", "confirm_and_split") == 1
    assert calls.count("ReleaseReservationFunction") == 0

    item = order_item(stack, order_id)
    assert item["status"]["S"] == "FULFILLING" and item["payment_status"]["S"] == "succeeded"
    assert "pending_pk" not in item and "decline_code" not in item
    assert timeline_statuses(item) == ["PENDING_PAYMENT", "PAYMENT_PROCESSING", "PAID", "FULFILLING"]
    [intent] = intents_for(stack, order_id)
    assert item["payment_intent_id"]["S"] == intent["id"] == output["payment"]["payment_intent_id"]
    assert intent["status"] == "succeeded"
    assert intent["amount"] == placed["totals"]["total"]["amount"]
    assert intent["currency"] == placed["totals"]["total"]["currency"].lower()
    [(_, stock)] = stock_of(stack, sku).items()
    assert stock == {"on_hand": 5, "available": 3, "reserved": 2}  # still reserved until packed

    # the sample charge event replayed on the paid order (as a plain charge step of an execution started before
    # TakePayment waited on a token) reports the same intent and charges nothing more
    plain = {k: v for k, v in sample("payments/charge.json", order_id=order_id).items() if k != "task_token"}
    again = stack.invoke("PaymentFunction", plain)
    assert again == {"order_id": order_id, "status": "succeeded", "payment_intent_id": intent["id"],
                     "decline_code": None}
    assert [pi["id"] for pi in intents_for(stack, order_id)] == [intent["id"]]


def test_declined_card_fails_the_execution_and_releases_the_stock(stack, admin):
    shopper, key, order_id, sku = prepared(stack, admin, "declined", quantity=3)
    place(stack, shopper, key, pm="pm_card_chargeCustomerFail")
    done = finish(stack, order_id)

    assert done["status"] == "FAILED" and done["error"] == "PaymentFailed", done
    assert entered_states(history(stack, order_id)) == ["TakePayment", "ReleaseAfterDecline", "ReleaseOutcome",
                                                        "PaymentFailed"]
    # the refusal failed the payment step's token (an outcome, not a function error: no Retry)
    assert [e["taskFailedEventDetails"]["error"] for e in history(stack, order_id)
            if e["type"] == "TaskFailed"] == ["PaymentDeclined"]
    item = order_item(stack, order_id)
    assert item["status"]["S"] == "PAYMENT_FAILED" and item["payment_status"]["S"] == "declined"
    assert item["decline_code"]["S"]
    assert "pending_pk" not in item
    assert timeline_statuses(item) == ["PENDING_PAYMENT", "PAYMENT_PROCESSING", "PAYMENT_FAILED"]
    [(_, stock)] = stock_of(stack, sku).items()
    assert stock == {"on_hand": 5, "available": 5, "reserved": 0}
    assert not [pi for pi in intents_for(stack, order_id) if pi["status"] == "succeeded"]


def test_unknown_payment_method_fails_once_without_retries_and_releases_the_stock(stack, admin):
    shopper, key, order_id, sku = prepared(stack, admin, "nopm", quantity=2)
    calls = Calls(order_id)
    with hooked(stack, calls):
        place(stack, shopper, key, pm="pm_does_not_exist")
        done = finish(stack, order_id)

    assert done["status"] == "FAILED" and done["error"] == "PaymentFailed", done
    events = history(stack, order_id)
    # a refusal is an outcome, not an outage: no Lambda error, so no Retry, one charge attempt
    assert function_failures(events) == []
    assert calls.count("PaymentFunction") == 1 and calls.count("ReleaseReservationFunction") == 1
    assert json.loads(done["input"]) == {"order_id": order_id, "payment_timeout_seconds": AUTH_TIMEOUT_SECONDS}
    item = order_item(stack, order_id)
    assert item["status"]["S"] == "PAYMENT_FAILED" and item["payment_status"]["S"] == "declined"
    assert item["decline_code"]["S"]
    assert "payment_intent_id" not in item
    [(_, stock)] = stock_of(stack, sku).items()
    assert stock == {"on_hand": 5, "available": 5, "reserved": 0}
    assert intents_for(stack, order_id) == []


def test_3ds_not_completed_in_time_releases_the_stock_and_the_intent_can_no_longer_be_charged(stack, admin):
    """The shopper never authenticates: after the configured wait (PaymentAuthTimeoutSeconds) the intent is
    cancelled and the stock released, so a late authentication cannot charge a closed order."""
    pm = three_ds_card(stack)
    shopper, key, order_id, sku = prepared(stack, admin, "3ds-timeout", quantity=2)
    place(stack, shopper, key, pm=pm)
    waiting = wait_for(lambda: (v := stack.request("GET", f"/orders/{order_id}", token=shopper.id_token).json())
                       and v["payment"]["status"] == "requires_action" and v, 20, "the 3-D Secure step")
    assert waiting["status"] == "PAYMENT_PROCESSING" and waiting["payment"]["client_secret"].startswith("pi_")
    done = finish(stack, order_id, timeout=AUTH_TIMEOUT_SECONDS + 40)

    assert done["status"] == "FAILED" and done["error"] == "PaymentFailed", done
    assert entered_states(history(stack, order_id)) == [
        "TakePayment", "AbandonPayment", "AbandonOutcome", "ReleaseAfterDecline", "ReleaseOutcome", "PaymentFailed"]
    timed_out = [e for e in history(stack, order_id) if e["type"] == "TaskTimedOut"]
    assert timed_out, "the wait must end by its timeout"
    item = order_item(stack, order_id)
    assert item["status"]["S"] == "PAYMENT_FAILED" and item["payment_status"]["S"] == "declined"
    [(_, stock)] = stock_of(stack, sku).items()
    assert stock == {"on_hand": 5, "available": 5, "reserved": 0}
    [intent] = intents_for(stack, order_id)
    assert intent["id"] == item["payment_intent_id"]["S"] and intent["status"] == "canceled"
    late = requests.post(f"{stack.stripe_base}/v1/payment_intents/{intent['id']}/_authenticate",
                         auth=(STRIPE_KEY, ""), timeout=10,
                         data={"client_secret": intent["client_secret"], "success": "true"})
    assert late.status_code >= 400, late.text
    assert [pi["status"] for pi in intents_for(stack, order_id)] == ["canceled"]
    stack.drain_async()
    [mail] = wait_for(lambda: emails_to(stack, shopper.email), 20, "the payment-failed email")
    assert order_id in mail["subject"] and "payment" in mail["subject"].lower()


def test_3ds_completed_by_the_shopper_resumes_the_order_through_the_signed_stripe_webhook(stack, admin):
    pm = three_ds_card(stack)
    shopper, key, order_id, sku = prepared(stack, admin, "3ds-ok", quantity=1)
    calls = Calls(order_id)
    with hooked(stack, calls):
        place(stack, shopper, key, pm=pm)
        # the workflow is parked on its token before the shopper authenticates, else this proves less
        shopper_authenticates(stack, shopper.id_token, order_id)
        output = wait_paid(stack, order_id, timeout=30)  # localstripe posts payment_intent.succeeded, signed

    assert output["payment"]["status"] == "succeeded" and output["split"]["confirmation"]["status"] == "PAID"
    states = entered_states(history(stack, order_id))
    assert states[:2] == ["TakePayment", "ConfirmAndSplit"]  # the payment step waited for the webhook itself
    assert not [e for e in history(stack, order_id) if e["type"] == "TaskTimedOut"]
    assert calls.count("WebhooksFunction") == 0  # webhooks are HTTP: counted below through the gateway
    assert order_item(stack, order_id)["status"]["S"] == "FULFILLING"
    [intent] = intents_for(stack, order_id)
    assert intent["status"] == "succeeded"
    [(_, stock)] = stock_of(stack, sku).items()
    assert stock == {"on_hand": 5, "available": 4, "reserved": 1}


def test_3ds_failed_by_the_shopper_abandons_the_intent_and_releases_the_stock_before_the_timeout(stack, admin):
    """The shopper fails 3-D Secure: the signed webhook fails the waiting payment step (AuthenticationFailed), the
    intent is abandoned and the stock released at once, not after the wait's timeout."""
    pm = three_ds_card(stack)
    shopper, key, order_id, sku = prepared(stack, admin, "3ds-failed", quantity=2)
    place(stack, shopper, key, pm=pm)
    intent_id = shopper_authenticates(stack, shopper.id_token, order_id, success=False)["payment"]["payment_intent_id"]
    # Stripe then sends payment_intent.payment_failed (localstripe sends nothing for a failed authentication)
    body = json.dumps({"id": f"evt_3ds_failed_{order_id}", "object": "event", "type": "payment_intent.payment_failed",
                       "data": {"object": {"id": intent_id, "object": "payment_intent",
                                           "metadata": {"order_id": order_id}}}})
    hook = stack.request("POST", "/webhooks/stripe", body=body, headers={"Stripe-Signature": stripe_signature(body)})
    assert hook.status == 200 and hook.json()["resumed"] is True, hook.body
    done = finish(stack, order_id, timeout=AUTH_TIMEOUT_SECONDS + 40)

    assert done["status"] == "FAILED" and done["error"] == "PaymentFailed", done
    events = history(stack, order_id)
    assert entered_states(events) == [
        "TakePayment", "AbandonPayment", "AbandonOutcome", "ReleaseAfterDecline", "ReleaseOutcome", "PaymentFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"] == [
        "AuthenticationFailed"]
    assert not [e for e in events if e["type"] == "TaskTimedOut"]  # the webhook ended the wait
    item = order_item(stack, order_id)
    assert item["status"]["S"] == "PAYMENT_FAILED" and item["payment_status"]["S"] == "declined"
    [(_, stock)] = stock_of(stack, sku).items()
    assert stock == {"on_hand": 5, "available": 5, "reserved": 0}
    assert [pi["status"] for pi in intents_for(stack, order_id)] == ["canceled"]  # never chargeable later


def test_an_order_cancelled_while_waiting_for_3ds_ends_the_wait_and_can_never_be_charged(stack, admin):
    """The shopper cancels while the payment step waits for 3-D Secure: the cancellation releases the stock and
    fails the parked token; the workflow abandons the intent and ends as cancelled meanwhile, before the timeout."""
    pm = three_ds_card(stack)
    shopper, key, order_id, sku = prepared(stack, admin, "3ds-cancel", quantity=2)
    place(stack, shopper, key, pm=pm)
    wait_parked(stack, order_id)
    cancelled = stack.request("POST", f"/orders/{order_id}/cancel", token=shopper.id_token)
    assert cancelled.status == 200 and cancelled.json()["status"] == "CANCELLED", cancelled.body
    done = finish(stack, order_id, timeout=AUTH_TIMEOUT_SECONDS + 40)

    assert done["status"] == "SUCCEEDED", done
    events = history(stack, order_id)
    assert entered_states(events) == ["TakePayment", "AbandonPayment", "AbandonOutcome", "ReleaseAfterDecline",
                                      "ReleaseOutcome", "CancelledMeanwhile"]
    assert not [e for e in events if e["type"] == "TaskTimedOut"]  # the cancellation ended the wait
    item = order_item(stack, order_id)
    assert item["status"]["S"] == "CANCELLED" and "refund_id" not in item  # nothing was charged
    [(_, stock)] = stock_of(stack, sku).items()
    assert stock == {"on_hand": 5, "available": 5, "reserved": 0}
    [intent] = intents_for(stack, order_id)
    assert intent["status"] == "canceled"
    late = requests.post(f"{stack.stripe_base}/v1/payment_intents/{intent['id']}/_authenticate",
                         auth=(STRIPE_KEY, ""), timeout=10,
                         data={"client_secret": intent["client_secret"], "success": "true"})
    assert late.status_code >= 400, late.text
    assert [pi["status"] for pi in intents_for(stack, order_id)] == ["canceled"]


def test_stripe_webhook_refuses_missing_or_forged_signatures_and_ignores_replays(stack, admin):
    import time as _time

    from shop.errors import Unauthorized  # noqa: F401  (the 401 body names the problem)

    body = json.dumps({"id": "evt_forged", "type": "payment_intent.succeeded",
                       "data": {"object": {"id": "pi_x", "metadata": {"order_id": "ord_aaaaaaaaaaaaaa"}}}})
    missing = stack.request("POST", "/webhooks/stripe", body=body)
    assert missing.status == 401 and missing.json()["error"]["code"] == "bad_signature"
    forged = stack.request("POST", "/webhooks/stripe", body=body,
                           headers={"Stripe-Signature": f"t={int(_time.time())},v1={'0' * 64}"})
    assert forged.status == 401 and "Stripe-Signature" in forged.json()["error"]["message"]
    signed = stripe_signature(body)
    first = stack.request("POST", "/webhooks/stripe", body=body, headers={"Stripe-Signature": signed})
    assert first.status == 200, first.body
    assert first.json()["resumed"] is False  # not one of our orders' payments: acknowledged, nothing done
    again = stack.request("POST", "/webhooks/stripe", body=body, headers={"Stripe-Signature": signed})
    assert again.status == 200 and again.json() == first.json()


# ------------------------------------------------------------------ retries never charge twice
def test_payment_failing_twice_is_retried_and_charged_exactly_once(stack, admin):
    shopper, key, order_id, sku = prepared(stack, admin, "flaky", quantity=1)
    attempts: list[int] = []

    def flaky(logical_id: str, event: dict[str, Any]) -> None:
        if logical_id == "PaymentFunction" and event.get("order_id") == order_id:
            attempts.append(1)
            if len(attempts) <= 2:
                raise DependencyFailed("payment provider timed out")

    with hooked(stack, flaky):
        place(stack, shopper, key)
        wait_paid(stack, order_id)

    assert len(attempts) == 3  # two failures, then the third attempt (Retry MaxAttempts 3) succeeds
    assert function_failures(history(stack, order_id)) == ["DependencyFailed", "DependencyFailed"]
    item = order_item(stack, order_id)
    assert item["status"]["S"] == "FULFILLING"
    intents = intents_for(stack, order_id)
    assert [pi["id"] for pi in intents] == [item["payment_intent_id"]["S"]]
    assert [pi for pi in intents if pi["status"] == "succeeded"] == intents
    [(_, stock)] = stock_of(stack, sku).items()
    assert stock == {"on_hand": 5, "available": 4, "reserved": 1}


def test_crash_after_creating_the_intent_before_recording_it_still_charges_once(stack, admin, monkeypatch):
    """The task dies between creating the PaymentIntent and recording it on the order: the retry creates
    (or reuses) an intent, records one, and only the recorded one is ever confirmed."""
    from shop.orders import repository

    shopper, key, order_id, _ = prepared(stack, admin, "crash-record", quantity=1)
    real = repository.set_payment_intent
    crashed: list[str] = []

    def crash_once(oid: str, intent_id: str) -> str:
        if oid == order_id and not crashed:
            crashed.append(intent_id)
            raise DependencyFailed("task timed out after creating the intent")
        return real(oid, intent_id)

    monkeypatch.setattr(repository, "set_payment_intent", crash_once)
    place(stack, shopper, key)
    wait_paid(stack, order_id)

    assert len(crashed) == 1
    item = order_item(stack, order_id)
    assert item["status"]["S"] == "FULFILLING"
    succeeded = [pi for pi in intents_for(stack, order_id) if pi["status"] == "succeeded"]
    assert [pi["id"] for pi in succeeded] == [item["payment_intent_id"]["S"]]


def test_crash_after_the_charge_before_recording_the_outcome_does_not_charge_again(stack, admin, monkeypatch):
    """The task dies after Stripe charged but before the outcome was recorded: the retry reads the recorded
    intent's outcome instead of confirming it again."""
    from shop.orders import service as orders_service

    shopper, key, order_id, _ = prepared(stack, admin, "crash-outcome", quantity=1)
    real = orders_service.record_payment
    crashed: list[str] = []

    def crash_once(oid: str, **kwargs: Any) -> None:
        if oid == order_id and not crashed:
            crashed.append(kwargs["payment_status"])
            raise DependencyFailed("task timed out after the charge")
        real(oid, **kwargs)

    monkeypatch.setattr(orders_service, "record_payment", crash_once)
    place(stack, shopper, key)
    wait_paid(stack, order_id)

    assert crashed == ["succeeded"]
    item = order_item(stack, order_id)
    assert item["status"]["S"] == "FULFILLING"
    intents = intents_for(stack, order_id)
    assert [(pi["id"], pi["status"]) for pi in intents] == [(item["payment_intent_id"]["S"], "succeeded")]


def test_a_payment_step_dying_for_good_after_the_charge_confirms_the_order_instead_of_releasing_it(
        stack, admin, monkeypatch):
    """The charge went through but the step keeps crashing before it can say so (not a retried error): the
    compensation first asks Stripe, finds the intent succeeded and sends the order on as paid; nothing is
    released, nothing refunded, nothing charged twice."""
    from shop.orders import service as orders_service

    shopper, key, order_id, sku = prepared(stack, admin, "charged-then-dies", quantity=1)
    real = orders_service.record_payment
    crashes: list[str] = []

    def always_crash(oid: str, **kwargs: Any) -> None:
        if oid == order_id and kwargs["payment_status"] == "succeeded":
            crashes.append(oid)
            raise RuntimeError("process died after the charge")
        real(oid, **kwargs)

    monkeypatch.setattr(orders_service, "record_payment", always_crash)
    place(stack, shopper, key)
    wait_paid(stack, order_id)

    assert crashes == [order_id]
    assert entered_states(history(stack, order_id))[:4] == [
        "TakePayment", "AbandonPayment", "AbandonOutcome", "ConfirmAndSplit"]
    item = order_item(stack, order_id)
    assert item["status"]["S"] == "FULFILLING" and item["payment_status"]["S"] == "succeeded"
    [intent] = intents_for(stack, order_id)
    assert intent["status"] == "succeeded" and intent["id"] == item["payment_intent_id"]["S"]
    [(_, stock)] = stock_of(stack, sku).items()
    assert stock == {"on_hand": 5, "available": 4, "reserved": 1}


# ------------------------------------------------------------------ idempotent steps
def test_release_is_idempotent_and_the_workflow_then_finds_the_order_closed(stack, admin):
    shopper, key, order_id, sku = prepared(stack, admin, "release", quantity=2)
    gate = Gate(order_id)
    event = sample("orders_release/release.json", order_id=order_id)
    with hooked(stack, gate):
        try:
            place(stack, shopper, key)
            assert order_item(stack, order_id)["status"]["S"] == "PENDING_PAYMENT"
            [(wh, stock)] = stock_of(stack, sku).items()
            assert stock == {"on_hand": 5, "available": 3, "reserved": 2}

            first = stack.invoke("ReleaseReservationFunction", event)
            assert first == {"order_id": order_id, "released": True, "status": "PAYMENT_FAILED"}
            before = (order_item(stack, order_id), stock_of(stack, sku))
            second = stack.invoke("ReleaseReservationFunction", {"order_id": order_id, "reason": "PAYMENT_FAILED"})
            assert second == {"order_id": order_id, "released": False, "status": "PAYMENT_FAILED"}
            assert (order_item(stack, order_id), stock_of(stack, sku)) == before
        finally:
            gate.opened.set()
        done = finish(stack, order_id)

    assert before[1][wh] == {"on_hand": 5, "available": 5, "reserved": 0}
    assert timeline_statuses(before[0]) == ["PENDING_PAYMENT", "PAYMENT_FAILED"]
    # the held payment step then finds the order closed: nothing charged, nothing changed
    assert done["status"] == "SUCCEEDED", done
    error = json.loads(done["output"])["error"]
    assert error["Error"] == "OrderAlreadyClosed"  # moto drops SendTaskFailure's cause (AWS keeps it: the outcome)
    assert entered_states(history(stack, order_id))[-1] == "AlreadyClosed"
    assert intents_for(stack, order_id) == []
    assert (order_item(stack, order_id), stock_of(stack, sku)) == before


def test_concurrent_releases_give_the_stock_back_once(stack, admin):
    shopper, key, order_id, sku = prepared(stack, admin, "race", quantity=3)
    gate = Gate(order_id)
    with hooked(stack, gate):
        try:
            place(stack, shopper, key)
            with ThreadPoolExecutor(max_workers=4) as pool:
                results = list(pool.map(
                    lambda reason: stack.invoke("ReleaseReservationFunction",
                                                {"order_id": order_id, "reason": reason}),
                    ["PAYMENT_FAILED", "PAYMENT_FAILED", "CANCELLED", "PAYMENT_FAILED"]))
        finally:
            gate.opened.set()
        finish(stack, order_id)

    assert sum(r["released"] for r in results) == 1, results
    final = order_item(stack, order_id)["status"]["S"]
    assert {r["status"] for r in results} == {final}
    [(_, stock)] = stock_of(stack, sku).items()
    assert stock == {"on_hand": 5, "available": 5, "reserved": 0}


def test_confirm_twice_leaves_the_order_paid_once(stack, admin):
    from shop.config import function_environment
    from shop.orders import service as orders_service

    order_id, sku = paid_order(stack, admin, "confirm")
    paid_item = order_item(stack, order_id)
    stock = stock_of(stack, sku)
    event = sample("fulfillment/confirm_and_split.json", order_id=order_id,
                   payment_intent_id=paid_item["payment_intent_id"]["S"])

    # ConfirmAndSplit again (Step Functions delivers at least once): confirmed and split already, nothing written
    again = stack.invoke("FulfillmentFunction", event)
    assert again["confirmation"] == {"order_id": order_id, "status": "FULFILLING"}
    assert again["shipments"] == state_output(stack, order_id, "ConfirmAndSplit")["split"]["shipments"]
    with function_environment(stack.function_env("FulfillmentFunction")):
        direct = orders_service.confirm_paid(order_id, paid_item["payment_intent_id"]["S"])
    assert direct["changed"] is False and direct["status"] == "FULFILLING"
    after = order_item(stack, order_id)
    assert after == paid_item  # nothing written: same updated_at, one PAID in the timeline
    assert timeline_statuses(after).count("PAID") == 1
    assert stock_of(stack, sku) == stock


def test_confirm_refuses_an_order_that_was_never_charged(stack, admin):
    shopper, key, order_id, _ = prepared(stack, admin, "confirm-early", quantity=1)
    gate = Gate(order_id)
    with hooked(stack, gate):
        try:
            place(stack, shopper, key)
            before = order_item(stack, order_id)
            with pytest.raises(Exception) as caught:
                stack.invoke("FulfillmentFunction", {"action": "confirm_and_split", "order_id": order_id,
                                                     "payment_intent_id": None})
            assert type(caught.value).__name__ == "Conflict"
            assert order_item(stack, order_id) == before
        finally:
            gate.opened.set()
        assert wait_paid(stack, order_id)["split"]["confirmation"]["status"] == "PAID"  # the real payment goes through


@pytest.mark.audited  # the invariant audit runs around it
def test_an_order_cancelled_while_it_was_paid_ends_at_the_confirmation_refunded_once(stack, admin):
    """The shopper cancels between the charge and the confirmation: ConfirmAndSplit finds the order CANCELLED and
    fails with OrderCancelledMeanwhile (not retried), which the state machine catches: the execution succeeds
    at CancelledMeanwhile, nothing is split, the cancellation released the stock and refunded once."""
    shopper, key, order_id, sku = prepared(stack, admin, "cancel-at-confirm", quantity=2)
    cancelled: list[dict[str, Any]] = []

    def cancel_first(logical_id: str, event: dict[str, Any]) -> None:
        if logical_id == "FulfillmentFunction" and isinstance(event, dict) and event.get("order_id") == order_id \
                and event.get("action") == "confirm_and_split" and not cancelled:
            resp = stack.request("POST", f"/orders/{order_id}/cancel", token=shopper.id_token)
            assert resp.status == 200, resp.body
            cancelled.append(resp.json())

    with hooked(stack, cancel_first):
        placed = place(stack, shopper, key)
        done = finish(stack, order_id)

    assert done["status"] == "SUCCEEDED", done
    events = history(stack, order_id)
    states = entered_states(events)
    assert states[-2:] == ["ConfirmAndSplit", "CancelledMeanwhile"] and "FulfilShipments" not in states, states
    assert function_failures(events) == ["OrderCancelledMeanwhile"]  # caught, not retried
    [cancel] = cancelled
    assert cancel["status"] == "CANCELLED" and cancel["payment"]["status"] == "refunded"
    item = order_item(stack, order_id)
    assert item["status"]["S"] == "CANCELLED" and "PAID" not in timeline_statuses(item)
    [intent] = intents_for(stack, order_id)
    assert intent["status"] == "succeeded" and cancel["payment"]["refund"]["amount"] == placed["totals"]["total"]
    refunds = requests.get(f"{stack.stripe_base}/v1/refunds", params={"payment_intent": intent["id"], "limit": 100},
                           auth=(STRIPE_KEY, ""), timeout=10).json()["data"]
    assert [r["amount"] for r in refunds] == [placed["totals"]["total"]["amount"]]
    [(_, stock)] = stock_of(stack, sku).items()
    assert stock == {"on_hand": 5, "available": 5, "reserved": 0}


# ------------------------------------------------------------------ sample events
@pytest.mark.parametrize("folder", ["payments", "orders_release", "fulfillment"])
def test_task_sample_events_are_valid_inputs(folder):
    from pydantic import TypeAdapter
    from shop.orders.tasks import FulfillmentTask, PaymentTask, ReleaseTask

    model: Any = {"payments": PaymentTask, "orders_release": ReleaseTask, "fulfillment": FulfillmentTask}[folder]
    files = sorted((EVENTS / folder).glob("*.json"))
    assert files
    for path in files:
        event = json.loads(path.read_text())
        if folder == "payments":
            event = {"action": "charge", **event}
        TypeAdapter(model).validate_python(event)
