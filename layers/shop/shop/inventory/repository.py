"""Inventory data access (InventoryTable): warehouses and stock levels. Reads shared by cart/checkout."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from shop import aws
from shop.config import get_settings
from shop.dynamo import batch_get_tables, encode_cursor, from_item, page_query, to_item
from shop.models import StockLevel, StockSlot, Warehouse

# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): the keys of the InventoryTable's
# items (these prefixes), its name and its item codecs are built here only. Other contexts use the names in
# PUBLIC: reads, and the stock actions they put into their own transactions.
TABLE = "inventory_table"
KEY_PREFIXES = ("SKU#", "WH#", "LEDGER#", "WAREHOUSE")
PUBLIC = frozenset({
    "WAREHOUSES_MAX_AGE_SECONDS", "warehouses", "known_warehouse", "get_warehouse", "get_stock", "stock_levels",
    "StockRead", "stock_read", "stock_from_found", "complete_shards",
    "reserve_action", "release_action", "ship_actions", "movement_action", "incoming_action", "receive_actions",
    "supplier_return_actions", "restock_actions",
})


def _table() -> str:
    return get_settings().require("inventory_table")


def _stock_key(sku: str, warehouse_id: str, shard: int | None = None) -> dict[str, Any]:
    """The stock level item, or one of its shard items (shop.inventory.shards)."""
    suffix = "" if shard is None else f"#S{shard}"
    return {"pk": {"S": f"SKU#{sku}"}, "sk": {"S": f"WH#{warehouse_id}{suffix}"}}


def is_shard_row(data: dict[str, Any]) -> bool:
    return "#S" in str(data["sk"])


def stock_from_item(data: dict[str, Any], shard_rows: list[dict[str, Any]] | None = None) -> StockLevel:
    """A level from its item; for a sharded level, with its shard items summed in (``slots`` per item)."""
    shards = int(data.get("shards", 0))
    available, reserved = int(data["available"]), int(data["reserved"])
    slots: list[StockSlot] = []
    if shards or shard_rows:
        slots = [StockSlot(shard=None, available=available, reserved=reserved)]
        slots += sorted((StockSlot(shard=int(r["shard"]), available=int(r["available"]), reserved=int(r["reserved"]))
                         for r in shard_rows or []), key=lambda slot: slot.shard or 0)
        available, reserved = sum(x.available for x in slots), sum(x.reserved for x in slots)
    return StockLevel(sku=data["sku"], warehouse_id=data["warehouse_id"], on_hand=int(data["on_hand"]),
                      available=available, reserved=reserved,
                      bin=data.get("bin"), incoming=int(data.get("incoming", 0)),
                      reorder_point=int(data.get("reorder_point", 0)),
                      reorder_quantity=int(data.get("reorder_quantity", 0)), shards=shards, slots=slots)


# How many shards each level had when last read here: hot paths then read its shard items in the same batch as
# the level (a level seen sharded for the first time costs one read more). Learned from every read.
_shard_counts: dict[tuple[str, str], int] = {}


def levels_from_items(rows: list[dict[str, Any]]) -> list[StockLevel]:
    """Levels from level and shard items (decoded) of any SKUs and warehouses, shards summed into their level."""
    shard_rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if is_shard_row(row):
            shard_rows.setdefault((row["sku"], row["warehouse_id"]), []).append(row)
    levels = []
    for row in rows:
        if not is_shard_row(row):
            level = stock_from_item(row, shard_rows.get((row["sku"], row["warehouse_id"])))
            _shard_counts[(level.sku, level.warehouse_id)] = level.shards
            levels.append(level)
    return levels


def _missing_shard_keys(raws: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keys of shard items of the sharded levels among ``raws`` that ``raws`` does not contain."""
    rows = [from_item(raw) for raw in raws]
    have = {(r["sku"], r["warehouse_id"], int(r["shard"])) for r in rows if is_shard_row(r)}
    return [_stock_key(r["sku"], r["warehouse_id"], i) for r in rows if not is_shard_row(r)
            for i in range(int(r.get("shards", 0))) if (r["sku"], r["warehouse_id"], i) not in have]


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
            out[sku] = levels_from_items(rows)
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


def known_warehouse(warehouse_id: str) -> Warehouse | None:
    """One warehouse from the cached list (at most WAREHOUSES_MAX_AGE_SECONDS old), re-read once when it is not
    in the copy (a warehouse added a moment ago); None when it does not exist."""
    return warehouses(max_age=WAREHOUSES_MAX_AGE_SECONDS).get(warehouse_id) or warehouses().get(warehouse_id)


# Where each SKU has stock levels, as last read here (monotonic time of the read, warehouse ids): hot paths read
# a SKU's levels by key in those warehouses only, not in every warehouse of the shop (a 50-line cart in a shop of
# 200 sites would be 10,000 keys, 100 calls, per read). Learned from every read that covered every known
# warehouse, trusted for HOLDERS_MAX_AGE_SECONDS: a level created since in another warehouse is seen after that at
# the latest, as a warehouse added is; a cart or checkout that comes up short reads every warehouse again before
# it refuses (shop.cart.basket.fresh_stock), and the writes that create levels forget the SKU (forget_holders).
HOLDERS_MAX_AGE_SECONDS = WAREHOUSES_MAX_AGE_SECONDS
_holders: dict[str, tuple[float, frozenset[str]]] = {}


def forget_holders(sku: str) -> None:
    """A level of ``sku`` is (or may be) created: its next read covers every warehouse again."""
    _holders.pop(sku, None)


@dataclass(frozen=True)
class StockRead:
    """The keys of one batch read of stock levels, and the SKUs it reads in every given warehouse (what the read
    then teaches about where they are stocked)."""

    keys: list[dict[str, Any]]
    everywhere: frozenset[str]

    @property
    def reads(self) -> dict[str, list[dict[str, Any]]]:
        """The read as table -> keys, for a caller composing one batch read with other contexts' reads
        (shop.dynamo.merge_reads); :func:`stock_from_found` decodes what it found."""
        return {_table(): list(self.keys)} if self.keys else {}


def stock_read(skus: list[str], warehouse_ids: list[str], *, everywhere: bool = False) -> StockRead:
    """The level keys of each SKU in the warehouses known to hold it (all of ``warehouse_ids`` when not known, or
    with ``everywhere``), with the shard items of levels known to be sharded; pairs without a level are simply
    not found."""
    now, wids = time.monotonic(), frozenset(warehouse_ids)
    keys: list[dict[str, Any]] = []
    full: set[str] = set()
    for sku in sorted(set(skus)):
        held = None if everywhere else _holders.get(sku)
        if held is None or now - held[0] > HOLDERS_MAX_AGE_SECONDS:
            where = wids
            full.add(sku)
        else:
            where = held[1] & wids
        keys += [_stock_key(sku, wid, shard) for wid in sorted(where)
                 for shard in [None, *range(_shard_counts.get((sku, wid), 0))]]
    return StockRead(keys, frozenset(full))


def stock_from_rows(skus: list[str], raws: list[dict[str, Any]],
                    read: StockRead | None = None) -> dict[str, list[StockLevel]]:
    """The levels per SKU from the rows of a read; with ``read``, the SKUs it read everywhere are remembered as
    stocked where their levels were found."""
    out: dict[str, list[StockLevel]] = {sku: [] for sku in skus}
    for level in sorted(levels_from_items([from_item(raw) for raw in raws]), key=lambda lv: lv.warehouse_id):
        out.setdefault(level.sku, []).append(level)
    if read is not None:
        now = time.monotonic()
        for sku in read.everywhere:
            _holders[sku] = (now, frozenset(lv.warehouse_id for lv in out.get(sku, ())))
    return out


def stock_from_found(skus: list[str], found: dict[str, list[dict[str, Any]]],
                     read: StockRead | None = None) -> dict[str, list[StockLevel]]:
    """:func:`stock_from_rows` over the InventoryTable's items of a composed batch read (table -> raw items)."""
    return stock_from_rows(skus, found.get(_table(), []), read)


def complete_shards(found: dict[str, list[dict[str, Any]]]) -> None:
    """A level seen sharded for the first time in ``found`` (a composed batch read, table -> raw items), or with
    more shards than known: its shard items are read too and added to ``found`` (one batch read more, once; the
    shard counts are remembered for the next reads)."""
    table = _table()
    missing = _missing_shard_keys(found.get(table, []))
    if missing:
        found[table] = found.get(table, []) + batch_get_tables(aws.client("dynamodb"), {table: missing})[table]


# ---------------------------------------------------------------------------------------------- admin writes

class StockChanged(Exception):
    """The stock level changed between read and write (condition on the old on_hand failed)."""


def _warehouse_key(warehouse_id: str) -> dict[str, Any]:
    return {"pk": {"S": "WAREHOUSE"}, "sk": {"S": f"WH#{warehouse_id}"}}


def put_warehouse(warehouse: Warehouse, now: str) -> None:
    item = {"pk": "WAREHOUSE", "sk": f"WH#{warehouse.warehouse_id}", **warehouse.model_dump(), "updated_at": now}
    with aws.translate_common_errors("save warehouse"):
        aws.client("dynamodb").put_item(TableName=_table(), Item=to_item(item))


def get_warehouse(warehouse_id: str) -> Warehouse | None:
    with aws.translate_common_errors("read warehouse"):
        resp = aws.client("dynamodb").get_item(TableName=_table(), Key=_warehouse_key(warehouse_id),
                                               ConsistentRead=True)
    return warehouse_from_item(from_item(resp["Item"])) if "Item" in resp else None


def get_stock(sku: str, warehouse_id: str) -> StockLevel | None:
    with aws.translate_common_errors("read stock"):
        resp = aws.client("dynamodb").get_item(TableName=_table(), Key=_stock_key(sku, warehouse_id),
                                               ConsistentRead=True)
    if "Item" not in resp:
        return None
    raws = [resp["Item"]]
    missing = _missing_shard_keys(raws)  # a sharded level: its shard items too (one batch read)
    if missing:
        with aws.translate_common_errors("read stock"):
            raws += batch_get_tables(aws.client("dynamodb"), {_table(): missing})[_table()]
    return levels_from_items([from_item(raw) for raw in raws])[0]


MOVEMENT_KINDS = frozenset({"count", "adjustment", "receipt", "supplier_return", "shipment", "customer_return"})


def _ledger_pk(sku: str, warehouse_id: str) -> str:
    return f"LEDGER#{sku}#{warehouse_id}"


def movement_action(sku: str, warehouse_id: str, delta: int, kind: str, now: str, *, reason: str | None = None,
                    ref: str | None = None, table: str | None = None) -> dict[str, Any]:
    """A Put of one stock movement (a ledger line: the change of on_hand and why). Every write that changes
    on_hand carries one in the same transaction, so on_hand always equals the sum of its movements."""
    if kind not in MOVEMENT_KINDS:
        raise ValueError(f"unknown movement kind {kind}")
    item = {"pk": _ledger_pk(sku, warehouse_id), "sk": f"{now}#{uuid.uuid4().hex[:10]}", "sku": sku,
            "warehouse_id": warehouse_id, "delta": delta, "kind": kind, "at": now,
            **({"reason": reason} if reason else {}), **({"ref": ref} if ref else {})}
    return {"Put": {"TableName": table or _table(), "Item": to_item(item),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


# ---------------------------------------------------------------------------------------------- stock actions
# of other contexts' transactions: checkout reserves, orders release, fulfillment ships, procurement receives and
# returns to suppliers, returns restock. Each context composes these into its own transaction; the keys, the
# table and the conditions on the stock stay here.

def reserve_action(sku: str, warehouse_id: str, quantity: int, shard: int | None, now: str) -> dict[str, Any]:
    """Reserve units of a slot (the level, or one of its shards: shop.inventory.shards): available -= q,
    reserved += q, only while available >= q."""
    return {"Update": {
        "TableName": _table(), "Key": _stock_key(sku, warehouse_id, shard),
        "UpdateExpression": "SET available = available - :q, reserved = reserved + :q, updated_at = :now",
        "ConditionExpression": "attribute_exists(pk) AND available >= :q",
        "ExpressionAttributeValues": {":q": {"N": str(quantity)}, ":now": {"S": now}},
    }}


def release_action(sku: str, warehouse_id: str, quantity: int, shard: int | None = None) -> dict[str, Any]:
    """Give reserved units back to the slot they were reserved from (the level, or its shard)."""
    return {"Update": {
        "TableName": _table(), "Key": _stock_key(sku, warehouse_id, shard),
        "UpdateExpression": "SET available = available + :q, reserved = reserved - :q",
        "ConditionExpression": "reserved >= :q",
        "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
    }}


def ship_actions(sku: str, warehouse_id: str, quantity: int, pool: int, shards: list[tuple[int, int]],
                 now: str) -> list[dict[str, Any]]:
    """Reserved units leave the shelf: the level's on_hand goes down by ``quantity`` (counted as shipped) and
    its own reservation by ``pool``; each (shard, units) in ``shards`` gives up that shard's reserved units.
    The movement is the caller's (:func:`movement_action`, kind "shipment")."""
    actions = [{"Update": {
        "TableName": _table(), "Key": _stock_key(sku, warehouse_id),
        "UpdateExpression": "SET reserved = reserved - :p, on_hand = on_hand - :q, "
                            "shipped = if_not_exists(shipped, :zero) + :q, updated_at = :now",
        "ConditionExpression": "reserved >= :p AND on_hand >= :q",
        "ExpressionAttributeValues": {":q": {"N": str(quantity)}, ":p": {"N": str(pool)},
                                      ":zero": {"N": "0"}, ":now": {"S": now}},
    }}]
    for shard, units in shards:
        actions.append({"Update": {
            "TableName": _table(), "Key": _stock_key(sku, warehouse_id, shard),
            "UpdateExpression": "SET reserved = reserved - :q, updated_at = :now",
            "ConditionExpression": "reserved >= :q",
            "ExpressionAttributeValues": {":q": {"N": str(units)}, ":now": {"S": now}},
        }})
    return actions


def incoming_action(sku: str, warehouse_id: str, delta: int, now: str) -> dict[str, Any]:
    """incoming += delta (the stock level is created empty if the SKU was never stocked there)."""
    forget_holders(sku)
    return {"Update": {
        "TableName": _table(), "Key": _stock_key(sku, warehouse_id),
        "UpdateExpression": "SET incoming = if_not_exists(incoming, :zero) + :d, sku = :sku, warehouse_id = :wh, "
                            "on_hand = if_not_exists(on_hand, :zero), available = if_not_exists(available, :zero), "
                            "reserved = if_not_exists(reserved, :zero), updated_at = :now",
        "ConditionExpression": "attribute_not_exists(incoming) OR incoming >= :neg",
        "ExpressionAttributeValues": {":d": {"N": str(delta)}, ":zero": {"N": "0"}, ":sku": {"S": sku},
                                      ":wh": {"S": warehouse_id}, ":neg": {"N": str(max(0, -delta))},
                                      ":now": {"S": now}},
    }}


def receive_actions(sku: str, warehouse_id: str, quantity: int, now: str, ref: str) -> list[dict[str, Any]]:
    """Goods arrived: on_hand and available up, incoming down (never below zero), with the movement."""
    return [{"Update": {
        "TableName": _table(), "Key": _stock_key(sku, warehouse_id),
        "UpdateExpression": "SET on_hand = on_hand + :q, available = available + :q, "
                            "incoming = if_not_exists(incoming, :zero) - :dec, updated_at = :now",
        "ConditionExpression": "attribute_exists(pk)",
        "ExpressionAttributeValues": {":q": {"N": str(quantity)}, ":zero": {"N": "0"}, ":now": {"S": now},
                                      ":dec": {"N": str(quantity)}},
    }}, movement_action(sku, warehouse_id, quantity, "receipt", now, ref=ref)]


def supplier_return_actions(sku: str, warehouse_id: str, quantity: int, now: str, ref: str,
                            reason: str) -> list[dict[str, Any]]:
    """Goods go back to the supplier: on_hand and available down (only unreserved units), with the movement."""
    return [{"Update": {
        "TableName": _table(), "Key": _stock_key(sku, warehouse_id),
        "UpdateExpression": "SET on_hand = on_hand - :q, available = available - :q, updated_at = :now",
        "ConditionExpression": "attribute_exists(pk) AND available >= :q",
        "ExpressionAttributeValues": {":q": {"N": str(quantity)}, ":now": {"S": now}},
    }}, movement_action(sku, warehouse_id, -quantity, "supplier_return", now, reason=reason, ref=ref)]


def restock_actions(sku: str, warehouse_id: str, units: int, now: str, ref: str) -> list[dict[str, Any]]:
    """Units a customer sent back go on the shelf (the level is created if that warehouse never stocked the
    SKU): on_hand and available up, with the movement."""
    forget_holders(sku)  # the level is created if the SKU was never stocked there
    return [{"Update": {"TableName": _table(), "Key": _stock_key(sku, warehouse_id),
                        "UpdateExpression": "SET on_hand = if_not_exists(on_hand, :zero) + :q, "
                                            "available = if_not_exists(available, :zero) + :q, "
                                            "reserved = if_not_exists(reserved, :zero), "
                                            "sku = if_not_exists(sku, :sku), "
                                            "warehouse_id = if_not_exists(warehouse_id, :wh), "
                                            "updated_at = :now",
                        "ExpressionAttributeValues": {":q": {"N": str(units)}, ":now": {"S": now},
                                                      ":zero": {"N": "0"}, ":sku": {"S": sku},
                                                      ":wh": {"S": warehouse_id}}}},
            movement_action(sku, warehouse_id, units, "customer_return", now, ref=ref)]


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
    forget_holders(sku)
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
        "TableName": _table(), "Key": _stock_key(sku, warehouse_id), "UpdateExpression": expression,
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


def reshard(level: StockLevel, shards: int, pool: int, per_shard: list[int], now: str) -> bool:
    """Spread the level's available units as given: the pool keeps ``pool``, shard i gets ``per_shard[i]``
    (``shards`` of them; shards beyond are deleted), in ONE transaction. Every slot is conditioned on the
    values read (``level``), so a reservation or release in between makes it fail (False: re-read, retry); the
    sum of available units, reserved units and on_hand never change."""
    old = {slot.shard: slot for slot in level.slots if slot.shard is not None}
    if sum(per_shard) + pool != level.available or len(per_shard) != shards:
        raise ValueError("a reshard must keep the level's available units")
    pool_old = next((x for x in level.slots if x.shard is None), None)
    pool_available = pool_old.available if pool_old else level.available
    pool_reserved = pool_old.reserved if pool_old else level.reserved
    table = _table()
    count_condition = ("shards = :old_n" if level.shards else "(attribute_not_exists(shards) OR shards = :old_n)")
    actions: list[dict[str, Any]] = [{"Update": {
        "TableName": table, "Key": _stock_key(level.sku, level.warehouse_id),
        "UpdateExpression": "SET available = :pool, shards = :n, updated_at = :now",
        "ConditionExpression": "attribute_exists(pk) AND available = :pool_old AND reserved = :res AND "
                               + count_condition,
        "ExpressionAttributeValues": {":pool": {"N": str(pool)}, ":n": {"N": str(shards)}, ":now": {"S": now},
                                      ":pool_old": {"N": str(pool_available)}, ":res": {"N": str(pool_reserved)},
                                      ":old_n": {"N": str(level.shards)}}}}]
    for i in range(max(shards, max(old, default=-1) + 1)):
        slot = old.get(i)
        key = _stock_key(level.sku, level.warehouse_id, i)
        if i >= shards:
            if slot is not None:  # a shard no longer wanted: its available units went to the others
                actions.append({"Delete": {"TableName": table, "Key": key,
                                           "ConditionExpression": "available = :a AND reserved = :zero",
                                           "ExpressionAttributeValues": {":a": {"N": str(slot.available)},
                                                                         ":zero": {"N": "0"}}}})
        elif slot is None:
            item = {"pk": f"SKU#{level.sku}", "sk": f"WH#{level.warehouse_id}#S{i}", "sku": level.sku,
                    "warehouse_id": level.warehouse_id, "shard": i, "available": per_shard[i], "reserved": 0,
                    "updated_at": now}
            actions.append({"Put": {"TableName": table, "Item": to_item(item),
                                    "ConditionExpression": "attribute_not_exists(pk)"}})
        else:
            actions.append({"Update": {"TableName": table, "Key": key,
                                       "UpdateExpression": "SET available = :new, updated_at = :now",
                                       "ConditionExpression": "available = :old",
                                       "ExpressionAttributeValues": {":new": {"N": str(per_shard[i])},
                                                                     ":old": {"N": str(slot.available)},
                                                                     ":now": {"S": now}}}})
    ok = _transact(actions, "reshard stock") is None
    if ok:
        _shard_counts[(level.sku, level.warehouse_id)] = shards
    return ok


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
        aws.client("dynamodb").update_item(TableName=_table(), Key=_stock_key(sku, warehouse_id),
                                           UpdateExpression="SET " + ", ".join(sets),
                                           ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues=values)


def adjust(sku: str, warehouse_id: str, delta: int, reason: str, note: str | None, now: str) -> bool:
    """on_hand and available change by ``delta`` with a movement, in one transaction; False (nothing
    written) when available would drop below zero (stock that orders reserved cannot be adjusted away)."""
    actions = [
        {"Update": {"TableName": _table(), "Key": _stock_key(sku, warehouse_id),
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
                       "ExpressionAttributeValues": {":pk": {"S": _ledger_pk(sku, warehouse_id)}}},
                      cursor, ("pk", _ledger_pk(sku, warehouse_id)))
    with aws.translate_common_errors("stock movements"):
        resp = aws.client("dynamodb").query(**args)
    rows = [{k: v for k, v in from_item(i).items() if k not in ("pk", "sk")} for i in resp.get("Items", [])]
    return rows, encode_cursor(resp.get("LastEvaluatedKey"))


def ledger_total(sku: str, warehouse_id: str) -> int:
    """Sum of every movement of the level (reads the whole ledger: for checks and tests, not hot paths)."""
    total, args = 0, {"TableName": _table(), "KeyConditionExpression": "pk = :pk", "ConsistentRead": True,
                      "ExpressionAttributeValues": {":pk": {"S": _ledger_pk(sku, warehouse_id)}},
                      "ProjectionExpression": "delta"}
    ddb = aws.client("dynamodb")
    with aws.translate_common_errors("stock ledger"):
        while True:
            resp = ddb.query(**args)
            total += sum(int(i["delta"]["N"]) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return total
            args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
