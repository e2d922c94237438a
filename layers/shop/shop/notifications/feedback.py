"""SES bounce and complaint feedback (pure: no AWS): which addresses the shop must stop mailing.

SES publishes the events of the shop's configuration set (template.yaml, EmailConfigurationSet) to an SNS topic;
each SNS record's ``Message`` is one SES event record as JSON (docs: "Contents of event data that Amazon SES
publishes to Amazon SNS"). Event publishing names its type in ``eventType``; the identity's own feedback
notifications use ``notificationType`` for the same content, so both are read.

What suppresses an address (docs/deploy.md, "Suppression list"):
- a ``Permanent`` bounce (the mailbox or domain does not exist, or the receiver refuses the sender for good):
  every ``bouncedRecipients`` address;
- a complaint (the recipient marked the mail as spam): every ``complainedRecipients`` address, unless the
  receiver's feedback type is ``not-spam`` (a report that the mail was *not* spam).
A ``Transient`` or ``Undetermined`` bounce (mailbox full, message too large, a temporary failure) suppresses
nothing: SES has retried it already and the next mail may well arrive. Any other event type is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BOUNCE = "bounce"
COMPLAINT = "complaint"
PERMANENT = "Permanent"
NOT_SPAM = "not-spam"


class MalformedFeedback(ValueError):
    """A delivery that is not an SNS notification carrying an SES event record (retrying cannot fix it)."""


@dataclass(frozen=True)
class Suppression:
    """One address the shop stops mailing, and why (kept with the record for the operator)."""

    email: str  # normalized (normalize_email)
    reason: str  # BOUNCE or COMPLAINT
    detail: str  # "Permanent/General", "abuse", ...
    feedback_id: str  # SES's id of this bounce or complaint report
    ses_message_id: str  # the SES message that bounced or was complained about
    at: str  # when the receiver reported it (ISO 8601, as SES gives it)


@dataclass(frozen=True)
class Feedback:
    """One SES event record: its type, and the suppressions it calls for (none for a transient bounce)."""

    event_type: str  # "Bounce", "Complaint", "Delivery", ... as SES names it
    suppressions: tuple[Suppression, ...]
    ignored: str = ""  # why it suppresses nothing ("" when it does)


def normalize_email(address: str) -> str:
    """The form an address is stored and looked up in: trimmed, lower-cased, without a display name.

    The shop lower-cases every account address (shop.auth), and mailbox providers treat the local part
    case-insensitively in practice, so one spelling per mailbox."""
    text = address.strip()
    if "<" in text and text.endswith(">"):
        text = text[text.rindex("<") + 1:-1].strip()
    return text.lower()


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _recipients(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    found = (normalize_email(_text(r.get("emailAddress"))) for r in value if isinstance(r, Mapping))
    return list(dict.fromkeys(a for a in found if "@" in a))


def parse_record(record: Mapping[str, Any]) -> Feedback:
    """The feedback in one SES event record (the parsed JSON of an SNS ``Message``)."""
    event_type = _text(record.get("eventType") or record.get("notificationType"))
    raw_mail = record.get("mail")
    mail: Mapping[str, Any] = raw_mail if isinstance(raw_mail, Mapping) else {}
    message_id = _text(mail.get("messageId"))
    if event_type == "Bounce":
        raw = record.get("bounce")
        bounce: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        kind, sub = _text(bounce.get("bounceType")), _text(bounce.get("bounceSubType"))
        if kind != PERMANENT:
            return Feedback(event_type, (), f"{kind or 'unknown'} bounce: the address may accept the next mail")
        return Feedback(event_type, tuple(
            Suppression(email=a, reason=BOUNCE, detail=f"{kind}/{sub}" if sub else kind,
                        feedback_id=_text(bounce.get("feedbackId")), ses_message_id=message_id,
                        at=_text(bounce.get("timestamp")))
            for a in _recipients(bounce.get("bouncedRecipients"))))
    if event_type == "Complaint":
        raw = record.get("complaint")
        complaint: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        feedback_type = _text(complaint.get("complaintFeedbackType"))
        if feedback_type.lower() == NOT_SPAM:
            return Feedback(event_type, (), "the receiver reports the mail as not spam")
        return Feedback(event_type, tuple(
            Suppression(email=a, reason=COMPLAINT, detail=feedback_type or "unspecified",
                        feedback_id=_text(complaint.get("feedbackId")), ses_message_id=message_id,
                        at=_text(complaint.get("timestamp") or complaint.get("arrivalDate")))
            for a in _recipients(complaint.get("complainedRecipients"))))
    return Feedback(event_type, (), f"{event_type or 'an untyped'} event suppresses nothing")


def parse_sns_event(event: Mapping[str, Any]) -> list[Feedback]:
    """The feedback of every record of an SNS delivery to Lambda (``Records[].Sns.Message``); raises
    MalformedFeedback when the delivery is not one, or a message is not a JSON object."""
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        raise MalformedFeedback("not an SNS delivery: no Records")
    found = []
    for i, rec in enumerate(records):
        sns = rec.get("Sns") if isinstance(rec, Mapping) else None
        message = sns.get("Message") if isinstance(sns, Mapping) else None
        if not isinstance(message, str):
            raise MalformedFeedback(f"Records[{i}] carries no SNS Message")
        try:
            body = json.loads(message)
        except ValueError as exc:
            raise MalformedFeedback(f"Records[{i}].Sns.Message is not JSON") from exc
        if not isinstance(body, Mapping):
            raise MalformedFeedback(f"Records[{i}].Sns.Message is not a JSON object")
        found.append(parse_record(body))
    return found
