"""Signed webhooks (public routes, no Cognito; the signature is the authentication):
POST /webhooks/stripe  (Stripe-Signature)  payment_intent.* events resume the order waiting for 3-D Secure.
POST /webhooks/carrier (Carrier-Signature) picked_up, in_transit, delivered, exception for a tracking number.
Each event id is processed once; see shop.orderflow.webhooks."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from shop.api import field_locations, http_handler, make_resolver
from shop.observability import observability
from shop.orderflow import webhooks
from shop.webhook_contracts import CarrierWebhookAnswer, StripeWebhookAnswer

obs = observability("webhooks", needs=("orders_table", "idempotency_table", "event_bus_name", "shop_secrets_arn",
                                       "stripe_api_base", "stage"))
app = make_resolver(obs.logger)
stripe_hooks = Router()
carrier_hooks = Router()


def _header(name: str) -> str | None:
    headers = app.current_event.headers or {}
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _raw_body() -> str:
    return app.current_event.decoded_body or ""


# the routes read their raw body themselves (it is signed): every field the events name is in the body
@stripe_hooks.post("/webhooks/stripe")
@field_locations(default="body")
def stripe_webhook() -> StripeWebhookAnswer:
    event = webhooks.stripe_event(_raw_body(), _header("Stripe-Signature"))
    obs.logger.append_keys(stripe_event_id=event.get("id"), stripe_event_type=event.get("type"))
    result = webhooks.handle_stripe(event, app.lambda_context)
    obs.count("StripeWebhookHandled" if result.get("handled") else "StripeWebhookIgnored")
    return result


@carrier_hooks.post("/webhooks/carrier")
@field_locations(default="body")
def carrier_webhook() -> CarrierWebhookAnswer:
    event = webhooks.carrier_event(_raw_body(), _header("Carrier-Signature"))
    obs.logger.append_keys(carrier_event_id=event.event_id, tracking_number=event.tracking_number)
    result = webhooks.handle_carrier(event, app.lambda_context)
    obs.logger.append_keys(order_id=result.get("order_id"))
    obs.count(f"CarrierEvent_{event.status}")
    if "workflow_resumed" in result and result["status"] != "PACKED":
        # the scan completed the pickup and handed an order's parcel over (the MarkShipped step's metric once;
        # an exchange's replacement stays PACKED here: its workflow marks it and counts it)
        obs.count("ShipmentShipped")
    return result


app.include_router(stripe_hooks)
app.include_router(carrier_hooks)


# no Guard: the signature is checked per route; bodies up to webhooks.MAX_BODY_BYTES (Stripe events can be large)
handler = http_handler(app, obs, max_body_bytes=webhooks.MAX_BODY_BYTES)
