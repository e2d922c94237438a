"""The shopper's views of the catalogue: the product page (the product with the available stock of its SKUs
and, where the shop runs analytics, "customers who bought this also bought"), and the running sales' prices on
the product page, the product list and search, and a category's featured products.

It composes four contexts (catalog, inventory, analytics, promotions), so it sits above all of them: the
catalogue itself depends on none of them (inventory checks SKUs against the catalogue, analytics names products
from it, promotions price what the catalogue sells).

Sale prices come from the one pricing function the cart and checkout use (shop.promotions.service.sale_prices:
the engine on a line of one unit), over this container's copy of the sales (at most
shop.promotions.repository.SALES_MAX_AGE_SECONDS old; whether a sale runs is decided at each request). Reads: the
product page adds none to its own (the copy, or one GetItem of the sales item when it is older); a list page adds
the same, plus, only while a SKU sale runs for a product on the page, one batch read of those SKUs (and once per
container one of their lookups).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shop.analytics.recommendations import bought_together
from shop.catalog import service as catalog
from shop.config import get_settings
from shop.inventory.repository import stock_levels
from shop.money import Money
from shop.promotions import engine
from shop.promotions import service as promotions


def _sales() -> list[engine.Sale]:
    """The sales that can apply (none when the shop runs without promotions)."""
    settings = get_settings()
    return promotions.storefront_sales(settings.currency) if settings.promotions_table else []


def _money(amount: Any, currency: Any) -> Money:
    return Money(amount=int(amount), currency=str(currency))


def with_sales(page: dict[str, Any]) -> dict[str, Any]:
    """A list page (products as listed) with each discounted product's lowest sale price (``sale``). A product's
    SKUs share its category, so an every-product or category sale discounts its cheapest SKU the most: its price
    is the product's ``price_from``; a SKU sale is priced on that SKU, read only when its product is on the page."""
    now = datetime.now(UTC)
    sales = [s for s in _sales() if s.running(now)]
    items = page["items"]
    if not sales or not items:
        return page
    currency = get_settings().currency
    targets = catalog.skus_of_products(promotions.sku_targets(sales, now), {i["product_id"] for i in items})
    for item in items:
        pid = item["product_id"]
        # "" (no SKU code is empty) stands for the cheapest SKU under the product- and category-wide sales
        units = [promotions.Unit("", item["category"], _money(item["price_from"]["amount"],
                                                              item["price_from"]["currency"]))]
        units += [promotions.Unit(code, item["category"], sku.price) for code, sku in sorted(targets.items())
                  if sku.product_id == pid and sku.active]
        best = promotions.best_sale(promotions.sale_prices(units, sales, currency, now))
        if best is not None:
            item["sale"] = best.view()
    return page


def list_products(**query: Any) -> dict[str, Any]:
    """GET /products: browse or search (shop.catalog.service.list_products) with the running sales' prices."""
    return with_sales(catalog.list_products(**query))


def featured(category: str, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """A category's featured products for the home page, with the running sales' prices."""
    return with_sales(catalog.featured_products(category, limit=limit, cursor=cursor))


def get_product(product_id: str) -> dict[str, Any]:
    product, active = catalog.sold_product(product_id)
    levels = stock_levels([s["sku"] for s in active], consistent=False) if active else {}
    available = {code: sum(lv.available for lv in rows) for code, rows in levels.items()}
    view = catalog.product_view(product, active, available)
    view.pop("active")
    sales = _sales()
    if sales and view["skus"]:
        units = [promotions.Unit(s["sku"], product["category"], _money(s["price"]["amount"], s["price"]["currency"]))
                 for s in view["skus"]]
        prices = promotions.sale_prices(units, sales, get_settings().currency)
        for sku in view["skus"]:
            if sku["sku"] in prices:
                sku["sale"] = prices[sku["sku"]].view()
        best = promotions.best_sale(prices)
        if best is not None:
            view["sale"] = best.view()
    if get_settings().analytics_table:
        # "customers who bought this also bought": counts kept up to date from paid orders (one query)
        view["also_bought"] = bought_together(product_id)
    return view
