"""Automatic restock, the trigger side: a stock level at or below its reorder point publishes StockLow.

A level needs restocking when reorder_quantity > 0 and available + incoming <= reorder_point (incoming: what
suppliers will deliver, so an open purchase order is not ordered again). Checked where available can fall
or the settings change: after an order is paid (the workflow's split step, for every SKU it sells), on
admin stock counts and adjustments, and on returns to the supplier. The consumer
(shop.procurement.service.restock) re-reads the level and creates at most one draft purchase order per
SKU and warehouse, however many StockLow events arrive at once. StockLow is an inventory fact (published
from the inventory source): this side lives in inventory, so inventory never depends on procurement.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from shop import events
from shop.errors import DependencyFailed
from shop.models import StockLevel

log = Logger(child=True)
PUBLISHED = events.require("StockLow")


def stock_low(level: StockLevel, cause: str) -> dict[str, Any]:
    detail = {"sku": level.sku, "warehouse_id": level.warehouse_id, "available": level.available,
              "incoming": level.incoming, "reorder_point": level.reorder_point,
              "reorder_quantity": level.reorder_quantity, "cause": cause,
              "occurred_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return events.entry("StockLow", detail, subject=f"{level.sku}:{level.warehouse_id}",
                        dedupe_suffix=str(level.position), source=events.INVENTORY_SOURCE)


def publish_if_low(levels: Iterable[StockLevel], cause: str, *, strict: bool = False) -> int:
    """Publish StockLow for each level that needs restocking; returns how many. A failed publish raises
    DependencyFailed when ``strict`` (a retried workflow step publishes again); otherwise it is logged and
    the next sale or stock change of the SKU checks again (the stock change itself stands)."""
    low = [stock_low(level, cause) for level in levels if level.needs_restock]
    if not low:
        return 0
    try:
        events.publish(*low)
    except DependencyFailed:
        if strict:
            raise
        log.warning("StockLow not published; the next stock change re-checks", extra={"count": len(low)})
        return 0
    return len(low)
