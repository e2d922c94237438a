"""Shopper emails rendered from domain event details (pure: no AWS, no I/O).

``render(detail_type, detail)`` returns an :class:`Email` (subject, plain text, HTML) for the detail types
that notify the shopper (docs/events.md, column "email sent": order events and staff answers to support
tickets) and ``None`` for the others. Each template builds a small document (paragraphs, tables, label/value
fields, links, quoted free text) that is rendered twice: as plain text and as HTML in which every string is
escaped, since names, addresses, carrier texts and support answers come from the shop's catalog, its
carriers, the customer and staff. Money is integer minor units formatted with the currency's
exponent ("EUR 12.34", "JPY 1234"); fields missing from a detail are left out or shown as "n/a", never a crash.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SHOP_NAME = "Serverless Shop"
NOT_AVAILABLE = "n/a"

# ISO 4217 currencies whose minor unit is not 1/100 (all others use 2 decimals)
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


# ---------------------------------------------------------------------------------------------- formatting
def currency_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def format_amount(amount: int, currency: str) -> str:
    """Integer minor units as "EUR 12.34" / "JPY 1234" / "EUR -0.05" (exact integer arithmetic)."""
    exponent = currency_exponent(currency)
    sign = "-" if amount < 0 else ""
    if exponent == 0:
        return f"{currency} {sign}{abs(amount)}"
    major, minor = divmod(abs(amount), 10**exponent)
    return f"{currency} {sign}{major}.{minor:0{exponent}d}"


def format_money(value: Any) -> str | None:
    """A Money object ({"amount": int, "currency": "EUR"}) formatted, or None if absent or malformed."""
    if not isinstance(value, Mapping):
        return None
    amount, currency = value.get("amount"), value.get("currency")
    if isinstance(amount, bool) or not isinstance(amount, int) or not isinstance(currency, str) or not currency:
        return None
    return format_amount(amount, currency)


def _money_or_na(value: Any) -> str:
    return format_money(value) or NOT_AVAILABLE


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


# -------------------------------------------------------------------------------------------- document
@dataclass(frozen=True)
class _Para:
    text: str


@dataclass(frozen=True)
class _Fields:
    """Label/value pairs; pairs with an empty value are left out."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right: frozenset[int] = frozenset()  # right-aligned (numeric) columns


@dataclass(frozen=True)
class _Link:
    label: str
    url: str


@dataclass(frozen=True)
class _Address:
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class _Quote:
    """Free text written by a person (a support answer): its lines and blank lines are kept."""

    text: str


_Block = _Para | _Fields | _Table | _Link | _Address | _Quote


def _text(blocks: list[_Block]) -> str:
    parts: list[str] = []
    for block in blocks:
        match block:
            case _Para(text):
                parts.append(text)
            case _Fields(items):
                shown = [(label, value) for label, value in items if value]
                if shown:
                    width = max(len(label) for label, _ in shown) + 1
                    parts.append("\n".join(f"{label + ':':<{width}} {value}" for label, value in shown))
            case _Table(header, rows, right):
                widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

                def line(cells: tuple[str, ...], widths: list[int] = widths, right: frozenset[int] = right) -> str:
                    return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                                     for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

                parts.append("\n".join([line(header), "-" * len(line(header)), *(line(r) for r in rows)]))
            case _Link(label, url):
                parts.append(f"{label}: {url}")
            case _Address(title, lines):
                parts.append("\n".join([f"{title}:", *(f"  {x}" for x in lines)]))
            case _Quote(text):
                parts.append("\n".join(f"  {x}".rstrip() for x in text.splitlines()))
    return "\n\n".join(parts) + "\n"


def _html(title: str, blocks: list[_Block]) -> str:
    e = html.escape
    out = ['<!DOCTYPE html>', '<html><head><meta charset="utf-8">', f"<title>{e(title)}</title></head>",
           '<body style="font-family: sans-serif; line-height: 1.4;">']
    for block in blocks:
        match block:
            case _Para(text):
                out.append(f"<p>{e(text)}</p>")
            case _Fields(items):
                rows = "".join(f"<tr><th align=\"left\">{e(label)}</th><td>{e(value)}</td></tr>"
                               for label, value in items if value)
                if rows:
                    out.append(f"<table>{rows}</table>")
            case _Table(header, rows, right):
                def cells(tag: str, values: tuple[str, ...], right: frozenset[int] = right) -> str:
                    return "".join(f'<{tag} align="{"right" if i in right else "left"}">{e(v)}</{tag}>'
                                   for i, v in enumerate(values))

                body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
                out.append(f'<table cellpadding="4"><thead><tr>{cells("th", header)}</tr></thead>'
                           f"<tbody>{body}</tbody></table>")
            case _Link(label, url):
                out.append(f'<p>{e(label)}: <a href="{e(url, quote=True)}">{e(url)}</a></p>')
            case _Address(title, lines):
                out.append(f"<p><strong>{e(title)}</strong><br>{'<br>'.join(e(x) for x in lines)}</p>")
            case _Quote(text):
                out.append('<blockquote style="border-left: 3px solid #ccc; margin: 0; padding-left: 12px;">'
                           f"{'<br>'.join(e(x) for x in text.splitlines())}</blockquote>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _email(subject: str, blocks: list[_Block], order_id: str, *, reference: str | None = None) -> Email:
    """The email with the footer: ``reference`` (default "Order reference: <order id>") and the thanks."""
    subject = _subject(subject)
    reference = reference if reference is not None else f"Order reference: {order_id}"
    footer: list[_Block] = [*([_Para(reference)] if reference else []),
                            _Para(f"Thank you for shopping with {SHOP_NAME}.")]
    return Email(subject=subject, text=_text([*blocks, *footer]), html=_html(subject, [*blocks, *footer]))


def _greeting(detail: Mapping[str, Any]) -> _Para:
    address = detail.get("shipping_address")
    name = _s(address.get("name")) if isinstance(address, Mapping) else ""
    return _Para(f"Hello {name}," if name else "Hello,")


def _items_table(items: list[Mapping[str, Any]]) -> _Table:
    return _Table(header=("Item", "SKU", "Qty"),
                  rows=tuple((_s(i.get("name")) or _s(i.get("sku")), _s(i.get("sku")), _s(i.get("quantity")))
                             for i in items),
                  right=frozenset({2}))


# ------------------------------------------------------------------------------------------- templates
def _order_paid(order_id: str, d: Mapping[str, Any]) -> Email:
    blocks: list[_Block] = [_greeting(d), _Para(f"Thank you for your order. We received your payment and are "
                                                f"preparing order {order_id} for shipping.")]
    lines = _list(d.get("lines"))
    if lines:
        blocks.append(_Table(
            header=("Item", "SKU", "Qty", "Unit price", "Amount"),
            rows=tuple((_s(li.get("name")) or _s(li.get("sku")), _s(li.get("sku")), _s(li.get("quantity")),
                        _money_or_na(li.get("unit_price")), _money_or_na(_times(li.get("unit_price"),
                                                                                li.get("quantity"))))
                       for li in lines),
            right=frozenset({2, 3, 4})))
    raw_totals = d.get("totals")
    totals: Mapping[str, Any] = raw_totals if isinstance(raw_totals, Mapping) else {}
    discount: Any = totals.get("discount")
    has_discount = format_money(discount) is not None and discount["amount"] != 0
    blocks.append(_Fields(items=(
        ("Subtotal", format_money(totals.get("subtotal")) or ""),
        ("Discount", format_amount(-abs(discount["amount"]), discount["currency"]) if has_discount else ""),
        ("Shipping", format_money(totals.get("shipping")) or ""),
        ("Tax", format_money(totals.get("tax")) or ""),
        ("Total", format_money(totals.get("total")) or ""),
    )))
    address = d.get("shipping_address")
    if isinstance(address, Mapping):
        city_line = " ".join(x for x in (_s(address.get("postal_code")), _s(address.get("city"))) if x)
        lines_ = tuple(x for x in (_s(address.get("name")), _s(address.get("line1")), _s(address.get("line2")),
                                   city_line, _s(address.get("country"))) if x)
        if lines_:
            blocks.append(_Address("Shipping to", lines_))
    blocks.append(_Para("We will send you another email with tracking details as soon as your parcel is packed."))
    return _email(f"Order confirmation: your order {order_id}", blocks, order_id)


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
    reason = _s(d.get("reason"))
    why = _PAYMENT_REASONS.get(reason, "the payment could not be completed")
    decline = _decline_words(d.get("decline_code"))
    blocks: list[_Block] = [
        _greeting(d),
        _Para(f"Unfortunately we could not take the payment for order {order_id}: {why}."
              + (f" Your bank told us that {decline}." if decline else "")),
        _Fields(items=(("Order total", format_money(d.get("total")) or ""),)),
        _Para("The items we had reserved for this order have been released, so the order will not be shipped. "
              "You are welcome to place the order again, with the same or another payment method."),
    ]
    return _email(f"Payment failed for your order {order_id}", blocks, order_id)


def _tracking_blocks(d: Mapping[str, Any]) -> list[_Block]:
    blocks: list[_Block] = [_Fields(items=(("Carrier", _s(d.get("carrier"))),
                                           ("Tracking number", _s(d.get("tracking_number")))))]
    url = _safe_url(d.get("tracking_url"))
    if url:
        blocks.append(_Link("Track your parcel", url))
    return blocks


def _shipment_packed(order_id: str, d: Mapping[str, Any]) -> Email:
    blocks: list[_Block] = [_greeting(d), _Para(f"Good news: a parcel of your order {order_id} has been packed "
                                                "and will be handed to the carrier shortly.")]
    blocks.extend(_tracking_blocks(d))
    items = _list(d.get("items"))
    if items:
        blocks.append(_Para("This parcel contains:"))
        blocks.append(_items_table(items))
    blocks.append(_Para("If your order was split into several parcels, you will get an email for each of them."))
    tracking = _s(d.get("tracking_number"))
    return _email(f"Your order {order_id} has been packed" + (f" (tracking {tracking})" if tracking else ""),
                  blocks, order_id)


def _shipment_exception(order_id: str, d: Mapping[str, Any]) -> Email:
    description = _s(d.get("description")) or "the carrier reported a problem with the delivery"
    blocks: list[_Block] = [
        _greeting(d),
        _Para(f"There is a problem with the delivery of a parcel of your order {order_id}."),
        _Fields(items=(("Carrier message", description), ("Location", _s(d.get("location"))),
                       ("Tracking number", _s(d.get("tracking_number"))))),
        _Para("The carrier usually resolves this within a few days. If the parcel cannot be delivered it is "
              "returned to us and we will contact you."),
    ]
    return _email(f"Delivery problem with your order {order_id}", blocks, order_id)


def _shipment_delivered(order_id: str, d: Mapping[str, Any]) -> Email:
    blocks: list[_Block] = [
        _greeting(d),
        _Para(f"A parcel of your order {order_id} has been delivered."),
        _Fields(items=(("Delivered", _when(d.get("delivered_at"))), ("Carrier", _s(d.get("carrier"))),
                       ("Tracking number", _s(d.get("tracking_number"))))),
        _Para("We hope you enjoy your purchase."),
    ]
    return _email(f"Your order {order_id} has been delivered", blocks, order_id)


_CANCEL_REASONS = {
    "customer": "as you requested",
    "fulfilment_failed": "because we were unable to fulfil it",
}


def _order_cancelled(order_id: str, d: Mapping[str, Any]) -> Email:
    why = _CANCEL_REASONS.get(_s(d.get("reason")))
    blocks: list[_Block] = [_greeting(d),
                            _Para(f"Your order {order_id} has been cancelled" + (f" {why}." if why else "."))]
    refund = format_money(d.get("refund"))
    if refund is not None:
        blocks.append(_Para(f"We are refunding {refund} to your original payment method. Depending on your bank "
                            "it can take a few business days to show up."))
    blocks.append(_Para("We are sorry for any inconvenience."))
    return _email(f"Your order {order_id} has been cancelled", blocks, order_id)


def _refund_issued(order_id: str, d: Mapping[str, Any]) -> Email:
    amount = format_money(d.get("amount"))
    blocks: list[_Block] = [
        _greeting(d),
        _Para(f"We have issued a refund of {amount or 'the amount due'} for order {order_id} to your original "
              "payment method. Depending on your bank it can take a few business days to show up."),
        _Fields(items=(("Refund amount", amount or ""), ("Reason", _words(d.get("reason"))),
                       ("Refund reference", _s(d.get("refund_id"))))),
    ]
    return _email(f"Refund of {amount} for your order {order_id}" if amount else
                  f"Refund issued for your order {order_id}", blocks, order_id)


def _ticket_answered(order_id: str, d: Mapping[str, Any]) -> Email:
    """A staff answer to a support ticket (order_id is "" when the ticket is not about an order)."""
    ticket_id, subject = _s(d.get("ticket_id")), _s(d.get("subject"))
    about = f'"{subject}"' if subject else "your support request"
    answer = _s(d.get("answer"))
    blocks: list[_Block] = [
        _Para("Hello,"),
        _Para(f"Our support team has answered {about}:"),
        _Quote(answer) if answer else _Para("(The answer is shown with your ticket in your account.)"),
        _Fields(items=(("Ticket", ticket_id), ("Subject", subject), ("Order", order_id),
                       ("Answered", _when(d.get("answered_at"))))),
        _Para("Please do not reply to this email. To reply, open the ticket in the support section of your "
              "account; your message goes straight back to our team."),
    ]
    title = f"Re: {subject}" if subject else "Your support request has been answered"
    tags = " ".join(x for x in (f"[{ticket_id}]" if ticket_id else "", f"(order {order_id})" if order_id else "") if x)
    return _email(f"{title} {tags}".strip(), blocks, order_id,
                  reference=f"Ticket reference: {ticket_id}" if ticket_id else "")


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
