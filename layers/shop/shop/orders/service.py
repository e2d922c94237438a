"""Order reads for shoppers, and the status changes of the order workflow (payment start, confirmation,
reservation release). Release is the single compensation used by the workflow, the sweeper and (later)
cancellation: one transaction, conditional on the order still holding its reservation, so it happens at
most once however many callers race."""

from __future__ import annotations

import time
from typing import Any

from shop import events
from shop.errors import Conflict, NotFound
from shop.fulfillment import repository as fulfillment_repo
from shop.fulfillment.models import Shipment
from shop.models import Order, OrderStatus
from shop.orders import event_details
from shop.orders import repository as repo
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


def shipment_view(s: Shipment) -> dict[str, Any]:
    return {"shipment_id": s.shipment_id, "warehouse_id": s.warehouse_id, "status": s.status.value,
            "items": [{"sku": i.sku, "name": i.name, "quantity": i.quantity} for i in s.items],
            "package_weight_grams": s.package_weight_grams, "carrier": s.carrier,
            "tracking_number": s.tracking_number, "tracking_url": s.tracking_url,
            "shipping_cost": s.shipping_cost.model_dump() if s.shipping_cost else None,
            "packed_at": s.packed_at, "shipped_at": s.shipped_at, "delivered_at": s.delivered_at,
            "tracking": [t.model_dump(mode="json", exclude_none=True) for t in s.tracking]}


def order_view(order: Order, shipments: list[Shipment] | None = None) -> dict[str, Any]:
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
        "shipments": [shipment_view(s) for s in shipments or []],
        "reservation_expires_at": order.reservation_expires_at,
        "timeline": [t.model_dump(mode="json", exclude_none=True) for t in order.timeline],
    }


def summary_view(order: Order) -> dict[str, Any]:
    return {"order_id": order.order_id, "status": order.status.value, "created_at": order.created_at,
            "totals": order.totals.model_dump(mode="json"),
            "item_count": sum(line.quantity for line in order.lines), "payment_status": payment_status(order)}


def get_for_customer(order_id: str, customer_id: str) -> dict[str, Any]:
    raw, shipments = fulfillment_repo.order_items(order_id) if order_id.startswith("ord_") else (None, [])
    order = repo.from_record(raw) if raw else None
    if order is None or order.customer_id != customer_id:
        # another shopper's order is indistinguishable from a missing one
        raise NotFound(f"order {order_id} not found")
    return order_view(order, shipments)


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
        if exc.current == S.PAYMENT_PROCESSING or exc.current in PAID_OR_LATER:
            return repo.require_order(order_id)
        return None


def record_payment(order_id: str, *, payment_status: str, decline_code: str | None,
                   extra: dict[str, Any] | None = None) -> None:
    attrs: dict[str, Any] = {"payment_status": payment_status, **(extra or {})}
    if decline_code:
        attrs["decline_code"] = decline_code
    repo.set_attributes(order_id, attrs)


def confirm_paid(order_id: str, payment_intent_id: str | None) -> dict[str, Any]:
    """PAYMENT_PROCESSING -> PAID and OrderPaid published (again on a retry: consumers dedupe). A retry finding
    the order PAID or further along is fine; one finding it CANCELLED reports that (the cancellation refunds)."""
    try:
        order = repo.transition(order_id, {S.PAYMENT_PROCESSING}, S.PAID, note="payment received",
                                set_fields={"payment_status": "succeeded"})
        changed = True
    except repo.StatusConflict as exc:
        if exc.current == S.CANCELLED:
            return {"order_id": order_id, "status": S.CANCELLED, "changed": False}
        if exc.current not in PAID_OR_LATER:
            raise Conflict(f"order {order_id} is {exc.current}, cannot be confirmed",
                           details={"status": exc.current}) from exc
        order, changed = repo.require_order(order_id), False
    events.publish(event_details.order_paid(order))
    return {"order_id": order_id, "status": order.status, "changed": changed}


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


def fail_payment(order_id: str, reason: str) -> dict[str, Any]:
    """Compensation after a payment that did not complete: release the stock, close the order PAYMENT_FAILED
    and publish PaymentFailed (also when a retry finds it done already: consumers dedupe)."""
    result = release(order_id, S.PAYMENT_FAILED, note=f"payment failed ({reason}), stock released")
    if result["status"] == S.PAYMENT_FAILED:
        events.publish(event_details.payment_failed(repo.require_order(order_id), reason))
    return result


def expired_order_ids(limit: int = 100, start: dict[str, Any] | None = None) -> tuple[list[str], dict[str, Any] | None]:
    """A page of expired, unpaid orders and where the next page starts (None: no more)."""
    return repo.expired_pending(int(time.time()), limit, start)
