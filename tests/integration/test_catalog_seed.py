"""The demo seed goes through the admin API and can run twice."""

from __future__ import annotations

from typing import Any

import pytest

from shoplocal import seed

pytestmark = pytest.mark.integration


def test_seed_is_idempotent_and_browsable(stack: Any) -> None:
    first = stack.seed_demo()
    second = stack.seed_demo()
    assert second["products_created"] == 0
    assert first["products"] == second["products"] and len(first["products"]) >= 12
    assert len(first["warehouses"]) == 3 and len(first["categories"]) >= 4
    multi = [sku for sku, per_wh in first["stock"].items() if len(per_wh) >= 2]
    assert len(multi) >= 3
    assert min(q for per_wh in first["stock"].values() for q in per_wh.values()) <= 2

    cats = {c["category_id"] for c in stack.request("GET", "/categories").json()["items"]}
    assert set(seed.CATEGORIES[i]["category_id"] for i in range(len(seed.CATEGORIES))) <= cats
    details = stack.request("GET", "/products/colombia-huila").json()
    avail = {s["sku"]: s["available"] for s in details["skus"]}
    assert avail["COL-HUI-250"] == 90  # berlin 60 + paris 20 + newark 10
    coffee = stack.request("GET", "/products", query={"category": "coffee", "sort": "price_asc"}).json()["items"]
    assert [p["product_id"] for p in coffee][:1] == ["colombia-huila"]
