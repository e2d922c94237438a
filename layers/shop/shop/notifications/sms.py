"""Text messages to shoppers (pure: no AWS): the phone number rule, the SMS port, and the short texts.

A number is E.164 (``+``, country code, at most 15 digits): SNS and End User Messaging take nothing else, and a
number without its country code is ambiguous. Spaces, hyphens, dots and brackets a shopper types are dropped
("+49 151 2345-6789" is "+4915123456789"); a missing ``+`` is refused rather than guessed.

Texts go out for three facts only (order confirmed, shipped, delivered: ``SMS_DETAIL_TYPES``), each e-mailed as
well: the e-mail stays the record (the confirmation on a durable medium), the SMS is the nudge. A text is kept to
one GSM-7 segment (160 characters; an extension character such as ``~`` counts twice) where it can be: it is
built from the richest wording down to the leanest and the first that fits is sent. Characters outside GSM-7 in
a carrier's name would switch the whole message to UCS-2 (70 characters a segment, billed per segment), so they
are transliterated or replaced. The opt-out hint is added only when it fits: SNS honours a STOP reply whether or
not the text says so.
"""

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shop import rendering

SHOP_NAME = "Serverless Shop"
SEGMENT = 160  # GSM-7 characters in one SMS
STOP_HINT = " Reply STOP to opt out."

Channel = Literal["email", "sms"]

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_SEPARATORS = re.compile(r"[\s().\-]")
PHONE_RULE = "must be an E.164 phone number: +, the country code and the number, 7 to 15 digits (+4915123456789)"

# GSM 03.38 basic character set (one septet each) and its extension table (an escape plus one: two each)
_GSM_BASIC = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
# letters NFKD does not take apart, and typographic dashes and quotes
_PLAIN = {"\u0142": "l", "\u0141": "L", "\u0111": "d", "\u0110": "D", "\u2013": "-", "\u2014": "-", "\u2018": "'",
          "\u2019": "'", "\u201c": '"', "\u201d": '"'}
_SAFE_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


# ------------------------------------------------------------------------------------------------ numbers
def normalize_phone(value: str) -> str:
    """The E.164 form of a typed number; ValueError (a 422 naming the field) when it is not one."""
    number = _SEPARATORS.sub("", value.strip())
    if not _E164.match(number):
        raise ValueError(PHONE_RULE)
    return number


PhoneNumber = Annotated[str, Field(max_length=32), AfterValidator(normalize_phone)]


def masked(phone: str) -> str:
    """A number as logs may show it: the country code's first digits and the last two ("+49*********89")."""
    return phone[:3] + "*" * max(len(phone) - 5, 0) + phone[-2:]


class ChannelsIn(BaseModel):
    """PUT /account/notifications: the channels of the shopper's order updates, and the number for SMS."""

    # built on the route's first request (issue 17): the notification consumers import it and never validate one
    model_config = ConfigDict(extra="forbid", defer_build=True, json_schema_extra={
        "examples": [{"channels": ["email", "sms"], "phone": "+4915123456789"}]})

    channels: list[Channel] = Field(min_length=1, max_length=2, description="email, sms or both")
    phone: PhoneNumber | None = Field(None, validate_default=True,
                                      description="E.164 (+4915123456789); required with sms")

    @field_validator("channels")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        return sorted(set(value))

    @field_validator("phone")
    @classmethod
    def _needed_for_sms(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and "sms" in (info.data.get("channels") or ()):
            raise ValueError("is required when channels include sms")
        return value


# ------------------------------------------------------------------------------------------------ the port
class SmsPort(Protocol):
    """What the notifications service needs of an SMS provider (shop.notifications.texter: Amazon SNS)."""

    def opted_out(self, phone: str) -> bool:
        """Whether the provider's opt-out list holds the number (it replied STOP)."""

    def send(self, phone: str, text: str) -> str:
        """Send one text; the provider's message id."""


# ------------------------------------------------------------------------------------------------ length
def gsm_length(text: str) -> int | None:
    """Septets the text takes in GSM-7, or None when a character needs UCS-2."""
    total = 0
    for ch in text:
        if ch in _GSM_BASIC:
            total += 1
        elif ch in _GSM_EXTENSION:
            total += 2
        else:
            return None
    return total


def gsm_safe(value: Any) -> str:
    """A field as GSM-7 text: accents a GSM-7 letter does not carry are dropped ("ł" is "l"), anything else that
    would force UCS-2 becomes "?", control characters a space."""
    out = []
    for ch in " ".join(str(value or "").split()):
        if ch in _GSM_BASIC or ch in _GSM_EXTENSION:
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        base = _PLAIN.get(ch, base)
        out.append(base if base and all(c in _GSM_BASIC for c in base) else "?")
    return "".join(out).strip()


def fit(*wordings: str) -> str:
    """The first wording (richest first) that fits one segment, with the STOP hint if it still fits; else the
    leanest (SNS sends it in several parts). Empty wordings are skipped."""
    wordings = tuple(w for w in wordings if w)
    for text in wordings:
        for candidate in (text + STOP_HINT, text):
            size = gsm_length(candidate)
            if size is not None and size <= SEGMENT:
                return candidate
    return wordings[-1]


# ------------------------------------------------------------------------------------------------ texts
def _url(value: Any) -> str | None:
    url = str(value or "").strip()
    return url if _SAFE_URL.match(url) and gsm_length(url) is not None else None


def _paid(order_id: str, d: Mapping[str, Any]) -> str:
    totals = d.get("totals")
    total = rendering.money_text(totals.get("total")) if isinstance(totals, Mapping) else None
    head = f"{SHOP_NAME}: order {order_id} is confirmed"
    return fit(f"{head}, total {total}. We will text you when it ships." if total else "",
               f"{head}, total {total}." if total else "", f"{head}.")


def _shipped(order_id: str, d: Mapping[str, Any]) -> str:
    """The tracking link where it fits one segment, else the tracking number (a carrier's long link would not)."""
    carrier, number = gsm_safe(d.get("carrier"))[:30], gsm_safe(d.get("tracking_number"))[:40]
    url = _url(d.get("tracking_url"))
    head = f"{SHOP_NAME}: order {order_id} has shipped"
    with_carrier = head + (f" with {carrier}" if carrier else "")
    link = f" Track: {url}" if url else ""
    plain = f" Tracking number {number}." if number else ""
    return fit(f"{with_carrier}.{link}" if link else "", f"{head}.{link}" if link else "",
               f"{with_carrier}.{plain}" if plain else "", f"{head}.{plain}" if plain else "", f"{head}.")


_LEFT_AT = {"handed_to_recipient": "handed to you", "door": "left at your door",
            "neighbour": "left with a neighbour", "parcel_shop": "left at a parcel shop",
            "parcel_locker": "left in a parcel locker", "mailbox": "left in your mailbox",
            "reception": "left at reception", "safe_place": "left at your safe place"}


def _delivered(order_id: str, d: Mapping[str, Any]) -> str:
    where = _LEFT_AT.get(str(d.get("left_at") or ""), "")
    head = f"{SHOP_NAME}: order {order_id} was delivered"
    return fit(f"{head}, {where}." if where else "", f"{head}.")


_TEXTS: dict[str, Callable[[str, Mapping[str, Any]], str]] = {
    "OrderPaid": _paid, "ShipmentPacked": _shipped, "ShipmentDelivered": _delivered}
SMS_DETAIL_TYPES = frozenset(_TEXTS)


def render(detail_type: str, detail: Mapping[str, Any]) -> str | None:
    """The text for one event, or None for a detail type that sends none (or a detail without an order id)."""
    text = _TEXTS.get(detail_type)
    order_id = gsm_safe(detail.get("order_id"))
    if text is None or not order_id:
        return None
    return text(order_id, detail)
