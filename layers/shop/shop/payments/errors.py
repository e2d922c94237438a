"""Refund errors of the payment provider. A conflict with the money already moved, never retried by a workflow: a
person settles the case (the step ends in NeedsAttention). The order's own refund limit is
shop.orders.repository.RefundLimitExceeded (the counter is the order's)."""

from __future__ import annotations

from shop.errors import Conflict


class RefundRefused(Conflict):
    """Stripe refused the refund itself (more than is left of the charge, or the charge is fully refunded)."""

    code = "refund_refused"
