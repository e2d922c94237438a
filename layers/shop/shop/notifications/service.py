"""Shopper notifications: one email per domain fact, however often its event is delivered.

Events arrive at least once (docs/events.md); every publication of one fact carries the same ``dedupe_key``,
so the send is wrapped in Powertools idempotency keyed on it ("notify#<hash of dedupe_key>" in
IDEMPOTENCY_TABLE). A completed key replays the stored result without sending; a failed send leaves no
record, so the retried event sends. A key still IN_PROGRESS (a concurrent duplicate delivery) raises
ServiceBusy: the invocation fails and Lambda/EventBridge retry it later, by which time the first delivery
has either completed (replay) or failed/timed out (the record is released and the retry sends). The
persistence layer is built per call, never at import.

An address on the suppression list (it bounced for good or complained: shop.notifications.feedback, fed by
``suppressions.record_feedback`` from SES's events, in the suppressions module so that the feedback function
loads none of the sending; issue 17) is not mailed: the event is answered ``sent: False, suppressed: True``
before SES is called, which is no error (nothing to retry). Mailing it anyway would hurt the sender's
reputation with SES and the receivers, and SES pauses accounts whose bounce or complaint rate stays high.
The send's claim (the idempotency record) is written in one transaction with the checks that the address is
not listed and that the shopper chose no channels (repository.checked_claims), so the common mail reads
nothing first (issue 17); when either is found, nothing is claimed and they are read as before.

Texts (``notify_sms``) go beside the e-mails for the order confirmation, shipped and delivered, to shoppers who
chose SMS with a number (shop.notifications.preferences), once per ``dedupe_key`` like the e-mail but with a
guard of their own ("notify-sms#..."): a redelivered event sends one text, and an e-mail already sent does not
keep a failed text from being retried. A number on the STOP list, or on the SMS provider's opt-out list (then
recorded on ours), gets nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from shop import event_contracts, idempotency
from shop.errors import ServiceBusy
from shop.notifications import mailer, preferences, repository, sms, suppressions, templates, texter

# a fact may be published again by a workflow step retried much later; remember sends for a week
EXPIRES_AFTER_SECONDS = 7 * 24 * 3600

# the detail types this consumer reads (those with an email; the bus rule delivers only these)
CLAIMS = templates.EMAILED_DETAIL_TYPES
# the types whose mail or text depends on the shopper's channels (preferences)
CHOICE_TYPES = preferences.CHANNELLED_EMAILS | sms.SMS_DETAIL_TYPES
event_contracts.define(CLAIMS)  # their models defined with this module, the other types' never


def parse_event(event: Mapping[str, Any]) -> event_contracts.ShopEvent[event_contracts.EventDetail]:
    """The EventBridge event as delivered to the Lambda target, its detail validated against the shared
    contract (shop.event_contracts) for the types this consumer emails about (an order id is required but
    for TicketAnswered); pydantic's ValidationError when it is malformed (retrying cannot fix it)."""
    return event_contracts.parse_event(event, CLAIMS)


def _mark_replay(response: Any, idempotent_data: DataRecord) -> dict[str, Any]:
    return {**dict(response or {}), "replayed": True}


class ChannelsOnce:
    """A reader of the shopper's channel choice that reads it at most once: one event's e-mail and text both
    consult it (made per event, so the next event reads a choice changed meanwhile)."""

    def __init__(self) -> None:
        self.seen: dict[str, repository.Channels] = {}

    def __call__(self, customer_id: str) -> repository.Channels:
        if customer_id not in self.seen:
            self.seen[customer_id] = repository.channels_of(customer_id)
        return self.seen[customer_id]


def channels_once() -> ChannelsOnce:
    return ChannelsOnce()


def _seeded(channels: Callable[[str], repository.Channels] | None, customer_id: str,
            choice: repository.Channels) -> Callable[[str], repository.Channels]:
    """``channels`` knowing ``choice`` (read just now) for ``customer_id``."""
    once = channels if isinstance(channels, ChannelsOnce) else ChannelsOnce()
    once.seen[customer_id] = choice
    return once


def notify(detail_type: str, detail: dict[str, Any], lambda_context: Any = None,
           channels: Callable[[str], repository.Channels] | None = None) -> dict[str, Any]:
    """Email the shopper about one event, once per ``detail["dedupe_key"]``.

    Returns {"sent": False, "reason"} when the event type sends no email or the detail has no address,
    {"sent": False, "suppressed": True, "reason"} when the address is on the suppression list (SES is not
    called), {"sent": True, "message_id", "dedupe_key"} after sending, and the stored result plus
    "replayed": True for a duplicate delivery (nothing is sent again)."""
    email = templates.render(detail_type, detail)
    if email is None:
        return {"sent": False, "reason": f"{detail_type} sends no email"}
    to = str(detail.get("email") or "").strip()
    if not to:
        return {"sent": False, "reason": "the event has no email address"}
    dedupe_key = str(detail["dedupe_key"])
    customer_id = str(detail.get("customer_id") or "")

    def send_once() -> dict[str, Any]:
        message_id = mailer.send(to, email)
        return {"sent": True, "message_id": message_id, "dedupe_key": dedupe_key}

    # the common case in one request: the claim's transaction also checks that the address is not suppressed
    # and, where the shopper's channels count (this mail, or the event's text), that they made no choice (then
    # e-mail only: the text needs no read either); a failed check claims nothing and takes the reads below
    choosing = bool(customer_id) and detail_type in CHOICE_TYPES
    claims = repository.checked_claims(suppressions.key(to), customer_id if choosing else None)
    try:
        result = _once(send_once, "notify", dedupe_key, detail_type, lambda_context, "notification", client=claims)
    except repository.ChecksFailed:
        pass
    else:
        if choosing and claims.passed:
            _seeded(channels, customer_id, repository.DEFAULT)
        return result
    listed: bool | None = None
    if choosing:
        # both reads this mail needs (the shopper's channels, the suppression list) in one round trip; the
        # channels are kept for the event's text (channels_once)
        choice, listed = repository.channels_and_listed(customer_id, suppressions.key(to))
        channels = _seeded(channels, customer_id, choice)
    if not preferences.wants_email(detail_type, detail.get("customer_id"), channels):
        return {"sent": False, "channel_off": True, "dedupe_key": dedupe_key,
                "reason": "the shopper chose SMS only for order updates"}
    if listed if listed is not None else suppressions.is_suppressed(to):
        return {"sent": False, "suppressed": True, "dedupe_key": dedupe_key,
                "reason": "the address is on the suppression list (it bounced or complained)"}
    return _once(send_once, "notify", dedupe_key, detail_type, lambda_context, "notification")


def notify_sms(detail_type: str, detail: dict[str, Any], lambda_context: Any = None,
               port: sms.SmsPort | None = None,
               channels: Callable[[str], repository.Channels] | None = None) -> dict[str, Any]:
    """Text the shopper about one event, once per ``detail["dedupe_key"]``, if they chose SMS.

    Returns {"sent": False, "reason"} when the event type sends no text or the shopper did not choose SMS,
    {"sent": False, "opted_out": True, "reason"} when the number replied STOP (the provider is not asked to
    send), {"sent": True, "message_id", "dedupe_key", "channel": "sms"} after sending, and the stored result
    plus "replayed": True for a duplicate delivery. ``port`` is the SMS provider (Amazon SNS by default)."""
    text = sms.render(detail_type, detail)
    if text is None:
        return {"sent": False, "reason": f"{detail_type} sends no SMS"}
    customer_id = str(detail.get("customer_id") or "")
    choice = (channels or repository.channels_of)(customer_id) if customer_id else repository.DEFAULT
    if "sms" not in choice.channels or not choice.phone:
        return {"sent": False, "reason": "the shopper did not choose SMS"}
    phone, dedupe_key = choice.phone, str(detail["dedupe_key"])
    if repository.is_stopped(phone):
        return {"sent": False, "opted_out": True, "dedupe_key": dedupe_key, "reason": "the number replied STOP"}
    provider = port if port is not None else texter.SnsTexter()
    if provider.opted_out(phone):
        repository.record_stop(phone, "sns-opt-out-list", datetime.now(UTC).isoformat(timespec="seconds"))
        return {"sent": False, "opted_out": True, "dedupe_key": dedupe_key,
                "reason": "the number is on the SMS provider's opt-out list (it replied STOP)"}

    def send_once() -> dict[str, Any]:
        return {"sent": True, "message_id": provider.send(phone, text), "dedupe_key": dedupe_key, "channel": "sms"}

    return _once(send_once, "notify-sms", dedupe_key, detail_type, lambda_context, "text")


def _once(send: Callable[[], dict[str, Any]], key_prefix: str, dedupe_key: str, detail_type: str,
          lambda_context: Any, what: str, client: Any = None) -> dict[str, Any]:
    """``send`` once per dedupe key and channel (``key_prefix``): a redelivered event answers the stored result
    (marked replayed); a duplicate arriving while the first still sends is told to retry (ServiceBusy).
    ``client``: repository.checked_claims's (its ChecksFailed comes out as it is: nothing was claimed)."""
    try:
        return idempotency.run_once(send, key_prefix=key_prefix, event_key="dedupe_key",
                                    data={"dedupe_key": dedupe_key, "detail_type": detail_type},
                                    expires_after_seconds=EXPIRES_AFTER_SECONDS, lambda_context=lambda_context,
                                    response_hook=_mark_replay, client=client)
    except IdempotencyAlreadyInProgressError as exc:
        raise ServiceBusy(f"{what} {dedupe_key} is being sent by another invocation; retry later") from exc
    except IdempotencyPersistenceLayerError as exc:
        if isinstance(exc.__cause__, (repository.ChecksFailed, ServiceBusy)):
            raise exc.__cause__ from None
        raise
