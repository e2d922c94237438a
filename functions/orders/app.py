"""The shopper's own orders: GET /orders (newest first, paginated), GET /orders/{orderId} (status, shipments,
tracking, timeline) and POST /orders/{orderId}/cancel; returns and exchanges of delivered lines (POST
/orders/{orderId}/returns, POST /orders/{orderId}/exchanges, GET /returns/{returnId}, and the return label's
document: GET /returns/{returnId}/label)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from shop.api import JSON, Guard, http_handler, make_resolver, principal
from shop.observability import observability
from shop.orderflow import views
from shop.orders import service
from shop.orders.contracts import OrderPage, OrderView
from shop.returns import answers as returns_answers

obs = observability("orders", needs=("orders_table", "inventory_table", "promotions_table", "catalog_table",
                                     "event_bus_name", "labels_bucket",
                                     "returns_state_machine_arn", "exchanges_state_machine_arn",
                                     "shop_secrets_arn", "stripe_api_base", "stage"),
                    optional=("return_window_days",))
app = make_resolver(obs.logger)
orders = Router()
returns = Router()
# the returns routes name their answers and bodies through shop.returns.answers (imported on the route's first
# request) and import the returns service when they run: an order route's cold start loads neither (issue 17)


@orders.get("/orders")
def list_orders(limit: Annotated[int, Query(ge=1, le=100)] = 20,
                cursor: Annotated[str | None, Query(max_length=2000)] = None) -> OrderPage:
    who = principal(app)
    return service.list_for_customer(who.user_id, limit, cursor)


@orders.get("/orders/<orderId>")
def get_order(orderId: Annotated[str, Path(min_length=1, max_length=64)]) -> OrderView:
    who = principal(app)
    obs.logger.append_keys(order_id=orderId)
    return views.get_for_customer(orderId, who.user_id)


@orders.post("/orders/<orderId>/cancel")
def cancel_order(orderId: Annotated[str, Path(min_length=1, max_length=64)]) -> OrderView:
    """Cancel before any parcel is packed: stock released, payment refunded in full. Repeating it is safe;
    once shipping has started the answer is 409 already_shipping."""
    # imported by the rare routes that use them, not by the GET routes' cold starts (the refund's payment
    # service, the workflow's ports; issue 17)
    from shop.orderflow import cancellation

    who = principal(app)
    obs.logger.append_keys(order_id=orderId)
    view = cancellation.cancel(orderId, reason="customer", customer_id=who.user_id)
    obs.count("OrderCancelled")
    return view


@returns.post("/orders/<orderId>/returns", status_code=201)
def request_return(orderId: Annotated[str, Path(min_length=1, max_length=64)],
                   body: returns_answers.ReturnIn) -> Response[returns_answers.ReturnView]:
    from shop.returns import service as returns_service

    who = principal(app)
    obs.logger.append_keys(order_id=orderId)
    view = returns_service.request_return(orderId, who.user_id, body)
    obs.count("ReturnRequested")
    return Response(status_code=201, content_type=JSON, body=view,
                    headers={"Location": f"/returns/{view['return_id']}"})


@returns.post("/orders/<orderId>/exchanges", status_code=201)
def request_exchange(orderId: Annotated[str, Path(min_length=1, max_length=64)],
                     body: returns_answers.ExchangeIn) -> Response[returns_answers.ReturnView]:
    """Exchange delivered units of one line for another SKU (size, colour) of the same product: a return of
    kind ``exchange``, followed at GET /returns/{returnId}. 422 naming the field (not delivered, too many units,
    another product), 409 ``out_of_stock`` (``details.field`` replacement_sku) or ``return_quantity_exceeded``
    (a concurrent request took the units)."""
    from shop.returns import exchanges  # a rare route's module (see cancel_order)

    who = principal(app)
    obs.logger.append_keys(order_id=orderId)
    view = exchanges.request_exchange(orderId, who.user_id, body)
    obs.count("ExchangeRequested")
    return Response(status_code=201, content_type=JSON, body=view,
                    headers={"Location": f"/returns/{view['return_id']}"})


@returns.get("/returns/<returnId>")
def get_return(returnId: Annotated[str, Path(min_length=1, max_length=64)]) -> returns_answers.ReturnView:
    from shop.returns import service as returns_service

    who = principal(app)
    return returns_service.get_for_customer(returnId, who.user_id)


@returns.get("/returns/<returnId>/label")
def get_return_label(returnId: Annotated[str, Path(min_length=1, max_length=64)]) -> returns_answers.ReturnLabelLink:
    """A short-lived link to the return label's PDF (issued by the returns workflow), for the shopper to print."""
    from shop.returns import service as returns_service

    who = principal(app)
    return returns_service.label_link_for_customer(returnId, who.user_id)


app.include_router(orders)
app.include_router(returns)


handler = http_handler(app, obs, Guard("/"))
