"""Automatic restock (EventBridge StockLow): at most one draft purchase order per SKU and warehouse, from the
best valid supplier contract (shop.procurement.service.restock). Repeated or concurrent events are safe."""

from __future__ import annotations

from typing import Any

from shop.observability import observability
from shop.procurement import service
from shop.procurement.contracts import RestockOrdered, RestockSkipped
from shop.procurement.models import StockLowEvent

obs = observability("restock", needs=("procurement_table", "inventory_table", "event_bus_name"))


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parsed = StockLowEvent.model_validate(event).detail
    obs.logger.append_keys(sku=parsed.sku, warehouse_id=parsed.warehouse_id)
    result = service.restock(parsed.sku, parsed.warehouse_id)
    obs.count("RestockOrdered" if result["created"] else "RestockSkipped")
    obs.logger.info("restock", extra={"result": result})  # its "created" would clash with the LogRecord's
    return (RestockOrdered if result["created"] else RestockSkipped).emit(result)


handler = obs.entrypoint(_handle)
