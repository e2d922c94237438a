"""Staff order operations (group admin): GET /admin/orders (filters: status or NEEDS_ATTENTION, email, from/to,
sku; newest first, paginated), GET /admin/orders/{orderId} (everything about one order),
POST /admin/orders/{orderId}/cancel, /refunds (Idempotency-Key required), /notes, /retry and /attention/resolve;
customers:
GET /admin/customers?email= and GET /admin/customers/{customerId}.

The same function receives Step Functions' "Execution Status Change" events of the order workflow (EventBridge,
FAILED / TIMED_OUT / ABORTED) and marks the order as needing attention (shop.orderflow.attention)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from shop.api import JSON, Guard, Principal, http_handler, idempotency_key, make_resolver, once_per_key, require_group
from shop.observability import observability
from shop.orderflow import admin as service
from shop.orderflow import admin_contracts as answers
from shop.orderflow.admin_contracts import (
    AdminOrderFilter,
    AdminOrderPage,
    NoteIn,
    RefundIn,
    ResolveIn,
    ResolveOutcome,
    RetryOutcome,
    StaffNote,
    StaffRefund,
)

# the returns service, the attention list (failed workflows: retry, resolve, their event) and the customer pages
# (users, tickets) are imported by the routes that use them, not by every cold start (issue 17)
obs = observability("orderflow_admin", needs=(
    "orders_table", "inventory_table", "promotions_table", "support_table", "idempotency_table", "event_bus_name",
    "order_state_machine_arn", "payment_auth_timeout_seconds", "user_pool_id", "shop_secrets_arn", "stripe_api_base",
    "stage"))
app = make_resolver(obs.logger)
orders = Router()
actions = Router()
customer_routes = Router()
OrderId = Annotated[str, Path(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]
Instant = Annotated[str | None, Query(max_length=40, description="a date (the whole day, UTC) or a date-time with "
                                                                 "a time zone")]


def admin() -> Principal:
    return require_group(app, "admin")


def created(body: dict[str, Any], location: str) -> Response[Any]:
    return Response(status_code=201, content_type=JSON, body=body, headers={"Location": location})


# ------------------------------------------------------------------ orders
@orders.get("/admin/orders")
def list_orders(status: Annotated[AdminOrderFilter | None, Query()] = None,
                email: Annotated[str | None, Query(min_length=1, max_length=254)] = None,
                created_from: Annotated[str | None, Query(alias="from", max_length=40)] = None,
                created_to: Annotated[str | None, Query(alias="to", max_length=40)] = None,
                sku: Annotated[str | None, Query(pattern=r"^[A-Z0-9][A-Z0-9-]{1,39}$")] = None,
                limit: Limit = 20, cursor: Cursor = None) -> AdminOrderPage:
    """Newest first. ``status`` NEEDS_ATTENTION lists the orders whose workflow failed (whatever their status);
    ``from``/``to`` bound the creation time (a date means the whole day, UTC). A page may hold fewer than
    ``limit`` orders while ``next_cursor`` says more follow."""
    admin()
    return service.list_orders(status=status.value if status else None, email=email, created_from=created_from,
                               created_to=created_to, sku=sku, limit=limit, cursor=cursor,
                               customers_of=_customer_ids)


def _customer_ids(email: str) -> list[str]:
    """The e-mail filter's customer ids (shop.orderflow.customers, imported when a list filters by e-mail)."""
    from shop.orderflow import customers

    return customers.ids_by_email(email)


@orders.get("/admin/orders/<orderId>")
def get_order(orderId: OrderId) -> answers.AdminOrderView:
    from shop.returns import service as returns_service  # the reads' and cancel's returns (issue 17)

    admin()
    obs.logger.append_keys(order_id=orderId)
    return service.detail(orderId, returns_service.views_of_order)


# ------------------------------------------------------------------ actions
@actions.post("/admin/orders/<orderId>/cancel")
def cancel_order(orderId: OrderId) -> answers.AdminOrderView:
    """As the shopper's cancellation: before any parcel is packed (else 409 already_shipping), stock released and
    the payment refunded in full; repeating it is safe."""
    # imported by this rare route, not by the reads' cold starts (the refund's payment service, the workflow's
    # ports; issue 17)
    from shop.orderflow import cancellation
    from shop.returns import service as returns_service  # the reads' and cancel's returns (issue 17)

    who = admin()
    obs.logger.append_keys(order_id=orderId, staff_id=who.user_id)
    view = service.cancel(orderId, returns_service.views_of_order, cancellation.cancel)
    obs.count("OrderCancelledByStaff")
    return view


@actions.post("/admin/orders/<orderId>/refunds", status_code=201)
def refund_order(orderId: OrderId, body: RefundIn) -> Response[StaffRefund]:
    """A partial refund, never above what is left (409 refund_limit_exceeded, enforced in the write). Send an
    Idempotency-Key: the same key refunds once and answers the same refund."""
    who = admin()
    key = idempotency_key(app, required=True)
    assert key is not None
    obs.logger.append_keys(order_id=orderId, staff_id=who.user_id)

    def work() -> dict[str, Any]:
        # the payment adapter: imported by this rare route, not by the reads' cold starts (issue 17)
        from shop.payments.ports import ports as payment_ports

        done = service.refund(orderId, body, key, who.user_id, payment_ports.gateway)
        obs.count("StaffRefund")
        return done

    view = once_per_key(app, who, f"staff_refund:{orderId}", body, work)
    return created(view, f"/admin/orders/{orderId}")


@actions.post("/admin/orders/<orderId>/notes", status_code=201)
def add_note(orderId: OrderId, body: NoteIn) -> Response[StaffNote]:
    """A staff note (author from the token); with an Idempotency-Key a retried request adds it once."""
    who = admin()
    obs.logger.append_keys(order_id=orderId, staff_id=who.user_id)
    view = once_per_key(app, who, f"order_note:{orderId}", body,
                        lambda: service.add_note(orderId, body.text, who.user_id, who.email))
    return created(view, f"/admin/orders/{orderId}")


@actions.post("/admin/orders/<orderId>/retry")
def retry_order(orderId: OrderId) -> RetryOutcome:
    """Resume an order marked NEEDS_ATTENTION: a new workflow execution while no parcel is packed, the
    cancellation's compensation for a cancelled order; 409 not_retryable with the reason otherwise."""
    from shop.orderflow import attention  # see the imports' note (issue 17)

    who = admin()
    obs.logger.append_keys(order_id=orderId, staff_id=who.user_id)

    def work() -> dict[str, Any]:
        done = attention.retry(orderId, who.user_id)
        obs.count("OrderRetried")
        return done

    return once_per_key(app, who, f"order_retry:{orderId}", {}, work)


@actions.post("/admin/orders/<orderId>/attention/resolve")
def resolve_attention(orderId: OrderId, body: ResolveIn) -> ResolveOutcome:
    """Clear the order's needs-attention mark by hand once a person settled it (what a retry cannot: a packed
    parcel, a delivery without the signature); the status is unchanged, the note is kept in the staff history.
    409 not_marked when there is no mark (already resolved or retried)."""
    from shop.orderflow import attention  # see the imports' note (issue 17)

    who = admin()
    obs.logger.append_keys(order_id=orderId, staff_id=who.user_id)

    def work() -> dict[str, Any]:
        done = attention.resolve(orderId, body.note, who.user_id)
        obs.count("OrderAttentionResolved")
        return done

    return once_per_key(app, who, f"order_resolve:{orderId}", body, work)


# ------------------------------------------------------------------ customers
@customer_routes.get("/admin/customers")
def search_customers(email: Annotated[str, Query(min_length=1, max_length=254)]) -> answers.CustomerPage:
    """Customers whose sign-in e-mail starts with ``email`` (at most 20)."""
    from shop.orderflow import customers  # see the imports' note (issue 17)

    admin()
    return customers.search(email)


@customer_routes.get("/admin/customers/<customerId>")
def get_customer(customerId: Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$")]) -> answers.CustomerView:
    from shop.orderflow import customers  # see the imports' note (issue 17)
    from shop.returns import service as returns_service

    admin()
    obs.logger.append_keys(customer_id=customerId)
    return customers.get(customerId, returns_service.views_of_order)


app.include_router(orders)
app.include_router(actions)
app.include_router(customer_routes)

http = http_handler(app, obs, Guard("/admin/", "admin"), Guard("/"))


def _workflow_ended(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from shop.orderflow import attention  # see the imports' note (issue 17)

    result = attention.on_execution_ended(event.get("detail") or {})
    obs.logger.info("order workflow ended", extra=result)
    if result.get("marked"):
        obs.count("OrderNeedsAttention")
    return result


workflow_ended = obs.entrypoint(_workflow_ended)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("source") == "aws.states":
        return dict(workflow_ended(event, context))
    return dict(http(event, context))
