"""Shoppers' marketing choices (data layer, NotificationsTable; with mailer and suppressions the only modules of
notifications that talk to boto3). Order and delivery mails are the service the shopper asked for and are not
affected; marketing mails (today the abandoned-cart reminder, shop.cart.reminders) go only to shoppers who did not
opt out, and never to an address on the suppression list (shop.notifications.suppressions).

Item (pk, sk): ``MARKETING#<customer id>``, ``PREFERENCES`` with cart_reminders (bool) and updated_at. No item:
the defaults (reminders on). A PUT replaces the choices whole, so repeating it changes nothing.
"""

from __future__ import annotations

from typing import Any

from shop import aws
from shop.config import get_settings
from shop.notifications import suppressions

PREFIX = "MARKETING#"
SK = "PREFERENCES"
DEFAULTS: dict[str, bool] = {"cart_reminders": True}


def table() -> str:
    return get_settings().require("notifications_table")


def key(customer_id: str) -> dict[str, Any]:
    return {"pk": {"S": PREFIX + customer_id}, "sk": {"S": SK}}


def preferences(customer_id: str, *, consistent: bool = True) -> dict[str, Any]:
    """The shopper's choices (the defaults where none was made) and when they were last changed (None: never)."""
    with aws.translate_common_errors("read marketing preferences"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=key(customer_id),
                                              ConsistentRead=consistent).get("Item")
    out: dict[str, Any] = {**DEFAULTS, "updated_at": None}
    if raw:
        for name in DEFAULTS:
            if name in raw:
                out[name] = bool(raw[name]["BOOL"])
        out["updated_at"] = raw.get("updated_at", {}).get("S")
    return out


def set_preferences(customer_id: str, choices: dict[str, bool], now: str) -> dict[str, Any]:
    """Store the shopper's choices (one PutItem of the whole record: the same request twice leaves one record)."""
    values = {**DEFAULTS, **choices}
    item = {**key(customer_id), "customer_id": {"S": customer_id}, "updated_at": {"S": now},
            **{name: {"BOOL": bool(v)} for name, v in values.items()}}
    with aws.translate_common_errors("save marketing preferences"):
        aws.client("dynamodb").put_item(TableName=table(), Item=item)
    return {**values, "updated_at": now}


def may_send_marketing(customer_id: str, email: str, kind: str) -> str | None:
    """None when a marketing mail of ``kind`` (a preference name) may go to this shopper at ``email``; else why
    not ("opted_out", "suppressed"). Read consistently: an opt-out a moment ago is honoured."""
    if not preferences(customer_id).get(kind, True):
        return "opted_out"
    if suppressions.is_suppressed(email):
        return "suppressed"
    return None
