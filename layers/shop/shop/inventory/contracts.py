"""HTTP answers of the inventory admin API (functions/inventory): warehouses, stock levels, the movement ledger.

The shapes are those ``shop.inventory.service`` has always returned. A key the service leaves out when it has
nothing to say (a level's ``bin``; ``shards`` and ``slots`` of an unsharded level; a movement's ``reason`` and
``ref``) is declared with ``exclude_if``: it stays absent from the answer instead of turning into a null.
Request bodies the service does not take as a whole (``ShardsIn``: it takes the count) are here too.
"""

from shop import lazy

# each group is a module of its own, imported on the first access to one of its names (issue 17): the routes
# name their answers and bodies ``contracts.X``, which Powertools resolves on the route's first request (or when
# the OpenAPI document is made), so a cold start builds the models of the route it serves only
_GROUPS = {
    "shop.inventory.warehouse_contracts": ("WarehouseView", "WarehouseList"),
    "shop.inventory.level_contracts": ("StockSlotView", "WarehouseStockLevel", "SkuStockLevel",
                                       "InventoryStockTotals", "SkuStock", "ShardsIn"),
    "shop.inventory.movement_contracts": ("StockMovement", "StockMovementPage"),
    "shop.inventory.models": ("WarehouseIn", "StockIn", "AdjustmentIn"),  # the other request bodies
}


__getattr__ = lazy.attributes_from(__name__, _GROUPS)

