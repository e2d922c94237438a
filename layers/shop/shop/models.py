"""Entities shared across bounded contexts (SKUs, warehouses, stock levels, allocations, totals, addresses).
An entity with one owner lives in its context (the order in shop/orders/models.py); request/response models live
in each context's contracts module. Table layouts are documented in docs/data-model.md.
"""

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shop.money import Money

SkuCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{1,39}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
# an order id as the shop issues it; here so that every context can validate one without depending on orders
OrderId = Annotated[str, StringConstraints(pattern=r"^ord_[a-z2-7]{10,40}$")]


def unique_skus(lines: Sequence[Any]) -> None:
    """Validators of request bodies with lines: each SKU once."""
    skus = [ln.sku for ln in lines]
    if len(set(skus)) != len(skus):
        raise ValueError("each SKU may appear once")


class Frozen(BaseModel):
    # built when first used (issue 17, cold imports): every context's entities derive from this, and a function
    # imports far more of them than an invocation validates (each model's own build costs ~1 ms at a cold start)
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Sku(Frozen):
    """A sellable variant, as stored in the catalog (pk=PRODUCT#<product_id>, sk=SKU#<sku>)."""

    sku: SkuCode
    product_id: Slug
    name: str
    options: dict[str, str] = Field(default_factory=dict)
    price: Money
    weight_grams: int = Field(gt=0)
    active: bool = True


class Warehouse(Frozen):
    warehouse_id: Slug
    name: str
    country: CountryCode
    zone: str = Field(description="shipping zone the warehouse ships from")
    priority: int = Field(100, description="lower is preferred when allocating")


class StockSlot(Frozen):
    """Where units of a sharded stock level can be reserved: the level item itself (``shard`` None, the pool)
    or one of its shard items."""

    shard: int | None = Field(None, ge=0)
    available: int = Field(ge=0)
    reserved: int = Field(0, ge=0)


class StockLevel(Frozen):
    """Stock of one SKU in one warehouse. Invariants: on_hand == available + reserved, and on_hand equals the
    sum of the level's stock movements (ledger). ``incoming`` is ordered from suppliers, not yet received.

    A hot level may be sharded (``shards`` > 0, see shop.inventory.shards): then ``available`` and ``reserved``
    are the sums over its ``slots`` (the pool on the level item and each shard item)."""

    sku: SkuCode
    warehouse_id: Slug
    on_hand: int = Field(ge=0)
    available: int = Field(ge=0)
    reserved: int = Field(ge=0)
    bin: str | None = Field(None, description="storage location shown on pick lists")
    incoming: int = Field(0, ge=0)
    reorder_point: int = Field(0, ge=0, description="restock when available + incoming falls to this or below")
    reorder_quantity: int = Field(0, ge=0, description="how much to order then (0: no automatic restock)")
    shards: int = Field(0, ge=0, description="shard items the level's available stock is spread over (0: none)")
    slots: list[StockSlot] = Field(default_factory=list, description="per slot, when sharded")

    @property
    def position(self) -> int:
        """What the shop can count on: available now plus what suppliers will deliver."""
        return self.available + self.incoming

    @property
    def needs_restock(self) -> bool:
        return self.reorder_quantity > 0 and self.position <= self.reorder_point


class Address(Frozen):
    name: Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
    line1: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    line2: Annotated[str, StringConstraints(max_length=200)] | None = None
    city: Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=20, strip_whitespace=True)]
    country: CountryCode
    region: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,3}$")] | None = Field(
        None, description="state/province code where tax depends on it (e.g. CA)")


class Totals(Frozen):
    subtotal: Money
    discount: Money
    shipping: Money
    tax: Money
    total: Money


class Allocation(Frozen):
    warehouse_id: Slug
    quantity: int = Field(gt=0)
    shard: int | None = Field(None, ge=0, exclude_if=lambda v: v is None,
                              description="the shard item reserved from (sharded stock levels only)")
