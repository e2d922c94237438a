"""Inventory data access (InventoryTable): warehouses and stock levels. Reads shared by cart/checkout."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from shop import aws
from shop.config import get_settings
from shop.dynamo import from_item, to_item
from shop.models import StockLevel, Warehouse


def _table() -> str:
    return get_settings().require("inventory_table")


def stock_key(sku: str, warehouse_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"SKU#{sku}"}, "sk": {"S": f"WH#{warehouse_id}"}}


def stock_from_item(data: dict[str, Any]) -> StockLevel:
    return StockLevel(sku=data["sku"], warehouse_id=data["warehouse_id"], on_hand=int(data["on_hand"]),
                      available=int(data["available"]), reserved=int(data["reserved"]),
                      bin=data.get("bin"))


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


# ---------------------------------------------------------------------------------------------- admin writes

class StockChanged(Exception):
    """The stock level changed between read and write (condition on the old on_hand failed)."""


def warehouse_key(warehouse_id: str) -> dict[str, Any]:
    return {"pk": {"S": "WAREHOUSE"}, "sk": {"S": f"WH#{warehouse_id}"}}


def put_warehouse(warehouse: Warehouse, now: str) -> None:
    item = {"pk": "WAREHOUSE", "sk": f"WH#{warehouse.warehouse_id}", **warehouse.model_dump(), "updated_at": now}
    with aws.translate_common_errors("save warehouse"):
        aws.client("dynamodb").put_item(TableName=_table(), Item=to_item(item))


def get_warehouse(warehouse_id: str) -> Warehouse | None:
    with aws.translate_common_errors("read warehouse"):
        resp = aws.client("dynamodb").get_item(TableName=_table(), Key=warehouse_key(warehouse_id),
                                               ConsistentRead=True)
    return warehouse_from_item(from_item(resp["Item"])) if "Item" in resp else None


def get_stock(sku: str, warehouse_id: str) -> StockLevel | None:
    with aws.translate_common_errors("read stock"):
        resp = aws.client("dynamodb").get_item(TableName=_table(), Key=stock_key(sku, warehouse_id),
                                               ConsistentRead=True)
    return stock_from_item(from_item(resp["Item"])) if "Item" in resp else None


def create_stock(sku: str, warehouse_id: str, on_hand: int, now: str, bin: str | None = None) -> None:
    """First stock record of a SKU in a warehouse: on_hand == available, nothing reserved."""
    item = {"pk": f"SKU#{sku}", "sk": f"WH#{warehouse_id}", "sku": sku, "warehouse_id": warehouse_id,
            "on_hand": on_hand, "available": on_hand, "reserved": 0, "updated_at": now,
            **({"bin": bin} if bin else {})}
    try:
        with aws.translate_common_errors("create stock"):
            aws.client("dynamodb").put_item(TableName=_table(), Item=to_item(item),
                                            ConditionExpression="attribute_not_exists(pk)")
    except ClientError as exc:
        if aws.error_code(exc) == "ConditionalCheckFailedException":
            raise StockChanged(sku) from exc
        raise


def set_on_hand(sku: str, warehouse_id: str, old_on_hand: int, new_on_hand: int, now: str,
                bin: str | None = None) -> StockLevel:
    """on_hand := new, available += new - old, conditioned on on_hand still being old and available staying
    >= 0 (so on_hand never drops below reserved). Raises StockChanged when the condition fails."""
    delta = new_on_hand - old_on_hand
    values = {":new": {"N": str(new_on_hand)}, ":delta": {"N": str(delta)}, ":old": {"N": str(old_on_hand)},
              ":neg": {"N": str(-delta)}, ":now": {"S": now}}
    expression = "SET on_hand = :new, available = available + :delta, updated_at = :now"
    if bin:
        expression += ", bin = :bin"
        values[":bin"] = {"S": bin}
    try:
        with aws.translate_common_errors("set stock"):
            resp = aws.client("dynamodb").update_item(
                TableName=_table(), Key=stock_key(sku, warehouse_id), UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk) AND on_hand = :old AND available >= :neg",
                ExpressionAttributeValues=values, ReturnValues="ALL_NEW",
            )
    except ClientError as exc:
        if aws.error_code(exc) == "ConditionalCheckFailedException":
            raise StockChanged(sku) from exc
        raise
    return stock_from_item(from_item(resp["Attributes"]))
