"""Orders data access (OrdersTable) and the stock side of reservations (InventoryTable).

Every status change is a conditional write on the current status, so concurrent actors (workflow,
sweeper, cancellation) cannot both win; releasing a reservation changes the order status and gives the
stock back in ONE transaction, which is what makes it happen exactly once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from shop import aws
from shop.config import get_settings
from shop.dynamo import batch_get, encode_cursor, from_item, model_from_item, page_query, status_update, to_item, value
from shop.errors import Conflict, NotFound
from shop.money import Money
from shop.orders.models import Order, OrderStatus

# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): the order record and the partition
# of an order's items (ORDER#<order_id>) are keyed here only. Fulfillment and returns keep their items in that
# partition (order_collection_pk) and read them with the order in one query (read_order_collection); other
# contexts use the names in PUBLIC, never the key, the codec or the table name.
TABLE = "orders_table"
KEY_PREFIXES = ("ORDER#", "STATUS#")
PUBLIC = frozenset({
    "StatusConflict", "RefundLimitExceeded", "now_iso",
    "get_order", "require_order", "list_for_customer", "OrderCollection", "read_order_collection", "order_reads",
    "order_from_found", "order_collection_pk",
    "put_new_order_action", "status_update_action", "status_check_action", "timeline_action", "transition",
    "reserve_refund",
    "reserve_rest", "RefundContended",
    "count_returned_action", "uncount_returned_action",
    # staff operations (shop.orderflow.admin)
    "STATUS_INDEX", "NEEDS_ATTENTION", "status_pk", "OrderOps", "order_ops", "status_index_page",
    "customer_orders_page", "OpsRow", "mark_attention", "clear_attention", "resolve_attention", "add_staff_note",
    "record_staff_refund", "release_refund", "status_index_key",
})

PENDING = "PENDING"
STATUS_INDEX = "OrdersByStatus"  # status_pk (STATUS#<status>) -> created_at; also the needs-attention markers
ORDER_SKUS = "skus"  # the order's SKUs (a string set): the staff list's SKU filter


def status_pk(status: str) -> str:
    """The OrdersByStatus partition of a status. Written with the status in the same write (to_record,
    status_update_action), never by a second request, so the index never lags a status change."""
    return f"STATUS#{status}"


def status_index_key(order: Order) -> dict[str, Any]:
    """The OrdersByStatus key of the order's record (what a cursor of the staff list resumes from)."""
    return {**order_key(order.order_id), "status_pk": {"S": status_pk(order.status.value)},
            "created_at": {"S": order.created_at}}


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


class RefundContended(Conflict):
    """Concurrent refunds of the order kept changing its refunded counter while the rest of it was being counted
    (reserve_rest): nothing was reserved; a retry reads the counter again."""

    code = "refund_contended"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def orders_table() -> str:
    return get_settings().require("orders_table")


def order_collection_pk(order_id: str) -> str:
    """The partition of an order's items: the order record, and the items other contexts keep with the order
    (shipments, returns: their sort keys are theirs), so that one query reads them together."""
    return f"ORDER#{order_id}"


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": order_collection_pk(order_id)}, "sk": {"S": "ORDER"}}


# ------------------------------------------------------------------ (de)serialisation
def to_record(order: Order) -> dict[str, Any]:
    data = order.model_dump(mode="json")
    record = {"pk": order_collection_pk(order.order_id), "sk": "ORDER", **data,
              "status_pk": status_pk(order.status.value), ORDER_SKUS: {line.sku for line in order.lines}}
    if order.status == OrderStatus.PENDING_PAYMENT:
        record["pending_pk"] = PENDING
    return to_item(record)


def from_record(raw: dict[str, Any]) -> Order:
    return model_from_item(Order, raw)


# ------------------------------------------------------------------ transactions
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


def order_reads(order_id: str) -> dict[str, list[dict[str, Any]]]:
    """The order record as a read (table -> keys) for a caller composing one batch read with other contexts'
    reads (shop.dynamo.merge_reads); :func:`order_from_found` decodes what it found."""
    return {orders_table(): [order_key(order_id)]}


def order_from_found(found: dict[str, list[dict[str, Any]]]) -> Order | None:
    """The order of :func:`order_reads` among the items of a composed batch read (None: not there)."""
    raws = found.get(orders_table()) or []
    return from_record(raws[0]) if raws else None


@dataclass(frozen=True)
class OrderCollection:
    """An order with the items other contexts keep in its partition, as one query read them."""

    order: Order | None  # None: no such order
    returned: dict[str, int] = field(default_factory=dict)  # the record's returned counters (returned_counts)
    items: list[dict[str, Any]] = field(default_factory=list)  # the other items, raw: their owners decode them


def read_order_collection(order_id: str) -> OrderCollection:
    """The order record and every other item of its partition (shipments, returns ...), in one strongly
    consistent query (paged)."""
    ddb = aws.client("dynamodb")
    args: dict[str, Any] = {"TableName": orders_table(), "ConsistentRead": True,
                            "KeyConditionExpression": "pk = :pk",
                            "ExpressionAttributeValues": {":pk": {"S": order_collection_pk(order_id)}}}
    record: dict[str, Any] | None = None
    items: list[dict[str, Any]] = []
    with aws.translate_common_errors("order read"):
        while True:
            resp = ddb.query(**args)
            for raw in resp.get("Items", []):
                if raw["sk"]["S"] == "ORDER":
                    record = raw
                else:
                    items.append(raw)
            if "LastEvaluatedKey" not in resp:
                break
            args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    if record is None:
        return OrderCollection(None, {}, items)
    return OrderCollection(from_record(record), returned_counts(record), items)


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
    fields = {**(set_fields or {}), "status_pk": status_pk(to.value)}  # the status index moves with the status
    return status_update(orders_table(), order_key(order_id), (s.value for s in allowed_from), to.value, now_iso(),
                         fields=fields, append={"timeline": [entry]}, remove=["pending_pk"])


def transition(order_id: str, allowed_from: frozenset[OrderStatus] | set[OrderStatus], to: OrderStatus,
               note: str | None = None, set_fields: dict[str, Any] | None = None) -> Order:
    """Conditionally move the order to ``to``; StatusConflict (with the current status) when not allowed."""
    update = status_update_action(order_id, allowed_from, to, note, set_fields)["Update"]
    try:
        with aws.translate_common_errors("order status"):
            # on a failed condition the item comes back with the error: the current status without a read
            resp = aws.client("dynamodb").update_item(**update, ReturnValues="ALL_NEW",
                                                      ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as exc:
        if aws.error_code(exc) == "ConditionalCheckFailedException":
            old: dict[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
            current = from_record(old) if old else get_order(order_id)
            if current is None:
                raise NotFound(f"order {order_id} not found") from exc
            raise StatusConflict(order_id, current.status.value, to.value) from exc
        raise
    return from_record(resp["Attributes"])


def status_check_action(order_id: str, statuses: frozenset[OrderStatus] | set[OrderStatus]) -> dict[str, Any]:
    """A ConditionCheck (for another context's transaction): the order is in one of ``statuses``."""
    allowed = sorted(s.value for s in statuses)
    return {"ConditionCheck": {
        "TableName": orders_table(), "Key": order_key(order_id),
        "ConditionExpression": "#s IN (" + ", ".join(f":s{i}" for i in range(len(allowed))) + ")",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {f":s{i}": {"S": s} for i, s in enumerate(allowed)}}}


def timeline_action(order_id: str, status: str, note: str) -> dict[str, Any]:
    """An Update (for another context's transaction) that appends a timeline entry to the order without
    changing its status (e.g. fulfillment's LABEL_CREATED)."""
    return {"Update": {"TableName": orders_table(), "Key": order_key(order_id),
                       "UpdateExpression": "SET timeline = list_append(if_not_exists(timeline, :empty), :entry), "
                                           "updated_at = :now",
                       "ConditionExpression": "attribute_exists(pk)",
                       "ExpressionAttributeValues": {
                           ":entry": value([{"at": now_iso(), "status": status, "note": note}]),
                           ":empty": {"L": []}, ":now": {"S": now_iso()}}}}


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
    # inventory's and promotions' repositories are loaded by a release only: the order-side functions that never
    # release an order (tasks, views, webhooks) load neither (issue 17)
    from shop.inventory import repository as inventory
    from shop.promotions.repository import release_actions as coupon_release_actions

    actions = [update]
    for line in order.lines:
        for alloc in line.allocations:
            actions.append(inventory.release_action(line.sku, alloc.warehouse_id, alloc.quantity, alloc.shard))
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
    with aws.conditional_write("order payment") as write:
        aws.client("dynamodb").update_item(
            TableName=orders_table(), Key=order_key(order_id), UpdateExpression="SET auth_task_token = :t",
            ConditionExpression="attribute_exists(pk) AND #s = :processing",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":t": {"S": token},
                                       ":processing": {"S": OrderStatus.PAYMENT_PROCESSING.value}})
    return write.applied


def auth_token(order_id: str) -> str | None:
    with aws.translate_common_errors("order read"):
        raw = aws.client("dynamodb").get_item(TableName=orders_table(), Key=order_key(order_id),
                                              ConsistentRead=True, ProjectionExpression="auth_task_token").get("Item")
    return from_item(raw).get("auth_task_token") if raw else None


def record_refund(order_id: str, refund_id: str, amount: Money, note: str) -> bool:
    """Record the order's refund once (a second recording of the same refund is a no-op)."""
    with aws.conditional_write("order refund") as write:
        aws.client("dynamodb").update_item(
            TableName=orders_table(), Key=order_key(order_id),
            UpdateExpression="SET refund_id = :r, refunded = :amt, updated_at = :now, "
                             "timeline = list_append(if_not_exists(timeline, :empty), :entry)",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(refund_id)",
            ExpressionAttributeValues={":r": {"S": refund_id}, ":amt": value(amount.model_dump()),
                                       ":now": {"S": now_iso()}, ":empty": {"L": []},
                                       ":entry": _timeline_entry("REFUNDED", note)})
    return write.applied


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


REST_ATTEMPTS = 5  # read-then-conditional-write rounds of reserve_rest before it gives up on a busy order


def reserve_rest(order_id: str, key: str, captured: int) -> int:
    """Count what is LEFT of the order's capture (``captured - refunded``) as the refund of ``key``, before the
    provider is asked to pay it (a cancellation after partial refunds refunds the rest, not the total).

    Returns the amount reserved under ``key``: the amount already recorded by its marker when ``key`` was
    reserved before (a replay: the caller refunds that same amount with the same idempotency key), else the rest,
    written as ``refunded_amount = captured`` and ``refund.<key> = rest`` on condition that the counter is still
    what was read and the marker absent, so a concurrent refund can never make the total exceed ``captured``
    (the read only sizes the write; the condition is the guard). A lost race is read and tried again.
    0: nothing is left (nothing written; the caller refunds nothing)."""
    mark = f"{REFUND_MARK_PREFIX}{key}"
    for _ in range(REST_ATTEMPTS):
        with aws.translate_common_errors("order read"):
            raw = aws.client("dynamodb").get_item(
                TableName=orders_table(), Key=order_key(order_id), ConsistentRead=True,
                ProjectionExpression="pk, #t, #m",
                ExpressionAttributeNames={"#t": REFUNDED_AMOUNT, "#m": mark}).get("Item")
        if raw is None:
            raise NotFound(f"order {order_id} not found")
        if mark in raw:
            return int(raw[mark]["N"])
        refunded = int(raw[REFUNDED_AMOUNT]["N"]) if REFUNDED_AMOUNT in raw else 0
        rest = captured - refunded
        if rest <= 0:
            return 0
        counter = "#t = :was" if REFUNDED_AMOUNT in raw else "attribute_not_exists(#t)"
        values = {":captured": {"N": str(captured)}, ":rest": {"N": str(rest)}, ":now": {"S": now_iso()}}
        if REFUNDED_AMOUNT in raw:
            values[":was"] = {"N": str(refunded)}
        try:
            with aws.translate_common_errors("order refund"):
                aws.client("dynamodb").update_item(
                    TableName=orders_table(), Key=order_key(order_id),
                    UpdateExpression="SET #t = :captured, #m = :rest, updated_at = :now",
                    ConditionExpression=f"attribute_exists(pk) AND attribute_not_exists(#m) AND {counter}",
                    ExpressionAttributeNames={"#t": REFUNDED_AMOUNT, "#m": mark}, ExpressionAttributeValues=values)
        except ClientError as exc:
            if aws.error_code(exc) != "ConditionalCheckFailedException":
                raise
            continue  # a concurrent refund (or this key's replay) changed the order: read it again
        return rest
    raise RefundContended(f"order {order_id}: its refunds kept changing while the rest was being refunded; "
                          "try again", details={"order_id": order_id})

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


# ------------------------------------------------------------------ staff operations (shop.orderflow.admin)
NEEDS_ATTENTION = "NEEDS_ATTENTION"  # the OrdersByStatus partition of the needs-attention markers
ATTENTION_SK = "ATTENTION"  # the marker item in the order's partition (never a status of the order)
REFUND_DONE_PREFIX = "refund_id."  # refund_id.<key>: the provider's refund recorded for that staff refund key
OPS_FIELDS = ("attention", "staff_notes", "staff_refunds", "ops_log", REFUNDED_AMOUNT, "workflow_retries",
              "last_retry")


@dataclass(frozen=True)
class OrderOps:
    """What staff operations keep on the order record besides the order entity (never shown to the shopper)."""

    attention: dict[str, Any] | None  # the failed workflow execution: error, cause, execution_arn, at
    staff_notes: list[dict[str, Any]]
    staff_refunds: list[dict[str, Any]]
    ops_log: list[dict[str, Any]]  # staff-only history: attention, retries, notes
    refunded_amount: int  # every refund of the order (cancellation, returns, staff), minor units
    workflow_retries: int
    last_retry: dict[str, Any] | None


def order_ops(order_id: str) -> OrderOps | None:
    with aws.translate_common_errors("order read"):
        raw = aws.client("dynamodb").get_item(
            TableName=orders_table(), Key=order_key(order_id), ConsistentRead=True,
            ProjectionExpression=", ".join(["pk", *(f"#o{i}" for i in range(len(OPS_FIELDS)))]),
            ExpressionAttributeNames={f"#o{i}": n for i, n in enumerate(OPS_FIELDS)}).get("Item")
    if raw is None:
        return None
    data = from_item(raw)
    return OrderOps(attention=data.get("attention"), staff_notes=list(data.get("staff_notes") or []),
                    staff_refunds=list(data.get("staff_refunds") or []), ops_log=list(data.get("ops_log") or []),
                    refunded_amount=int(data.get(REFUNDED_AMOUNT) or 0),
                    workflow_retries=int(data.get("workflow_retries") or 0), last_retry=data.get("last_retry"))


def _created_condition(lower: str | None, upper: str | None, values: dict[str, Any]) -> str:
    """The sort key part of a key condition: created_at within [lower, upper] (either may be open)."""
    if lower and upper:
        values.update({":lo": {"S": lower}, ":hi": {"S": upper}})
        return " AND created_at BETWEEN :lo AND :hi"
    if lower:
        values[":lo"] = {"S": lower}
        return " AND created_at >= :lo"
    if upper:
        values[":hi"] = {"S": upper}
        return " AND created_at <= :hi"
    return ""


def _index_query(args: dict[str, Any], what: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    with aws.translate_common_errors(what):
        resp = aws.client("dynamodb").query(**args)
    return resp.get("Items", []), resp.get("LastEvaluatedKey")


OpsRow = tuple[Order, dict[str, Any] | None]  # an order and its attention (None: it needs none)


def _row(raw: dict[str, Any]) -> OpsRow:
    return from_record(raw), (from_item({"a": raw["attention"]})["a"] if "attention" in raw else None)


def status_index_page(status: str, *, limit: int, start: dict[str, Any] | None = None, lower: str | None = None,
                      upper: str | None = None, sku: str | None = None,
                      customer_id: str | None = None) -> tuple[list[OpsRow], dict[str, Any] | None]:
    """One page of the orders in ``status`` (or of the needs-attention markers: ``NEEDS_ATTENTION``, whose
    orders are then read in one batch), newest first, created within [lower, upper], optionally holding
    ``sku``: a Query of the OrdersByStatus index from ``start`` (an ExclusiveStartKey), never a scan. The SKU
    is a filter on that bounded query (``Limit`` counts the items read, so a page may hold fewer). Returns the
    orders with their attention, and the LastEvaluatedKey (None: the partition is exhausted)."""
    values: dict[str, Any] = {":p": {"S": status_pk(status)}}
    key = "status_pk = :p" + _created_condition(lower, upper, values)
    filters = []
    if sku:
        values[":sku"] = {"S": sku}
        filters.append(f"contains({ORDER_SKUS}, :sku)")
    if customer_id:
        values[":c"] = {"S": customer_id}
        filters.append("order_customer_id = :c")
    args: dict[str, Any] = {"TableName": orders_table(), "IndexName": STATUS_INDEX, "ScanIndexForward": False,
                            "Limit": limit, "KeyConditionExpression": key, "ExpressionAttributeValues": values,
                            **({"FilterExpression": " AND ".join(filters)} if filters else {}),
                            **({"ExclusiveStartKey": start} if start else {})}
    items, last = _index_query(args, "order list")
    if status != NEEDS_ATTENTION:
        return [_row(i) for i in items if i["sk"]["S"] == "ORDER"], last
    ids = [i["pk"]["S"] for i in items if i["sk"]["S"] == ATTENTION_SK]
    found = {} if not ids else {raw["pk"]["S"]: _row(raw) for raw in batch_get(
        aws.client("dynamodb"), orders_table(), [{"pk": {"S": pk}, "sk": {"S": "ORDER"}} for pk in ids])}
    return [found[pk] for pk in ids if pk in found], last


def customer_orders_page(customer_id: str, *, limit: int, start: dict[str, Any] | None = None,
                         lower: str | None = None, upper: str | None = None, status: str | None = None,
                         sku: str | None = None) -> tuple[list[OpsRow], dict[str, Any] | None]:
    """One page of a customer's orders (ByCustomer index), newest first, created within [lower, upper];
    ``status`` (or ``NEEDS_ATTENTION``) and ``sku`` filter that bounded query. Returns the orders and the
    LastEvaluatedKey."""
    values: dict[str, Any] = {":c": {"S": customer_id}, ":order": {"S": "ORDER"}}
    key = "customer_id = :c" + _created_condition(lower, upper, values)
    filters, names = ["sk = :order"], {}
    if status == NEEDS_ATTENTION:
        filters.append("attribute_exists(attention)")
    elif status:
        names["#s"] = "status"
        values[":st"] = {"S": status}
        filters.append("#s = :st")
    if sku:
        values[":sku"] = {"S": sku}
        filters.append(f"contains({ORDER_SKUS}, :sku)")
    args: dict[str, Any] = {"TableName": orders_table(), "IndexName": "ByCustomer", "ScanIndexForward": False,
                            "Limit": limit, "KeyConditionExpression": key, "ExpressionAttributeValues": values,
                            "FilterExpression": " AND ".join(filters),
                            **({"ExpressionAttributeNames": names} if names else {}),
                            **({"ExclusiveStartKey": start} if start else {})}
    items, last = _index_query(args, "order list")
    return [_row(i) for i in items if i["sk"]["S"] == "ORDER"], last


def mark_attention(order: Order, attention: dict[str, Any]) -> bool:
    """Mark the order as needing attention (``attention``: error, cause, execution_arn, ...), keeping its status:
    the attention on the record and a marker item in the OrdersByStatus partition ``NEEDS_ATTENTION`` (which is
    how the staff list finds it), in one transaction. False when this execution's failure is marked already (a
    redelivered event). An attention that is not a workflow's (a delivery exception) has a ``reference``
    instead of an ``execution_arn``: the same reference is marked once."""
    ref = "execution_arn" if attention.get("execution_arn") else "reference"
    marker = {"pk": order_collection_pk(order.order_id), "sk": ATTENTION_SK, "status_pk": status_pk(NEEDS_ATTENTION),
              "created_at": order.created_at, "order_id": order.order_id, "order_customer_id": order.customer_id,
              ORDER_SKUS: {line.sku for line in order.lines}, ref: attention[ref],
              "marked_at": attention["at"]}
    log = [{"at": attention["at"], "kind": "attention", "note": f"{attention['error']}: {attention['cause']}"[:1000]}]
    try:
        transact([
            {"Update": {"TableName": orders_table(), "Key": order_key(order.order_id),
                        "UpdateExpression": "SET attention = :a, updated_at = :now, "
                                            "ops_log = list_append(if_not_exists(ops_log, :empty), :log)",
                        "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(attention) OR "
                                               "attribute_not_exists(attention.#ref) OR attention.#ref <> :arn)",
                        "ExpressionAttributeNames": {"#ref": ref},
                        "ExpressionAttributeValues": {":a": value(attention), ":now": {"S": now_iso()},
                                                      ":empty": {"L": []}, ":log": value(log),
                                                      ":arn": {"S": attention[ref]}}}},
            {"Put": {"TableName": orders_table(), "Item": to_item(marker)}},
        ])
    except TransactionCancelled as exc:
        if exc.codes and exc.codes[0] == "ConditionalCheckFailed":
            return False
        aws.busy_if_contended(exc, f"marking order {order.order_id}")
        raise
    return True


def clear_attention(order_id: str, execution_arn: str, retry: dict[str, Any]) -> bool:
    """The failure of ``execution_arn`` is being dealt with (``retry``: what was done, by whom): the attention
    and its marker go, the retry is counted and recorded, in one transaction. False when that attention is not
    there any more (a concurrent retry cleared it first)."""
    return _clear_attention(order_id, "execution_arn", execution_arn, "last_retry", retry, "retry", counted=True)


def resolve_attention(order_id: str, attention: dict[str, Any], resolution: dict[str, Any]) -> bool:
    """Staff settled the order by hand (``resolution``: note, by, at): the attention (the workflow's, or a delivery
    exception's ``reference``) and its marker go and the resolution is recorded, in one transaction, conditional on
    that same attention still being there. False when it is not (a concurrent resolve or retry cleared it first)."""
    ref = "execution_arn" if attention.get("execution_arn") else "reference"
    return _clear_attention(order_id, ref, str(attention[ref]), "last_resolution", resolution, "resolved",
                            counted=False)


def _clear_attention(order_id: str, ref: str, ref_value: str, field: str, record: dict[str, Any], kind: str,
                     counted: bool) -> bool:
    log = [{"at": record["at"], "kind": kind, "note": record["note"], "by": record["by"]}]
    counter = "workflow_retries = if_not_exists(workflow_retries, :zero) + :one, " if counted else ""
    values = {":r": value(record), ":now": {"S": now_iso()}, ":empty": {"L": []}, ":log": value(log),
              ":ref": {"S": ref_value}}
    if counted:
        values |= {":zero": {"N": "0"}, ":one": {"N": "1"}}
    try:
        transact([
            {"Update": {"TableName": orders_table(), "Key": order_key(order_id),
                        "UpdateExpression": f"SET #field = :r, updated_at = :now, {counter}"
                                            "ops_log = list_append(if_not_exists(ops_log, :empty), :log) "
                                            "REMOVE attention",
                        "ConditionExpression": "attention.#ref = :ref",
                        "ExpressionAttributeNames": {"#field": field, "#ref": ref},
                        "ExpressionAttributeValues": values}},
            {"Delete": {"TableName": orders_table(),
                        "Key": {"pk": {"S": order_collection_pk(order_id)}, "sk": {"S": ATTENTION_SK}}}},
        ])
    except TransactionCancelled as exc:
        if exc.codes and exc.codes[0] == "ConditionalCheckFailed":
            return False
        aws.busy_if_contended(exc, f"clearing the attention of order {order_id}")
        raise
    return True


def add_staff_note(order_id: str, note: dict[str, Any]) -> None:
    try:
        with aws.translate_common_errors("order note"):
            aws.client("dynamodb").update_item(
                TableName=orders_table(), Key=order_key(order_id),
                UpdateExpression="SET staff_notes = list_append(if_not_exists(staff_notes, :empty), :n), "
                                 "ops_log = list_append(if_not_exists(ops_log, :empty), :log)",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":empty": {"L": []}, ":n": value([note]), ":log": value([
                    {"at": note["at"], "kind": "note", "note": note["text"], "by": note["author_id"]}])})
    except ClientError as exc:
        if aws.error_code(exc) == "ConditionalCheckFailedException":
            raise NotFound(f"order {order_id} not found") from exc
        raise


def record_staff_refund(order_id: str, key: str, refund: dict[str, Any], note: str) -> bool:
    """Record a staff refund the provider paid (reserved before with :func:`reserve_refund` under ``key``), with a
    REFUNDED timeline entry the shopper sees; once per key (False: recorded before)."""
    with aws.conditional_write("order refund") as write:
        aws.client("dynamodb").update_item(
            TableName=orders_table(), Key=order_key(order_id),
            UpdateExpression="SET #done = :rid, updated_at = :now, "
                             "staff_refunds = list_append(if_not_exists(staff_refunds, :empty), :r), "
                             "timeline = list_append(if_not_exists(timeline, :empty), :entry)",
            ConditionExpression="attribute_exists(pk) AND attribute_exists(#mark) AND attribute_not_exists(#done)",
            ExpressionAttributeNames={"#done": f"{REFUND_DONE_PREFIX}{key}", "#mark": f"{REFUND_MARK_PREFIX}{key}"},
            ExpressionAttributeValues={":rid": {"S": refund["refund_id"]}, ":now": {"S": now_iso()},
                                       ":empty": {"L": []}, ":r": value([refund]),
                                       ":entry": _timeline_entry("REFUNDED", note)})
    return write.applied


def release_refund(order_id: str, key: str, amount: int) -> bool:
    """Undo :func:`reserve_refund` for ``key`` when the provider refused the refund (nothing was paid), so the
    counter keeps equal to what was refunded; never once the refund was recorded. False: nothing to undo."""
    with aws.conditional_write("order refund") as write:
        aws.client("dynamodb").update_item(
            TableName=orders_table(), Key=order_key(order_id),
            UpdateExpression="SET #t = #t - :amt, updated_at = :now REMOVE #m",
            ConditionExpression="attribute_exists(#m) AND #m = :amt AND attribute_not_exists(#done)",
            ExpressionAttributeNames={"#t": REFUNDED_AMOUNT, "#m": f"{REFUND_MARK_PREFIX}{key}",
                                      "#done": f"{REFUND_DONE_PREFIX}{key}"},
            ExpressionAttributeValues={":amt": {"N": str(amount)}, ":now": {"S": now_iso()}})
    return write.applied



# ------------------------------------------------------------------ one-off backfill (scripts/backfill_status_index.py)
def backfill_status_index(page_size: int, start: dict[str, Any] | None) -> tuple[int, int, dict[str, Any] | None]:
    """One page of the backfill of the staff status index for orders written before it existed (no ``status_pk``):
    a Scan page of the orders table (a one-off migration run by an operator, never a request path; ``page_size``
    bounds the read units per call), and per order a write of its status partition and SKUs, conditional on the
    order still lacking them and still having the status read: a status change in between writes both itself.
    Returns (orders seen, orders updated, the next page's start or None)."""
    ddb = aws.client("dynamodb")
    args: dict[str, Any] = {"TableName": orders_table(), "Limit": page_size,
                            "FilterExpression": "sk = :order AND attribute_not_exists(status_pk)",
                            "ExpressionAttributeValues": {":order": {"S": "ORDER"}}}
    if start:
        args["ExclusiveStartKey"] = start
    page = ddb.scan(**args)
    updated = 0
    for raw in page.get("Items", []):
        order = from_record(raw)
        with aws.conditional_write("order status index backfill") as write:
            ddb.update_item(
                TableName=orders_table(), Key=order_key(order.order_id),
                UpdateExpression="SET status_pk = :p, #skus = if_not_exists(#skus, :skus)",
                ConditionExpression="attribute_not_exists(status_pk) AND #status = :s",
                ExpressionAttributeNames={"#skus": ORDER_SKUS, "#status": "status"},
                ExpressionAttributeValues={":p": {"S": status_pk(order.status.value)}, ":s": {"S": order.status.value},
                                           ":skus": {"SS": sorted({line.sku for line in order.lines})}})
        updated += write.applied
    return len(page.get("Items", [])), updated, page.get("LastEvaluatedKey")
