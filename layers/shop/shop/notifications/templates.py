"""Shopper emails rendered from domain event details (pure: no AWS, no I/O).

``render(detail_type, detail)`` returns an :class:`Email` (subject, plain text, HTML) for the detail types
that notify the shopper (docs/events.md, column "email sent": order events and staff answers to support
tickets) and ``None`` for the others. Each detail type has two Jinja2 templates in ``templates/`` beside this
module, ``<name>.txt.j2`` and ``<name>.html.j2`` (wording and layout; shared layout in ``email.*.j2``, blocks in
``_blocks.*.j2``); this module only reads the detail into their variables, tolerantly, since fields
may be missing or malformed (left out or shown as "n/a", never a crash). The HTML part is autoescaped, since
names, addresses, carrier texts and support answers come from the shop's catalog, its carriers, the customer
and staff (shop.rendering). Money is integer minor units, shown by shop.money.format_money ("EUR 12.34",
"EUR -2.50", "JPY 1234").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from shop import rendering
from shop.money import currency_exponent
from shop.money import format_money as _format

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = ["EMAILED_DETAIL_TYPES", "Email", "currency_exponent", "format_amount", "format_money", "render"]

SHOP_NAME = "Serverless Shop"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


# ---------------------------------------------------------------------------------------------- formatting
def format_amount(amount: int, currency: str) -> str:
    """Integer minor units as "EUR 12.34" / "JPY 1234" / "EUR -0.05" (shop.money.format_money)."""
    return _format(amount, currency)


def format_money(value: Any) -> str | None:
    """A Money object ({"amount": int, "currency": "EUR"}) formatted, or None if absent or malformed."""
    return rendering.money_text(value)


def _times(unit_price: Any, quantity: Any) -> Any:
    """unit_price (Money) times an integer quantity, or None if either is unusable."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or format_money(unit_price) is None:
        return None
    return {"amount": unit_price["amount"] * quantity, "currency": unit_price["currency"]}


def _s(value: Any) -> str:
    """A detail field as display text ("" when missing)."""
    if value is None:
        return ""
    return str(value).strip()


def _words(code: Any) -> str:
    """A machine code such as "requested_by_customer" as plain words."""
    return _s(code).replace("_", " ").replace("-", " ")


def _when(value: Any) -> str:
    """An ISO-8601 timestamp as "2026-11-24 09:00 UTC"; anything unparsable as given."""
    text = _s(value)
    if not text:
        return ""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%d %H:%M") + (" UTC" if parsed.tzinfo is not None else "")


def _list(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _safe_url(value: Any) -> str | None:
    """Only http(s) URLs become links (a javascript: or data: URL from a carrier feed stays inert text)."""
    url = _s(value)
    return url if re.match(r"^https?://[^\s<>\"']+$", url, re.IGNORECASE) else None


def _subject(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


# ------------------------------------------------------------------------------- plain-text layout filters
def _aligned(pairs: Sequence[tuple[str, str]]) -> str:
    """Label/value pairs as "Label: value" lines, values in one column; pairs with an empty value left out."""
    shown = [(label, value) for label, value in pairs if value]
    if not shown:
        return ""
    width = max(len(label) for label, _ in shown) + 1
    return "\n".join(f"{label + ':':<{width}} {value}" for label, value in shown)


def _columns(rows: Sequence[Sequence[Any]], header: Sequence[str], right: Sequence[int] = ()) -> str:
    """A table as aligned text columns under a dashed header line; ``right`` columns (numbers) right-aligned."""
    cells = [tuple(str(c) for c in header), *(tuple(str(c) for c in row) for row in rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    return "\n".join([line(cells[0]), "-" * len(line(cells[0])), *(line(r) for r in cells[1:])])


@cache
def _env() -> Environment:
    return rendering.new_environment(__file__, {"aligned": _aligned, "columns": _columns})


# --------------------------------------------------------------------------------------------- the email
def _email(template: str, subject: str, **variables: Any) -> Email:
    """The email from ``<template>.txt.j2`` and ``<template>.html.j2``; ``subject`` without control characters
    (no header injection through a field)."""
    subject = _subject(subject)
    env = _env()
    variables = {"shop_name": SHOP_NAME, "subject": subject, **variables}
    return Email(subject=subject, text=env.get_template(f"{template}.txt.j2").render(variables),
                 html=env.get_template(f"{template}.html.j2").render(variables))


def _name(detail: Mapping[str, Any]) -> str:
    """The shopper's name for the greeting, from the shipping address ("" when unknown)."""
    address = detail.get("shipping_address")
    return _s(address.get("name")) if isinstance(address, Mapping) else ""


def _items(items: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [{"name": _s(i.get("name")) or _s(i.get("sku")), "sku": _s(i.get("sku")), "quantity": _s(i.get("quantity"))}
            for i in items]


# ------------------------------------------------------------------------------------------- templates
def _order_paid(order_id: str, d: Mapping[str, Any]) -> Email:
    lines = [{"name": _s(li.get("name")) or _s(li.get("sku")), "sku": _s(li.get("sku")),
              "quantity": _s(li.get("quantity")), "unit_price": li.get("unit_price"),
              "amount": _times(li.get("unit_price"), li.get("quantity"))}
             for li in _list(d.get("lines"))]
    raw_totals = d.get("totals")
    totals: Mapping[str, Any] = raw_totals if isinstance(raw_totals, Mapping) else {}
    discount: Any = totals.get("discount")
    has_discount = format_money(discount) is not None and discount["amount"] != 0
    address = d.get("shipping_address")
    address_lines: tuple[str, ...] = ()
    if isinstance(address, Mapping):
        city_line = " ".join(x for x in (_s(address.get("postal_code")), _s(address.get("city"))) if x)
        address_lines = tuple(x for x in (_s(address.get("name")), _s(address.get("line1")),
                                          _s(address.get("line2")), city_line, _s(address.get("country"))) if x)
    return _email("order_paid", f"Order confirmation: your order {order_id}", order_id=order_id, name=_name(d),
                  lines=lines, address_lines=address_lines, totals={
                      "subtotal": totals.get("subtotal"),
                      "discount": {"amount": -abs(discount["amount"]), "currency": discount["currency"]}
                      if has_discount else None,
                      "shipping": totals.get("shipping"), "tax": totals.get("tax"), "total": totals.get("total")})


_PAYMENT_REASONS = {
    "declined": "your bank or card issuer declined the payment",
    "authentication_timeout": "the payment was not confirmed in time (for example, the security check "
                              "with your bank was not completed)",
    "error": "a technical error occurred while processing the payment",
}
# Stripe decline codes in plain words. Codes that hint at fraud (lost_card, stolen_card, fraudulent, ...)
# are deliberately reported as a generic decline, as the card networks require.
_DECLINE_CODES = {
    "insufficient_funds": "there were insufficient funds on the card",
    "expired_card": "the card has expired",
    "incorrect_cvc": "the card's security code (CVC) was incorrect",
    "invalid_cvc": "the card's security code (CVC) was incorrect",
    "incorrect_number": "the card number was incorrect",
    "invalid_number": "the card number was incorrect",
    "invalid_expiry_month": "the card's expiry date was incorrect",
    "invalid_expiry_year": "the card's expiry date was incorrect",
    "incorrect_zip": "the postal code did not match the card",
    "card_velocity_exceeded": "the card's spending limit was reached",
    "withdrawal_count_limit_exceeded": "the card's spending limit was reached",
    "card_not_supported": "the card does not support this kind of purchase",
    "currency_not_supported": "the card does not support payments in this currency",
    "authentication_required": "your bank requires the payment to be authenticated",
    "processing_error": "an error occurred while processing the card",
    "try_again_later": "your bank asked for the payment to be tried again later",
    "do_not_honor": "your bank declined the payment without giving a reason",
}
_GENERIC_DECLINE = "the card was declined"
_FRAUD_HINTS = frozenset({"lost_card", "stolen_card", "fraudulent", "pickup_card", "merchant_blacklist",
                          "restricted_card", "security_violation", "generic_decline", "card_declined"})


def _decline_words(code: Any) -> str:
    key = _s(code).lower()
    if not key:
        return ""
    if key in _FRAUD_HINTS:
        return _GENERIC_DECLINE
    return _DECLINE_CODES.get(key) or f"the card was declined ({_words(key)})"


def _payment_failed(order_id: str, d: Mapping[str, Any]) -> Email:
    return _email("payment_failed", f"Payment failed for your order {order_id}", order_id=order_id, name=_name(d),
                  why=_PAYMENT_REASONS.get(_s(d.get("reason")), "the payment could not be completed"),
                  decline=_decline_words(d.get("decline_code")), total=d.get("total"))


def _shipment_packed(order_id: str, d: Mapping[str, Any]) -> Email:
    tracking = _s(d.get("tracking_number"))
    return _email("shipment_packed", f"Your order {order_id} has been packed"
                  + (f" (tracking {tracking})" if tracking else ""), order_id=order_id, name=_name(d),
                  carrier=_s(d.get("carrier")), tracking_number=tracking, tracking_url=_safe_url(d.get("tracking_url")),
                  items=_items(_list(d.get("items"))))


def _shipment_exception(order_id: str, d: Mapping[str, Any]) -> Email:
    return _email("shipment_exception", f"Delivery problem with your order {order_id}", order_id=order_id,
                  name=_name(d), description=_s(d.get("description")), location=_s(d.get("location")),
                  tracking_number=_s(d.get("tracking_number")))


# where the carrier left the parcel (ShipmentDelivered ``left_at``), as the delivered e-mail says it
_LEFT_AT = {
    "handed_to_recipient": "handed to you in person",
    "door": "left at your door",
    "neighbour": "left with a neighbour",
    "parcel_shop": "left at a parcel shop for you to collect",
    "parcel_locker": "left in a parcel locker for you to collect",
    "mailbox": "left in your mailbox",
    "reception": "left at the reception",
    "safe_place": "left at your safe place",
}


def _shipment_delivered(order_id: str, d: Mapping[str, Any]) -> Email:
    """Where the parcel was left and who signed come from the carrier's proof of delivery (absent from details
    published before it was recorded: the e-mail then says neither)."""
    left_at = _s(d.get("left_at"))
    return _email("shipment_delivered", f"Your order {order_id} has been delivered", order_id=order_id,
                  name=_name(d), delivered_at=_when(d.get("delivered_at")), carrier=_s(d.get("carrier")),
                  tracking_number=_s(d.get("tracking_number")), left_at=_LEFT_AT.get(left_at, _words(left_at)),
                  signed_by=_s(d.get("signed_by")), proof_url=_s(d.get("proof_url")))


_CANCEL_REASONS = {
    "customer": "as you requested",
    "fulfillment_failed": "because we were unable to fulfil it",
}


def _order_cancelled(order_id: str, d: Mapping[str, Any]) -> Email:
    return _email("order_cancelled", f"Your order {order_id} has been cancelled", order_id=order_id, name=_name(d),
                  why=_CANCEL_REASONS.get(_s(d.get("reason")), ""), refund=d.get("refund"))


def _refund_issued(order_id: str, d: Mapping[str, Any]) -> Email:
    amount = format_money(d.get("amount"))
    return _email("refund_issued", f"Refund of {amount} for your order {order_id}" if amount else
                  f"Refund issued for your order {order_id}", order_id=order_id, name=_name(d), amount=d.get("amount"),
                  reason=_words(d.get("reason")), refund_id=_s(d.get("refund_id")))


def _ticket_answered(order_id: str, d: Mapping[str, Any]) -> Email:
    """A staff answer to a support ticket (order_id is "" when the ticket is not about an order)."""
    ticket_id, subject = _s(d.get("ticket_id")), _s(d.get("subject"))
    title = f"Re: {subject}" if subject else "Your support request has been answered"
    tags = " ".join(x for x in (f"[{ticket_id}]" if ticket_id else "", f"(order {order_id})" if order_id else "") if x)
    return _email("ticket_answered", f"{title} {tags}".strip(), order_id=order_id, ticket_id=ticket_id,
                  ticket_subject=subject, answer=_s(d.get("answer")), answered_at=_when(d.get("answered_at")))


_TEMPLATES: dict[str, Callable[[str, Mapping[str, Any]], Email]] = {
    "OrderPaid": _order_paid,
    "PaymentFailed": _payment_failed,
    "ShipmentPacked": _shipment_packed,
    "ShipmentException": _shipment_exception,
    "ShipmentDelivered": _shipment_delivered,
    "OrderCancelled": _order_cancelled,
    "RefundIssued": _refund_issued,
    "TicketAnswered": _ticket_answered,
}
EMAILED_DETAIL_TYPES = frozenset(_TEMPLATES)


def render(detail_type: str, detail: dict[str, Any]) -> Email | None:
    """The shopper email for one event, or None for detail types that send none."""
    template = _TEMPLATES.get(detail_type)
    if template is None:
        return None
    return template(_s(detail.get("order_id")), detail)
