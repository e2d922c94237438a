"""Event details for the shipment and warehouse task facts (pure): what docs/events.md promises to consumers.
Each builds on the order's common fields (shop.orders.event_details.base)."""

from __future__ import annotations

from typing import Any

from shop import events
from shop.fulfillment.models import Shipment, WarehouseTask
from shop.orders.event_details import base, occurred_now, paid_at
from shop.orders.models import Order

PUBLISHED = events.require("WarehouseTaskOpened", "WarehouseTaskCompleted", "OrderSplit", "ShipmentPacked",
                           "ShipmentShipped", "ShipmentInTransit", "ShipmentException", "ShipmentDelivered")

def items(shipment: Shipment) -> list[dict[str, Any]]:
    return [{"sku": i.sku, "name": i.name, "quantity": i.quantity} for i in shipment.items]


def task_changed(kind: str, task: WarehouseTask) -> dict[str, Any]:
    """WarehouseTaskOpened / WarehouseTaskCompleted (staff tooling, throughput figures; no email)."""
    return events.entry(kind, {
        "order_id": task.order_id, "task_id": task.task_id, "kind": task.kind.value, "status": task.status.value,
        "shipment_id": task.shipment_id, "warehouse_id": task.warehouse_id, "created_at": task.created_at,
        "completed_at": task.completed_at, "completed_by": task.completed_by, "occurred_at": occurred_now()},
        dedupe_suffix=task.task_id)


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
        "tracking_number": s.tracking_number, "delivered_at": s.delivered_at, **s.proof_fields()},
        dedupe_suffix=s.shipment_id)
