"""A product's rating as the shop shows it: the catalog's product views and the reviews listing (which imports
this small module, not the catalog use cases, issue 17)."""

from __future__ import annotations

from typing import Any

from shop.money import round_half_up


def rating_view(product: dict[str, Any]) -> dict[str, Any]:
    count = int(product.get("rating_count", 0))
    total = int(product.get("rating_sum", 0))
    average = round_half_up(total * 10, count) / 10 if count else None
    return {"average": average, "count": count}
