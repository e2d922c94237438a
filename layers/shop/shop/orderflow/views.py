"""Orders with their shipments, as shoppers see them: a query across orders and fulfillment.

Shipments are fulfillment's, and fulfillment depends on orders, so the order view with its parcels is composed
here, above both (shop.orders.service.order_view is the order alone, e.g. right after checkout).
"""

from __future__ import annotations

from typing import Any

from shop.errors import NotFound
from shop.fulfillment import repository as fulfillment_repo
from shop.fulfillment.models import Shipment
from shop.orders import service as orders
from shop.orders.models import Order


def shipment_view(s: Shipment) -> dict[str, Any]:
    return {"shipment_id": s.shipment_id, "warehouse_id": s.warehouse_id, "status": s.status.value,
            "items": [{"sku": i.sku, "name": i.name, "quantity": i.quantity} for i in s.items],
            "package_weight_grams": s.package_weight_grams, "carrier": s.carrier,
            "tracking_number": s.tracking_number, "tracking_url": s.tracking_url,
            "shipping_cost": s.shipping_cost.model_dump() if s.shipping_cost else None,
            "packed_at": s.packed_at, "shipped_at": s.shipped_at, "delivered_at": s.delivered_at,
            **({"delivery_proof": s.delivery_proof.model_dump(mode="json", exclude_none=True)}
               if s.delivery_proof else {}),
            "tracking": [t.model_dump(mode="json", exclude_none=True) for t in s.tracking]}


def order_view(order: Order, shipments: list[Shipment] | None = None) -> dict[str, Any]:
    return {**orders.order_view(order), "shipments": [shipment_view(s) for s in shipments or []]}


def get_for_customer(order_id: str, customer_id: str) -> dict[str, Any]:
    order, shipments = fulfillment_repo.order_items(order_id) if order_id.startswith("ord_") else (None, [])
    if order is None or order.customer_id != customer_id:
        # another shopper's order is indistinguishable from a missing one
        raise NotFound(f"order {order_id} not found")
    return order_view(order, shipments)
