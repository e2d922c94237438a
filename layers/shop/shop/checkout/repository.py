"""Checkout's data access: the reservation transaction (stock + order + cart in one TransactWriteItems) and the
read of the cart with the order a replay finds. The only checkout code that talks to boto3 (the workflow is
started through shop.orders.ports, by shop.workflow). Checkout owns no table: it composes the owners' actions
and reads (inventory, orders, cart, promotions repositories), never their keys."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from shop import aws
from shop.cart import repository as cart
from shop.cart.repository import CartRecord
from shop.dynamo import batch_get_tables, merge_reads
from shop.inventory import repository as inventory
from shop.orders import repository as orders
from shop.orders.models import Order

# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): none here.
TABLE = None
KEY_PREFIXES: tuple[str, ...] = ()
PUBLIC: frozenset[str] = frozenset()

MAX_TRANSACTION_ITEMS = 100


class Outcome(StrEnum):
    PLACED = "placed"
    ORDER_EXISTS = "order_exists"  # a replay of this checkout already placed the order
    STOCK_CHANGED = "stock_changed"  # some warehouse no longer has what was allocated: re-read, retry
    CART_CHANGED = "cart_changed"  # the cart changed since it was read
    CONTENDED = "contended"  # transaction conflict or throttling: retry
    COUPON_EXHAUSTED = "coupon_exhausted"  # the coupon reached its global or per-customer limit
    UNKNOWN = "unknown"  # no answer in time: the transaction may have been applied (look for the order)


def transaction_size(order: Order) -> int:
    return sum(len(line.allocations) for line in order.lines) + 2 + (3 if order.coupon_code else 0)


def reserve_and_place(order: Order, cart_customer_id: str, cart_version: int, now: str,
                      coupon_actions: list[dict[str, Any]] | None = None) -> Outcome:
    """ONE transaction: per (sku, warehouse) slot (the level, or one of its shards when the level is sharded:
    shop.inventory.shards) available -= q, reserved += q under available >= q; the order
    Put under attribute_not_exists(pk); the cart emptied under its version; the coupon's use counted under its
    limits (global and per customer). All or nothing."""
    actions: list[dict[str, Any]] = [
        inventory.reserve_action(line.sku, alloc.warehouse_id, alloc.quantity, alloc.shard, now)
        for line in order.lines for alloc in line.allocations]
    order_index = len(actions)
    actions.append(orders.put_new_order_action(order))
    actions.append(cart.empty_cart_action(cart_customer_id, cart_version, now))
    coupon_index = len(actions)
    actions.extend(coupon_actions or [])
    if len(actions) > MAX_TRANSACTION_ITEMS:
        raise ValueError("transaction too large")  # callers check transaction_size first
    try:
        aws.client("dynamodb").transact_write_items(TransactItems=actions)
    except aws.NO_ANSWER:
        return Outcome.UNKNOWN
    except ClientError as exc:
        code = aws.error_code(exc)
        if code in aws.THROTTLING_CODES:
            return Outcome.CONTENDED
        if code != "TransactionCanceledException":
            raise
        codes = aws.cancellation_codes_or_parse(exc)
        if len(codes) > order_index and codes[order_index] == "ConditionalCheckFailed":
            return Outcome.ORDER_EXISTS
        if any(c == "ConditionalCheckFailed" for c in codes[:order_index]):
            return Outcome.STOCK_CHANGED
        if len(codes) > order_index + 1 and codes[order_index + 1] == "ConditionalCheckFailed":
            return Outcome.CART_CHANGED
        if any(c == "ConditionalCheckFailed" for c in codes[coupon_index:]):
            return Outcome.COUPON_EXHAUSTED
        return Outcome.CONTENDED
    return Outcome.PLACED


def read_cart_and_order(customer_id: str, order_id: str, now_epoch: int) -> tuple[CartRecord, Order | None]:
    """The shopper's cart and the order this checkout would create (present when it is a replay), in ONE
    strongly consistent BatchGetItem over the two tables."""
    with aws.translate_common_errors("checkout read"):
        found = batch_get_tables(aws.client("dynamodb"),
                                 merge_reads(cart.cart_reads(customer_id), orders.order_reads(order_id)))
    return cart.cart_from_found(customer_id, found, now_epoch), orders.order_from_found(found)
