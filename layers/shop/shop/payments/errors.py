"""The errors a waiting payment step is failed with (shop.payments.service.charge and the Stripe webhook send them
as the task's error by class name; the order state machine catches them by that name: never raised), and the refund
errors of the payment provider (a conflict with the money already moved, never retried by a workflow: a person
settles the case, the step ends in NeedsAttention). The order's own refund limit is
shop.orders.repository.RefundLimitExceeded (the counter is the order's)."""

from __future__ import annotations

from shop.errors import Conflict


class RefundRefused(Conflict):
    """Stripe refused the refund itself (more than is left of the charge, or the charge is fully refunded)."""

    code = "refund_refused"


class PaymentDeclined(Exception):
    """The charge was refused (card declined, no usable payment method): TakePayment fails with it and the
    workflow releases the stock (ReleaseAfterDecline). Nothing was charged."""


class OrderAlreadyClosed(Exception):
    """The order was expired or cancelled before the charge started: TakePayment fails with it and the workflow
    ends (AlreadyClosed); whatever closed the order released its stock."""


class AuthenticationFailed(Exception):
    """3-D Secure did not complete (the shopper failed or abandoned it, the intent needs a new payment method, or
    the order closed meanwhile): the wait fails with it and the workflow abandons the intent (AbandonPayment)
    before the stock is released."""
