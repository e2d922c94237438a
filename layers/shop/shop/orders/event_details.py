"""Event details for the order facts (pure): what shop.event_contracts promises to consumers. The shipment and
warehouse task facts are fulfillment's (shop.fulfillment.event_details), built on :func:`base`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shop import events
from shop.money import Money
from shop.orders.models import Order

PUBLISHED = events.require("OrderPlaced", "OrderPaid", "PaymentFailed", "OrderDelivered", "OrderCancelled",
                           "RefundIssued")

def occurred_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def base(order: Order) -> dict[str, Any]:
    return {"order_id": order.order_id, "customer_id": order.customer_id, "email": order.email,
            "occurred_at": occurred_now()}


def lines(order: Order) -> list[dict[str, Any]]:
    return [{"sku": ln.sku, "product_id": ln.product_id, "name": ln.name, "quantity": ln.quantity,
             "unit_price": ln.unit_price.model_dump()} for ln in order.lines]


def paid_at(order: Order) -> str | None:
    return next((t.at for t in order.timeline if t.status == "PAID"), None)


def order_placed(order: Order) -> dict[str, Any]:
    return events.entry("OrderPlaced", {**base(order), "totals": order.totals.model_dump(mode="json"),
                                        "lines": lines(order)})


def order_paid(order: Order) -> dict[str, Any]:
    return events.entry("OrderPaid", {
        **base(order), "totals": order.totals.model_dump(mode="json"), "lines": lines(order),
        "paid_at": paid_at(order),
        "payment_intent_id": order.payment_intent_id,
        "shipping_address": order.shipping_address.model_dump(mode="json", exclude_none=True)})


def payment_failed(order: Order, reason: str) -> dict[str, Any]:
    return events.entry("PaymentFailed", {**base(order), "reason": reason, "decline_code": order.decline_code,
                                          "total": order.totals.total.model_dump()})


def order_delivered(order: Order, delivered_at: str, deliveries: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``deliveries``: each parcel's delivery and proof (shop.fulfillment.event_details.delivery_of)."""
    return events.entry("OrderDelivered", {**base(order), "delivered_at": delivered_at,
                                           **({"deliveries": deliveries} if deliveries is not None else {})})


def order_cancelled(order: Order, reason: str, refund: Money | None) -> dict[str, Any]:
    return events.entry("OrderCancelled", {**base(order), "reason": reason,
                                           "refund": refund.model_dump() if refund else None})


def refund_issued(order: Order, refund_id: str, amount: Money, reason: str, key: str) -> dict[str, Any]:
    return events.entry("RefundIssued", {**base(order), "refund_id": refund_id, "amount": amount.model_dump(),
                                         "reason": reason, "payment_intent_id": order.payment_intent_id},
                        dedupe_suffix=key)
