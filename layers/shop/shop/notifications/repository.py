"""NotificationsTable, the notifications context's own table (data layer: with mailer, texter, suppressions and
optouts the only modules of notifications that talk to boto3): who owns which keys, and the shopper's channels
and the numbers that said STOP.

Items (pk, sk):
- ``SHOPPER#<customer id>``, ``CHANNELS``: channels (a string set: email, sms), phone (E.164; absent without
  one), customer_id, updated_at. One item per shopper, replaced whole by each choice (PUT /account/notifications),
  so the same choice sent twice, or twice at once, leaves the same one item. No item: e-mail only.
- ``SMSSTOP#<E.164 number>``, ``STOP``: the number replied STOP (the SMS provider's opt-out list held it when the
  shop was about to text it), with source and stopped_at. Written once and never lifted by the shop: that number
  gets no text whoever's account names it (README, SMS, says how an operator lifts one).
- ``SUPPRESSED#<address>``, ``SUPPRESSION``: the e-mail suppression list (shop.notifications.suppressions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shop import aws
from shop.config import get_settings
from shop.dynamo import batch_get_tables

# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): this context's keys of
# NotificationsTable are built here (and by its KEY_MODULES); no other context reads them.
TABLE = "notifications_table"
KEY_PREFIXES = ("SHOPPER#", "SMSSTOP#", "SUPPRESSED#", "MARKETING#")
PUBLIC: frozenset[str] = frozenset()
KEY_MODULES = ("shop.notifications.suppressions", "shop.notifications.optouts")

_SHOPPER, _CHANNELS = "SHOPPER#", "CHANNELS"
_STOP_PREFIX, _STOP = "SMSSTOP#", "STOP"


@dataclass(frozen=True)
class Channels:
    """A shopper's choice: the channels of order updates and the number for SMS."""

    channels: frozenset[str]
    phone: str | None
    updated_at: str | None


DEFAULT = Channels(frozenset({"email"}), None, None)


def table() -> str:
    return get_settings().require(TABLE)


def _shopper_key(customer_id: str) -> dict[str, Any]:
    return {"pk": {"S": _SHOPPER + customer_id}, "sk": {"S": _CHANNELS}}


def _stop_key(phone: str) -> dict[str, Any]:
    return {"pk": {"S": _STOP_PREFIX + phone}, "sk": {"S": _STOP}}


def channels_of(customer_id: str) -> Channels:
    """The shopper's choice (DEFAULT when none was made). A consistent read: a channel removed a moment ago is
    honoured by the next event."""
    with aws.translate_common_errors("read notification channels"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=_shopper_key(customer_id),
                                              ConsistentRead=True).get("Item")
    return _channels(raw)


def channels_and_listed(customer_id: str, other: dict[str, Any]) -> tuple[Channels, bool]:
    """The shopper's choice (as :func:`channels_of`, consistently) and whether the item of this table at key
    ``other`` exists (a suppression-list entry: shop.notifications.suppressions.key), in one batch read."""
    mine = _shopper_key(customer_id)
    with aws.translate_common_errors("read notification channels"):
        found = batch_get_tables(aws.client("dynamodb"), {table(): [mine, other]})[table()]
    raw = next((r for r in found if r["pk"] == mine["pk"] and r["sk"] == mine["sk"]), None)
    return _channels(raw), any(r["pk"] == other["pk"] and r["sk"] == other["sk"] for r in found)


def _channels(raw: dict[str, Any] | None) -> Channels:
    if not raw:
        return DEFAULT
    return Channels(channels=frozenset(raw.get("channels", {}).get("SS", ())), phone=raw.get("phone", {}).get("S"),
                    updated_at=raw.get("updated_at", {}).get("S"))


def save_channels(customer_id: str, channels: frozenset[str], phone: str | None, now: str) -> Channels:
    """Store the choice whole (one PutItem): the same choice again leaves the same item."""
    item: dict[str, Any] = {**_shopper_key(customer_id), "customer_id": {"S": customer_id},
                            "channels": {"SS": sorted(channels)}, "updated_at": {"S": now}}
    if phone:
        item["phone"] = {"S": phone}
    with aws.translate_common_errors("save notification channels"):
        aws.client("dynamodb").put_item(TableName=table(), Item=item)
    return Channels(channels, phone, now)


def is_stopped(phone: str) -> bool:
    """Whether the number is on the shop's STOP list (a consistent read)."""
    with aws.translate_common_errors("read SMS stop list"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=_stop_key(phone), ConsistentRead=True,
                                              ProjectionExpression="pk").get("Item")
    return raw is not None


def record_stop(phone: str, source: str, now: str) -> bool:
    """Put the number on the STOP list; False when it was there already (the first record is kept)."""
    item = {**_stop_key(phone), "phone": {"S": phone}, "source": {"S": source}, "stopped_at": {"S": now}}
    with aws.conditional_write("record SMS stop") as write:
        aws.client("dynamodb").put_item(TableName=table(), Item=item, ConditionExpression="attribute_not_exists(pk)")
    return write.applied
