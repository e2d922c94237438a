"""HTTP answers of the inventory admin API (functions/inventory): warehouses, stock levels, the movement ledger.

The shapes are those ``shop.inventory.service`` has always returned. A key the service leaves out when it has
nothing to say (a level's ``bin``; ``shards`` and ``slots`` of an unsharded level; a movement's ``reason`` and
``ref``) is declared with ``exclude_if``: it stays absent from the answer instead of turning into a null.
Request bodies the service does not take as a whole (``ShardsIn``: it takes the count) are here too.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shop.contracts import ResponseModel, absent


class WarehouseView(ResponseModel):
    warehouse_id: str
    name: str
    country: str = Field(description="ISO 3166-1 alpha-2")
    zone: str = Field(description="shipping zone the warehouse ships from")
    priority: int = Field(description="lower is preferred when allocating")


class WarehouseList(ResponseModel):
    items: list[WarehouseView] = Field(description="by priority, then id")


class StockSlotView(ResponseModel):
    """One place units of a sharded level can be reserved from: the pool (``shard`` null) or a shard item."""

    shard: int | None = Field(description="null: the pool on the level item itself")
    available: int
    reserved: int


class WarehouseStockLevel(ResponseModel):
    """Stock of a SKU in one warehouse. on_hand == available + reserved; ``incoming`` is ordered from suppliers
    and not yet received."""

    warehouse_id: str
    on_hand: int
    available: int = Field(description="on hand and not reserved by orders")
    reserved: int = Field(description="held by orders not yet shipped")
    incoming: int = Field(description="ordered from suppliers (submitted purchase orders), not yet received")
    reorder_point: int = Field(description="a restock is ordered when available + incoming falls to this or below")
    reorder_quantity: int = Field(description="units a restock orders (0: no automatic restock)")
    bin: str | None = Field(None, exclude_if=absent, description="storage location; absent when none is set")
    shards: int | None = Field(None, exclude_if=absent, description="shard items the available units are spread "
                                                                     "over; absent when the level is not sharded")
    slots: list[StockSlotView] | None = Field(None, exclude_if=absent,
                                              description="per slot (pool and shards); absent when not sharded")


class SkuStockLevel(WarehouseStockLevel):
    """A level after a change (count, adjustment, resharding), naming its SKU."""

    sku: str


class InventoryStockTotals(ResponseModel):
    on_hand: int
    available: int
    reserved: int


class SkuStock(ResponseModel):
    sku: str
    levels: list[WarehouseStockLevel] = Field(description="per warehouse, by warehouse id")
    totals: InventoryStockTotals = Field(description="sums over the warehouses")


class StockMovement(ResponseModel):
    """One line of the stock ledger: a change of on_hand and why. on_hand is the sum of the level's movements."""

    sku: str
    warehouse_id: str
    delta: int = Field(description="units added (+) or removed (-)")
    kind: Literal["count", "adjustment", "receipt", "supplier_return", "shipment", "customer_return"]
    at: str = Field(description="UTC timestamp")
    reason: str | None = Field(None, exclude_if=absent, description="adjustment reason or count note, if any")
    ref: str | None = Field(None, exclude_if=absent,
                            description="what caused it (purchase order/receipt, order, return), or an adjustment's "
                                        "note")


class StockMovementPage(ResponseModel):
    sku: str
    warehouse_id: str
    on_hand: int
    items: list[StockMovement] = Field(description="newest first")
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


# ------------------------------------------------------------------ request bodies

class ShardsIn(BaseModel):
    """Sharded stock for a hot SKU (see shop.inventory.shards): its available units spread over this many items."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on the rare route's first call (issue 17)

    shards: int = Field(ge=0, le=32, strict=True, description="0 turns sharding off (every shard must be free of "
                                                                "reservations to be removed)")
