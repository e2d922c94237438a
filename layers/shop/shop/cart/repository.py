"""CartsTable data access. Writes are conditional on the version read (optimistic concurrency)."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from shop import aws
from shop.config import get_settings
from shop.dynamo import from_item, to_item

# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): the CartsTable's key (the customer
# id), its name and the cart codec are here only; other contexts use the names in PUBLIC.
TABLE = "carts_table"
KEY_PREFIXES: tuple[str, ...] = ("REMIND#",)  # keyed by the bare customer id; REMIND#<n>: the reminder index
PUBLIC = frozenset({"CartRecord", "StoredCart", "StaleCart", "get_cart", "save_cart", "empty_cart_action",
                    "cart_reads", "cart_from_found"})

# Abandoned-cart reminders (shop.cart.reminders): a cart with lines that was never reminded carries
# ``reminder_pk`` = REMIND#<shard>, the key of the sparse index CartsAwaitingReminder (sort key updated_at), so a
# sweep queries "changed before T and not reminded" per shard instead of scanning. Shards spread the index's
# writes (every cart write moves its entry) over several partitions.
REMINDER_INDEX = "CartsAwaitingReminder"
REMINDER_SHARDS = 4


def _table() -> str:
    return get_settings().require("carts_table")


@dataclass(frozen=True)
class CartRecord:
    """A shopper's cart as stored: its lines (sku -> quantity), version, coupon and reminder state."""

    customer_id: str
    items: dict[str, int] = field(default_factory=dict)
    version: int = 0
    expires_at: int | None = None
    updated_at: str | None = None
    coupon_code: str | None = None
    products: dict[str, str] = field(default_factory=dict)  # sku -> product id, so reads need no SKU lookup
    email: str | None = None  # the shopper's address (token claim) as of the last line added: the reminder's
    reminded_at: str | None = None  # when this cart's one reminder was claimed (cleared when the cart empties)


def reminder_shard(customer_id: str) -> str:
    return f"REMIND#{zlib.crc32(customer_id.encode()) % REMINDER_SHARDS}"


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
                      updated_at=data.get("updated_at"), coupon_code=data.get("coupon_code"), products=products,
                      email=data.get("email"), reminded_at=data.get("reminded_at") if items else None)


def version_condition(expected_version: int) -> tuple[str, dict[str, Any]]:
    if expected_version == 0:
        return "attribute_not_exists(customer_id) OR version = :v", {":v": {"N": "0"}}
    return "version = :v", {":v": {"N": str(expected_version)}}


def save_cart(customer_id: str, items: dict[str, int], expected_version: int, *, now: str,
              expires_at: int, coupon_code: str | None, products: dict[str, str], email: str | None = None,
              reminded_at: str | None = None) -> CartRecord:
    """Replace the cart's lines with ``items`` if its version is still ``expected_version``.

    One conditional PutItem: ``attribute_not_exists`` for a cart never written, ``version = expected``
    otherwise. The new record has version + 1, ``updated_at = now``, the given expiry, and the product id of
    each line (``products``: checkout and the cart view read by key with them). Raises
    :class:`StaleCart` when another writer got there first (the caller re-reads and retries).

    A cart with lines keeps ``email`` and its reminder state: ``reminded_at`` once its reminder went out, else the
    reminder index key (the sweep finds it by ``updated_at``). An empty cart has neither: the next line starts a
    new cart, which may be reminded once again.
    """
    if any(q <= 0 for q in items.values()):
        raise ValueError("cart quantities must be positive; remove a line instead of storing 0")
    condition, values = version_condition(expected_version)
    known = {code: pid for code, pid in products.items() if code in items}
    reminded = reminded_at if items else None
    record = CartRecord(customer_id=customer_id, items=dict(items), version=expected_version + 1,
                        expires_at=expires_at, updated_at=now, coupon_code=coupon_code, products=known,
                        email=email, reminded_at=reminded)
    item: dict[str, Any] = {"customer_id": customer_id, "items": record.items, "version": record.version,
                            "updated_at": now, "expires_at": expires_at, "coupon_code": coupon_code, "products": known}
    if email:
        item["email"] = email
    if reminded:
        item["reminded_at"] = reminded
    elif items:
        item["reminder_pk"] = reminder_shard(customer_id)
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
                            "REMOVE coupon_code, products, reminder_pk, reminded_at",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#items": "items"},
        "ExpressionAttributeValues": values,
    }}


def delete_in_transaction(customer_id: str, expected_version: int, now: str) -> dict[str, Any]:
    """The TransactWriteItems action checkout uses to clear the cart it ordered from (see
    :func:`empty_cart_action`: the item is emptied, not deleted, so the version never goes back to 0)."""
    return empty_cart_action(customer_id, expected_version, now)


# ---------------------------------------------------------------------------------------------- reminders

def carts_awaiting_reminder(shard: int, changed_before: str, limit: int,
                            cursor: dict[str, Any] | None = None) -> tuple[list[str], dict[str, Any] | None]:
    """Customer ids of carts in one shard of the reminder index last changed before ``changed_before`` (ISO
    time), oldest first, a page at a time: a Query of the sparse index, never a scan. Eventually consistent:
    the caller reads each cart again before it acts."""
    args: dict[str, Any] = {"TableName": _table(), "IndexName": REMINDER_INDEX, "Limit": limit,
                            "KeyConditionExpression": "reminder_pk = :p AND updated_at < :t",
                            "ExpressionAttributeValues": {":p": {"S": f"REMIND#{shard}"},
                                                          ":t": {"S": changed_before}}}
    if cursor:
        args["ExclusiveStartKey"] = cursor
    with aws.translate_common_errors("carts awaiting reminder"):
        resp = aws.client("dynamodb").query(**args)
    return [i["customer_id"]["S"] for i in resp.get("Items", [])], resp.get("LastEvaluatedKey")


def claim_reminder(customer_id: str, version: int, updated_at: str, now: str) -> bool:
    """Mark the cart reminded, if it is still the cart that was read (same version, same last change, lines in
    it, not expired, not reminded): the one write that decides whether a mail goes out, so two overlapping
    sweeps send one, and a cart checked out or changed since the read (checkout empties it: its version moves)
    gets none. The version counts this write too, so a cart write based on an older read retries and keeps the
    mark. False when the condition failed."""
    with aws.conditional_write("claim cart reminder") as write:
        aws.client("dynamodb").update_item(
            TableName=_table(), Key=cart_key(customer_id),
            UpdateExpression="SET reminded_at = :now, version = version + :one REMOVE reminder_pk",
            ConditionExpression="version = :v AND updated_at = :u AND attribute_exists(reminder_pk) AND "
                                "attribute_not_exists(reminded_at) AND size(#items) > :zero AND expires_at > :epoch",
            ExpressionAttributeNames={"#items": "items"},
            ExpressionAttributeValues={":now": {"S": now}, ":one": {"N": "1"}, ":v": {"N": str(version)},
                                       ":u": {"S": updated_at}, ":zero": {"N": "0"},
                                       ":epoch": {"N": str(int(time.time()))}})
    return write.applied


def release_reminder(customer_id: str, claimed_version: int, claimed_at: str) -> bool:
    """Undo a claim whose mail could not be sent (the next sweep tries again), unless the cart changed since."""
    with aws.conditional_write("release cart reminder") as write:
        aws.client("dynamodb").update_item(
            TableName=_table(), Key=cart_key(customer_id),
            UpdateExpression="SET reminder_pk = :pk REMOVE reminded_at",
            ConditionExpression="version = :v AND reminded_at = :at",
            ExpressionAttributeValues={":pk": {"S": reminder_shard(customer_id)}, ":v": {"N": str(claimed_version)},
                                       ":at": {"S": claimed_at}})
    return write.applied


def drop_reminder(customer_id: str, version: int) -> bool:
    """Take a cart that is not to be reminded (its shopper opted out, or has no address that may be mailed) out
    of the index, so later sweeps do not read it again; its next change puts it back (and is judged again)."""
    with aws.conditional_write("drop cart reminder") as write:
        aws.client("dynamodb").update_item(TableName=_table(), Key=cart_key(customer_id),
                                           UpdateExpression="REMOVE reminder_pk",
                                           ConditionExpression="version = :v",
                                           ExpressionAttributeValues={":v": {"N": str(version)}})
    return write.applied
