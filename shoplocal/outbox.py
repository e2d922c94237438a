"""The local outbox: what the shop sent to shoppers, read from moto's in-process backends.

moto SNS records every text published to a phone number instead of sending it; ``sent_sms()`` lists them oldest
first as ``{message_id, phone_number, message}`` (what ``Stack.sent_sms`` returns to tests), as moto SES holds
the mail (``Stack.sent_emails``). While ``make run`` runs, the local gateway serves both as JSON at
``GET /_local/outbox/sms`` and ``GET /_local/outbox/email`` (shoplocal.static), so a developer sees what an
order's shopper was sent as it moves.

moto's SNS also plays the account's opt-out list: a number ending in ``99`` is reported as opted out (it "replied
STOP"), so the shop's STOP handling can be tried locally with, e.g., ``+4915100000099``.
"""

from __future__ import annotations

import json
from typing import Any

from shoplocal.deploy import ACCOUNT_ID

REGION = "us-east-1"


def sent_sms(account_id: str = ACCOUNT_ID, region: str = REGION) -> list[dict[str, Any]]:
    """Every text published to a phone number through moto SNS, oldest first."""
    from moto.sns.models import sns_backends

    backend = sns_backends[account_id][region]
    return [{"message_id": message_id, "phone_number": phone, "message": text}
            for message_id, (phone, text) in list(backend.sms_messages.items())]


def sent_emails(account_id: str = ACCOUNT_ID, region: str = REGION) -> list[dict[str, Any]]:
    """Every mail sent through moto SES, oldest first (as ``Stack.sent_emails``)."""
    from moto.ses.models import ses_backends

    from shoplocal.stack import _email_record  # the record Stack.sent_emails gives tests

    return [_email_record(msg) for msg in list(ses_backends[account_id][region].sent_messages)]


def outbox_json(kind: str) -> bytes | None:
    """``{"sms": [...]}`` or ``{"email": [...]}`` as the gateway serves it; None for another kind."""
    read = {"sms": sent_sms, "email": sent_emails}.get(kind)
    return None if read is None else json.dumps({kind: read()}, indent=2).encode()
