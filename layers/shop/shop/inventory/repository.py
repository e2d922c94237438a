"""Inventory data access (InventoryTable): warehouses and stock levels. Reads shared by cart/checkout."""

from __future__ import annotations

from typing import Any

from shop import aws
from shop.config import get_settings
from shop.dynamo import from_item
from shop.models import StockLevel, Warehouse


def _table() -> str:
    return get_settings().require("inventory_table")


def stock_key(sku: str, warehouse_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"SKU#{sku}"}, "sk": {"S": f"WH#{warehouse_id}"}}


def stock_from_item(data: dict[str, Any]) -> StockLevel:
    return StockLevel(sku=data["sku"], warehouse_id=data["warehouse_id"], on_hand=int(data["on_hand"]),
                      available=int(data["available"]), reserved=int(data["reserved"]))


def warehouse_from_item(data: dict[str, Any]) -> Warehouse:
    return Warehouse(warehouse_id=data["warehouse_id"], name=data["name"], country=data["country"],
                     zone=data["zone"], priority=int(data.get("priority", 100)))


def _query_all(**kwargs: Any) -> list[dict[str, Any]]:
    ddb = aws.client("dynamodb")
    items: list[dict[str, Any]] = []
    while True:
        resp = ddb.query(**kwargs)
        items.extend(from_item(i) for i in resp.get("Items", []))
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def stock_levels(skus: list[str], *, consistent: bool = True) -> dict[str, list[StockLevel]]:
    """Stock of each SKU in every warehouse that has a stock record for it (one query per SKU)."""
    out: dict[str, list[StockLevel]] = {}
    with aws.translate_common_errors("stock lookup"):
        for sku in sorted(set(skus)):
            rows = _query_all(
                TableName=_table(), ConsistentRead=consistent,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :wh)",
                ExpressionAttributeValues={":pk": {"S": f"SKU#{sku}"}, ":wh": {"S": "WH#"}},
            )
            out[sku] = [stock_from_item(r) for r in rows]
    return out


def warehouses() -> dict[str, Warehouse]:
    with aws.translate_common_errors("warehouse lookup"):
        rows = _query_all(
            TableName=_table(), KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "WAREHOUSE"}},
        )
    return {w.warehouse_id: w for w in (warehouse_from_item(r) for r in rows)}
