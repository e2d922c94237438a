"""Inventory admin: warehouses and on-hand stock per SKU per warehouse.

Setting on-hand stock keeps the invariant on_hand == available + reserved: the difference to the old
on-hand goes to available, conditioned on the old value (optimistic concurrency with a few retries) and on
available staying non-negative, so stock can never be set below what checkout has reserved.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shop.config import get_settings
from shop.errors import Conflict, InvalidInput, NotFound, ServiceBusy
from shop.inventory import repository as repo
from shop.inventory import shards as shards_rules
from shop.models import StockLevel, Warehouse

if TYPE_CHECKING:
    from shop.inventory.models import AdjustmentIn, StockIn, WarehouseIn

SET_STOCK_ATTEMPTS = 5


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def warehouse_view(w: Warehouse) -> dict[str, Any]:
    return w.model_dump()


def level_view(level: StockLevel) -> dict[str, Any]:
    return {"warehouse_id": level.warehouse_id, "on_hand": level.on_hand, "available": level.available,
            "reserved": level.reserved, "incoming": level.incoming, "reorder_point": level.reorder_point,
            "reorder_quantity": level.reorder_quantity, **({"bin": level.bin} if level.bin else {}),
            **({"shards": level.shards, "slots": [slot.model_dump() for slot in level.slots]} if level.shards else {})}


def put_warehouse(warehouse_id: str, body: WarehouseIn) -> dict[str, Any]:
    zones = set(get_settings().shipping_rates)
    if body.zone not in zones:
        raise InvalidInput("zone", f"unknown shipping zone (one of {', '.join(sorted(zones))})")
    warehouse = Warehouse(warehouse_id=warehouse_id, name=body.name, country=body.country, zone=body.zone,
                          priority=body.priority)
    repo.put_warehouse(warehouse, now_iso())
    return warehouse_view(warehouse)


def list_warehouses() -> list[dict[str, Any]]:
    found = sorted(repo.warehouses().values(), key=lambda w: (w.priority, w.warehouse_id))
    return [warehouse_view(w) for w in found]


def _require_sku(sku: str) -> None:
    # the catalog's repository, and below the restock trigger (with the event contracts it publishes), are
    # imported by the routes that use them: the warehouse, movement and shard routes load neither (issue 17)
    from shop.catalog.repository import get_skus

    if sku not in get_skus([sku]):
        raise NotFound(f"sku {sku} not found")


def get_stock(sku: str) -> dict[str, Any]:
    _require_sku(sku)
    levels = sorted(repo.stock_levels([sku]).get(sku, []), key=lambda lv: lv.warehouse_id)
    totals = {"on_hand": sum(lv.on_hand for lv in levels), "available": sum(lv.available for lv in levels),
              "reserved": sum(lv.reserved for lv in levels)}
    return {"sku": sku, "levels": [level_view(lv) for lv in levels], "totals": totals}


def set_stock(sku: str, warehouse_id: str, body: StockIn) -> tuple[dict[str, Any], int]:
    """Set on-hand stock (a counted quantity: the difference is a movement) and the reorder settings; returns
    (level view, change in on_hand). A level that ends at or below its reorder point triggers a restock."""
    _, delta = _set_on_hand(sku, warehouse_id, body)
    if body.reorder_point is not None or body.reorder_quantity is not None:
        repo.set_reorder(sku, warehouse_id, body.reorder_point, body.reorder_quantity, now_iso())
    level = repo.get_stock(sku, warehouse_id)
    if level is None:
        raise ServiceBusy("stock is changing concurrently, retry shortly")
    from shop.inventory import restock

    restock.publish_if_low([level], "stock set")
    return {"sku": sku, **level_view(level)}, delta


def adjust_stock(sku: str, warehouse_id: str, body: AdjustmentIn) -> dict[str, Any]:
    """Add or remove units with a reason (a movement in the ledger). Refused (409) when it would take away
    units that orders have reserved."""
    if body.delta == 0:
        raise InvalidInput("delta", "an adjustment changes the stock: use a non-zero delta")
    current = repo.get_stock(sku, warehouse_id)
    if current is None:
        raise NotFound(f"no stock of {sku} in warehouse {warehouse_id}")
    _gather(current, -body.delta)
    if not repo.adjust(sku, warehouse_id, body.delta, body.reason, body.note, now_iso()):
        latest = repo.get_stock(sku, warehouse_id)
        available = latest.available if latest else 0
        raise Conflict(f"cannot remove {-body.delta} units: only {available} are not reserved by orders",
                       details={"field": "delta", "available": available})
    level = repo.get_stock(sku, warehouse_id)
    assert level is not None
    from shop.inventory import restock

    restock.publish_if_low([level], f"adjustment ({body.reason})")
    return {"sku": sku, **level_view(level)}


def movements(sku: str, warehouse_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    level = repo.get_stock(sku, warehouse_id)
    if level is None:
        raise NotFound(f"no stock of {sku} in warehouse {warehouse_id}")
    rows, next_cursor = repo.movements(sku, warehouse_id, limit, cursor)
    return {"sku": sku, "warehouse_id": warehouse_id, "on_hand": level.on_hand, "items": rows,
            "next_cursor": next_cursor}


def _set_on_hand(sku: str, warehouse_id: str, body: StockIn) -> tuple[dict[str, Any], int]:
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
            _gather(current, current.on_hand - target)
            level = repo.set_on_hand(sku, warehouse_id, current.on_hand, target, now_iso(), body.bin)
            return {"sku": sku, **level_view(level)}, target - current.on_hand
        except repo.StockChanged:
            continue
    raise ServiceBusy("stock is changing concurrently, retry shortly")


# ---------------------------------------------------------------------------------------------- sharded stock

def _reshard(sku: str, warehouse_id: str, shards: int | None, pool_min: int = 0) -> StockLevel:
    """Spread the level's available units over ``shards`` shards (None: the current number), the pool keeping
    ``pool_min``; retried on a race with reservations."""
    for attempt in range(SET_STOCK_ATTEMPTS):
        level = repo.get_stock(sku, warehouse_id)
        if level is None:
            raise NotFound(f"no stock of {sku} in warehouse {warehouse_id}")
        n = level.shards if shards is None else shards
        busy = [slot.shard for slot in level.slots if slot.shard is not None and slot.shard >= n and slot.reserved]
        if busy:
            raise Conflict(f"shard(s) {', '.join(map(str, busy))} still hold reserved units; they are freed when "
                           "those orders ship or are released", details={"field": "shards", "shards": busy})
        pool, per_shard = shards_rules.distribute(level.available, n, pool_min)
        if repo.reshard(level, n, pool, per_shard, now_iso()):
            return repo.get_stock(sku, warehouse_id) or level
        time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))
    raise ServiceBusy("stock is changing concurrently, retry shortly")


def set_shards(sku: str, warehouse_id: str, shards: int) -> dict[str, Any]:
    """Turn sharding of a hot level on (shards > 0), change the number of shards, or turn it off (0); the
    available units are spread evenly over the shards (shop.inventory.shards)."""
    return {"sku": sku, **level_view(_reshard(sku, warehouse_id, shards))}


def rebalance(sku: str, warehouse_id: str) -> dict[str, Any]:
    """Spread the available units of a sharded level evenly again (the pool's included: receipts, returns and
    adjustments add to the pool, and shards drain unevenly)."""
    return {"sku": sku, **level_view(_reshard(sku, warehouse_id, None))}


def _gather(level: StockLevel, need: int) -> None:
    """Before taking ``need`` units off a sharded level's pool (a count or an adjustment), move available units
    from its shards into the pool so the pool holds them (if the level has them at all)."""
    pool = next((slot for slot in level.slots if slot.shard is None), None)
    if need > 0 and level.shards and pool is not None and pool.available < need <= level.available:
        _reshard(level.sku, level.warehouse_id, None, pool_min=need)
