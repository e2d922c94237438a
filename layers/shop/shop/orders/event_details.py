"""Event details for the order and shipment facts (pure): what docs/events.md promises to consumers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shop import events
from shop.fulfillment.models import Shipment, WarehouseTask
from shop.models import Order
from shop.money import Money


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def base(order: Order) -> dict[str, Any]:
    return {"order_id": order.order_id, "customer_id": order.customer_id, "email": order.email,
            "occurred_at": _now()}


def lines(order: Order) -> list[dict[str, Any]]:
    return [{"sku": ln.sku, "product_id": ln.product_id, "name": ln.name, "quantity": ln.quantity,
             "unit_price": ln.unit_price.model_dump()} for ln in order.lines]


def paid_at(order: Order) -> str | None:
    return next((t.at for t in order.timeline if t.status == "PAID"), None)


def items(shipment: Shipment) -> list[dict[str, Any]]:
    return [{"sku": i.sku, "name": i.name, "quantity": i.quantity} for i in shipment.items]


def task_changed(kind: str, task: WarehouseTask) -> dict[str, Any]:
    """WarehouseTaskOpened / WarehouseTaskCompleted (staff tooling, throughput figures; no email)."""
    return events.entry(kind, {
        "order_id": task.order_id, "task_id": task.task_id, "kind": task.kind.value, "status": task.status.value,
        "shipment_id": task.shipment_id, "warehouse_id": task.warehouse_id, "created_at": task.created_at,
        "completed_at": task.completed_at, "completed_by": task.completed_by, "occurred_at": _now()},
        dedupe_suffix=task.task_id)


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


def order_split(order: Order, shipments: list[Shipment]) -> dict[str, Any]:
    return events.entry("OrderSplit", {**base(order), "shipments": [
        {"shipment_id": s.shipment_id, "warehouse_id": s.warehouse_id, "items": items(s)} for s in shipments]})


def shipment_packed(order: Order, s: Shipment) -> dict[str, Any]:
    return events.entry("ShipmentPacked", {
        **base(order), "shipment_id": s.shipment_id, "warehouse_id": s.warehouse_id, "carrier": s.carrier,
        "tracking_number": s.tracking_number, "tracking_url": s.tracking_url,
        "package_weight_grams": s.package_weight_grams,
        "shipping_cost": s.shipping_cost.model_dump() if s.shipping_cost else None, "items": items(s)},
        dedupe_suffix=s.shipment_id)


def shipment_shipped(order: Order, s: Shipment) -> dict[str, Any]:
    return events.entry("ShipmentShipped", {
        **base(order), "shipment_id": s.shipment_id, "warehouse_id": s.warehouse_id, "carrier": s.carrier,
        "tracking_number": s.tracking_number, "tracking_url": s.tracking_url, "shipped_at": s.shipped_at,
        "paid_at": paid_at(order), "units": sum(i.quantity for i in s.items)}, dedupe_suffix=s.shipment_id)


def shipment_tracking(kind: str, order: Order, s: Shipment, event_id: str, description: str | None,
                      location: str | None) -> dict[str, Any]:
    return events.entry(kind, {**base(order), "shipment_id": s.shipment_id, "tracking_number": s.tracking_number,
                               "description": description, "location": location}, dedupe_suffix=event_id)


def shipment_delivered(order: Order, s: Shipment) -> dict[str, Any]:
    return events.entry("ShipmentDelivered", {
        **base(order), "shipment_id": s.shipment_id, "warehouse_id": s.warehouse_id, "carrier": s.carrier,
        "tracking_number": s.tracking_number, "delivered_at": s.delivered_at}, dedupe_suffix=s.shipment_id)


def order_delivered(order: Order, delivered_at: str) -> dict[str, Any]:
    return events.entry("OrderDelivered", {**base(order), "delivered_at": delivered_at})


def order_cancelled(order: Order, reason: str, refund: Money | None) -> dict[str, Any]:
    return events.entry("OrderCancelled", {**base(order), "reason": reason,
                                           "refund": refund.model_dump() if refund else None})


def refund_issued(order: Order, refund_id: str, amount: Money, reason: str, key: str) -> dict[str, Any]:
    return events.entry("RefundIssued", {**base(order), "refund_id": refund_id, "amount": amount.model_dump(),
                                         "reason": reason, "payment_intent_id": order.payment_intent_id},
                        dedupe_suffix=key)
