"""What one unit costs while a sale runs, as the storefront shows it (the product list and page): the cart's
line of quantity 1, priced by the engine as the cart and checkout price (shop.promotions.service.discounts_from).
Apart from shop.promotions.service so that the cart, checkout and promotions functions do not define it at their
cold start (issue 17); its names resolve from shop.promotions.service as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shop.money import Money
from shop.promotions import engine
from shop.promotions.service import _iso


@dataclass(frozen=True)
class Unit:
    """One unit of something a shopper may buy: ``sku`` as the cart's line would carry it, its product's
    category and its regular price."""

    sku: str
    category: str | None
    price: Money


@dataclass(frozen=True)
class SalePrice:
    """What one unit costs while a sale runs: exactly the cart's line of quantity 1 (the engine decides)."""

    price: Money
    regular_price: Money
    sale: engine.Sale

    def view(self) -> dict[str, Any]:
        return {"price": self.price.model_dump(), "regular_price": self.regular_price.model_dump(),
                "ends_at": _iso(self.sale.ends_at), "sale_id": self.sale.sale_id, "name": self.sale.name}


def sale_prices(units: Sequence[Unit], sales: Sequence[engine.Sale], currency: str,
                now: datetime | None = None) -> dict[str, SalePrice]:
    """sku -> its sale price, for the units a running sale discounts (others are absent). The one pricing
    function: engine.apply, as the cart and checkout call it (shop.promotions.service.discounts_from), on a line
    of one unit each, so the price shown is the price charged for one unit. (Several units of a percentage sale
    are discounted on the line's total, rounded once: a cent may differ from n times the unit's discount.)"""
    now = now or datetime.now(UTC)
    result = engine.apply([engine.Line(sku=u.sku, category=u.category, quantity=1, unit_price=u.price)
                           for u in units], sales, None, now, currency)
    by_id = {s.sale_id: s for s in sales}
    out = {}
    for unit in units:
        found = result.lines.get(unit.sku)
        if found is not None and found.sale_id is not None and found.sale.amount > 0:
            out[unit.sku] = SalePrice(price=unit.price - found.sale, regular_price=unit.price,
                                      sale=by_id[found.sale_id])
    return out


def best_sale(prices: Mapping[str, SalePrice]) -> SalePrice | None:
    """The lowest sale price among these (a product's "on sale from"); ties: the first SKU code."""
    return min(prices.values(), key=lambda p: p.price.amount, default=None) if prices else None
