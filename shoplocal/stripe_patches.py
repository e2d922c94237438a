"""The patches localstripe needs to refuse what Stripe refuses. Applied in the localstripe process (the bootstrap
string in shoplocal.stack imports this module and calls :func:`apply` before the server starts); documented in
docs/local-runtime.md.

1. **A refund above what is left of the charge is refused.** localstripe creates any refund (eight refunds of
   4,405 on a 5,107 charge all succeed). Stripe answers HTTP 400 ``invalid_request_error``: "Refund amount
   (...) is greater than unrefunded amount on charge (...)" (code ``amount_too_large``), or, when nothing is
   left, ``charge_already_refunded``; a refund without an amount refunds what is left. The patch checks the
   charge's refunded total before localstripe's own ``Refund.__init__`` runs (the server is one asyncio loop
   and the constructor does not await: the check and the creation cannot interleave with another refund).
2. **A card saved for later is charged off-session only through its customer.** localstripe refuses
   ``setup_future_usage`` on a PaymentIntent and ``off_session`` on its confirmation (HTTP 400 "Unexpected").
   Stripe accepts both: ``setup_future_usage=off_session`` with a ``customer`` attaches the intent's payment
   method to that customer once the payment succeeds (a test id such as ``pm_card_visa`` becomes a payment
   method of its own, which the intent then names), and confirming with ``off_session=true`` charges a saved card
   without the shopper, but only a payment method attached to the intent's customer: one used without a customer
   cannot be used again ("previously used with a PaymentIntent without Customer attachment"), a 400
   ``invalid_request_error``. The patch records ``setup_future_usage``, attaches on success, and checks that rule.
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


def save_cards_for_off_session() -> None:
    """Patch 2 (idempotent)."""
    from localstripe import resources
    from localstripe.errors import UserError

    intent_cls = resources.PaymentIntent
    original_init = intent_cls.__init__
    if getattr(original_init, _PATCHED, False):
        return
    original_success = intent_cls._on_success
    original_confirm = intent_cls._api_confirm.__func__

    def __init__(self: Any, *args: Any, setup_future_usage: Any = None, **kwargs: Any) -> None:
        if setup_future_usage not in (None, "on_session", "off_session"):
            raise UserError(400, "Invalid setup_future_usage", {"param": "setup_future_usage"})
        original_init(self, *args, **kwargs)
        self.setup_future_usage = setup_future_usage

    def _on_success(self: Any) -> None:
        if getattr(self, "setup_future_usage", None) and self.customer and self.payment_method:
            method = resources.PaymentMethod._api_retrieve(self.payment_method)  # a test id: a new method
            method.customer = self.customer
            self.payment_method = method.id
        original_success(self)

    def _api_confirm(cls: Any, id: Any, off_session: Any = None, **kwargs: Any) -> Any:
        if resources.try_convert_to_bool(off_session) is True and isinstance(id, str):
            intent = cls._api_retrieve(id)
            method = resources.PaymentMethod._api_retrieve(intent.payment_method) if intent.payment_method else None
            if intent.customer is None or method is None or getattr(method, "customer", None) != intent.customer:
                raise UserError(400, "The provided PaymentMethod was previously used with a PaymentIntent without "
                                     "Customer attachment, or does not belong to the PaymentIntent's Customer. It "
                                     "may not be used again off-session.", {"param": "payment_method"})
        return original_confirm(cls, id, **kwargs)

    setattr(__init__, _PATCHED, True)
    intent_cls.__init__ = __init__
    intent_cls._on_success = _on_success
    intent_cls._api_confirm = classmethod(_api_confirm)
    # the routes were bound when localstripe.resources was imported: point the confirm route at the patch
    resources.extra_apis[:] = [(m, url, intent_cls._api_confirm if url == "/v1/payment_intents/{id}/confirm" else f)
                               for m, url, f in resources.extra_apis]


def apply() -> None:
    refuse_refund_above_charge()
    save_cards_for_off_session()
