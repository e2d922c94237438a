"""Sending mail through SES (data layer: with suppressions, the only modules of notifications that talk to boto3).

Every send names the shop's SES configuration set (EMAIL_CONFIGURATION_SET, template.yaml): its bounce and
complaint events feed the suppression list (shop.notifications.feedback). Whether a shopper may be mailed at
all is the caller's question (shop.notifications.service checks the list before it sends)."""

from __future__ import annotations

from typing import Any

from shop import aws
from shop.config import get_settings
from shop.notifications.templates import Email

CHARSET = "UTF-8"


def send(to: str, email: Email) -> str:
    """Send one email from the shop's sender address to ``to``; returns the SES MessageId.

    SES throttling ("Throttling": maximum sending rate exceeded) is ServiceBusy like every other throttle
    (shop.aws.translate_common_errors), so the event is retried later; other SES errors (MessageRejected, ...)
    propagate unchanged."""
    settings = get_settings()
    with aws.translate_common_errors("email send"):
        resp = aws.client("ses").send_email(
            Source=settings.sender_email,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": email.subject, "Charset": CHARSET},
                "Body": {"Text": {"Data": email.text, "Charset": CHARSET},
                         "Html": {"Data": email.html, "Charset": CHARSET}},
            },
            **_configuration_set(),
        )
    return str(resp["MessageId"])


def send_raw(source: str, raw: bytes) -> str:
    """Send a MIME message the caller built (one with attachments: a purchase order to its supplier) from
    ``source`` with the shop's configuration set, to the recipients of its To/Cc/Bcc headers (SES reads them
    when no Destinations are given); the SES MessageId. Errors as :func:`send`."""
    with aws.translate_common_errors("email send"):
        resp = aws.client("ses").send_raw_email(Source=source, RawMessage={"Data": raw}, **_configuration_set())
    return str(resp["MessageId"])


def _configuration_set() -> dict[str, Any]:
    """The shop's SES configuration set (its event destinations: bounces, complaints), when one is configured."""
    name = get_settings().email_configuration_set
    return {"ConfigurationSetName": name} if name else {}
