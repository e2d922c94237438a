"""Everything a priced cart needs, read in ONE BatchGetItem over four tables (data access).

The cart stores the product id of each line (learned when the line was added), so the keys of every item
needed are known from the cart alone:

- CatalogTable: each line's SKU item and its product's item (price, weight, whether it is sold, category);
- InventoryTable: the stock level of each SKU in each warehouse that holds it (shop.inventory.repository.
  stock_read: where it was found by this container's last read of it in every warehouse, at most
  ``HOLDERS_MAX_AGE_SECONDS`` ago; otherwise in every warehouse of a list at most ``WAREHOUSES_MAX_AGE_SECONDS``
  old, a pair without a level simply not found), and the shard items of levels known to be sharded
  (shop.inventory.shards; a level first seen sharded costs one read more). A cart or checkout that comes up
  short reads every warehouse again before it refuses (fresh_stock);
- PromotionsTable: the sales item, and the cart's coupon with this customer's uses of it.

That is one call for carts of up to 100 keys (``levels + lines + products + 3``, levels being lines x warehouses
on a SKU's first read; more keys take one more call per 100). Checkout (shop.checkout.service) and the cart
view (shop.cart.service) both read this way. A line being added has its product id looked up in the same batch
read as the cart (``cart_and_owner``); lines whose product id is unknown (a cart written before product ids were
stored) cost one lookup more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shop import aws
from shop.cart import repository as carts
from shop.cart.repository import CartRecord
from shop.catalog import repository as catalog
from shop.config import Settings
from shop.dynamo import batch_get_tables, merge_reads
from shop.inventory import repository as inventory
from shop.models import Sku, StockLevel, Warehouse
from shop.promotions import repository as promotions
from shop.promotions.engine import Sale
from shop.promotions.service import Priced, discounts_from


@dataclass(frozen=True)
class Basket:
    """What one batch read found for a cart's lines: SKUs, categories, stock, warehouses and promotions."""

    skus: dict[str, Sku]  # found SKUs; inactive when their product is not sold
    categories: dict[str, str | None]  # product id -> category
    stock: dict[str, list[StockLevel]]  # sku -> its levels in the known warehouses
    warehouses: dict[str, Warehouse]
    sales: list[Sale] | None = None  # None when the shop runs without promotions
    coupon: dict[str, Any] | None = None  # the cart's coupon record, if the cart has one and it exists
    coupon_uses: int = 0  # this customer's uses of that coupon
    owners: dict[str, str] = field(default_factory=dict)  # sku -> product id, as used for the read
    coupon_code: str | None = None  # the coupon code the read was for


def owners_of(codes: list[str], known: dict[str, str]) -> dict[str, str]:
    """sku -> product id for ``codes``: from ``known`` (the cart's), looking up only the others (one call, and
    only when there are any); unknown SKUs are absent."""
    owners = {code: known[code] for code in codes if code in known}
    missing = [code for code in codes if code not in owners]
    if missing:
        owners.update(catalog.sku_products(missing))
    return owners


def cart_and_owner(customer_id: str, code: str, now_epoch: int) -> tuple[CartRecord, dict[str, str]]:
    """The cart (consistently, as shop.cart.repository.get_cart) and the product of SKU ``code`` (sku -> product
    id; empty when no such SKU) in one batch read: a line new to the cart costs no lookup of its own."""
    reads = merge_reads(carts.cart_reads(customer_id), catalog.sku_product_reads([code]))
    with aws.translate_common_errors("read cart"):
        found = batch_get_tables(aws.client("dynamodb"), reads)
    return carts.cart_from_found(customer_id, found, now_epoch), catalog.sku_products_from_found(found)


def read(owners: dict[str, str], settings: Settings, *, customer_id: str | None = None,
         coupon_code: str | None = None) -> Basket:
    """One batch read (see the module docstring)."""
    known = inventory.warehouses(max_age=inventory.WAREHOUSES_MAX_AGE_SECONDS)
    codes = sorted(owners)
    stock_read = inventory.stock_read(codes, list(known))
    reads = merge_reads(catalog.sku_reads(owners), stock_read.reads, promotions.offer_reads(coupon_code, customer_id))
    with aws.translate_common_errors("cart read"):
        found = batch_get_tables(aws.client("dynamodb"), reads) if any(reads.values()) else {}
        inventory.complete_shards(found)
    skus, categories = catalog.skus_from_found(found)
    stock = inventory.stock_from_found(codes, found, stock_read)
    offers = promotions.offers_from_found(found, coupon_code, customer_id)
    return Basket(skus=skus, categories=categories, stock=stock, warehouses=known,
                  sales=offers.sales if offers else None, coupon=offers.coupon if offers else None,
                  coupon_uses=offers.coupon_uses if offers else 0, owners=dict(owners), coupon_code=coupon_code)


def read_stock(codes: list[str], warehouse_ids: list[str], settings: Settings, *,
               everywhere: bool = False) -> dict[str, list[StockLevel]]:
    """Only the stock levels again (one batch read), for a checkout retrying after a lost race: in the warehouses
    known to hold each SKU, or in all of ``warehouse_ids`` (``everywhere``)."""
    stock_read = inventory.stock_read(codes, warehouse_ids, everywhere=everywhere)
    with aws.translate_common_errors("stock lookup"):
        found = batch_get_tables(aws.client("dynamodb"), stock_read.reads) if stock_read.keys else {}
        inventory.complete_shards(found)
    return inventory.stock_from_found(codes, found, stock_read)


def fresh_stock(codes: list[str], settings: Settings) -> tuple[dict[str, list[StockLevel]], dict[str, Warehouse]]:
    """The warehouse list read anew (the copy may predate a warehouse added since) and the stock levels in every
    one of them (not only where each SKU was last seen): what a short cart or checkout looks at before it
    refuses (two calls)."""
    known = inventory.warehouses()
    return read_stock(codes, list(known), settings, everywhere=True), known


def basket_discounts(items: Sequence[tuple[Sku, int]], read: Basket, currency: str) -> Priced | None:
    """The discounts of these lines from what the cart's one batch read found: sales, product categories, the
    coupon and this customer's uses of it (promotions' rules, shop.promotions.service.discounts_from). None
    when the shop runs without promotions. Here rather than in promotions, which stays below the cart."""
    if read.sales is None:
        return None
    return discounts_from(items, read.categories, read.sales, read.coupon_code, read.coupon, read.coupon_uses,
                          currency)
