"""The shopper's product page: the catalogue's product with the available stock of its SKUs and, where the
shop runs analytics, "customers who bought this also bought".

It composes three contexts (catalog, inventory, analytics), so it sits above all three: the catalogue itself
depends on none of them (inventory checks SKUs against the catalogue, analytics names products from it).
"""

from __future__ import annotations

from typing import Any

from shop.analytics.service import bought_together
from shop.catalog import service as catalog
from shop.config import get_settings
from shop.inventory.repository import stock_levels


def get_product(product_id: str) -> dict[str, Any]:
    product, active = catalog.sold_product(product_id)
    levels = stock_levels([s["sku"] for s in active], consistent=False) if active else {}
    available = {code: sum(lv.available for lv in rows) for code, rows in levels.items()}
    view = catalog.product_view(product, active, available)
    view.pop("active")
    if get_settings().analytics_table:
        # "customers who bought this also bought": counts kept up to date from paid orders (one query)
        view["also_bought"] = bought_together(product_id)
    return view
