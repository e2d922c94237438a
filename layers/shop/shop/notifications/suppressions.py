"""The suppression list (NotificationsTable; data layer: with mailer, the only modules of notifications that
talk to boto3). Addresses that bounced for good or complained (shop.notifications.feedback) get no more
shopper mail; docs/deploy.md says how an operator lifts one.

Item (pk, sk): ``SUPPRESSED#<address>``, ``SUPPRESSION`` with email, reason (bounce, complaint), detail,
feedback_id, ses_message_id, reported_at, suppressed_at. One item per address, written only if absent: the
same report delivered again, or a second report about the address, leaves the first record as it is.
"""

from __future__ import annotations

from typing import Any

from shop import aws
from shop.config import get_settings
from shop.notifications.feedback import Suppression, normalize_email

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
