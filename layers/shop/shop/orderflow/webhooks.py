"""Signed webhooks from Stripe and from the carrier: signature check, once-per-event processing.

- Stripe: ``Stripe-Signature`` verified with the endpoint secret (stripe.Webhook.construct_event: HMAC-SHA256
  of "<t>.<payload>", 5 minutes tolerance). The event's payload is only used to find the order: the
  intent's state is read back from Stripe.
- Carrier: ``Carrier-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` with the shared
  secret (``carrier_webhook_secret`` of the shop's secret, shop.secrets), same tolerance. Without a configured
  secret the carrier endpoint refuses every call rather than accepting unsigned ones. A ``delivered`` event
  may carry the proof of delivery: ``signed_by``, ``left_at`` (shop.fulfillment.models.LeftAt) and
  ``proof_url`` (https only); another status carrying them is 422 naming the field. A delivery lacking the
  signature its order asked for is answered ``needs_attention`` and listed for staff
  (shop.orderflow.deliveries).
Each event id is processed once (Powertools idempotency on IdempotencyTable); a redelivery gets the first
answer, a concurrent duplicate a 503 so the sender retries later.

Bad input from a correctly signed sender is a 4xx naming the field, never a 5xx (a sender retries a 5xx
forever): a body that cannot be read is 400 ``malformed_json`` (as on every route, see shop.api.parse_json);
a carrier event's ``occurred_at`` must be a date and time with a time zone, no later than now plus
``MAX_CLOCK_SKEW`` (422 ``body.occurred_at``; it is stored in UTC); a Stripe event whose id or type is not a
string is 422, and one whose ``data.object`` / ``metadata`` is not the shape of a payment intent is
acknowledged as ignored (2xx, ``handled: false``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import stripe
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from pydantic import ValidationError

from shop import idempotency
from shop.api import parse_json
from shop.errors import InvalidInput, PayloadTooLarge, ServiceBusy, Unauthorized
from shop.secrets import optional_secret, require_secret
from shop.timeutil import parse_aware

# Each route imports what it works with (issue 17): Stripe's the payments service, the carrier's the fulfillment
# service, its event model and the delivery exceptions; a cold start serving one loads none of the other's
if TYPE_CHECKING:
    from shop.fulfillment.models import CarrierEvent

TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 256 * 1024
# How far ahead of our clock a carrier's event time may be (its clock and ours differ a little); anything
# later is refused, since a delivery "in the future" would keep the return window open until then.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# No carrier event predates the shop.
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
INTENT_EVENTS = frozenset({"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"})


class BadSignature(Unauthorized):
    code = "bad_signature"


def once(prefix: str, event_id: str, work: Callable[[], dict[str, Any]], lambda_context: Any = None) -> dict[str, Any]:
    try:
        return idempotency.run_once(work, key_prefix=prefix, data={"event_id": event_id}, event_key="event_id",
                                    expires_after_seconds=7 * 24 * 3600, lambda_context=lambda_context)
    except IdempotencyAlreadyInProgressError as exc:
        raise ServiceBusy(f"event {event_id} is being processed") from exc


def _check_size(body: str) -> None:
    if len(body.encode()) > MAX_BODY_BYTES:
        raise PayloadTooLarge(MAX_BODY_BYTES)


# ------------------------------------------------------------------ Stripe
def stripe_event(body: str, signature: str | None) -> dict[str, Any]:
    _check_size(body)
    if not signature:
        raise BadSignature("missing Stripe-Signature header")
    secret = require_secret("stripe_webhook_secret")
    try:
        stripe.WebhookSignature.verify_header(body, signature, secret, TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise BadSignature("invalid Stripe-Signature") from exc
    event = parse_json(body)  # json.JSONDecodeError: 400 malformed_json
    if not isinstance(event, dict):
        raise InvalidInput("", "a Stripe event is a JSON object")
    return event


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def handle_stripe(event: dict[str, Any], lambda_context: Any = None) -> dict[str, Any]:
    event_id, kind = _text(event.get("id")), event.get("type")
    if event_id is None:
        raise InvalidInput("id", "a Stripe event has an id (a string)")
    if not isinstance(kind, str):
        raise InvalidInput("type", "a Stripe event has a type (a string)")
    if kind not in INTENT_EVENTS:
        return {"event_id": event_id, "type": kind, "handled": False}
    # the payload only points at the order; anything not shaped like a payment intent of ours is ignored (2xx:
    # Stripe would retry a refusal for days), the intent's state is read back from Stripe anyway
    data = event.get("data")
    intent = data.get("object") if isinstance(data, dict) else None
    metadata = intent.get("metadata") if isinstance(intent, dict) else None
    order_id = _text(metadata.get("order_id")) if isinstance(metadata, dict) else None
    intent_id = _text(intent.get("id")) if isinstance(intent, dict) else None
    if not order_id or not intent_id:
        return {"event_id": event_id, "type": kind, "handled": False, "reason": "not a shop order's payment"}

    from shop.payments import service as payments

    def work() -> dict[str, Any]:
        return {"event_id": event_id, "type": kind, "handled": True,
                **payments.on_intent_event(str(order_id), str(intent_id))}

    return once("stripe-webhook", event_id, work, lambda_context)


# ------------------------------------------------------------------ carrier
def carrier_signature(secret: str, timestamp: int, body: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def carrier_event(body: str, signature: str | None, now: float | None = None) -> CarrierEvent:
    from shop.fulfillment.models import CarrierEvent

    _check_size(body)
    secret = optional_secret("carrier_webhook_secret")
    if not secret:
        raise BadSignature("carrier webhooks are not configured (carrier_webhook_secret of SHOP_SECRETS_ARN)")
    if not signature:
        raise BadSignature("missing Carrier-Signature header")
    parts = dict(p.split("=", 1) for p in signature.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        raise BadSignature("invalid Carrier-Signature") from None
    expected = carrier_signature(secret, timestamp, body).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        raise BadSignature("invalid Carrier-Signature")
    if abs((now if now is not None else time.time()) - timestamp) > TOLERANCE_SECONDS:
        raise BadSignature("Carrier-Signature timestamp outside the tolerance")
    data = parse_json(body)  # json.JSONDecodeError: 400 malformed_json
    try:
        event = CarrierEvent.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(".".join(str(p) for p in first["loc"]), first["msg"]) from exc
    occurred = event_time(event.occurred_at, datetime.fromtimestamp(now if now is not None else time.time(), UTC))
    return event.model_copy(update={"occurred_at": occurred})


def event_time(text: str, now: datetime, field: str = "occurred_at") -> str:
    """The carrier's event time as UTC ``YYYY-MM-DDTHH:MM:SSZ``: it must be an ISO 8601 date and time with a
    time zone (shop.timeutil.parse_aware), not before ``EARLIEST_EVENT`` and not after ``now + MAX_CLOCK_SKEW``;
    else InvalidInput(field)."""
    utc = parse_aware(text, field)
    if utc < EARLIEST_EVENT:
        raise InvalidInput(field, f"must not be before {EARLIEST_EVENT.date()}")
    if utc > now + MAX_CLOCK_SKEW:
        raise InvalidInput(field, f"is in the future (more than {int(MAX_CLOCK_SKEW.total_seconds())} s ahead "
                                  "of the shop's clock)")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def handle_carrier(event: CarrierEvent, lambda_context: Any = None) -> dict[str, Any]:
    """The event recorded on its parcel (shop.fulfillment.service.carrier_event); a ``delivered`` one lacking the
    signature its order asked for becomes a delivery exception staff see (shop.orderflow.deliveries)."""
    from shop.fulfillment import service as fulfillment
    from shop.orderflow import deliveries

    def work() -> dict[str, Any]:
        result = fulfillment.carrier_event(event)
        if result.pop("signature_missing", False):
            deliveries.on_delivered(result["order_id"], result["shipment_id"])
            result["needs_attention"] = deliveries.REASON
        return {"event_id": event.event_id, **result}

    return once("carrier-webhook", event.event_id, work, lambda_context)
