""""Recommended for you": the use case of GET /account/recommendations (see shop.analytics.recommendations for
how the products are chosen). A module of its own so that only this route loads the catalog's use cases (issue
17): the account function imports it when the route runs."""

from __future__ import annotations

from typing import Any

from shop.analytics import repository as repo
from shop.analytics.recommendations import DEFAULT_LIMIT, FALLBACK_CATEGORIES, rank, seeds_of
from shop.catalog import service as catalog
from shop.catalog.listing import Sort


def _fallback(categories: list[str], exclude: set[str], wanted: int) -> list[dict[str, Any]]:
    """Per category in turn: its featured products, then (a category nobody featured anything in) its newest
    listed ones; one Query of an index each, until ``wanted`` are found."""
    out: list[dict[str, Any]] = []
    page_size = min(wanted + len(exclude), 50)
    for category in categories:
        for reason in ("featured", "new_in_category"):
            if len(out) >= wanted:
                return out
            page = (catalog.featured_products(category, limit=page_size, cursor=None) if reason == "featured" else
                    catalog.list_products(category=category, q=None, min_price=None, max_price=None, sort=Sort.NEWEST,
                                          limit=page_size, cursor=None))
            for item in page["items"]:
                if item["product_id"] not in exclude and len(out) < wanted:
                    out.append({**item, "reason": reason})
                    exclude.add(item["product_id"])
    return out


def for_customer(customer_id: str, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """The shopper's recommendations (see the module docstring)."""
    bought = repo.bought_by(customer_id)
    purchased = {product for product, _, _ in bought}
    seeds = seeds_of(bought)
    ranked = rank({seed: repo.bought_together(seed) for seed in seeds}, purchased)
    listed = catalog.listed_products([r.product_id for r in ranked] + seeds) if (ranked or seeds) else {}
    items: list[dict[str, Any]] = []
    for r in ranked:
        if r.product_id in listed and len(items) < limit:
            items.append({**listed[r.product_id], "reason": "bought_together", "because_of": r.because,
                          "score": r.score})
    if len(items) < limit:
        taken = purchased | {i["product_id"] for i in items}
        own = [str(listed[s]["category"]) for s in seeds if s in listed]
        shop_wide = [c["category_id"] for c in catalog.list_categories()[:FALLBACK_CATEGORIES]]
        categories = list(dict.fromkeys(own + shop_wide))
        items += [{**item, "because_of": None, "score": 0}
                  for item in _fallback(categories, taken, limit - len(items))]
    return {"items": items, "based_on": seeds}
