"""Small DynamoDB helpers for repositories: typed (de)serialisation, money attributes, batch get, cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import BaseModel

from shop.errors import InvalidInput, ServiceBusy
from shop.money import Money

_ser = TypeSerializer()
_de = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value


def to_item(data: Mapping[str, Any]) -> dict[str, Any]:
    """Python dict -> DynamoDB attribute map (None values are dropped)."""
    return {k: _ser.serialize(v) for k, v in data.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute map -> Python dict with ints (not Decimals) for whole numbers."""
    return {k: _plain(_de.deserialize(v)) for k, v in item.items()}


def model_from_item[M: BaseModel](cls: type[M], item: Mapping[str, Any], **overrides: Any) -> M:
    """A model from a raw item: keys, index attributes and bookkeeping (task tokens ...) that are not fields of
    ``cls`` are left out; ``overrides`` replace stored attributes."""
    data = {**from_item(item), **overrides}
    return cls.model_validate({k: v for k, v in data.items() if k in cls.model_fields})


def value(v: Any) -> dict[str, Any]:
    return dict(_ser.serialize(v))


def money_attrs(prefix: str, money: Money) -> dict[str, Any]:
    return {f"{prefix}_amount": money.amount, f"{prefix}_currency": money.currency}


def money_from(data: Mapping[str, Any], prefix: str) -> Money:
    return Money(amount=int(data[f"{prefix}_amount"]), currency=str(data[f"{prefix}_currency"]))


def batch_get(ddb: Any, table: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """BatchGetItem in chunks of 100, retrying UnprocessedKeys; returns raw items."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {table: {"Keys": keys[start : start + 100]}}
        for _ in range(8):
            resp = ddb.batch_get_item(RequestItems=request)
            out.extend(resp.get("Responses", {}).get(table, []))
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
    return out


def status_update(table: str, key: dict[str, Any], allowed_from: Iterable[str], to: str, now: str, *,
                  fields: Mapping[str, Any] | None = None, append: Mapping[str, list[Any]] | None = None,
                  remove: Iterable[str] = ()) -> dict[str, Any]:
    """An Update action (for UpdateItem or a transaction) that moves an item's ``status`` to ``to`` only if it
    is one of ``allowed_from``: ``updated_at = now``, ``fields`` set, each list in ``append`` appended to the
    attribute of that name (a timeline, tracking events), ``remove`` attributes removed."""
    names = {"#s": "status"}
    values: dict[str, Any] = {":to": {"S": to}, ":now": {"S": now}}
    sets = ["#s = :to", "updated_at = :now"]
    for i, (name, v) in enumerate((fields or {}).items()):
        names[f"#f{i}"] = name
        values[f":f{i}"] = value(v)
        sets.append(f"#f{i} = :f{i}")
    if append:
        values[":empty"] = {"L": []}
        for i, (name, entries) in enumerate(append.items()):
            names[f"#l{i}"] = name
            values[f":l{i}"] = value(entries)
            sets.append(f"#l{i} = list_append(if_not_exists(#l{i}, :empty), :l{i})")
    allowed = sorted(set(allowed_from))
    values.update({f":from{i}": {"S": status} for i, status in enumerate(allowed)})
    removed = list(remove)
    return {"Update": {
        "TableName": table, "Key": key,
        "UpdateExpression": "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removed) if removed else ""),
        "ConditionExpression": "attribute_exists(pk) AND #s IN ("
                               + ", ".join(f":from{i}" for i in range(len(allowed))) + ")",
        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
    }}


BATCH_GET_LIMIT = 100


def batch_get_tables(ddb: Any, keys: Mapping[str, list[dict[str, Any]]], *, consistent: bool = True,
                     attempts: int = 8) -> dict[str, list[dict[str, Any]]]:
    """One BatchGetItem over several tables (chunks of 100 keys in all), retrying UnprocessedKeys; raw items
    per table. This is how a hot path reads everything it needs in one round trip: with up to 100 keys it is
    exactly one call (plus one per throttled retry)."""
    flat = [(table, key) for table, table_keys in keys.items() for key in table_keys]
    out: dict[str, list[dict[str, Any]]] = {table: [] for table in keys}
    for start in range(0, len(flat), BATCH_GET_LIMIT):
        request: dict[str, Any] = {}
        for table, key in flat[start : start + BATCH_GET_LIMIT]:
            request.setdefault(table, {"Keys": [], "ConsistentRead": consistent})["Keys"].append(key)
        for _ in range(attempts):
            resp = ddb.batch_get_item(RequestItems=request)
            for table, items in resp.get("Responses", {}).items():
                out[table].extend(items)
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
        if request:
            raise ServiceBusy("reads are being throttled; retry the request")
    return out


def merge_reads(*reads: Mapping[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Several contexts' reads (table -> keys, as their repositories give them) as one argument of
    batch_get_tables, in the order given: a caller composes one batch read without knowing any table or key."""
    out: dict[str, list[dict[str, Any]]] = {}
    for read in reads:
        for table, keys in read.items():
            out.setdefault(table, []).extend(keys)
    return out


# ------------------------------------------------------------------ cursors
# The key attributes (name -> DynamoDB type) of every table and index a paged list reads: a cursor resumes
# from an ExclusiveStartKey, which DynamoDB accepts only when it is exactly the table's key plus, on an index,
# the index's key. Every table of the shop is keyed by pk/sk; index names are unique across tables.
# tests/unit/test_cursor.py checks this against template.yaml.
TABLE_KEY: dict[str, str] = {"pk": "S", "sk": "S"}
INDEX_KEYS: dict[str, dict[str, str]] = {
    "ByCustomer": {"customer_id": "S", "created_at": "S"},
    "PendingByExpiry": {"pending_pk": "S", "reservation_expires_at": "N"},
    "OrdersByStatus": {"status_pk": "S", "created_at": "S"},
    "OpenTasksByWarehouse": {"open_warehouse_id": "S", "created_at": "S"},
    "PurchaseOrdersByStatus": {"po_status": "S", "created_at": "S"},
    "TicketsByStatus": {"ticket_status": "S", "updated_at": "S"},
    "TicketsByCustomer": {"customer_id": "S", "updated_at": "S"},
    "ByCategoryPrice": {"category_pk": "S", "price_sk": "S"},
    "ByCategoryNewest": {"category_pk": "S", "created_sk": "S"},
    "ByListingPrice": {"listing_pk": "S", "price_sk": "S"},
    "ByListingNewest": {"listing_pk": "S", "created_sk": "S"},
    "ByCategoryFeatured": {"category_pk": "S", "featured_sk": "S"},
    "CartsAwaitingReminder": {"reminder_pk": "S", "updated_at": "S"},
}
# DynamoDB's limit on a sort key value (a partition key may take 2048); no key of the shop comes close.
MAX_KEY_BYTES = 1024
NOT_A_CURSOR = "not a cursor returned by this API"


def key_schema(index: str | None = None) -> dict[str, str]:
    """The attributes of an ExclusiveStartKey on the table (``index`` None) or on one of its indexes."""
    if index is None:
        return dict(TABLE_KEY)
    if index not in INDEX_KEYS:
        raise KeyError(f"no key schema for index {index}: add it to shop.dynamo.INDEX_KEYS")
    return {**TABLE_KEY, **INDEX_KEYS[index]}


def encode_cursor(key: Mapping[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def _key_value_ok(kind: str, attribute: Any) -> bool:
    if not isinstance(attribute, dict) or set(attribute) != {kind}:
        return False
    raw = attribute[kind]
    if not isinstance(raw, str) or not raw or len(raw.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return False
    if kind == "N":
        try:
            number = Decimal(raw)
        except ArithmeticError:
            return False
        return number.is_finite() and len(number.as_tuple().digits) <= 38
    return True


def decode_cursor(cursor: str | None, field: str = "cursor",
                  schema: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The ExclusiveStartKey of an API cursor (None without one). With ``schema`` (attribute -> "S"/"N", see
    ``key_schema``) the key must have exactly those attributes, each a non-empty value of that type within
    DynamoDB's key size: anything else is InvalidInput(field), never a DynamoDB error."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInput(field, NOT_A_CURSOR) from exc
    if not isinstance(decoded, dict) or not all(isinstance(v, dict) for v in decoded.values()):
        raise InvalidInput(field, NOT_A_CURSOR)
    if schema is not None and (set(decoded) != set(schema)
                               or not all(_key_value_ok(kind, decoded[name]) for name, kind in schema.items())):
        raise InvalidInput(field, NOT_A_CURSOR)
    return decoded


def page_query(args: dict[str, Any], cursor: str | None, partition: tuple[str, str],
               field: str = "cursor", schema: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Query arguments resuming from an API cursor. The cursor must be a complete key of the table or index
    queried (``schema``, by default ``key_schema(args["IndexName"])``: exactly its attributes with their
    types) and belong to the same partition (``partition`` = (attribute, value)): a cursor from another
    customer's or warehouse's list, or one that is not a key, is InvalidInput(field), a 422."""
    expected = dict(schema) if schema is not None else key_schema(args.get("IndexName"))
    attribute, value_ = partition
    if attribute not in expected:
        raise KeyError(f"{attribute} is not a key attribute of {args.get('IndexName') or 'the table'}")
    start = decode_cursor(cursor, field, expected)
    if start is None:
        return args
    if start[attribute] != {expected[attribute]: value_}:
        raise InvalidInput(field, NOT_A_CURSOR)
    return {**args, "ExclusiveStartKey": start}


def chunks(items: Iterable[Any], size: int) -> list[list[Any]]:
    seq = list(items)
    return [seq[i : i + size] for i in range(0, len(seq), size)]
