"""Inventory data access (InventoryTable): warehouses and stock levels. Reads shared by cart/checkout."""

from __future__ import annotations

import time
import uuid
from typing import Any

from shop import aws
from shop.config import get_settings
from shop.dynamo import encode_cursor, from_item, page_query, to_item
from shop.models import StockLevel, Warehouse


def _table() -> str:
    return get_settings().require("inventory_table")


def stock_key(sku: str, warehouse_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"SKU#{sku}"}, "sk": {"S": f"WH#{warehouse_id}"}}


def stock_from_item(data: dict[str, Any]) -> StockLevel:
    return StockLevel(sku=data["sku"], warehouse_id=data["warehouse_id"], on_hand=int(data["on_hand"]),
                      available=int(data["available"]), reserved=int(data["reserved"]),
                      bin=data.get("bin"), incoming=int(data.get("incoming", 0)),
                      reorder_point=int(data.get("reorder_point", 0)),
                      reorder_quantity=int(data.get("reorder_quantity", 0)))


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


# Warehouses change rarely (a new site, a changed priority), so hot paths may use a copy this many seconds old:
# checkout and the cart read their stock rows by key (SKU x known warehouse) in one batch read. A checkout that
# comes up short re-reads the warehouses before it refuses, so stock in a warehouse added a moment ago is
# never missed (see shop.checkout.service).
WAREHOUSES_MAX_AGE_SECONDS = 60.0
_warehouses_seen: tuple[float, dict[str, Warehouse]] | None = None


def warehouses(*, max_age: float = 0.0) -> dict[str, Warehouse]:
    """Every warehouse; with ``max_age`` > 0 a copy read at most that many seconds ago may be returned."""
    global _warehouses_seen
    seen = _warehouses_seen
    if max_age > 0 and seen is not None and time.monotonic() - seen[0] <= max_age:
        return dict(seen[1])
    with aws.translate_common_errors("warehouse lookup"):
        rows = _query_all(
            TableName=_table(), KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "WAREHOUSE"}},
        )
    found = {w.warehouse_id: w for w in (warehouse_from_item(r) for r in rows)}
    _warehouses_seen = (time.monotonic(), found)
    return dict(found)


def stock_read_keys(skus: list[str], warehouse_ids: list[str]) -> list[dict[str, Any]]:
    """The stock level keys of every (SKU, warehouse) pair; pairs without a level are simply not found."""
    return [stock_key(sku, wid) for sku in sorted(set(skus)) for wid in sorted(warehouse_ids)]


def stock_from_rows(skus: list[str], raws: list[dict[str, Any]]) -> dict[str, list[StockLevel]]:
    out: dict[str, list[StockLevel]] = {sku: [] for sku in skus}
    for level in sorted((stock_from_item(from_item(raw)) for raw in raws), key=lambda lv: lv.warehouse_id):
        out.setdefault(level.sku, []).append(level)
    return out


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


MOVEMENT_KINDS = frozenset({"count", "adjustment", "receipt", "supplier_return", "shipment", "customer_return"})


def ledger_pk(sku: str, warehouse_id: str) -> str:
    return f"LEDGER#{sku}#{warehouse_id}"


def movement_action(sku: str, warehouse_id: str, delta: int, kind: str, now: str, *, reason: str | None = None,
                    ref: str | None = None, table: str | None = None) -> dict[str, Any]:
    """A Put of one stock movement (a ledger line: the change of on_hand and why). Every write that changes
    on_hand carries one in the same transaction, so on_hand always equals the sum of its movements."""
    if kind not in MOVEMENT_KINDS:
        raise ValueError(f"unknown movement kind {kind}")
    item = {"pk": ledger_pk(sku, warehouse_id), "sk": f"{now}#{uuid.uuid4().hex[:10]}", "sku": sku,
            "warehouse_id": warehouse_id, "delta": delta, "kind": kind, "at": now,
            **({"reason": reason} if reason else {}), **({"ref": ref} if ref else {})}
    return {"Put": {"TableName": table or _table(), "Item": to_item(item),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def _transact(actions: list[dict[str, Any]], what: str) -> list[str] | None:
    return aws.transact_codes(actions, what)


def create_stock(sku: str, warehouse_id: str, on_hand: int, now: str, bin: str | None = None) -> None:
    """First stock record of a SKU in a warehouse: on_hand == available, nothing reserved; the opening count
    is its first movement."""
    item = {"pk": f"SKU#{sku}", "sk": f"WH#{warehouse_id}", "sku": sku, "warehouse_id": warehouse_id,
            "on_hand": on_hand, "available": on_hand, "reserved": 0, "updated_at": now,
            **({"bin": bin} if bin else {})}
    actions = [{"Put": {"TableName": _table(), "Item": to_item(item),
                        "ConditionExpression": "attribute_not_exists(pk)"}}]
    if on_hand:
        actions.append(movement_action(sku, warehouse_id, on_hand, "count", now, reason="opening count"))
    if _transact(actions, "create stock") is not None:
        raise StockChanged(sku)


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
    actions = [{"Update": {
        "TableName": _table(), "Key": stock_key(sku, warehouse_id), "UpdateExpression": expression,
        "ConditionExpression": "attribute_exists(pk) AND on_hand = :old AND available >= :neg",
        "ExpressionAttributeValues": values}}]
    if delta:
        actions.append(movement_action(sku, warehouse_id, delta, "count", now, reason="stock count"))
    if _transact(actions, "set stock") is not None:
        raise StockChanged(sku)
    level = get_stock(sku, warehouse_id)
    if level is None:
        raise StockChanged(sku)
    return level


def set_reorder(sku: str, warehouse_id: str, reorder_point: int | None, reorder_quantity: int | None,
                now: str) -> None:
    sets, values = ["updated_at = :now"], {":now": {"S": now}}
    if reorder_point is not None:
        sets.append("reorder_point = :rp")
        values[":rp"] = {"N": str(reorder_point)}
    if reorder_quantity is not None:
        sets.append("reorder_quantity = :rq")
        values[":rq"] = {"N": str(reorder_quantity)}
    with aws.translate_common_errors("set reorder"):
        aws.client("dynamodb").update_item(TableName=_table(), Key=stock_key(sku, warehouse_id),
                                           UpdateExpression="SET " + ", ".join(sets),
                                           ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues=values)


def adjust(sku: str, warehouse_id: str, delta: int, reason: str, note: str | None, now: str) -> bool:
    """on_hand and available change by ``delta`` with a movement, in one transaction; False (nothing
    written) when available would drop below zero (stock that orders reserved cannot be adjusted away)."""
    actions = [
        {"Update": {"TableName": _table(), "Key": stock_key(sku, warehouse_id),
                    "UpdateExpression": "SET on_hand = on_hand + :d, available = available + :d, updated_at = :now",
                    "ConditionExpression": "attribute_exists(pk) AND available >= :neg",
                    "ExpressionAttributeValues": {":d": {"N": str(delta)}, ":neg": {"N": str(max(0, -delta))},
                                                  ":now": {"S": now}}}},
        movement_action(sku, warehouse_id, delta, "adjustment", now, reason=reason, ref=note),
    ]
    return _transact(actions, "adjust stock") is None


def movements(sku: str, warehouse_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    args = page_query({"TableName": _table(), "KeyConditionExpression": "pk = :pk", "Limit": limit,
                       "ScanIndexForward": False, "ConsistentRead": True,
                       "ExpressionAttributeValues": {":pk": {"S": ledger_pk(sku, warehouse_id)}}},
                      cursor, ("pk", ledger_pk(sku, warehouse_id)))
    with aws.translate_common_errors("stock movements"):
        resp = aws.client("dynamodb").query(**args)
    rows = [{k: v for k, v in from_item(i).items() if k not in ("pk", "sk")} for i in resp.get("Items", [])]
    return rows, encode_cursor(resp.get("LastEvaluatedKey"))


def ledger_total(sku: str, warehouse_id: str) -> int:
    """Sum of every movement of the level (reads the whole ledger: for checks and tests, not hot paths)."""
    total, args = 0, {"TableName": _table(), "KeyConditionExpression": "pk = :pk", "ConsistentRead": True,
                      "ExpressionAttributeValues": {":pk": {"S": ledger_pk(sku, warehouse_id)}},
                      "ProjectionExpression": "delta"}
    ddb = aws.client("dynamodb")
    with aws.translate_common_errors("stock ledger"):
        while True:
            resp = ddb.query(**args)
            total += sum(int(i["delta"]["N"]) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return total
            args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
