"""Signed webhooks from Stripe and from the carrier: signature check, once-per-event processing.

- Stripe: ``Stripe-Signature`` verified with the endpoint secret (stripe.Webhook.construct_event: HMAC-SHA256
  of "<t>.<payload>", 5 minutes tolerance). The event's payload is only used to find the order: the
  intent's state is read back from Stripe.
- Carrier: ``Carrier-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` with the shared
  secret (CARRIER_WEBHOOK_SECRET), same tolerance. Without a configured secret the carrier endpoint refuses
  every call rather than accepting unsigned ones.
Each event id is processed once (Powertools idempotency on IdempotencyTable); a redelivery gets the first
answer, a concurrent duplicate a 503 so the sender retries later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import stripe
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from pydantic import ValidationError

from shop import idempotency
from shop.config import get_settings
from shop.errors import InvalidInput, PayloadTooLarge, ServiceBusy, Unauthorized
from shop.fulfillment import service as fulfillment
from shop.fulfillment.models import CarrierEvent
from shop.payments import service as payments

TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 256 * 1024
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
    secret = get_settings().require("stripe_webhook_secret")
    try:
        event = stripe.Webhook.construct_event(body, signature, secret, tolerance=TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise BadSignature("invalid Stripe-Signature") from exc
    except ValueError as exc:
        raise InvalidInput("body", "is not a JSON Stripe event") from exc
    return dict(event.to_dict())


def handle_stripe(event: dict[str, Any], lambda_context: Any = None) -> dict[str, Any]:
    event_id = str(event.get("id") or "")
    kind = str(event.get("type") or "")
    if not event_id:
        raise InvalidInput("body.id", "a Stripe event has an id")
    if kind not in INTENT_EVENTS:
        return {"event_id": event_id, "type": kind, "handled": False}
    intent = ((event.get("data") or {}).get("object")) or {}
    order_id = (intent.get("metadata") or {}).get("order_id")
    intent_id = intent.get("id")
    if not order_id or not intent_id:
        return {"event_id": event_id, "type": kind, "handled": False, "reason": "not a shop order's payment"}

    def work() -> dict[str, Any]:
        return {"event_id": event_id, "type": kind, "handled": True,
                **payments.on_intent_event(str(order_id), str(intent_id))}

    return once("stripe-webhook", event_id, work, lambda_context)


# ------------------------------------------------------------------ carrier
def carrier_signature(secret: str, timestamp: int, body: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def carrier_event(body: str, signature: str | None, now: float | None = None) -> CarrierEvent:
    _check_size(body)
    secret = get_settings().carrier_webhook_secret
    if not secret:
        raise BadSignature("carrier webhooks are not configured (CARRIER_WEBHOOK_SECRET)")
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
    try:
        return CarrierEvent.model_validate(json.loads(body))
    except json.JSONDecodeError as exc:
        raise InvalidInput("body", "is not JSON") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput("body." + ".".join(str(p) for p in first["loc"]), first["msg"]) from exc


def handle_carrier(event: CarrierEvent, lambda_context: Any = None) -> dict[str, Any]:
    return once("carrier-webhook", event.event_id, lambda: {"event_id": event.event_id,
                                                            **fulfillment.carrier_event(event)}, lambda_context)
