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
from shop.errors import ServiceBusy

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


class ChecksFailed(Exception):
    """A checked claim's condition check failed: the shopper has made a channel choice, or the address is on the
    suppression list (the caller reads them and claims the plain way)."""


def no_choice_check(customer_id: str) -> dict[str, Any]:
    """A transaction's ConditionCheck that the shopper has made no channel choice (DEFAULT applies)."""
    return {"TableName": table(), "Key": _shopper_key(customer_id), "ConditionExpression": "attribute_not_exists(pk)"}


def absent_check(key: dict[str, Any]) -> dict[str, Any]:
    """A transaction's ConditionCheck that this table holds no item at ``key`` (a suppression-list entry)."""
    return {"TableName": table(), "Key": key, "ConditionExpression": "attribute_not_exists(pk)"}


class CheckedClaims:
    """The DynamoDB client given to Powertools' idempotency for one send (shop.idempotency.run_once): its claim,
    the conditional PutItem of the IN_PROGRESS record, is made in one transaction with ``checks`` (the shopper
    has no channel choice, the address is not suppressed), so a send costs no read before its claim. A failed
    check raises ChecksFailed and claims nothing (a concurrent claim: ServiceBusy); the claim's own failure is
    answered as PutItem's (ConditionalCheckFailedException with the record held), so Powertools replays or
    refuses as it does. Every other call goes to the client as it is. ``passed``: the checks held."""

    def __init__(self, inner: Any, checks: list[dict[str, Any]]):
        self._inner, self._checks, self.passed = inner, checks, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def put_item(self, **put: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        actions = [*({"ConditionCheck": c} for c in self._checks), {"Put": put}]
        try:
            self._inner.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if aws.error_code(exc) != "TransactionCanceledException":
                raise
            reasons: list[Any] = list(exc.response.get("CancellationReasons") or [])
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons[:len(self._checks)]):
                raise ChecksFailed() from exc
            claim = reasons[len(self._checks)] if len(reasons) > len(self._checks) else {}
            if any(r.get("Code") == "TransactionConflict" for r in reasons):
                raise ServiceBusy("the send's claim met a concurrent one (a duplicate delivery); retry") from exc
            if claim.get("Code") != "ConditionalCheckFailed":
                raise  # a throttle: the invocation fails and is retried
            self.passed = True
            response: dict[str, Any] = {"Error": {"Code": "ConditionalCheckFailedException",
                                                  "Message": "The conditional request failed"}}
            if claim.get("Item"):
                response["Item"] = claim["Item"]  # the record held, as PutItem's ReturnValuesOnConditionCheckFailure
            raise ClientError(response, "PutItem") from exc  # type: ignore[arg-type]
        self.passed = True
        return {}


def checked_claims(suppression_key: dict[str, Any], customer_id: str | None) -> CheckedClaims:
    """A send's claim checked in its own transaction: the address at ``suppression_key`` (shop.notifications.
    suppressions.key) is not suppressed and, with ``customer_id``, the shopper made no channel choice."""
    checks = [absent_check(suppression_key)]
    if customer_id:
        checks.append(no_choice_check(customer_id))
    return CheckedClaims(aws.client("dynamodb"), checks)


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
