"""Order reads for shoppers, and the status changes of the order workflow (payment start, confirmation,
reservation release). Release is the single compensation used by the workflow, the sweeper and (later)
cancellation: one transaction, conditional on the order still holding its reservation, so it happens at
most once however many callers race."""

from __future__ import annotations

import time
from typing import Any

from shop.errors import Conflict, NotFound
from shop.models import Order, OrderStatus
from shop.orders import repository as repo
from shop.orders.status import release_sources

S = OrderStatus


def payment_status(order: Order) -> str:
    if order.status == S.PAID:
        return "paid"
    if order.status == S.PAYMENT_FAILED:
        return "failed"
    if order.status == S.PAYMENT_PROCESSING:
        return "processing"
    return order.payment_status or "pending"


def order_view(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.order_id, "status": order.status.value, "created_at": order.created_at,
        "updated_at": order.updated_at, "email": order.email,
        "lines": [{**line.model_dump(mode="json"), "line_total": line.unit_price.times(line.quantity).model_dump()}
                  for line in order.lines],
        "totals": order.totals.model_dump(mode="json"),
        "shipping_address": order.shipping_address.model_dump(mode="json", exclude_none=True),
        "payment": {"status": payment_status(order), "payment_intent_id": order.payment_intent_id,
                    "decline_code": order.decline_code},
        "reservation_expires_at": order.reservation_expires_at,
        "timeline": [t.model_dump(mode="json", exclude_none=True) for t in order.timeline],
    }


def summary_view(order: Order) -> dict[str, Any]:
    return {"order_id": order.order_id, "status": order.status.value, "created_at": order.created_at,
            "totals": order.totals.model_dump(mode="json"),
            "item_count": sum(line.quantity for line in order.lines), "payment_status": payment_status(order)}


def get_for_customer(order_id: str, customer_id: str) -> dict[str, Any]:
    order = repo.get_order(order_id, consistent=False) if order_id.startswith("ord_") else None
    if order is None or order.customer_id != customer_id:
        # another shopper's order is indistinguishable from a missing one
        raise NotFound(f"order {order_id} not found")
    return order_view(order)


def list_for_customer(customer_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    orders, next_cursor = repo.list_for_customer(customer_id, limit, cursor)
    return {"items": [summary_view(o) for o in orders], "next_cursor": next_cursor}


def start_payment(order_id: str) -> Order | None:
    """PENDING_PAYMENT -> PAYMENT_PROCESSING (leaves the expiry index). Returns the order to charge, or
    None when the order is already closed (expired, cancelled, failed) and must not be charged.
    A retry finding PAYMENT_PROCESSING or PAID continues with it (the charge itself is idempotent)."""
    try:
        return repo.transition(order_id, {S.PENDING_PAYMENT}, S.PAYMENT_PROCESSING, note="payment started")
    except repo.StatusConflict as exc:
        if exc.current in (S.PAYMENT_PROCESSING, S.PAID):
            return repo.require_order(order_id)
        return None


def record_payment(order_id: str, *, payment_status: str, decline_code: str | None) -> None:
    attrs: dict[str, Any] = {"payment_status": payment_status}
    if decline_code:
        attrs["decline_code"] = decline_code
    repo.set_attributes(order_id, attrs)


def confirm_paid(order_id: str, payment_intent_id: str | None) -> dict[str, Any]:
    """PAYMENT_PROCESSING -> PAID; idempotent when already PAID."""
    try:
        order = repo.transition(order_id, {S.PAYMENT_PROCESSING}, S.PAID, note="payment received",
                                set_fields={"payment_status": "succeeded"})
        return {"order_id": order_id, "status": order.status, "changed": True}
    except repo.StatusConflict as exc:
        if exc.current == S.PAID:
            return {"order_id": order_id, "status": S.PAID, "changed": False}
        raise Conflict(f"order {order_id} is {exc.current}, cannot be confirmed",
                       details={"status": exc.current}) from exc


def release(order_id: str, target: OrderStatus, *, note: str | None = None,
            expired_only: bool = False) -> dict[str, Any]:
    """Release the order's reserved stock and close it with ``target`` (PAYMENT_FAILED, EXPIRED,
    CANCELLED). Idempotent: when the order no longer holds a reservation it is a no-op, {"released": False}."""
    sources = release_sources(target)
    order = repo.get_order(order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    if order.status not in sources:
        return {"order_id": order_id, "released": False, "status": order.status}
    released = repo.release(order, target, sources, note=note,
                            expired_before=int(time.time()) if expired_only else None)
    final = target if released else repo.require_order(order_id).status
    return {"order_id": order_id, "released": released, "status": final}


def expired_order_ids(limit: int = 100) -> list[str]:
    return repo.expired_pending(int(time.time()), limit)
