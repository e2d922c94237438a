""""Recommended for you" (GET /account/recommendations): from what the shopper bought and what others bought
with it.

Both come from the counts the Analytics function keeps from each paid order (OrderPaid, recorded once per order:
a redelivered event counts nothing twice; at most ``facts.MAX_PAIR_PRODUCTS`` products of an order are paired):
``BOUGHT#<customer>`` (the shopper's products) and ``ALSO#<product>`` (how many paid orders had each other
product with it). The shopper's most recently bought products (at most ``MAX_SEEDS``) are the seeds; a candidate
scores the sum of its co-purchase counts with the seeds (:func:`rank`, pure). What the shopper already bought
and products no longer listed (inactive, out of the catalogue, no active SKU) are left out. When that gives fewer
than ``limit`` (no history, or nothing bought with it yet), the featured products of the categories the shopper
bought from, then of the shop's first categories, fill the list (the newest of a category where nothing is
featured: the shop keeps no best-seller index to fall back on yet).

Reads are queries and key reads only: one query of the shopper's partition, one per seed, one batch read of the
candidates, and one query of the featured (or newest) index per category used for the fallback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shop.analytics import repository as repo
from shop.catalog import service as catalog
from shop.catalog.listing import Sort
from shop.catalog.repository import product_summaries

MAX_SEEDS = 10
MAX_CANDIDATES = 50  # ranked candidates checked against the catalogue (one batch read)
FALLBACK_CATEGORIES = 5
DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class Ranked:
    product_id: str
    score: int  # co-purchase count summed over the seeds
    because: str  # the seed it was bought with most often


def seeds_of(bought: Iterable[tuple[str, int, str]], max_seeds: int = MAX_SEEDS) -> list[str]:
    """The shopper's most recently bought products (then the most often bought), at most ``max_seeds``."""
    ordered = sorted(bought, key=lambda b: (b[2], b[1], b[0]), reverse=True)
    return [product for product, _, _ in ordered[:max_seeds]]


def rank(co_purchases: Mapping[str, Iterable[tuple[str, int]]], exclude: Iterable[str],
         limit: int = MAX_CANDIDATES) -> list[Ranked]:
    """Candidates from each seed's co-purchase counts (seed -> [(other product, orders with both)]): a product's
    score is the sum of its counts over the seeds; ``exclude`` (what the shopper bought, the seeds included) never
    appears. Highest score first, then the product id (a stable order for equal scores)."""
    skip = set(exclude) | set(co_purchases)
    scores: dict[str, int] = {}
    best: dict[str, tuple[int, str]] = {}
    for seed in sorted(co_purchases):
        for other, count in co_purchases[seed]:
            if other in skip or count <= 0:
                continue
            scores[other] = scores.get(other, 0) + count
            if other not in best or count > best[other][0]:
                best[other] = (count, seed)
    ordered = sorted(scores, key=lambda p: (-scores[p], p))[:limit]
    return [Ranked(p, scores[p], best[p][1]) for p in ordered]


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


def bought_together(product_id: str, limit: int = 5) -> list[dict[str, Any]]:
    """"Customers who bought this also bought" on the product page: the products most often in paid orders with it
    (here, not in the report's service, so the product page's cold start loads none of the report's modules)."""
    pairs = sorted(repo.bought_together(product_id), key=lambda p: (-p[1], p[0]))[:limit]
    names = product_summaries([p for p, _ in pairs])
    return [{"product_id": p, "name": names.get(p, {}).get("name"), "orders": n} for p, n in pairs if p in names]


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
