"""The inventory admin API's stock levels: a SKU's levels, a level after a change, and the body that reshards
one (named by ``shop.inventory.contracts``: issue 17). A key the service leaves out when it has nothing to say (a
level's ``bin``; ``shards`` and ``slots`` of an unsharded level) is declared with ``exclude_if``: it stays absent
from the answer instead of turning into a null."""

from pydantic import BaseModel, ConfigDict, Field

from shop.contracts import ResponseModel, absent


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


class ShardsIn(BaseModel):
    """Sharded stock for a hot SKU (see shop.inventory.shards): its available units spread over this many items."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on the rare route's first call (issue 17)

    shards: int = Field(ge=0, le=32, strict=True, description="0 turns sharding off (every shard must be free of "
                                                                "reservations to be removed)")
