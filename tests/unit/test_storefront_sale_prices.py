"""The prices shoppers are shown during a sale (issue 16 item 5), without AWS: the storefront's sale price of a unit
is the cart's line of one unit (one pricing function), a product's cheapest SKU stands for all its SKUs under the
product- and category-wide sales, GET /promotions/active's cache lifetime never passes the next start or end, and
only listed, featured products carry the featured index key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from shop.catalog import listing
from shop.models import Sku
from shop.money import Money
from shop.promotions import engine
from shop.promotions import service as promotions

pytestmark = pytest.mark.unit
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def sale(sale_id: str, scope: str, target: str | None = None, *, percent: int | None = None,
         off: int | None = None, starts: timedelta = timedelta(hours=-1), ends: timedelta = timedelta(days=1),
         active: bool = True) -> engine.Sale:
    return engine.Sale(sale_id=sale_id, name=sale_id, scope=scope, target=target,
                       percent_bps=percent * 100 if percent is not None else None,
                       amount_off=eur(off) if off is not None else None, starts_at=NOW + starts, ends_at=NOW + ends,
                       active=active)


SALES = [sale("all", "all", percent=7), sale("cat", "category", "kitchen", percent=15),
         sale("sku", "sku", "A-2", off=333), sale("over", "category", "kitchen", percent=60, ends=timedelta(0)),
         sale("off", "all", percent=80, active=False)]


@pytest.mark.parametrize("price", [1, 2, 99, 1999, 2999, 4999, 10001])
@pytest.mark.parametrize("code", ["A-1", "A-2"])
def test_the_price_shown_is_the_carts_line_of_one_unit(price: int, code: str) -> None:
    sku = Sku(sku=code, product_id="p-1", name="x", options={}, price=eur(price), weight_grams=100)
    shown = promotions.sale_prices([promotions.Unit(code, "kitchen", eur(price))], SALES, "EUR", NOW)
    cart = promotions.discounts_from([(sku, 1)], {"p-1": "kitchen"}, SALES, None, None, 0, "EUR", NOW)
    charged = price - promotions.line_discount(cart, code, "EUR").amount
    if charged == price:  # a discount that rounds to nothing is no sale to show
        assert shown == {}
        return
    assert shown[code].price.amount == charged and shown[code].regular_price == eur(price)
    assert shown[code].sale.sale_id == cart.result.lines[code].sale_id  # the ended and inactive sales never win


def test_no_running_sale_no_price_and_the_view_says_when_it_ends() -> None:
    assert promotions.sale_prices([promotions.Unit("B-1", "garden", eur(500))], SALES[3:], "EUR", NOW) == {}
    shown = promotions.sale_prices([promotions.Unit("B-1", "garden", eur(500))], SALES, "EUR", NOW)["B-1"]
    assert shown.view() == {"price": {"amount": 465, "currency": "EUR"}, "regular_price": {"amount": 500,
                            "currency": "EUR"}, "ends_at": "2026-06-02T12:00:00Z", "sale_id": "all", "name": "all"}


@pytest.mark.parametrize("prices", [(1000, 1001, 5000), (1, 2, 3), (999, 333, 334), (7, 7, 70000)])
def test_the_cheapest_sku_stands_for_every_sku_under_wide_sales(prices: tuple[int, ...]) -> None:
    """What the list shows without reading SKU items ("" at the lowest price) is the lowest of the SKUs' sale prices
    when only product- and category-wide sales run (each sale's price only grows with the regular price)."""
    wide = [s for s in SALES if s.scope != "sku"] + [sale("fixed", "category", "kitchen", off=350)]
    every = promotions.sale_prices([promotions.Unit(f"A-{i}", "kitchen", eur(p)) for i, p in enumerate(prices)],
                                   wide, "EUR", NOW)
    cheapest = promotions.sale_prices([promotions.Unit("", "kitchen", eur(min(prices)))], wide, "EUR", NOW)
    best = promotions.best_sale(every)
    assert best is not None and best.price == cheapest[""].price


def test_active_promotions_cache_never_outlives_the_next_start_or_end(monkeypatch: pytest.MonkeyPatch) -> None:
    records: list[dict[str, Any]] = [
        {"sk": "late", "name": "Late", "scope": "all", "percent": 5, "starts_at": "2026-06-01T11:00:00Z",
         "ends_at": "2026-06-09T00:00:00Z", "active": True},
        {"sk": "early", "name": "Early", "scope": "sku", "target": "A-1", "amount_off": {"amount": 100,
         "currency": "EUR"}, "starts_at": "2026-06-01T11:00:00Z", "ends_at": "2026-06-03T00:00:00Z"},
        {"sk": "next", "name": "Next", "scope": "all", "percent": 9, "starts_at": "2026-06-01T12:00:25Z",
         "ends_at": "2026-06-05T00:00:00Z"},
        {"sk": "usd", "name": "USD", "scope": "all", "amount_off": {"amount": 1, "currency": "USD"},
         "starts_at": "2026-06-01T11:00:00Z", "ends_at": "2026-06-01T12:00:05Z"},  # never applies here
    ]
    monkeypatch.setattr(promotions.repo, "sale_records", lambda **_: records)
    body, max_age = promotions.active_promotions("EUR", NOW)
    assert [s["sale_id"] for s in body["sales"]] == ["early", "late"]
    assert body["sales"][0]["amount_off"] == {"amount": 100, "currency": "EUR"} and body["sales"][1]["percent"] == 5
    assert body["next_change_at"] == "2026-06-01T12:00:25Z" and max_age == 25
    _, later = promotions.active_promotions("EUR", NOW + timedelta(days=10))
    assert later == promotions.ACTIVE_MAX_AGE_SECONDS  # nothing left to change: the longest lifetime


def test_only_a_listed_featured_product_carries_the_featured_key() -> None:
    product = {"product_id": "p-1", "featured": True}
    assert listing.featured_sk(product, listed=True) == "0000100#p-1"
    assert listing.featured_sk({**product, "featured_rank": 7}, listed=True) == "0000007#p-1"
    assert listing.featured_sk({**product, "featured_rank": 7}, listed=False) is None
    assert listing.featured_sk({**product, "featured": False}, listed=True) is None
    query = listing.featured_query("tea")
    assert (query.index, query.hash_value, query.range_attr, query.forward) == (
        "ByCategoryFeatured", "CAT#tea", "featured_sk", True)
