"""Sending mail through SES (data layer: the only module of notifications that talks to boto3)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from shop import aws
from shop.config import get_settings
from shop.errors import ServiceBusy
from shop.notifications.templates import Email

CHARSET = "UTF-8"


def send(to: str, email: Email) -> str:
    """Send one email from the shop's sender address to ``to``; returns the SES MessageId.

    SES throttling ("Throttling": maximum sending rate exceeded) is ServiceBusy like every other throttle,
    so the event is retried later; other SES errors (MessageRejected, ...) propagate unchanged."""
    try:
        with aws.translate_common_errors("email send"):
            resp = aws.client("ses").send_email(
                Source=get_settings().sender_email,
                Destination={"ToAddresses": [to]},
                Message={
                    "Subject": {"Data": email.subject, "Charset": CHARSET},
                    "Body": {"Text": {"Data": email.text, "Charset": CHARSET},
                             "Html": {"Data": email.html, "Charset": CHARSET}},
                },
            )
    except ClientError as exc:
        if aws.error_code(exc) == "Throttling":
            raise ServiceBusy("email send: the mail service is busy, retry shortly") from exc
        raise
    return str(resp["MessageId"])
