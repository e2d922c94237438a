"""Catalog data access (CatalogTable). The only catalog code that talks to boto3."""

from __future__ import annotations

from typing import Any

from shop import aws
from shop.config import get_settings
from shop.dynamo import batch_get, from_item, money_from
from shop.models import Sku


def _table() -> str:
    return get_settings().require("catalog_table")


def sku_from_item(data: dict[str, Any]) -> Sku:
    return Sku(
        sku=data["sku"], product_id=data["product_id"], name=data["name"], options=data.get("options") or {},
        price=money_from(data, "price"), weight_grams=int(data["weight_grams"]), active=bool(data.get("active", True)),
    )


def get_skus(codes: list[str]) -> dict[str, Sku]:
    """The SKUs with these codes (unknown codes are simply absent). Two batch reads for any number of codes."""
    if not codes:
        return {}
    ddb = aws.client("dynamodb")
    table = _table()
    with aws.translate_common_errors("catalog lookup"):
        lookups = batch_get(ddb, table, [{"pk": {"S": f"SKU#{c}"}, "sk": {"S": "SKU"}} for c in sorted(set(codes))])
        keys = []
        for raw in lookups:
            item = from_item(raw)
            code = item["pk"].removeprefix("SKU#")
            keys.append({"pk": {"S": f"PRODUCT#{item['product_id']}"}, "sk": {"S": f"SKU#{code}"}})
        skus = [sku_from_item(from_item(raw)) for raw in batch_get(ddb, table, keys)]
    return {s.sku: s for s in skus}
