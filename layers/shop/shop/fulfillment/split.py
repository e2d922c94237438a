"""Order splitting (pure): the reserved lines become shipments, one per warehouse.

Which warehouse ships what was decided at checkout, when the stock was reserved (shop.inventory.allocation:
fewest warehouses for the whole order, then the nearest to the destination (same country, then same
shipping zone), then warehouse priority; a line split across warehouses only when no single chosen
warehouse has enough). Splitting follows those allocations exactly, since that is the
stock that is reserved: one parcel per warehouse, holding every allocation to it (a line split across two
warehouses appears in both parcels with its part of the quantity). Shipments are numbered in the order of
the warehouses' first appearance in the order's lines, so ids are stable across retries.
"""

from __future__ import annotations

from collections.abc import Mapping

from shop.fulfillment.models import Shipment, ShipmentItem, ShipmentStatus
from shop.orders.models import Order


def shipment_id_for(order_id: str, n: int) -> str:
    return f"shp_{order_id.removeprefix('ord_')}_{n}"


def exchange_shipment_id(order_id: str, exchange_id: str) -> str:
    """The replacement parcel of an exchange (a return id ``ret_<hex>``): one per exchange."""
    return f"shp_{order_id.removeprefix('ord_')}_x{exchange_id.removeprefix('ret_')}"


def is_exchange_shipment(shipment_id: str) -> bool:
    """Whether the id is an exchange's replacement parcel (:func:`exchange_shipment_id`)."""
    return shipment_id.rpartition("_")[2].startswith("x")


def task_id_for(shipment_id: str, kind: str) -> str:
    return f"tsk_{shipment_id.removeprefix('shp_')}_{kind}"


def plan_shipments(order: Order, bins: Mapping[tuple[str, str], str], now: str) -> list[Shipment]:
    """``bins`` maps (sku, warehouse) to the storage bin shown on the pick list."""
    by_warehouse: dict[str, list[ShipmentItem]] = {}
    for line in order.lines:
        quantities: dict[str, int] = {}  # a sharded level may hold one line's units in several slots
        for alloc in line.allocations:
            quantities[alloc.warehouse_id] = quantities.get(alloc.warehouse_id, 0) + alloc.quantity
        for warehouse_id, quantity in quantities.items():
            by_warehouse.setdefault(warehouse_id, []).append(ShipmentItem(
                sku=line.sku, name=line.name, quantity=quantity, weight_grams=line.weight_grams,
                bin=bins.get((line.sku, warehouse_id)) or "UNASSIGNED"))
    return [Shipment(shipment_id=shipment_id_for(order.order_id, n), order_id=order.order_id, warehouse_id=wh,
                     status=ShipmentStatus.PICKING, items=items, created_at=now, updated_at=now)
            for n, (wh, items) in enumerate(by_warehouse.items(), start=1)]
