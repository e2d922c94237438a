"""Order reads for shoppers (the order alone; with its shipments: shop.orderflow.views), and the status
changes of the order workflow (payment start, confirmation, reservation release). Release is the single
compensation used by the workflow, the sweeper and cancellation: one transaction, conditional on the order
still holding its reservation, so it happens at most once however many callers race. The store and the bus
are read from shop.orders.ports at call time (production: the repository and shop.events)."""

from __future__ import annotations

import time
from typing import Any

from shop.errors import Conflict, NotFound
from shop.orders import repository as repo
from shop.orders.models import Order, OrderStatus
from shop.orders.ports import ports
from shop.orders.status import release_sources

S = OrderStatus
PAID_OR_LATER = frozenset({S.PAID, S.FULFILLING, S.DISPATCHING, S.SHIPPED, S.DELIVERED})


def payment_status(order: Order) -> str:
    if order.refund_id:
        return "refunded"
    if order.status in PAID_OR_LATER:
        return "paid"
    if order.status == S.PAYMENT_FAILED:
        return "failed"
    if order.status == S.PAYMENT_PROCESSING:
        return "requires_action" if order.payment_status == "requires_action" else "processing"
    return order.payment_status or "pending"


def order_view(order: Order) -> dict[str, Any]:
    """The order as its shopper sees it, without its shipments (shop.orderflow.views adds them)."""
    payment: dict[str, Any] = {"status": payment_status(order), "payment_intent_id": order.payment_intent_id,
                               "decline_code": order.decline_code}
    if payment["status"] == "requires_action":
        payment["client_secret"] = order.payment_client_secret
        payment["next_action"] = "authenticate the payment (3-D Secure) with Stripe.js handleNextAction"
    if order.refund_id:
        payment["refund"] = {"refund_id": order.refund_id,
                             "amount": order.refunded.model_dump() if order.refunded else None}
    return {
        "order_id": order.order_id, "status": order.status.value, "created_at": order.created_at,
        "updated_at": order.updated_at, "email": order.email,
        "lines": [{**line.model_dump(mode="json"), "line_total": line.unit_price.times(line.quantity).model_dump()}
                  for line in order.lines],
        "totals": order.totals.model_dump(mode="json"),
        "shipping_address": order.shipping_address.model_dump(mode="json", exclude_none=True),
        "payment": payment,
        "shipments": [],
        "reservation_expires_at": order.reservation_expires_at,
        "timeline": [t.model_dump(mode="json", exclude_none=True) for t in order.timeline],
        **({"signature_required": order.signature_required} if order.signature_required is not None else {}),
    }


def summary_view(order: Order) -> dict[str, Any]:
    return {"order_id": order.order_id, "status": order.status.value, "created_at": order.created_at,
            "totals": order.totals.model_dump(mode="json"),
            "item_count": sum(line.quantity for line in order.lines), "payment_status": payment_status(order)}


def list_for_customer(customer_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    orders, next_cursor = ports.store.list_for_customer(customer_id, limit, cursor)
    return {"items": [summary_view(o) for o in orders], "next_cursor": next_cursor}


def start_payment(order_id: str) -> Order | None:
    """PENDING_PAYMENT -> PAYMENT_PROCESSING (leaves the expiry index). Returns the order to charge, or
    None when the order is already closed (expired, cancelled, failed) and must not be charged.
    A retry finding PAYMENT_PROCESSING or PAID continues with it (the charge itself is idempotent)."""
    try:
        return ports.store.transition(order_id, {S.PENDING_PAYMENT}, S.PAYMENT_PROCESSING, note="payment started")
    except repo.StatusConflict as exc:
        if exc.current == S.PAYMENT_PROCESSING or exc.current in PAID_OR_LATER:
            return ports.store.require_order(order_id)
        return None


def record_payment(order_id: str, *, payment_status: str, decline_code: str | None,
                   extra: dict[str, Any] | None = None) -> None:
    attrs: dict[str, Any] = {"payment_status": payment_status, **(extra or {})}
    if decline_code:
        attrs["decline_code"] = decline_code
    ports.store.set_attributes(order_id, attrs)


class OrderCancelledMeanwhile(Conflict):
    """The workflow's ConfirmOrder step found the order cancelled while the payment was taken (the cancellation
    released the stock and refunded): the step fails with this error, which the state machine catches to end
    the execution (a Catch instead of a Choice state after every confirmation: one state transition less)."""

    code = "order_cancelled_meanwhile"


def confirm_paid(order_id: str, payment_intent_id: str | None) -> dict[str, Any]:
    """PAYMENT_PROCESSING -> PAID and OrderPaid published (again on a retry: consumers dedupe). A retry finding
    the order PAID or further along is fine; one finding it CANCELLED reports that (the cancellation refunds)."""
    try:
        order = ports.store.transition(order_id, {S.PAYMENT_PROCESSING}, S.PAID, note="payment received",
                                set_fields={"payment_status": "succeeded"})
        changed = True
    except repo.StatusConflict as exc:
        if exc.current == S.CANCELLED:
            return {"order_id": order_id, "status": S.CANCELLED, "changed": False}
        if exc.current not in PAID_OR_LATER:
            raise Conflict(f"order {order_id} is {exc.current}, cannot be confirmed",
                           details={"status": exc.current}) from exc
        order, changed = ports.store.require_order(order_id), False
    from shop.orders import event_details  # the publishing steps only: checkout reads order_view (issue 17)

    ports.events.publish(event_details.order_paid(order))
    return {"order_id": order_id, "status": order.status, "changed": changed}


def confirm_paid_step(order_id: str, payment_intent_id: str | None) -> dict[str, Any]:
    """The workflow's confirmation (ConfirmAndSplit; ConfirmOrder in executions started before it): confirm_paid,
    and an order the shopper cancelled meanwhile fails the step with OrderCancelledMeanwhile, which the state
    machine catches to end the workflow (the cancellation released the stock and refunded)."""
    result = confirm_paid(order_id, payment_intent_id)
    if result["status"] == S.CANCELLED:
        raise OrderCancelledMeanwhile(f"order {order_id} was cancelled while it was being paid",
                                      details={"order_id": order_id, "status": "CANCELLED"})
    return result


def release(order_id: str, target: OrderStatus, *, note: str | None = None,
            expired_only: bool = False) -> dict[str, Any]:
    """Release the order's reserved stock and close it with ``target`` (PAYMENT_FAILED, EXPIRED,
    CANCELLED). Idempotent: when the order no longer holds a reservation it is a no-op, {"released": False}."""
    sources = release_sources(target)
    order = ports.store.get_order(order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    if order.status not in sources:
        return {"order_id": order_id, "released": False, "status": order.status}
    released = ports.store.release(order, target, sources, note=note,
                            expired_before=int(time.time()) if expired_only else None)
    final = target if released else ports.store.require_order(order_id).status
    return {"order_id": order_id, "released": released, "status": final}


def fail_payment(order_id: str, reason: str) -> dict[str, Any]:
    """Compensation after a payment that did not complete: release the stock, close the order PAYMENT_FAILED
    and publish PaymentFailed (also when a retry finds it done already: consumers dedupe)."""
    result = release(order_id, S.PAYMENT_FAILED, note=f"payment failed ({reason}), stock released")
    if result["status"] == S.PAYMENT_FAILED:
        from shop.orders import event_details

        ports.events.publish(event_details.payment_failed(ports.store.require_order(order_id), reason))
    return result


def expired_order_ids(limit: int = 100, start: dict[str, Any] | None = None) -> tuple[list[str], dict[str, Any] | None]:
    """A page of expired, unpaid orders and where the next page starts (None: no more)."""
    return ports.store.expired_pending(int(time.time()), limit, start)
