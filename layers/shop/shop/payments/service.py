"""Payment steps of the order workflow. Capture now: the charge is taken when the order is placed.

Why capture now rather than authorise at checkout and capture on shipment: the stock is reserved firmly at
checkout, an order may ship in several parcels days apart (one authorisation would need partial multi-capture,
which Stripe offers only for some cards), and card authorisations lapse after about seven days while a
pick can wait longer. Cancelling before shipping refunds what is left of the charge: all of it unless staff
refunded part of it before (Stripe returns the fees of a full refund within the same day for most cards);
returns refund per line.

TakePayment (charge):
1. PENDING_PAYMENT -> PAYMENT_PROCESSING (a closed order is skipped, a PAID one reports success);
2. create the PaymentIntent unconfirmed unless one is already recorded, and record it conditionally (only
   while the order is PAYMENT_PROCESSING; an attempt that loses the race cancels its own intent);
3. confirm the recorded intent (or read its outcome when it is past confirmation) and record the result.
Every step can be retried after a crash at any point without charging twice.

The workflow's TakePayment waits on a task token (:func:`charge`, issue 17: no Choice state after it): the charge
resumes it with the outcome when the order is paid, fails it with PaymentDeclined (a refusal: the stock is released)
or OrderAlreadyClosed (expired or cancelled before the charge: nothing to do), and on requires_action (3-D Secure)
parks it on the order for the Stripe webhook (:func:`on_intent_event`), which resumes it when the shopper succeeds
and fails it with AuthenticationFailed otherwise. On the step's timeout (the execution input's
``payment_timeout_seconds``) or any other error the intent is abandoned (cancelled; if it completed meanwhile, the
order goes on as paid) before the stock is released, so a closed order can never be charged later. Executions
started before (a plain charge step, then AwaitAuthentication) get the answers they always got: ``charge``
without a token returns the outcome, ``await_authentication`` parks its token.

The provider, the order store, the bus and the workflow are read at call time from shop.payments.ports and
shop.orders.ports (production: stripe_adapter, the orders repository, shop.events, shop.workflow).
"""

from __future__ import annotations

import json
from typing import Any

from shop.config import get_settings
from shop.money import Money
from shop.orders import event_details
from shop.orders import repository as orders_repo
from shop.orders import service as orders
from shop.orders.models import Order, OrderStatus
from shop.orders.ports import ports as order_ports
from shop.payments import stripe_adapter
from shop.payments.contracts import PaymentOutcome
from shop.payments.errors import AuthenticationFailed, OrderAlreadyClosed, PaymentDeclined
from shop.payments.ports import ports as payment_ports

S = OrderStatus


def _out(order_id: str, status: str, intent_id: str | None, decline_code: str | None) -> dict[str, Any]:
    return {"order_id": order_id, "status": status, "payment_intent_id": intent_id, "decline_code": decline_code}


def take_payment(order_id: str) -> dict[str, Any]:
    order = orders.start_payment(order_id)
    if order is None:
        return _out(order_id, "skipped", None, None)
    # the workflow has taken the placed order over (published on every run of this step; consumers dedupe)
    order_ports.events.publish(event_details.order_placed(order))
    if order.status != S.PAYMENT_PROCESSING:  # PAID or later: a replay of a finished step
        return _out(order_id, "succeeded", order.payment_intent_id, None)
    intent_id = order.payment_intent_id
    if intent_id is None:
        created = payment_ports.gateway.create_intent(order_id, order.totals.total, order.payment_method_id)
        if isinstance(created, stripe_adapter.ChargeResult):  # refused outright: nothing was charged
            orders.record_payment(order_id, payment_status=created.status, decline_code=created.decline_code)
            return _out(order_id, created.status, None, created.decline_code)
        try:
            intent_id = order_ports.store.set_payment_intent(order_id, created)
        except orders_repo.StatusConflict:
            payment_ports.gateway.cancel_intent(created)  # the order was cancelled meanwhile: never charge it
            return _out(order_id, "skipped", None, None)
        if intent_id != created:
            payment_ports.gateway.cancel_intent(created)
    result = payment_ports.gateway.confirm_intent(intent_id)
    attrs: dict[str, Any] = {}
    out = _out(order_id, result.status, intent_id, result.decline_code)
    if result.status == "requires_action":
        attrs["payment_client_secret"] = payment_ports.gateway.client_secret(intent_id)
        out["auth_timeout_seconds"] = get_settings().payment_auth_timeout_seconds
    orders.record_payment(order_id, payment_status=result.status, decline_code=result.decline_code, extra=attrs)
    return out


def charge(order_id: str, token: str) -> tuple[dict[str, Any], bool]:
    """TakePayment as a waiting step (lambda:invoke.waitForTaskToken): take the payment (:func:`take_payment`),
    then report its outcome on the token: paid resumes it (the workflow confirms the order), a refusal fails it
    with PaymentDeclined, an order closed before the charge with OrderAlreadyClosed; requires_action parks it on
    the order for the Stripe webhook (3-D Secure). Returns the outcome and whether the step now waits for the
    shopper. A retried step (a new token) charges nothing twice and reports, or parks, again."""
    out = PaymentOutcome.emit(take_payment(order_id))  # what the token is resumed with: checked before it is sent
    if out["status"] == "requires_action":
        return out, _park(order_id, out["payment_intent_id"], token)
    _report(token, out, declined=PaymentDeclined)
    return out, False


def _report(token: str, out: dict[str, Any], declined: type[Exception]) -> bool:
    """Resume the waiting step with a final payment outcome: succeeded resumes it with the outcome, skipped fails it
    with OrderAlreadyClosed, anything else with ``declined`` (the cause: the outcome as JSON)."""
    if out["status"] == "succeeded":
        return order_ports.workflow.send_success(token, out)
    error = OrderAlreadyClosed if out["status"] == "skipped" else declined
    return order_ports.workflow.send_failure(token, error.__name__, json.dumps(out))


def _park(order_id: str, intent_id: str | None, token: str) -> bool:
    """Park the workflow's token on the order until the Stripe webhook reports the outcome. If the outcome is
    already known (the shopper was quicker than this step, or the webhook came first), report it at once; an
    order no longer being paid fails the token with AuthenticationFailed (the workflow abandons the intent).
    True while the token waits."""
    if intent_id is None or not order_ports.store.set_auth_token(order_id, token):
        _report(token, _out(order_id, "declined", intent_id, "order_closed"), declined=AuthenticationFailed)
        return False
    result = payment_ports.gateway.outcome(intent_id)
    if result.status != "requires_action":
        _report(token, _out(order_id, result.status, result.payment_intent_id, result.decline_code),
                declined=AuthenticationFailed)
        return False
    return True


def await_authentication(order_id: str, token: str) -> dict[str, Any]:
    """The AwaitAuthentication step of executions started before TakePayment waited itself (retired: see
    docs/deploy.md): park its token as the charge now does (:func:`_park`); a declined outcome fails it, which that
    definition catches to AbandonPayment, where its AuthenticationOutcome Choice sent a declined outcome too."""
    order = order_ports.store.require_order(order_id)
    return {"waiting": _park(order_id, order.payment_intent_id, token)}


def on_intent_event(order_id: str, intent_id: str) -> dict[str, Any]:
    """A Stripe webhook about the order's intent: read the intent's real state and, when it is final, resume
    the workflow waiting for it (succeeded; otherwise the wait fails with AuthenticationFailed). Safe to repeat (a
    used token is ignored)."""
    order = order_ports.store.get_order(order_id)
    if order is None or order.payment_intent_id != intent_id:
        return {"order_id": order_id, "resumed": False, "reason": "not this order's payment"}
    if order.payment_status not in (None, "requires_action"):
        # the payment step recorded a final outcome: the workflow never parked a token (it waits only after
        # recording requires_action, and _park checks Stripe after parking it): no token read
        return {"order_id": order_id, "resumed": False, "reason": "the workflow is not waiting"}
    result = payment_ports.gateway.outcome(intent_id)
    if result.status == "requires_action":
        return {"order_id": order_id, "resumed": False, "reason": "still waiting for the shopper"}
    token = order_ports.store.auth_token(order_id)
    if token is None:
        return {"order_id": order_id, "resumed": False, "reason": "the workflow is not waiting"}
    resumed = _report(token, _out(order_id, result.status, intent_id, result.decline_code),
                      declined=AuthenticationFailed)
    return {"order_id": order_id, "resumed": resumed, "status": result.status}


def abandon(order_id: str) -> dict[str, Any]:
    """Compensation before releasing the stock of an order whose payment did not complete (declined,
    authentication timed out, or the payment step kept failing): cancel the intent so it can never be charged
    later. If it turns out to have succeeded after all, report succeeded: the workflow then confirms the order
    instead of releasing it (the shopper paid). Idempotent."""
    order = order_ports.store.require_order(order_id)
    if order.payment_intent_id is None:
        return _out(order_id, "declined", None, order.decline_code or "not_charged")
    result = payment_ports.gateway.abandon_intent(order.payment_intent_id)
    if result.status == "succeeded":
        return _out(order_id, "succeeded", order.payment_intent_id, None)
    code = result.decline_code if result.decline_code not in (None, "canceled") else order.decline_code
    orders.record_payment(order_id, payment_status="declined", decline_code=code or "abandoned")
    return _out(order_id, "declined", order.payment_intent_id, code or "abandoned")


def refund_in_full(order: Order, reason: str) -> dict[str, Any] | None:
    """Refund what is left of the order's charge (captured minus the refunds so far, e.g. a staff partial
    refund), once: keyed on the order, record it and publish RefundIssued. None when nothing was charged (no
    intent, or it never succeeded: then it is cancelled instead) or nothing is left to refund (no provider call,
    nothing recorded). The rest is reserved on the order's refunded counter first (orders.repository.reserve_rest:
    the counter is set to the capture on condition it is still what was read), so it never adds up with another
    refund of the order to more than was captured; a retry replays the amount its key reserved."""
    if order.payment_intent_id is None:
        return None
    state = payment_ports.gateway.abandon_intent(order.payment_intent_id)  # cancels it unless it was charged
    if state.status != "succeeded":
        return None
    key = f"{order.order_id}:full"  # the provider's idempotency key: stable per order, so is the amount behind it
    captured = order.totals.total
    rest = order_ports.store.reserve_rest(order.order_id, key, captured.amount)
    if rest <= 0:
        # refunded in full before (staff or return refunds): nothing to pay, record or announce; the payment's
        # last known outcome says so (the shopper's view of a cancelled order would say "succeeded" otherwise)
        order_ports.store.set_attributes(order.order_id, {"payment_status": "refunded"})
        return None
    refund = payment_ports.gateway.refund(order.payment_intent_id, Money(amount=rest, currency=captured.currency),
                                          key)
    order_ports.store.record_refund(order.order_id, refund.refund_id, refund.amount,
                                    f"refunded {refund.amount} ({reason})")
    order_ports.events.publish(event_details.refund_issued(order, refund.refund_id, refund.amount, reason, key))
    return {"refund_id": refund.refund_id, "amount": refund.amount.model_dump(), "status": refund.status}
