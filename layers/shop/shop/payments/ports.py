"""The payment gateway port of shop.payments.service: what the payment steps ask the provider.

Production is shop.payments.stripe_adapter as it is (the module satisfies the Protocol); the service calls
``ports.gateway.confirm_intent(...)``, looked up at call time, so a fast test tier swaps in an in-memory
gateway (tests/fakes) without touching the service. The adapter's contract is the fake's: an intent is
created unconfirmed, confirming it charges at most once (a confirmed intent reports its outcome), a refund is
paid once per key and never above what is left of the charge (RefundRefused), outages raise DependencyFailed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shop.money import Money
from shop.payments import stripe_adapter
from shop.payments.stripe_adapter import ChargeResult, RefundResult


class PaymentGateway(Protocol):
    def create_intent(self, order_id: str, amount: Money, payment_method_id: str) -> str | ChargeResult: ...

    def confirm_intent(self, intent_id: str) -> ChargeResult: ...

    def abandon_intent(self, intent_id: str) -> ChargeResult: ...

    def cancel_intent(self, intent_id: str) -> None: ...

    def outcome(self, intent_id: str) -> ChargeResult: ...

    def client_secret(self, intent_id: str) -> str | None: ...

    def refund(self, intent_id: str, amount: Money, key: str) -> RefundResult: ...


@dataclass
class PaymentPorts:
    gateway: PaymentGateway


ports = PaymentPorts(gateway=stripe_adapter)
