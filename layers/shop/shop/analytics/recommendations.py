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

The use case itself, :func:`shop.analytics.for_you.for_customer`, is a module of its own: it needs the catalog's
use cases, which the account function loads only when this route runs, and the product page's
:func:`bought_together` never.

Reads are queries and key reads only: one query of the shopper's partition, one per seed, one batch read of the
candidates, and one query of the featured (or newest) index per category used for the fallback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shop.analytics import repository as repo

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


def bought_together(product_id: str, limit: int = 5) -> list[dict[str, Any]]:
    """"Customers who bought this also bought" on the product page: the products most often in paid orders with it
    (here, not in the report's service, so the product page's cold start loads none of the report's modules)."""
    from shop.catalog.repository import product_summaries  # not by the account function's other routes (issue 17)

    pairs = sorted(repo.bought_together(product_id), key=lambda p: (-p[1], p[0]))[:limit]
    names = product_summaries([p for p, _ in pairs])
    return [{"product_id": p, "name": names.get(p, {}).get("name"), "orders": n} for p, n in pairs if p in names]
