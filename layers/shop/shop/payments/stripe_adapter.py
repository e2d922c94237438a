"""Stripe adapter: one PaymentIntent per order, created unconfirmed, recorded on the order, then confirmed.

Two phases make a double charge impossible even where the provider ignores idempotency keys (localstripe
does): a retried step finds the intent already recorded and only reads or confirms that one.

The client is created at call time from the secret's ``stripe_api_key`` (shop.secrets, read from Secrets
Manager) and STRIPE_API_BASE when set, which the local runtime points at localstripe. Outcomes:
- succeeded / requires_action (3-D Secure; v1 treats it as not paid) / declined (card errors and requests
  Stripe refuses, e.g. an unknown payment method) are results, not exceptions;
- connection errors, rate limits, 5xx and authentication problems raise DependencyFailed (retried by the
  workflow, then compensated).

Local payment methods: localstripe knows the test ids pm_card_visa (4242 4242 4242 4242, succeeds) and
pm_card_chargeCustomerFail (4000 0000 0000 0341, declined when charged), and creates others with
POST /v1/payment_methods type=card&card[number]=...&card[exp_month]=12&card[exp_year]=2030&card[cvc]=123.
(4000 0000 0000 0002 is declined by localstripe only when attached to a customer, not when charged.)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shop.config import get_settings
from shop.errors import DependencyFailed
from shop.money import Money
from shop.payments.errors import RefundRefused
from shop.secrets import require_secret

if TYPE_CHECKING:
    import stripe
else:
    class _Stripe:
        """The Stripe SDK, imported on first use: functions that import this module for its types or for a
        path they seldom take (the warehouse's and the returns admin's) do not pay for it at a cold start."""

        def __getattr__(self, name: str) -> Any:
            import stripe

            return getattr(stripe, name)

    stripe = _Stripe()

_lock = threading.Lock()
_clients: dict[tuple[str, str | None], stripe.StripeClient] = {}


@dataclass(frozen=True)
class ChargeResult:
    status: str  # succeeded | requires_action | declined
    payment_intent_id: str | None
    decline_code: str | None = None
    message: str | None = None


def _client() -> stripe.StripeClient:
    settings = get_settings()
    key = require_secret("stripe_api_key")
    base = settings.stripe_api_base or None
    with _lock:
        found = _clients.get((key, base))
        if found is None:
            kwargs: dict[str, Any] = {"max_network_retries": 2}
            if base:
                kwargs["base_addresses"] = {"api": base}
            found = stripe.StripeClient(key, **kwargs)
            _clients[(key, base)] = found
        return found


def _intent_id_of(exc: stripe.StripeError) -> str | None:
    err = getattr(exc, "error", None)
    intent = getattr(err, "payment_intent", None) if err is not None else None
    if isinstance(intent, dict):
        return intent.get("id")
    return getattr(intent, "id", None)


def _result(intent: Any) -> ChargeResult:
    status = str(intent.status)
    if status == "succeeded":
        return ChargeResult("succeeded", intent.id)
    if status in ("requires_action", "requires_source_action"):
        return ChargeResult("requires_action", intent.id, "authentication_required")
    if status in ("processing", "requires_capture"):
        # async methods are not offered in v1; a charge that is not final is treated as not taken
        return ChargeResult("requires_action", intent.id, status)
    last_error = getattr(intent, "last_payment_error", None)
    code = None
    if last_error is not None:
        code = getattr(last_error, "decline_code", None) or getattr(last_error, "code", None)
    return ChargeResult("declined", intent.id, str(code or status))


def _declined(exc: stripe.StripeError, intent_id: str | None) -> ChargeResult:
    err = getattr(exc, "error", None)
    code = getattr(err, "decline_code", None) or exc.code or "card_declined"
    return ChargeResult("declined", _intent_id_of(exc) or intent_id, str(code), exc.user_message or str(exc))


def create_intent(order_id: str, amount: Money, payment_method_id: str, key: str | None = None,
                  customer: str | None = None) -> str | ChargeResult:
    """Create the order's PaymentIntent, not yet confirmed (so creating it twice never charges twice).
    ``key`` names a further charge of the order (an exchange's price difference: "<order>:<exchange>"), its
    idempotency key and metadata; the caller records the intent before confirming it, as for the order, and
    passes the order's ``customer`` and saved card (:func:`saved_card`).

    The order's own intent is made for a Stripe Customer of the order, with ``setup_future_usage=off_session``:
    Stripe then saves the card to that customer when the payment succeeds, so a later charge without the
    shopper (an exchange's difference) is allowed; a card used once without a customer never is.

    Returns the intent id, or a declined ChargeResult when Stripe refuses the request itself (unknown or
    unusable payment method): retrying that would not help.
    """
    params: dict[str, Any] = {
        "amount": amount.amount, "currency": amount.currency.lower(), "payment_method": payment_method_id,
        "payment_method_types": ["card"], "metadata": {"order_id": order_id, **({"charge_key": key} if key else {})},
    }
    try:
        if key is None:
            params["customer"] = str(_client().v1.customers.create(
                params={"metadata": {"order_id": order_id}},
                options={"idempotency_key": f"{order_id}:customer"}).id)
            params["setup_future_usage"] = "off_session"
        elif customer is not None:
            params["customer"] = customer
        intent = _client().v1.payment_intents.create(params=params,
                                                     options={"idempotency_key": f"{key or order_id}:intent"})
    except (stripe.CardError, stripe.InvalidRequestError) as exc:
        return _declined(exc, None)
    except stripe.StripeError as exc:
        raise DependencyFailed(f"payment provider failed: {type(exc).__name__}") from exc
    return str(intent.id)


def saved_card(intent_id: str) -> tuple[str, str] | None:
    """The customer and the saved payment method of a paid intent (the order's), for a further charge without
    the shopper; None when the intent has no customer (an order paid before cards were saved)."""
    try:
        intent = _client().v1.payment_intents.retrieve(intent_id)
    except stripe.InvalidRequestError:
        return None
    except stripe.StripeError as exc:
        raise DependencyFailed(f"payment provider failed: {type(exc).__name__}") from exc
    customer, method = getattr(intent, "customer", None), getattr(intent, "payment_method", None)
    if not customer or not method:
        return None
    return (str(customer if isinstance(customer, str) else customer.id),
            str(method if isinstance(method, str) else method.id))


def confirm_intent(intent_id: str, off_session: bool = False) -> ChargeResult:
    """Charge the recorded PaymentIntent once: an intent already past confirmation reports its outcome.
    ``off_session``: the shopper is not there (a saved card charged later); the bank cannot ask them to
    authenticate, so such a charge either succeeds or is declined."""
    try:
        intent = _client().v1.payment_intents.retrieve(intent_id)
        if str(intent.status) == "requires_confirmation":
            intent = _client().v1.payment_intents.confirm(
                intent_id, params={"off_session": True} if off_session else None,
                options={"idempotency_key": f"{intent_id}:confirm"})
    except stripe.CardError as exc:
        return _declined(exc, intent_id)
    except stripe.InvalidRequestError as exc:
        return _refused_confirm(intent_id, exc)
    except stripe.StripeError as exc:
        # APIConnectionError, RateLimitError, APIError (5xx), AuthenticationError, IdempotencyError
        raise DependencyFailed(f"payment provider failed: {type(exc).__name__}") from exc
    return _result(intent)


def _refused_confirm(intent_id: str, exc: stripe.InvalidRequestError) -> ChargeResult:
    """Stripe refused the confirm request itself. Either the payment method cannot be used (a decline, not
    retryable), or the intent is no longer awaiting confirmation because an earlier attempt of this very
    confirm reached Stripe and its answer was lost: the stripe library retried after a timeout, and the
    provider did not replay the first answer (Stripe does for the same idempotency key; localstripe never).
    Then the intent's real state is the outcome: reading it as a decline would release a charged order."""
    try:
        intent = _client().v1.payment_intents.retrieve(intent_id)
    except stripe.StripeError as again:
        raise DependencyFailed(f"payment provider failed: {type(again).__name__}") from again
    if str(intent.status) == "requires_confirmation":
        return _declined(exc, intent_id)
    return _result(intent)


def abandon_intent(intent_id: str) -> ChargeResult:
    """Cancel an intent that was not completed (authentication pending, not captured) before the order gives
    its stock back, so it can never be charged for a closed order. Returns the intent's outcome afterwards:
    succeeded when it completed in the meantime (it cannot be cancelled any more), else not taken.
    Provider outages raise DependencyFailed (the task is retried; cancelling twice is harmless)."""
    try:
        try:
            intent = _client().v1.payment_intents.cancel(intent_id)
        except stripe.InvalidRequestError:
            # not cancellable (already cancelled, or it completed meanwhile): report where it stands
            intent = _client().v1.payment_intents.retrieve(intent_id)
    except stripe.StripeError as exc:
        raise DependencyFailed(f"payment provider failed: {type(exc).__name__}") from exc
    return _result(intent)


def cancel_intent(intent_id: str) -> None:
    """Best effort: cancel an intent that lost the race to be recorded (it was never confirmed)."""
    try:
        _client().v1.payment_intents.cancel(intent_id)
    except stripe.StripeError:
        pass


def outcome(intent_id: str) -> ChargeResult:
    """Where the intent stands now (read only): the webhook and the 3-D Secure wait trust this, never the
    webhook's own payload."""
    try:
        intent = _client().v1.payment_intents.retrieve(intent_id)
    except stripe.StripeError as exc:
        raise DependencyFailed(f"payment provider failed: {type(exc).__name__}") from exc
    status = str(intent.status)
    if status == "requires_payment_method" and getattr(intent, "last_payment_error", None) is None:
        return ChargeResult("declined", intent.id, "payment_method_missing")
    if status == "canceled":
        return ChargeResult("declined", intent.id, "canceled")
    return _result(intent)


def client_secret(intent_id: str) -> str | None:
    try:
        return str(_client().v1.payment_intents.retrieve(intent_id).client_secret)
    except stripe.StripeError as exc:
        raise DependencyFailed(f"payment provider failed: {type(exc).__name__}") from exc


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    amount: Money
    status: str


def refund(intent_id: str, amount: Money, key: str) -> RefundResult:
    """Refund ``amount`` of the intent's charge once per ``key`` (e.g. "<order>:cancel").

    Two phases again: the refunds of the intent are listed first and one carrying our key in its metadata is
    returned instead of refunding twice (localstripe ignores idempotency keys; Stripe honours the key too).
    The caller has counted the amount on the order first (orders.repository.reserve_refund). A refund Stripe
    refuses (above what is left of the charge) raises RefundRefused, unless a duplicate of this refund (same key)
    running at the same moment made it first: then that refund is the answer. Outages raise DependencyFailed.
    """
    client = _client()
    try:
        found = _refund_with_key(client, intent_id, key, amount.currency)
        if found is not None:
            return found
        created = client.v1.refunds.create(
            params={"payment_intent": intent_id, "amount": amount.amount, "metadata": {"refund_key": key}},
            options={"idempotency_key": f"refund:{key}"})
    except stripe.InvalidRequestError as exc:
        # Stripe refuses the refund itself: more than is left of the charge ("Refund amount ... is greater than
        # unrefunded amount on charge"), a charge already refunded in full (charge_already_refunded), ...
        # Either a duplicate with our key got there first (it is the answer), or retrying cannot help: a domain
        # error, for a person to settle.
        try:
            found = _refund_with_key(client, intent_id, key, amount.currency)
        except stripe.StripeError as lookup:
            raise DependencyFailed(f"payment provider failed: {type(lookup).__name__}") from lookup
        if found is not None:
            return found
        raise RefundRefused(f"the payment provider refused a refund of {amount.amount} {amount.currency}: "
                            f"{exc.user_message or exc}", details={"payment_intent_id": intent_id,
                                                                   "provider_code": exc.code}) from exc
    except stripe.StripeError as exc:
        raise DependencyFailed(f"payment provider failed: {type(exc).__name__}") from exc
    return RefundResult(str(created.id), Money(amount=int(created.amount), currency=amount.currency),
                        str(created.status))


def _refund_with_key(client: Any, intent_id: str, key: str, currency: str) -> RefundResult | None:
    listed = client.v1.refunds.list(params={"payment_intent": intent_id, "limit": 100})
    for existing in listed.data:
        # a StripeObject is no dict (no .get; even empty metadata is truthy): read it as one
        if (existing.to_dict().get("metadata") or {}).get("refund_key") == key:
            return RefundResult(str(existing.id), Money(amount=int(existing.amount), currency=currency),
                                str(existing.status))
    return None
