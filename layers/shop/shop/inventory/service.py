"""Inventory admin: warehouses and on-hand stock per SKU per warehouse.

Setting on-hand stock keeps the invariant on_hand == available + reserved: the difference to the old
on-hand goes to available, conditioned on the old value (optimistic concurrency with a few retries) and on
available staying non-negative, so stock can never be set below what checkout has reserved.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shop.catalog.repository import get_skus
from shop.config import get_settings
from shop.errors import Conflict, InvalidInput, NotFound, ServiceBusy
from shop.inventory import repository as repo
from shop.inventory.models import StockIn, WarehouseIn
from shop.models import StockLevel, Warehouse

SET_STOCK_ATTEMPTS = 5


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def warehouse_view(w: Warehouse) -> dict[str, Any]:
    return w.model_dump()


def level_view(level: StockLevel) -> dict[str, Any]:
    return {"warehouse_id": level.warehouse_id, "on_hand": level.on_hand, "available": level.available,
            "reserved": level.reserved, **({"bin": level.bin} if level.bin else {})}


def put_warehouse(warehouse_id: str, body: WarehouseIn) -> dict[str, Any]:
    zones = set(get_settings().shipping_rates)
    if body.zone not in zones:
        raise InvalidInput("body.zone", f"unknown shipping zone (one of {', '.join(sorted(zones))})")
    warehouse = Warehouse(warehouse_id=warehouse_id, name=body.name, country=body.country, zone=body.zone,
                          priority=body.priority)
    repo.put_warehouse(warehouse, now_iso())
    return warehouse_view(warehouse)


def list_warehouses() -> list[dict[str, Any]]:
    found = sorted(repo.warehouses().values(), key=lambda w: (w.priority, w.warehouse_id))
    return [warehouse_view(w) for w in found]


def _require_sku(sku: str) -> None:
    if sku not in get_skus([sku]):
        raise NotFound(f"sku {sku} not found")


def get_stock(sku: str) -> dict[str, Any]:
    _require_sku(sku)
    levels = sorted(repo.stock_levels([sku]).get(sku, []), key=lambda lv: lv.warehouse_id)
    totals = {"on_hand": sum(lv.on_hand for lv in levels), "available": sum(lv.available for lv in levels),
              "reserved": sum(lv.reserved for lv in levels)}
    return {"sku": sku, "levels": [level_view(lv) for lv in levels], "totals": totals}


def set_stock(sku: str, warehouse_id: str, body: StockIn) -> tuple[dict[str, Any], int]:
    """Set on-hand stock; returns (level view, change in on_hand)."""
    _require_sku(sku)
    if repo.get_warehouse(warehouse_id) is None:
        raise NotFound(f"warehouse {warehouse_id} not found")
    target = body.on_hand
    for _ in range(SET_STOCK_ATTEMPTS):
        current = repo.get_stock(sku, warehouse_id)
        try:
            if current is None:
                repo.create_stock(sku, warehouse_id, target, now_iso(), body.bin)
                level = StockLevel(sku=sku, warehouse_id=warehouse_id, on_hand=target, available=target, reserved=0,
                                   bin=body.bin)
                return {"sku": sku, **level_view(level)}, target
            if target < current.reserved:
                raise Conflict(f"on_hand {target} is below the {current.reserved} units reserved by orders",
                               details={"field": "reserved", "reserved": current.reserved, "on_hand": target})
            if target == current.on_hand and (body.bin is None or body.bin == current.bin):
                return {"sku": sku, **level_view(current)}, 0
            level = repo.set_on_hand(sku, warehouse_id, current.on_hand, target, now_iso(), body.bin)
            return {"sku": sku, **level_view(level)}, target - current.on_hand
        except repo.StockChanged:
            continue
    raise ServiceBusy("stock is changing concurrently, retry shortly")
