"""Shopper notifications: one email per domain fact, however often its event is delivered.

Events arrive at least once (docs/events.md); every publication of one fact carries the same ``dedupe_key``,
so the send is wrapped in Powertools idempotency keyed on it ("notify#<hash of dedupe_key>" in
IDEMPOTENCY_TABLE). A completed key replays the stored result without sending; a failed send leaves no
record, so the retried event sends. A key still IN_PROGRESS (a concurrent duplicate delivery) raises
ServiceBusy: the invocation fails and Lambda/EventBridge retry it later, by which time the first delivery
has either completed (replay) or failed/timed out (the record is released and the retry sends). The
persistence layer is built per call, never at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from shop import event_contracts, idempotency
from shop.errors import ServiceBusy
from shop.notifications import mailer, templates

# a fact may be published again by a workflow step retried much later; remember sends for a week
EXPIRES_AFTER_SECONDS = 7 * 24 * 3600

# the detail types this consumer reads (those with an email; the bus rule delivers only these)
CLAIMS = templates.EMAILED_DETAIL_TYPES


def parse_event(event: Mapping[str, Any]) -> event_contracts.ShopEvent[event_contracts.EventDetail]:
    """The EventBridge event as delivered to the Lambda target, its detail validated against the shared
    contract (shop.event_contracts) for the types this consumer emails about (an order id is required but
    for TicketAnswered); pydantic's ValidationError when it is malformed (retrying cannot fix it)."""
    return event_contracts.parse_event(event, CLAIMS)


def _mark_replay(response: Any, idempotent_data: DataRecord) -> dict[str, Any]:
    return {**dict(response or {}), "replayed": True}


def notify(detail_type: str, detail: dict[str, Any], lambda_context: Any = None) -> dict[str, Any]:
    """Email the shopper about one event, once per ``detail["dedupe_key"]``.

    Returns {"sent": False, "reason"} when the event type sends no email or the detail has no address,
    {"sent": True, "message_id", "dedupe_key"} after sending, and the stored result plus "replayed": True
    for a duplicate delivery (nothing is sent again)."""
    email = templates.render(detail_type, detail)
    if email is None:
        return {"sent": False, "reason": f"{detail_type} sends no email"}
    to = str(detail.get("email") or "").strip()
    if not to:
        return {"sent": False, "reason": "the event has no email address"}
    dedupe_key = str(detail["dedupe_key"])

    def send_once() -> dict[str, Any]:
        message_id = mailer.send(to, email)
        return {"sent": True, "message_id": message_id, "dedupe_key": dedupe_key}

    try:
        return idempotency.run_once(send_once, key_prefix="notify", event_key="dedupe_key",
                                    data={"dedupe_key": dedupe_key, "detail_type": detail_type},
                                    expires_after_seconds=EXPIRES_AFTER_SECONDS, lambda_context=lambda_context,
                                    response_hook=_mark_replay)
    except IdempotencyAlreadyInProgressError as exc:
        raise ServiceBusy(f"notification {dedupe_key} is being sent by another invocation; retry later") from exc
