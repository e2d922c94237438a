"""POST /checkout: reserve stock and create the order in one transaction, then start the order workflow.

Requires header Idempotency-Key (8..64 of [A-Za-z0-9_-]); the same key replays the same order (the order is
the idempotency record: see shop.checkout.idempotency).
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from shop.api import JSON, Guard, http_handler, idempotency_key, make_resolver, principal
from shop.checkout import service
from shop.checkout.contracts import PlacedOrder
from shop.checkout.service import CheckoutIn
from shop.observability import observability

obs = observability("checkout", needs=("carts_table", "catalog_table", "inventory_table", "promotions_table",
                                       "orders_table", "order_state_machine_arn", "currency",
                                       "signature_required_above", "payment_auth_timeout_seconds"),
                    optional=("reservation_ttl_seconds", "shipping_rates", "shipping_zones", "tax_rates_bps",
                              "tax_shipping"))
app = make_resolver(obs.logger)
checkout = Router()


@checkout.post("/checkout", status_code=201)
def post_checkout(body: CheckoutIn) -> Response[PlacedOrder]:
    who = principal(app)
    key = idempotency_key(app, required=True)
    obs.logger.append_keys(customer_id=who.user_id, order_id=service.order_id_for(who.user_id, key))
    obs.count("CheckoutStarted")
    result = service.place_order(who.user_id, who.email, key, body, on_event=obs.count)
    obs.logger.info("checkout done", extra={"status": result["status"], "replayed": result.get("replayed")})
    return Response(status_code=201, content_type=JSON, body=result,
                    headers={"Location": f"/orders/{result['order_id']}"})


app.include_router(checkout)


handler = http_handler(app, obs, Guard("/"))
