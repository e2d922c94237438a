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

from typing import Any, Self

from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shop import idempotency
from shop.errors import ServiceBusy
from shop.notifications import mailer, templates
from shop.orders.tasks import OrderId

# a fact may be published again by a workflow step retried much later; remember sends for a week
EXPIRES_AFTER_SECONDS = 7 * 24 * 3600


# detail types that are not about an order: their order_id may be null or absent (a support ticket may
# or may not concern an order); every other detail type must name its order
ORDER_OPTIONAL_DETAIL_TYPES = frozenset({"TicketAnswered"})


class EventDetail(BaseModel):
    """The fields every consumer relies on; the rest of the detail is kept as published."""

    model_config = ConfigDict(extra="allow")

    order_id: OrderId | None = None
    dedupe_key: str = Field(min_length=1)


class DomainEvent(BaseModel):
    """The part of an EventBridge event (as delivered to a Lambda target) the notifications consumer reads."""

    model_config = ConfigDict(extra="ignore")

    detail_type: str = Field(alias="detail-type", min_length=1)
    detail: EventDetail

    @model_validator(mode="after")
    def _order_named(self) -> Self:
        if self.detail.order_id is None and self.detail_type not in ORDER_OPTIONAL_DETAIL_TYPES:
            raise ValueError(f"detail.order_id is required for {self.detail_type}")
        return self


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
