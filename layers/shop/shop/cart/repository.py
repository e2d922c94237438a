"""CartsTable data access. Writes are conditional on the version read (optimistic concurrency)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from shop import aws
from shop.config import get_settings
from shop.dynamo import from_item, to_item

# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): the CartsTable's key (the customer
# id), its name and the cart codec are here only; other contexts use the names in PUBLIC.
TABLE = "carts_table"
KEY_PREFIXES: tuple[str, ...] = ()  # keyed by the bare customer id
PUBLIC = frozenset({"CartRecord", "StoredCart", "StaleCart", "get_cart", "save_cart", "empty_cart_action",
                    "cart_reads", "cart_from_found"})


def _table() -> str:
    return get_settings().require("carts_table")


@dataclass(frozen=True)
class CartRecord:
    customer_id: str
    items: dict[str, int] = field(default_factory=dict)
    version: int = 0
    expires_at: int | None = None
    updated_at: str | None = None
    coupon_code: str | None = None
    products: dict[str, str] = field(default_factory=dict)  # sku -> product id, so reads need no SKU lookup


# Name used by checkout for the cart as read from the table.
StoredCart = CartRecord


class StaleCart(Exception):
    """The cart changed since it was read (version condition failed)."""


def cart_key(customer_id: str) -> dict[str, Any]:
    return {"customer_id": {"S": customer_id}}


def get_cart(customer_id: str, now_epoch: int) -> CartRecord:
    """The stored cart; an expired cart reads as empty (keeping its version for the next conditional write)."""
    with aws.translate_common_errors("read cart"):
        resp = aws.client("dynamodb").get_item(TableName=_table(), Key=cart_key(customer_id), ConsistentRead=True)
    return cart_from_item(customer_id, resp.get("Item"), now_epoch)


def cart_reads(customer_id: str) -> dict[str, list[dict[str, Any]]]:
    """The cart as a read (table -> keys) for a caller composing one batch read with other contexts' reads
    (shop.dynamo.merge_reads); :func:`cart_from_found` decodes what it found."""
    return {_table(): [cart_key(customer_id)]}


def cart_from_found(customer_id: str, found: dict[str, list[dict[str, Any]]], now_epoch: int) -> CartRecord:
    """The cart of :func:`cart_reads` among the items of a composed batch read (empty when not there)."""
    raws = found.get(_table()) or []
    return cart_from_item(customer_id, raws[0] if raws else None, now_epoch)


def cart_from_item(customer_id: str, raw: dict[str, Any] | None, now_epoch: int) -> CartRecord:
    if raw is None:
        return CartRecord(customer_id=customer_id)
    data = from_item(raw)
    version = int(data.get("version", 0))
    expires_at = int(data["expires_at"]) if "expires_at" in data else None
    if expires_at is not None and expires_at <= now_epoch:
        return CartRecord(customer_id=customer_id, version=version)
    items = {str(k): int(v) for k, v in (data.get("items") or {}).items() if int(v) > 0}
    products = {str(k): str(v) for k, v in (data.get("products") or {}).items() if k in items}
    return CartRecord(customer_id=customer_id, items=items, version=version, expires_at=expires_at,
                      updated_at=data.get("updated_at"), coupon_code=data.get("coupon_code"), products=products)


def version_condition(expected_version: int) -> tuple[str, dict[str, Any]]:
    if expected_version == 0:
        return "attribute_not_exists(customer_id) OR version = :v", {":v": {"N": "0"}}
    return "version = :v", {":v": {"N": str(expected_version)}}


def save_cart(customer_id: str, items: dict[str, int], expected_version: int, *, now: str,
              expires_at: int, coupon_code: str | None, products: dict[str, str]) -> CartRecord:
    """Replace the cart's lines with ``items`` if its version is still ``expected_version``.

    One conditional PutItem: ``attribute_not_exists`` for a cart never written, ``version = expected``
    otherwise. The new record has version + 1, ``updated_at = now``, the given expiry, and the product id of
    each line (``products``: checkout and the cart view read by key with them). Raises
    :class:`StaleCart` when another writer got there first (the caller re-reads and retries).
    """
    if any(q <= 0 for q in items.values()):
        raise ValueError("cart quantities must be positive; remove a line instead of storing 0")
    condition, values = version_condition(expected_version)
    known = {code: pid for code, pid in products.items() if code in items}
    record = CartRecord(customer_id=customer_id, items=dict(items), version=expected_version + 1,
                        expires_at=expires_at, updated_at=now, coupon_code=coupon_code, products=known)
    item = {"customer_id": customer_id, "items": record.items, "version": record.version, "updated_at": now,
            "expires_at": expires_at, "coupon_code": coupon_code, "products": known}
    try:
        with aws.translate_common_errors("save cart"):
            aws.client("dynamodb").put_item(TableName=_table(), Item=to_item(item), ConditionExpression=condition,
                                            ExpressionAttributeValues=values)
    except ClientError as exc:
        if aws.error_code(exc) == "ConditionalCheckFailedException":
            raise StaleCart(customer_id) from exc
        raise
    return record


def empty_cart_action(customer_id: str, expected_version: int, now: str) -> dict[str, Any]:
    """A TransactWriteItems action that empties the cart if it is still at ``expected_version`` (the version
    keeps counting up, so a cart emptied and refilled can never match an old read)."""
    condition, values = version_condition(expected_version)
    values.update({":empty": {"M": {}}, ":one": {"N": "1"}, ":now": {"S": now}, ":zero": {"N": "0"}})
    return {"Update": {
        "TableName": _table(), "Key": cart_key(customer_id),
        "UpdateExpression": "SET #items = :empty, version = if_not_exists(version, :zero) + :one, updated_at = :now "
                            "REMOVE coupon_code, products",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#items": "items"},
        "ExpressionAttributeValues": values,
    }}


def delete_in_transaction(customer_id: str, expected_version: int, now: str) -> dict[str, Any]:
    """The TransactWriteItems action checkout uses to clear the cart it ordered from (see
    :func:`empty_cart_action`: the item is emptied, not deleted, so the version never goes back to 0)."""
    return empty_cart_action(customer_id, expected_version, now)
