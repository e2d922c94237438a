"""Inventory admin API (group admin only): warehouses; stock levels per SKU per warehouse with reorder settings;
adjustments with a reason and the stock movement ledger; sharded stock for hot SKUs (shop.inventory.shards)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from shop.api import Guard, http_handler, make_resolver, once_per_key, require_group
from shop.inventory import contracts, service  # contracts: each route's models, on its first request (issue 17)
from shop.models import SkuCode, Slug
from shop.observability import observability

obs = observability("inventory", needs=("inventory_table", "catalog_table", "idempotency_table", "event_bus_name"),
                    optional=("shipping_rates",))
app = make_resolver(obs.logger)
warehouses = Router()
stock = Router()


@warehouses.get("/admin/warehouses")
def list_warehouses() -> contracts.WarehouseList:
    require_group(app, "admin")
    return {"items": service.list_warehouses()}


@warehouses.put("/admin/warehouses/<warehouseId>")
def put_warehouse(warehouseId: Annotated[Slug, Path()], body: contracts.WarehouseIn) -> contracts.WarehouseView:
    require_group(app, "admin")
    obs.logger.append_keys(warehouse_id=warehouseId)
    result = service.put_warehouse(warehouseId, body)
    obs.count("WarehouseSaved")
    return result


@stock.get("/admin/inventory/<sku>")
def get_stock(sku: Annotated[SkuCode, Path()]) -> contracts.SkuStock:
    require_group(app, "admin")
    obs.logger.append_keys(sku=sku)
    return service.get_stock(sku)


@stock.put("/admin/inventory/<sku>/<warehouseId>")
def set_stock(sku: Annotated[SkuCode, Path()], warehouseId: Annotated[Slug, Path()],
              body: contracts.StockIn) -> contracts.SkuStockLevel:
    who = require_group(app, "admin")
    obs.logger.append_keys(sku=sku, warehouse_id=warehouseId)
    result, delta = service.set_stock(sku, warehouseId, body)
    if delta:
        obs.count("StockAdjusted")
        obs.logger.info("stock adjusted", extra={"delta": delta, "on_hand": result["on_hand"], "by": who.user_id})
    return result


@stock.post("/admin/inventory/<sku>/<warehouseId>/adjustments")
def adjust_stock(sku: Annotated[SkuCode, Path()], warehouseId: Annotated[Slug, Path()],
                 body: contracts.AdjustmentIn) -> contracts.SkuStockLevel:
    who = require_group(app, "admin")
    obs.logger.append_keys(sku=sku, warehouse_id=warehouseId)

    def work() -> dict[str, Any]:
        adjusted = service.adjust_stock(sku, warehouseId, body)
        obs.count("StockAdjusted")
        return adjusted

    result = once_per_key(app, who, f"adjust_stock:{sku}:{warehouseId}", body, work)  # a retry adjusts once
    obs.logger.info("stock adjusted", extra={"delta": body.delta, "reason": body.reason, "by": who.user_id})
    return result


@stock.get("/admin/inventory/<sku>/<warehouseId>/movements")
def list_movements(sku: Annotated[SkuCode, Path()], warehouseId: Annotated[Slug, Path()],
                   limit: Annotated[int, Query(ge=1, le=100)] = 50,
                   cursor: Annotated[str | None, Query(max_length=2000)] = None) -> contracts.StockMovementPage:
    require_group(app, "admin")
    return service.movements(sku, warehouseId, limit, cursor)


@stock.put("/admin/inventory/<sku>/<warehouseId>/shards")
def set_shards(sku: Annotated[SkuCode, Path()], warehouseId: Annotated[Slug, Path()],
               body: contracts.ShardsIn) -> contracts.SkuStockLevel:
    who = require_group(app, "admin")
    obs.logger.append_keys(sku=sku, warehouse_id=warehouseId)
    result = service.set_shards(sku, warehouseId, body.shards)
    obs.count("StockResharded")
    obs.logger.info("stock resharded", extra={"shards": body.shards, "by": who.user_id})
    return result


@stock.post("/admin/inventory/<sku>/<warehouseId>/rebalance")
def rebalance(sku: Annotated[SkuCode, Path()], warehouseId: Annotated[Slug, Path()]) -> contracts.SkuStockLevel:
    require_group(app, "admin")
    obs.logger.append_keys(sku=sku, warehouse_id=warehouseId)
    result = service.rebalance(sku, warehouseId)
    obs.count("StockRebalanced")
    return result


app.include_router(warehouses)
app.include_router(stock)


handler = http_handler(app, obs, Guard("/admin/", "admin"))
