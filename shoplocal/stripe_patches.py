"""The patches localstripe needs to refuse what Stripe refuses. Applied in the localstripe process (the bootstrap
string in shoplocal.stack imports this module and calls :func:`apply` before the server starts); documented in
docs/local-runtime.md.

1. **A refund above what is left of the charge is refused.** localstripe creates any refund (eight refunds of
   4,405 on a 5,107 charge all succeed). Stripe answers HTTP 400 ``invalid_request_error``: "Refund amount
   (...) is greater than unrefunded amount on charge (...)" (code ``amount_too_large``), or, when nothing is
   left, ``charge_already_refunded``; a refund without an amount refunds what is left. The patch checks the
   charge's refunded total before localstripe's own ``Refund.__init__`` runs (the server is one asyncio loop
   and the constructor does not await: the check and the creation cannot interleave with another refund).
"""

from __future__ import annotations

from typing import Any

_PATCHED = "_shop_refund_limit"


def _charge_of(resources: Any, charge: Any, payment_intent: Any) -> Any:
    """The charge a refund request is for, or None when localstripe's own checks should answer."""
    try:
        if isinstance(charge, str) and charge.startswith("ch_"):
            return resources.Charge._api_retrieve(charge)
        if isinstance(payment_intent, str) and payment_intent.startswith("pi_"):
            intent = resources.PaymentIntent._api_retrieve(payment_intent)
            return getattr(intent, "latest_charge", None)
    except Exception:  # unknown ids: localstripe answers 404 itself
        return None
    return None


def refuse_refund_above_charge() -> None:
    """Patch 1 (idempotent)."""
    from localstripe import resources
    from localstripe.errors import UserError

    original = resources.Refund.__init__
    if getattr(original, _PATCHED, False):
        return

    def __init__(self: Any, charge: Any = None, payment_intent: Any = None, amount: Any = None,
                 metadata: Any = None, **kwargs: Any) -> None:
        found = None if kwargs else _charge_of(resources, charge, payment_intent)
        if found is not None and getattr(found, "status", None) != "failed":
            left = int(found.amount) - int(found.amount_refunded)
            wanted = resources.try_convert_to_int(amount)
            if left <= 0:
                raise UserError(400, f"Charge {found.id} has already been refunded.",
                                {"code": "charge_already_refunded"})
            if isinstance(wanted, int) and wanted > left:
                raise UserError(400, f"Refund amount ({wanted}) is greater than unrefunded amount on charge "
                                     f"({left})", {"code": "amount_too_large", "param": "amount"})
            if amount is None:  # no amount: Stripe refunds what is left of the charge, not all of it again
                amount = left
        original(self, charge=charge, payment_intent=payment_intent, amount=amount, metadata=metadata, **kwargs)

    setattr(__init__, _PATCHED, True)
    resources.Refund.__init__ = __init__


def apply() -> None:
    refuse_refund_above_charge()
