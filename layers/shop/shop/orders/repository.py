"""Orders data access (OrdersTable) and the stock side of reservations (InventoryTable).

Every status change is a conditional write on the current status, so concurrent actors (workflow,
sweeper, cancellation) cannot both win; releasing a reservation changes the order status and gives the
stock back in ONE transaction, which is what makes it happen exactly once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from shop import aws
from shop.config import get_settings
from shop.dynamo import encode_cursor, from_item, model_from_item, page_query, status_update, to_item, value
from shop.errors import Conflict, NotFound
from shop.inventory.repository import stock_key
from shop.money import Money
from shop.orders.models import Order, OrderStatus
from shop.promotions.repository import release_actions as coupon_release_actions

PENDING = "PENDING"


TransactionCancelled = aws.TransactionCancelled


class StatusConflict(Conflict):
    """The order is not in a status that allows the change."""

    def __init__(self, order_id: str, current: str | None, wanted: str):
        super().__init__(f"order {order_id} is {current}, cannot become {wanted}",
                         details={"order_id": order_id, "status": current})
        self.current = current


class RefundLimitExceeded(Conflict):
    """The order's refunded counter would exceed what was captured: the refund is not reserved, Stripe is not
    asked. Like shop.payments.errors.RefundRefused, never retried by a workflow: a person settles the case."""

    code = "refund_limit_exceeded"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def orders_table() -> str:
    return get_settings().require("orders_table")


def inventory_table() -> str:
    return get_settings().require("inventory_table")


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}}


# ------------------------------------------------------------------ (de)serialisation
def to_record(order: Order) -> dict[str, Any]:
    data = order.model_dump(mode="json")
    record = {"pk": f"ORDER#{order.order_id}", "sk": "ORDER", **data}
    if order.status == OrderStatus.PENDING_PAYMENT:
        record["pending_pk"] = PENDING
    return to_item(record)


def from_record(raw: dict[str, Any]) -> Order:
    return model_from_item(Order, raw)


# ------------------------------------------------------------------ transactions
def release_action(sku: str, warehouse_id: str, quantity: int, shard: int | None = None) -> dict[str, Any]:
    """Give reserved units back to the slot they were reserved from (the level, or its shard)."""
    return {"Update": {
        "TableName": inventory_table(), "Key": stock_key(sku, warehouse_id, shard),
        "UpdateExpression": "SET available = available + :q, reserved = reserved - :q",
        "ConditionExpression": "reserved >= :q",
        "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
    }}


def put_new_order_action(order: Order) -> dict[str, Any]:
    return {"Put": {"TableName": orders_table(), "Item": to_record(order),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def transact(actions: list[dict[str, Any]]) -> None:
    aws.transact(actions, "order transaction")


# ------------------------------------------------------------------ reads
def get_order(order_id: str, *, consistent: bool = True) -> Order | None:
    with aws.translate_common_errors("order read"):
        resp = aws.client("dynamodb").get_item(TableName=orders_table(), Key=order_key(order_id),
                                               ConsistentRead=consistent)
    raw = resp.get("Item")
    return from_record(raw) if raw else None


def require_order(order_id: str) -> Order:
    order = get_order(order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    return order


def list_for_customer(customer_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
    """The customer's orders, newest first. The ByCustomer index holds orders only (no other item writes both
    ``customer_id`` and ``created_at`` to the OrdersTable), and the reader selects by kind all the same
    (``sk = ORDER``): returns written before that rule (they carried both) are skipped, never parsed."""
    args = page_query({
        "TableName": orders_table(), "IndexName": "ByCustomer", "ScanIndexForward": False, "Limit": limit,
        "KeyConditionExpression": "customer_id = :c", "FilterExpression": "sk = :order",
        "ExpressionAttributeValues": {":c": {"S": customer_id}, ":order": {"S": "ORDER"}},
    }, cursor, ("customer_id", customer_id))
    with aws.translate_common_errors("order list"):
        resp = aws.client("dynamodb").query(**args)
    orders = [from_record(i) for i in resp.get("Items", []) if i.get("sk", {}).get("S") == "ORDER"]
    return orders, encode_cursor(resp.get("LastEvaluatedKey"))


def expired_pending(now_epoch: int, limit: int = 100,
                    start: dict[str, Any] | None = None) -> tuple[list[str], dict[str, Any] | None]:
    """Ids of orders still PENDING_PAYMENT whose reservation expired (sparse index, never a scan), one page
    of at most ``limit`` from ``start``; and where the next page starts (None: no more)."""
    args: dict[str, Any] = {
        "TableName": orders_table(), "IndexName": "PendingByExpiry", "Limit": limit,
        "KeyConditionExpression": "pending_pk = :p AND reservation_expires_at < :now",
        "ExpressionAttributeValues": {":p": {"S": PENDING}, ":now": {"N": str(now_epoch)}},
        **({"ExclusiveStartKey": start} if start else {}),
    }
    with aws.translate_common_errors("expired reservations"):
        resp = aws.client("dynamodb").query(**args)
    ids = [from_item(i)["pk"].removeprefix("ORDER#") for i in resp.get("Items", [])]
    return ids, resp.get("LastEvaluatedKey")


# ------------------------------------------------------------------ status changes
def _timeline_entry(status: str, note: str | None) -> dict[str, Any]:
    entry = {"at": now_iso(), "status": status}
    if note:
        entry["note"] = note
    return value([entry])


def status_update_action(order_id: str, allowed_from: frozenset[OrderStatus] | set[OrderStatus], to: OrderStatus,
                         note: str | None = None, set_fields: dict[str, Any] | None = None) -> dict[str, Any]:
    entry = {"at": now_iso(), "status": to.value, **({"note": note} if note else {})}
    return status_update(orders_table(), order_key(order_id), (s.value for s in allowed_from), to.value, now_iso(),
                         fields=set_fields, append={"timeline": [entry]}, remove=["pending_pk"])


def transition(order_id: str, allowed_from: frozenset[OrderStatus] | set[OrderStatus], to: OrderStatus,
               note: str | None = None, set_fields: dict[str, Any] | None = None) -> Order:
    """Conditionally move the order to ``to``; StatusConflict (with the current status) when not allowed."""
    update = status_update_action(order_id, allowed_from, to, note, set_fields)["Update"]
    try:
        with aws.translate_common_errors("order status"):
            resp = aws.client("dynamodb").update_item(**update, ReturnValues="ALL_NEW")
    except ClientError as exc:
        if aws.error_code(exc) == "ConditionalCheckFailedException":
            current = get_order(order_id)
            if current is None:
                raise NotFound(f"order {order_id} not found") from exc
            raise StatusConflict(order_id, current.status.value, to.value) from exc
        raise
    return from_record(resp["Attributes"])


def set_payment_intent(order_id: str, payment_intent_id: str) -> str:
    """Record the order's PaymentIntent once; returns the one recorded (ours or an earlier attempt's)."""
    try:
        with aws.translate_common_errors("order payment"):
            aws.client("dynamodb").update_item(
                TableName=orders_table(), Key=order_key(order_id),
                UpdateExpression="SET payment_intent_id = :pi, updated_at = :now",
                # only while payment is in progress: an order cancelled meanwhile must not get a charge
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(payment_intent_id) "
                                    "AND #s = :processing",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":pi": {"S": payment_intent_id}, ":now": {"S": now_iso()},
                                           ":processing": {"S": OrderStatus.PAYMENT_PROCESSING.value}})
        return payment_intent_id
    except ClientError as exc:
        if aws.error_code(exc) != "ConditionalCheckFailedException":
            raise
    order = require_order(order_id)
    if order.payment_intent_id is None:
        raise StatusConflict(order_id, order.status.value, "charged")
    return order.payment_intent_id


def release(order: Order, to: OrderStatus, sources: frozenset[OrderStatus], note: str | None = None,
            expired_before: int | None = None, set_fields: dict[str, Any] | None = None) -> bool:
    """Give the order's reserved stock back and set its final status ``to``, in one transaction.

    The order must still be in one of ``sources`` (and, with ``expired_before``, have its reservation expire
    before that epoch second). Returns False and changes nothing otherwise: releasing twice is a no-op,
    whoever does it (workflow, sweeper, cancellation).
    """
    if order.status not in sources:
        return False
    update = status_update_action(order.order_id, sources, to, note, set_fields)
    if expired_before is not None:
        update["Update"]["ConditionExpression"] += " AND reservation_expires_at < :expiry"
        update["Update"]["ExpressionAttributeValues"][":expiry"] = {"N": str(expired_before)}
    actions = [update]
    for line in order.lines:
        for alloc in line.allocations:
            actions.append(release_action(line.sku, alloc.warehouse_id, alloc.quantity, alloc.shard))
    if order.coupon_code:  # the coupon's use goes back with the stock, once
        actions.extend(coupon_release_actions(order.coupon_code, order.customer_id, order.order_id))
    try:
        transact(actions)
    except TransactionCancelled as exc:
        if exc.codes and exc.codes[0] == "ConditionalCheckFailed":
            return False  # someone else released (or the order moved on) first
        aws.busy_if_contended(exc, f"releasing order {order.order_id}")  # retried, never given up
        raise Conflict(f"releasing order {order.order_id} failed: {exc.codes}") from exc
    return True


def set_auth_token(order_id: str, token: str) -> bool:
    """Store the workflow token waiting for 3-D Secure; False when the order is no longer being paid."""
    try:
        with aws.translate_common_errors("order payment"):
            aws.client("dynamodb").update_item(
                TableName=orders_table(), Key=order_key(order_id), UpdateExpression="SET auth_task_token = :t",
                ConditionExpression="attribute_exists(pk) AND #s = :processing",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":t": {"S": token},
                                           ":processing": {"S": OrderStatus.PAYMENT_PROCESSING.value}})
    except ClientError as exc:
        if aws.error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def auth_token(order_id: str) -> str | None:
    with aws.translate_common_errors("order read"):
        raw = aws.client("dynamodb").get_item(TableName=orders_table(), Key=order_key(order_id),
                                              ConsistentRead=True, ProjectionExpression="auth_task_token").get("Item")
    return from_item(raw).get("auth_task_token") if raw else None


def record_refund(order_id: str, refund_id: str, amount: Money, note: str) -> bool:
    """Record the order's refund once (a second recording of the same refund is a no-op)."""
    try:
        with aws.translate_common_errors("order refund"):
            aws.client("dynamodb").update_item(
                TableName=orders_table(), Key=order_key(order_id),
                UpdateExpression="SET refund_id = :r, refunded = :amt, updated_at = :now, "
                                 "timeline = list_append(if_not_exists(timeline, :empty), :entry)",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(refund_id)",
                ExpressionAttributeValues={":r": {"S": refund_id}, ":amt": value(amount.model_dump()),
                                           ":now": {"S": now_iso()}, ":empty": {"L": []},
                                           ":entry": _timeline_entry("REFUNDED", note)})
    except ClientError as exc:
        if aws.error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


# ------------------------------------------------------------------ money and return limits (conditions in the write)
RETURNED_PREFIX = "returned."  # returned.<sku>: units of the line under a return that was not rejected
REFUND_MARK_PREFIX = "refund."  # refund.<key>: the amount reserved by that refund (once per key)
REFUNDED_AMOUNT = "refunded_amount"  # cumulative refunds of the order (minor units), <= what was captured


def returned_counts(raw: dict[str, Any]) -> dict[str, int]:
    """The returned units per SKU kept on a stored order record (only SKUs that have a counter)."""
    return {k.removeprefix(RETURNED_PREFIX): int(v["N"]) for k, v in raw.items() if k.startswith(RETURNED_PREFIX)}


def count_returned_action(order_id: str, lines: dict[str, tuple[int, int, int]]) -> dict[str, Any]:
    """Update of the order's per-line returned counters for a new return, for a transaction with the return's
    Put: ``lines`` maps each SKU to (units returned now, units delivered, units already under return when the
    counter does not exist yet: returns written before the counters). The write holds only while
    ``returned + units <= delivered`` for every line, so concurrent returns of the same units cannot both pass.
    Delivered units only ever grow (a delivered parcel stays delivered), so a delivered count read before the
    write is a safe bound; the caller refuses ``base + units > delivered`` up front."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {":now": {"S": now_iso()}}
    sets, conds = ["updated_at = :now"], ["attribute_exists(pk)"]
    for i, (sku, (units, delivered, base)) in enumerate(sorted(lines.items())):
        if units <= 0 or base + units > delivered:
            raise ValueError(f"{units} unit(s) of {sku} cannot be returned: {base} of {delivered} already are")
        names[f"#r{i}"] = f"{RETURNED_PREFIX}{sku}"
        values.update({f":q{i}": {"N": str(units)}, f":b{i}": {"N": str(base)},
                       f":left{i}": {"N": str(delivered - units)}})
        sets.append(f"#r{i} = if_not_exists(#r{i}, :b{i}) + :q{i}")
        conds.append(f"(attribute_not_exists(#r{i}) OR #r{i} <= :left{i})")
    return {"Update": {"TableName": orders_table(), "Key": order_key(order_id),
                       "UpdateExpression": "SET " + ", ".join(sets), "ConditionExpression": " AND ".join(conds),
                       "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}


def uncount_returned_action(order_id: str, lines: dict[str, int]) -> dict[str, Any]:
    """The inverse of :func:`count_returned_action` (a rejected return gives its units back); put it in the
    transaction of the return's conditional status change, which makes it happen once."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {":now": {"S": now_iso()}}
    sets, conds = ["updated_at = :now"], ["attribute_exists(pk)"]
    for i, (sku, units) in enumerate(sorted(lines.items())):
        names[f"#r{i}"] = f"{RETURNED_PREFIX}{sku}"
        values[f":q{i}"] = {"N": str(units)}
        sets.append(f"#r{i} = #r{i} - :q{i}")
        conds.append(f"#r{i} >= :q{i}")
    return {"Update": {"TableName": orders_table(), "Key": order_key(order_id),
                       "UpdateExpression": "SET " + ", ".join(sets), "ConditionExpression": " AND ".join(conds),
                       "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}


def reserve_refund(order_id: str, key: str, amount: int, captured: int) -> bool:
    """Count a refund of ``amount`` (minor units) against the order BEFORE the provider is asked to pay it.

    One conditional write: ``refunded_amount + amount <= captured`` and no reservation for ``key`` yet (the
    marker ``refund.<key>`` is written with it). True: reserved now. False: this key was reserved before (a
    retried step: counted once, the caller goes on to the provider with the same idempotency key).
    RefundLimitExceeded: the order has no room left for it (nothing written, the provider is not asked)."""
    if amount <= 0 or amount > captured:
        raise RefundLimitExceeded(f"a refund of {amount} on order {order_id} exceeds the {captured} captured",
                                  details={"order_id": order_id, "amount": amount, "captured": captured})
    try:
        with aws.translate_common_errors("order refund"):
            aws.client("dynamodb").update_item(
                TableName=orders_table(), Key=order_key(order_id),
                UpdateExpression="SET #t = if_not_exists(#t, :zero) + :amt, #m = :amt, updated_at = :now",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#m) AND "
                                    "(attribute_not_exists(#t) OR #t <= :room)",
                ExpressionAttributeNames={"#t": REFUNDED_AMOUNT, "#m": f"{REFUND_MARK_PREFIX}{key}"},
                ExpressionAttributeValues={":zero": {"N": "0"}, ":amt": {"N": str(amount)},
                                           ":room": {"N": str(captured - amount)}, ":now": {"S": now_iso()}})
    except ClientError as exc:
        if aws.error_code(exc) != "ConditionalCheckFailedException":
            raise
        with aws.translate_common_errors("order read"):
            raw = aws.client("dynamodb").get_item(TableName=orders_table(), Key=order_key(order_id),
                                                  ConsistentRead=True).get("Item")
        if raw is None:
            raise NotFound(f"order {order_id} not found") from exc
        if f"{REFUND_MARK_PREFIX}{key}" in raw:
            return False
        refunded = int(raw[REFUNDED_AMOUNT]["N"]) if REFUNDED_AMOUNT in raw else 0
        raise RefundLimitExceeded(
            f"order {order_id}: a refund of {amount} on top of {refunded} refunded exceeds the {captured} "
            "captured", details={"order_id": order_id, "amount": amount, "refunded": refunded,
                                 "captured": captured}) from exc
    return True


def set_attributes(order_id: str, attrs: dict[str, Any]) -> None:
    names = {f"#a{i}": k for i, k in enumerate(attrs)}
    values = {f":a{i}": value(v) for i, v in enumerate(attrs.values())}
    values[":now"] = {"S": now_iso()}
    sets = [f"#a{i} = :a{i}" for i in range(len(attrs))] + ["updated_at = :now"]
    with aws.translate_common_errors("order update"):
        aws.client("dynamodb").update_item(
            TableName=orders_table(), Key=order_key(order_id), UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="attribute_exists(pk)", ExpressionAttributeNames=names,
            ExpressionAttributeValues=values)


def debug_dump(order: Order) -> str:
    return json.dumps(order.model_dump(mode="json"), sort_keys=True)

