"""The suppression list (NotificationsTable; data layer: with mailer, the only modules of notifications that
talk to boto3). Addresses that bounced for good or complained (shop.notifications.feedback) get no more
shopper mail; docs/deploy.md says how an operator lifts one.

Item (pk, sk): ``SUPPRESSED#<address>``, ``SUPPRESSION`` with email, reason (bounce, complaint), detail,
feedback_id, ses_message_id, reported_at, suppressed_at. One item per address, written only if absent: the
same report delivered again, or a second report about the address, leaves the first record as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shop import aws
from shop.config import get_settings
from shop.notifications.feedback import Suppression, normalize_email, parse_sns_event

PREFIX = "SUPPRESSED#"
SK = "SUPPRESSION"


def table() -> str:
    return get_settings().require("notifications_table")


def key(email: str) -> dict[str, Any]:
    return {"pk": {"S": PREFIX + normalize_email(email)}, "sk": {"S": SK}}


def add(s: Suppression, now: str) -> bool:
    """Record the suppression; False when the address was already suppressed (nothing is written then)."""
    item = {**key(s.email), "email": {"S": s.email}, "reason": {"S": s.reason}, "suppressed_at": {"S": now}}
    for name, value in (("detail", s.detail), ("feedback_id", s.feedback_id),
                        ("ses_message_id", s.ses_message_id), ("reported_at", s.at)):
        if value:
            item[name] = {"S": value}
    with aws.conditional_write("record suppressed address") as write:
        aws.client("dynamodb").put_item(TableName=table(), Item=item,
                                        ConditionExpression="attribute_not_exists(pk)")
    return write.applied


def is_suppressed(email: str) -> bool:
    """Whether the address is on the list (one GetItem; a record written a moment ago may be missed by an
    eventually consistent read, which costs at most one more mail)."""
    with aws.translate_common_errors("read suppression list"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=key(email),
                                              ProjectionExpression="pk").get("Item")
    return raw is not None


def record_feedback(event: Mapping[str, Any]) -> dict[str, Any]:
    """Put the addresses that SES's bounce and complaint events (one SNS delivery) call for on the suppression
    list. Redelivery is harmless: an address already listed is counted as ``already`` and left as it is.

    Returns {"suppressed": [new addresses], "already": [listed before], "ignored": [why, per event that
    suppresses nothing]}; raises shop.notifications.feedback.MalformedFeedback for a delivery that is not SES
    feedback. Here, not in the notifications service: the feedback function needs none of the sending (issue 17)."""
    result: dict[str, list[str]] = {"suppressed": [], "already": [], "ignored": []}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for item in parse_sns_event(event):
        if not item.suppressions:
            result["ignored"].append(item.ignored)
        for s in item.suppressions:
            result["suppressed" if add(s, now) else "already"].append(s.email)
    return result
