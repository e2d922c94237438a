"""Fake payment gateway: the PaymentGateway port (shop.payments.ports) with the money kept in memory.

It keeps shop.payments.stripe_adapter's contract, and no more than Stripe promises: creating an intent never
charges (and, as localstripe, ignores idempotency keys: a repeated create makes a second intent), confirming
charges an intent once (a confirmed intent reports its outcome), a refund is paid once per key and never above
what is left of the charge (RefundRefused), a completed intent cannot be cancelled.

The shopper's card decides the outcome (payment method ids below, as Stripe's test cards); ``outage`` makes
every call fail as the provider being down does (DependencyFailed; the best-effort cancel swallows it), and
``faults`` crash a call before it reaches the provider or after it took effect (its answer lost), e.g. a
charge taken whose outcome the order never recorded.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

from shop.errors import DependencyFailed
from shop.money import Money
from shop.payments.errors import RefundRefused
from shop.payments.stripe_adapter import ChargeResult, RefundResult

from tests.fakes.faults import Faults

SUCCEEDS = "pm_card_visa"
DECLINED = "pm_card_chargeCustomerFail"
NEEDS_AUTHENTICATION = "pm_card_authenticationRequired"
CARDS = {SUCCEEDS: "succeeded", DECLINED: "declined", NEEDS_AUTHENTICATION: "requires_action"}
CANCELLABLE = frozenset({"requires_confirmation", "requires_action", "requires_payment_method"})


@dataclass
class Intent:
    intent_id: str
    order_id: str
    amount: Money
    payment_method: str
    status: str = "requires_confirmation"
    decline_code: str | None = None
    captured: int = 0
    refunds: dict[str, RefundResult] = field(default_factory=dict)  # refund key -> refund

    @property
    def refunded(self) -> int:
        return sum(r.amount.amount for r in self.refunds.values())


class FakeGateway:
    def __init__(self, faults: Faults | None = None) -> None:
        self.intents: dict[str, Intent] = {}
        self.outage = False
        self.faults = faults or Faults()
        self.calls: Counter[str] = Counter()
        self.charges: list[tuple[str, int]] = []  # (intent, amount) per capture: a double charge shows here
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ the port
    def create_intent(self, order_id: str, amount: Money, payment_method_id: str) -> str | ChargeResult:
        self._enter("create_intent")
        if payment_method_id not in CARDS:  # Stripe refuses the request itself: nothing to retry
            return ChargeResult("declined", None, "resource_missing", f"No such PaymentMethod: '{payment_method_id}'")
        intent = Intent(f"pi_fake{next(self._ids)}", order_id, amount, payment_method_id)
        self.intents[intent.intent_id] = intent
        self.faults.check("create_intent", "after")
        return intent.intent_id

    def confirm_intent(self, intent_id: str) -> ChargeResult:
        intent = self._intent("confirm_intent", intent_id)
        if intent.status == "requires_confirmation":
            outcome = CARDS[intent.payment_method]
            if outcome == "succeeded":
                self._capture(intent)
            elif outcome == "declined":
                intent.status, intent.decline_code = "requires_payment_method", "card_declined"
            else:
                intent.status = "requires_action"
        self.faults.check("confirm_intent", "after")
        return self._result(intent)

    def abandon_intent(self, intent_id: str) -> ChargeResult:
        intent = self._intent("abandon_intent", intent_id)
        if intent.status in CANCELLABLE:
            intent.status = "canceled"
        return self._result(intent)

    def cancel_intent(self, intent_id: str) -> None:
        self.calls["cancel_intent"] += 1
        intent = self.intents.get(intent_id)
        if not self.outage and intent is not None and intent.status in CANCELLABLE:  # best effort
            intent.status = "canceled"

    def outcome(self, intent_id: str) -> ChargeResult:
        intent = self._intent("outcome", intent_id)
        if intent.status == "requires_payment_method" and intent.decline_code is None:
            return ChargeResult("declined", intent.intent_id, "payment_method_missing")
        if intent.status == "canceled":
            return ChargeResult("declined", intent.intent_id, "canceled")
        return self._result(intent)

    def client_secret(self, intent_id: str) -> str | None:
        return f"{self._intent('client_secret', intent_id).intent_id}_secret_fake"

    def refund(self, intent_id: str, amount: Money, key: str) -> RefundResult:
        intent = self._intent("refund", intent_id)
        if key in intent.refunds:  # the refund of this key was paid before: the same one again
            return intent.refunds[key]
        if intent.status != "succeeded" or amount.amount > intent.captured - intent.refunded:
            raise RefundRefused(f"the payment provider refused a refund of {amount.amount} {amount.currency}",
                                details={"payment_intent_id": intent_id, "provider_code": "amount_too_large"})
        refund = RefundResult(f"re_fake{next(self._ids)}", amount, "succeeded")
        intent.refunds[key] = refund
        self.faults.check("refund", "after")
        return refund

    # ------------------------------------------------------------------ the shopper and the ledger (tests)
    def authenticate(self, intent_id: str, *, success: bool = True) -> None:
        """The shopper completes (or fails) 3-D Secure: the charge is taken, or the intent needs a new card."""
        intent = self.intents[intent_id]
        assert intent.status == "requires_action", intent.status
        if success:
            self._capture(intent)
        else:
            intent.status, intent.decline_code = "requires_payment_method", "authentication_failed"

    def captured(self, order_id: str) -> int:
        return sum(i.captured for i in self.intents.values() if i.order_id == order_id)

    def refunded(self, order_id: str) -> int:
        return sum(i.refunded for i in self.intents.values() if i.order_id == order_id)

    def of_order(self, order_id: str) -> list[Intent]:
        return [i for i in self.intents.values() if i.order_id == order_id]

    # ------------------------------------------------------------------ internals
    def _enter(self, operation: str) -> None:
        self.calls[operation] += 1
        if self.outage:
            raise DependencyFailed("payment provider failed: APIConnectionError")
        self.faults.check(operation, "before")

    def _intent(self, operation: str, intent_id: str) -> Intent:
        self._enter(operation)
        intent = self.intents.get(intent_id)
        if intent is None:  # Stripe: resource_missing, which the adapter reports as a failed provider call
            raise DependencyFailed("payment provider failed: InvalidRequestError")
        return intent

    def _capture(self, intent: Intent) -> None:
        intent.status, intent.captured = "succeeded", intent.amount.amount
        self.charges.append((intent.intent_id, intent.amount.amount))

    @staticmethod
    def _result(intent: Intent) -> ChargeResult:
        """shop.payments.stripe_adapter._result."""
        if intent.status == "succeeded":
            return ChargeResult("succeeded", intent.intent_id)
        if intent.status == "requires_action":
            return ChargeResult("requires_action", intent.intent_id, "authentication_required")
        return ChargeResult("declined", intent.intent_id, intent.decline_code or intent.status)
