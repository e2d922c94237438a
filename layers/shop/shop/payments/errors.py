"""Refund errors. Both are conflicts with the money already moved, never retried by a workflow: a person settles
the case (the step ends in NeedsAttention)."""

from __future__ import annotations

from shop.errors import Conflict


class RefundLimitExceeded(Conflict):
    """The order's refunded counter would exceed what was captured: the refund is not reserved, Stripe is not
    asked."""

    code = "refund_limit_exceeded"


class RefundRefused(Conflict):
    """Stripe refused the refund itself (more than is left of the charge, or the charge is fully refunded)."""

    code = "refund_refused"
