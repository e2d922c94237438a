"""Review use cases: list a product's reviews with its rating summary. Posting one (verified buyers only, one per
shopper per product) is shop.reviews.posting, the POST route's module: only it reads the shopper's orders, so
reading reviews loads none of the orders context (issue 17).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shop.catalog.ratings import rating_view
from shop.errors import NotFound
from shop.reviews import repository as repo


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _not_found(product_id: str) -> NotFound:
    return NotFound(f"product '{product_id}' not found")


def _active_product(product_id: str, *, consistent: bool = False) -> dict[str, Any]:
    product = repo.product_summary(product_id, consistent=consistent)
    if product is None or not product.get("active", True):
        raise _not_found(product_id)
    return product


def list_reviews(product_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    product = _active_product(product_id)
    reviews, next_cursor = repo.list_reviews(product_id, limit, cursor)
    return {"product_id": product_id, "summary": rating_view(product),
            "items": [r.view() for r in reviews], "next_cursor": next_cursor}
