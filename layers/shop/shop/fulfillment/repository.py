"""Fulfillment data access (OrdersTable and InventoryTable).

Items in OrdersTable next to the order (pk ORDER#<order>):
- shipment  sk SHIPMENT#<shipment_id>    one per warehouse the order ships from;
- warehouse task  pk TASK#<task_id>, sk TASK   pick / pack / pickup, with the workflow's task token while
  OPEN and the sparse index attribute ``open_warehouse_id`` (index OpenTasksByWarehouse);
- tracking  pk TRACKING#<number>, sk TRACKING   carrier webhooks find the shipment by tracking number.
Label documents (PDF) are objects in LabelsBucket, labels/<order>/<shipment>.<ext>, linked by the shipment's
``label_key``.
Every status change is conditional on the current status; stock commits are one transaction with the
shipment and the order, so a parcel's stock leaves exactly once and never for a cancelled order.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from shop import aws
from shop.config import get_settings
from shop.dynamo import (
    batch_get_tables,
    encode_cursor,
    from_item,
    model_from_item,
    page_query,
    status_update,
    to_item,
    value,
)
from shop.errors import Conflict, NotFound
from shop.fulfillment.models import (
    HANDED_OVER,
    ParcelAllocation,
    Shipment,
    ShipmentStatus,
    TaskStatus,
    TrackingEvent,
    WarehouseTask,
)
from shop.models import StockLevel
from shop.orders.models import Order, OrderStatus
from shop.orders.repository import (
    now_iso,
    order_collection_pk,
    read_order_collection,
    status_update_action,
    timeline_action,
)

# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): fulfillment's items of the
# OrdersTable are keyed here only (a shipment in its order's partition, orders.repository.order_collection_pk);
# other contexts use the names in PUBLIC.
TABLE = "orders_table"
KEY_PREFIXES = ("SHIPMENT#", "TASK#", "TRACKING#")
PUBLIC = frozenset({"order_items", "shipments_in", "store_task", "PackOutcome", "new_shipment_action",
                    "label_key", "label_link", "store_label_document"})  # the return labels (shop.returns.service)

S = OrderStatus
TransactionCancelled = aws.TransactionCancelled


def _table() -> str:
    return get_settings().require("orders_table")


def _transact(actions: list[dict[str, Any]]) -> None:
    aws.transact(actions, "order transaction")


def _transact_first_time(actions: list[dict[str, Any]], what: str) -> bool:
    """One transaction whose conditions hold only the first time (puts of new items, a status move): False when
    a condition fails (done before: a retry or a duplicate delivery), ServiceBusy when contended."""
    try:
        _transact(actions)
    except TransactionCancelled as exc:
        if "ConditionalCheckFailed" in exc.codes:
            return False
        aws.busy_if_contended(exc, what)
        raise Conflict(f"{what} failed: {exc.codes}") from exc
    return True


def _shipment_key(order_id: str, shipment_id: str) -> dict[str, Any]:
    return {"pk": {"S": order_collection_pk(order_id)}, "sk": {"S": f"SHIPMENT#{shipment_id}"}}


def _task_key(task_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TASK#{task_id}"}, "sk": {"S": "TASK"}}


def _tracking_key(tracking_number: str) -> dict[str, Any]:
    return {"pk": {"S": f"TRACKING#{tracking_number}"}, "sk": {"S": "TRACKING"}}


def _conditional_failed(exc: ClientError) -> bool:
    return aws.error_code(exc) == "ConditionalCheckFailedException"


# ------------------------------------------------------------------ reads
def shipments_in(items: list[dict[str, Any]]) -> list[Shipment]:
    """The shipments among the raw items of an order's partition (orders.repository.read_order_collection),
    by shipment id."""
    shipments = [model_from_item(Shipment, raw) for raw in items if raw["sk"]["S"].startswith("SHIPMENT#")]
    return sorted(shipments, key=lambda s: s.shipment_id)


def order_items(order_id: str) -> tuple[Order | None, list[Shipment]]:
    """The order and its shipments, in one strongly consistent query."""
    collection = read_order_collection(order_id)
    return collection.order, shipments_in(collection.items)


def get_shipment(order_id: str, shipment_id: str) -> Shipment:
    with aws.translate_common_errors("shipment read"):
        raw = aws.client("dynamodb").get_item(TableName=_table(), Key=_shipment_key(order_id, shipment_id),
                                              ConsistentRead=True).get("Item")
    if raw is None:
        raise NotFound(f"shipment {shipment_id} of order {order_id} not found")
    return model_from_item(Shipment, raw)


def get_task(task_id: str) -> tuple[WarehouseTask, str | None] | None:
    """The task and the workflow token waiting on it (None once used or never stored)."""
    with aws.translate_common_errors("task read"):
        raw = aws.client("dynamodb").get_item(TableName=_table(), Key=_task_key(task_id),
                                              ConsistentRead=True).get("Item")
    if raw is None:
        return None
    return model_from_item(WarehouseTask, raw), from_item(raw).get("task_token")


def open_tasks(warehouse_id: str, limit: int, cursor: str | None) -> tuple[list[WarehouseTask], str | None]:
    args = page_query({
        "TableName": _table(), "IndexName": "OpenTasksByWarehouse", "Limit": limit,
        "KeyConditionExpression": "open_warehouse_id = :w", "ExpressionAttributeValues": {":w": {"S": warehouse_id}},
    }, cursor, ("open_warehouse_id", warehouse_id))
    with aws.translate_common_errors("task list"):
        resp = aws.client("dynamodb").query(**args)
    tasks = [model_from_item(WarehouseTask, i) for i in resp.get("Items", [])]
    return tasks, encode_cursor(resp.get("LastEvaluatedKey"))


def tracking_lookup(tracking_number: str) -> tuple[str, str] | None:
    with aws.translate_common_errors("tracking lookup"):
        raw = aws.client("dynamodb").get_item(TableName=_table(), Key=_tracking_key(tracking_number),
                                              ConsistentRead=True).get("Item")
    if raw is None:
        return None
    data = from_item(raw)
    return str(data["order_id"]), str(data["shipment_id"])


# ------------------------------------------------------------------ split
def stock_levels_at(skus: list[str], warehouse_ids: list[str]) -> list[StockLevel]:
    """The stock levels of ``skus`` in ``warehouse_ids`` (the warehouses an order's allocations name: their
    bins for the pick list, their reorder points), in one strongly consistent batch read by key instead of a
    query per SKU (a level seen sharded for the first time: one more read, for its shards). Pairs without a
    level are not found. The read is not remembered as where the SKUs are stocked (it looks at a few
    warehouses only)."""
    from shop.inventory import repository as inventory  # the split and the packing only (issue 17)

    read = inventory.stock_read(skus, warehouse_ids, everywhere=True)
    with aws.translate_common_errors("stock lookup"):
        found = batch_get_tables(aws.client("dynamodb"), read.reads) if read.keys else {}
        inventory.complete_shards(found)
    return [level for levels in inventory.stock_from_found(skus, found).values() for level in levels]


def save_split(order: Order, shipments: list[Shipment]) -> bool:
    """PAID -> FULFILLING and every shipment created, in one transaction. False (nothing written) when the
    order is no longer PAID (already split by an earlier attempt, or cancelled)."""
    note = f"split into {len(shipments)} shipment(s)"
    actions = [status_update_action(order.order_id, {S.PAID}, S.FULFILLING, note)]
    for shipment in shipments:
        item = {"pk": order_collection_pk(order.order_id), "sk": f"SHIPMENT#{shipment.shipment_id}",
                **shipment.model_dump(mode="json", exclude_none=True)}
        actions.append({"Put": {"TableName": _table(), "Item": to_item(item),
                                "ConditionExpression": "attribute_not_exists(pk)"}})
    return _transact_first_time(actions, f"splitting order {order.order_id}")


def new_shipment_action(shipment: Shipment) -> dict[str, Any]:
    """A Put (for another context's transaction) creating a shipment in its order's partition, once: how an
    exchange's replacement parcel enters the outbound flow (pick, pack, label, pickup) after the order shipped."""
    item = {"pk": order_collection_pk(shipment.order_id), "sk": f"SHIPMENT#{shipment.shipment_id}",
            **shipment.model_dump(mode="json", exclude_none=True)}
    return {"Put": {"TableName": _table(), "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}


# ------------------------------------------------------------------ tasks
def _open_task_item(task: WarehouseTask, token: str | None) -> dict[str, Any]:
    """The task as stored OPEN, waiting with the workflow's ``token`` (none: a chained task whose pick held none),
    listed under its warehouse (``open_warehouse_id``, the open-tasks index)."""
    return {"pk": f"TASK#{task.task_id}", "sk": "TASK", **task.model_dump(mode="json", exclude_none=True),
            **({"task_token": token} if token is not None else {}), "open_warehouse_id": task.warehouse_id}


def _new_open_task_action(task: WarehouseTask, token: str | None) -> dict[str, Any]:
    """A Put creating the task OPEN with ``token``, once (for a transaction)."""
    return {"Put": {"TableName": _table(), "Item": to_item(_open_task_item(task, token)),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def store_task(task: WarehouseTask, token: str) -> tuple[WarehouseTask, str | None]:
    """Create the task OPEN with the workflow's token, or (a retried step) give an OPEN task the new token.
    Returns the stored task; a task already DONE or CANCELLED is returned unchanged (token None)."""
    ddb = aws.client("dynamodb")
    try:
        with aws.translate_common_errors("task create"):
            ddb.put_item(TableName=_table(), Item=to_item(_open_task_item(task, token)),
                         ConditionExpression="attribute_not_exists(pk)")
        return task, token
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
    try:
        with aws.translate_common_errors("task token"):
            resp = ddb.update_item(
                TableName=_table(), Key=_task_key(task.task_id), UpdateExpression="SET task_token = :t",
                ConditionExpression="#s = :open", ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":t": {"S": token}, ":open": {"S": TaskStatus.OPEN.value}},
                ReturnValues="ALL_NEW")
        return model_from_item(WarehouseTask, resp["Attributes"]), token
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
    found = get_task(task.task_id)
    if found is None:
        raise Conflict(f"task {task.task_id} vanished while being stored")
    return found[0], None


def pack_started_action(order_id: str, shipment_id: str) -> dict[str, Any]:
    """The shipment PICKING -> PACKING, as a transaction action (:func:`store_task_with`)."""
    return status_update(_table(), _shipment_key(order_id, shipment_id), [ShipmentStatus.PICKING.value],
                         ShipmentStatus.PACKING.value, now_iso())


def pickup_booked_action(order_id: str, shipment_id: str, booking: dict[str, Any]) -> dict[str, Any]:
    """The carrier's pickup booking recorded on the shipment (once), as a transaction action (as
    :func:`save_pickup`)."""
    return {"Update": {"TableName": _table(), "Key": _shipment_key(order_id, shipment_id),
                       "UpdateExpression": "SET pickup = :b, updated_at = :now",
                       "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(pickup)",
                       "ExpressionAttributeValues": {":b": value(booking), ":now": {"S": now_iso()}}}}


def pickup_booked_check(order_id: str, shipment_id: str) -> dict[str, Any]:
    """A ConditionCheck (:func:`store_task_checked`): the shipment's carrier pickup is booked already."""
    return {"ConditionCheck": {"TableName": _table(), "Key": _shipment_key(order_id, shipment_id),
                               "ConditionExpression": "attribute_exists(pickup)"}}


def store_task_with(task: WarehouseTask, token: str, shipment_change: dict[str, Any]) -> bool:
    """Create the task OPEN with the workflow's token and make ``shipment_change`` (an Update action on its
    shipment: :func:`pack_started_action`, :func:`pickup_booked_action`) in ONE transaction: one request where
    the two writes were two. False, nothing written, when a condition failed (a retried step: the task or the
    shipment's change is there already; or the shipment moved on): the caller then makes them one by one
    (:func:`set_shipment_status` or :func:`save_pickup`, then :func:`store_task`), as it always did."""
    return _transact_first_time([shipment_change, _new_open_task_action(task, token)], f"opening task {task.task_id}")


def store_task_checked(task: WarehouseTask, token: str, order_check: dict[str, Any],
                       shipment_change: dict[str, Any] | None = None) -> bool:
    """Create the task OPEN with the workflow's token, with ``order_check`` (a ConditionCheck on its order:
    orders.repository.status_check_action) and ``shipment_change`` (as :func:`store_task_with`), in ONE
    transaction: the order's state decides atomically, with no read of it first. False, nothing written, when
    a condition failed (the order closed, the task there already, the shipment moved on): the caller then
    reads and proceeds one by one (:func:`store_task`)."""
    actions = [order_check, *([shipment_change] if shipment_change else []), _new_open_task_action(task, token)]
    return _transact_first_time(actions, f"opening task {task.task_id}")


def put_done_task(task: WarehouseTask) -> bool:
    """Store a task that was done before the workflow opened it (the carrier scanned the parcel before the
    pickup task existed): DONE, so that opening it resumes the workflow at once (store_task returns it
    unchanged). False when the task exists already (then finish it instead)."""
    item = {"pk": f"TASK#{task.task_id}", "sk": "TASK", **task.model_dump(mode="json", exclude_none=True)}
    try:
        with aws.translate_common_errors("task create"):
            aws.client("dynamodb").put_item(TableName=_table(), Item=to_item(item),
                                            ConditionExpression="attribute_not_exists(pk)")
        return True
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
        return False


def finish_task(task_id: str, to: TaskStatus, *, result: dict[str, Any] | None = None,
                by: str | None = None) -> tuple[WarehouseTask, str | None, bool]:
    """OPEN -> DONE / CANCELLED. Returns (task, token, changed); when the task was no longer OPEN nothing
    changes and the stored task comes back with changed False."""
    names = {"#s": "status"}
    values: dict[str, Any] = {":to": {"S": to.value}, ":open": {"S": TaskStatus.OPEN.value}, ":now": {"S": now_iso()}}
    sets = ["#s = :to", "completed_at = :now"]
    if result is not None:
        sets.append("#r = :result")
        names["#r"] = "result"
        values[":result"] = value(result)
    if by:
        sets.append("completed_by = :by")
        values[":by"] = {"S": by}
    try:
        with aws.translate_common_errors("task update"):
            resp = aws.client("dynamodb").update_item(
                TableName=_table(), Key=_task_key(task_id),
                UpdateExpression="SET " + ", ".join(sets) + " REMOVE open_warehouse_id",
                ConditionExpression="attribute_exists(pk) AND #s = :open", ExpressionAttributeNames=names,
                ExpressionAttributeValues=values, ReturnValues="ALL_NEW")
        raw = resp["Attributes"]
        return model_from_item(WarehouseTask, raw), from_item(raw).get("task_token"), True
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
    found = get_task(task_id)
    if found is None:
        raise NotFound(f"task {task_id} not found")
    return found[0], found[1], False


# ------------------------------------------------------------------ shipment status
def set_shipment_status(order_id: str, shipment_id: str, allowed_from: frozenset[ShipmentStatus],
                        to: ShipmentStatus, fields: dict[str, Any] | None = None,
                        event: TrackingEvent | None = None) -> Shipment | None:
    """Conditional shipment status change (plus fields, plus a tracking event). None when the shipment was
    not in ``allowed_from`` (nothing changed)."""
    update = status_update(_table(), _shipment_key(order_id, shipment_id), (s.value for s in allowed_from),
                           to.value, now_iso(), fields=fields,
                           append={"tracking": [event.model_dump(mode="json", exclude_none=True)]} if event else None)
    try:
        with aws.translate_common_errors("shipment status"):
            resp = aws.client("dynamodb").update_item(**update["Update"], ReturnValues="ALL_NEW")
    except ClientError as exc:
        if _conditional_failed(exc):
            return None
        raise
    return model_from_item(Shipment, resp["Attributes"])


def add_tracking_event(order_id: str, shipment_id: str, event: TrackingEvent) -> None:
    with aws.translate_common_errors("tracking event"):
        aws.client("dynamodb").update_item(
            TableName=_table(), Key=_shipment_key(order_id, shipment_id),
            UpdateExpression="SET tracking = list_append(if_not_exists(tracking, :empty), :ev), updated_at = :now",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":ev": value([event.model_dump(mode="json", exclude_none=True)]),
                                       ":empty": {"L": []}, ":now": {"S": now_iso()}})


def deliver_with_order(order_id: str, shipment: Shipment, allowed_from: frozenset[ShipmentStatus],
                       fields: dict[str, Any], event: TrackingEvent, order_from: frozenset[OrderStatus],
                       note: str) -> Shipment | None:
    """The delivery of an order's only parcel and the order's DELIVERED, in one transaction (one request
    instead of two): the shipment DELIVERED (plus ``fields`` and the scan) on condition it is in
    ``allowed_from`` and unchanged since ``shipment`` was read (its ``updated_at``), the order on condition it
    is in ``order_from``. Returns the shipment as stored (what was read plus this change: no read back); None
    when the transaction did not commit (any condition failed, or contention): nothing changed, and the caller
    then writes them one by one, each deciding on its own condition, as it would without this."""
    now = now_iso()
    update = status_update(_table(), _shipment_key(order_id, shipment.shipment_id),
                           (s.value for s in allowed_from), ShipmentStatus.DELIVERED.value, now, fields=fields,
                           append={"tracking": [event.model_dump(mode="json", exclude_none=True)]})
    update["Update"]["ConditionExpression"] += " AND updated_at = :read_at"
    update["Update"]["ExpressionAttributeValues"][":read_at"] = {"S": shipment.updated_at}
    # the order's item first, as in every workflow transaction
    codes = aws.transact_codes([status_update_action(order_id, order_from, OrderStatus.DELIVERED, note), update],
                               "delivery")
    if codes is not None:
        return None
    return Shipment.model_validate({**shipment.model_dump(mode="json"), **fields,
                                    "status": ShipmentStatus.DELIVERED.value, "updated_at": now,
                                    "tracking": [*(t.model_dump(mode="json") for t in shipment.tracking),
                                                 event.model_dump(mode="json")]})


# ------------------------------------------------------------------ stock commit (pack)
def parcel_allocations(order: Order, shipment: Shipment) -> list[ParcelAllocation]:
    """The order's reservations of the parcel's SKUs in its warehouse (none for an exchange's replacement:
    reserved from the level itself)."""
    if shipment.exchange_id:
        return []
    skus = {i.sku for i in shipment.items}
    return [ParcelAllocation(sku=line.sku, quantity=a.quantity, shard=a.shard) for line in order.lines
            if line.sku in skus for a in line.allocations if a.warehouse_id == shipment.warehouse_id]


def commit_stock_actions(order: Order | None, shipment: Shipment, now: str,
                         allocations: list[ParcelAllocation] | None = None) -> list[dict[str, Any]]:
    """The parcel's reserved units leave the shelf: per SKU, the level's on_hand goes down by the parcel's
    quantity, and each slot the order reserved from (the level itself, or shards of a sharded level: the
    order's allocations say which) gives up its reserved units. One action per item touched. ``allocations``:
    :func:`parcel_allocations`, when known (carried by the pack task) instead of ``order``."""
    if allocations is None:
        if order is None:
            raise ValueError("the order or the parcel's allocations are needed")
        allocations = parcel_allocations(order, shipment)
    from shop.inventory import repository as inventory  # the packing only (issue 17)

    actions = []
    for item in shipment.items:
        allocs = [a for a in allocations if a.sku == item.sku]
        pool = sum(a.quantity for a in allocs if a.shard is None)
        if not allocs:  # an order from before allocations named slots: all from the level
            pool = item.quantity
        actions.extend(inventory.ship_actions(item.sku, shipment.warehouse_id, item.quantity, pool,
                                              [(a.shard, a.quantity) for a in allocs if a.shard is not None], now))
    return actions


class PackOutcome(StrEnum):
    PACKED = "packed"  # the stock left, the shipment is PACKED, the order DISPATCHING (and the task DONE)
    ALREADY_PACKED = "already_packed"  # the shipment was past PACKING: committed before (nothing written)
    TASK_NOT_OPEN = "task_not_open"  # the pack task was done or cancelled meanwhile (nothing written)
    ORDER_NOT_SHIPPABLE = "order_not_shippable"  # the order is no longer FULFILLING/DISPATCHING (cancelled)


def _task_done_action(task_id: str, result: dict[str, Any], by: str, now: str) -> dict[str, Any]:
    return {"Update": {
        "TableName": _table(), "Key": _task_key(task_id),
        "UpdateExpression": "SET #s = :done, completed_at = :now, #r = :result, completed_by = :by "
                            "REMOVE open_warehouse_id",
        "ConditionExpression": "attribute_exists(pk) AND #s = :open",
        "ExpressionAttributeNames": {"#s": "status", "#r": "result"},
        "ExpressionAttributeValues": {":done": {"S": TaskStatus.DONE.value}, ":open": {"S": TaskStatus.OPEN.value},
                                      ":now": {"S": now}, ":result": value(result), ":by": {"S": by}},
    }}


class TaskOutcome(StrEnum):
    DONE = "done"  # the task is DONE with this result (completed_at as given)
    TASK_NOT_OPEN = "task_not_open"  # done or cancelled before (nothing written); chained: or its token changed
    ORDER_NOT_SHIPPABLE = "order_not_shippable"  # the order failed the check (nothing written)
    NEXT_NOT_OPENED = "next_not_opened"  # chained: the shipment moved on or the next task exists (nothing written)


def finish_task_if(task_id: str, result: dict[str, Any], by: str, now: str,
                   order_check: dict[str, Any]) -> TaskOutcome:
    """OPEN -> DONE with the result, in one transaction with ``order_check`` (a ConditionCheck on the order,
    orders.repository.status_check_action): a pick completed only while its order can ship, atomically (a
    cancellation landing first refuses it), with no read of the order first. ``now`` is its completed_at."""
    try:
        _transact([_task_done_action(task_id, result, by, now), order_check])
    except TransactionCancelled as exc:
        failed = [c == "ConditionalCheckFailed" for c in exc.codes]
        if len(failed) > 1 and failed[1]:
            return TaskOutcome.ORDER_NOT_SHIPPABLE
        if failed and failed[0]:
            return TaskOutcome.TASK_NOT_OPEN
        aws.busy_if_contended(exc, f"completing task {task_id}")
        raise Conflict(f"completing task {task_id} failed: {exc.codes}") from exc
    return TaskOutcome.DONE


def finish_task_then_open(task_id: str, token: str | None, result: dict[str, Any], by: str, now: str,
                          order_check: dict[str, Any], following: WarehouseTask,
                          shipment_change: dict[str, Any]) -> TaskOutcome:
    """A chained task's completion (the pick of the PickAndPack state): in ONE transaction, ``order_check`` (a
    ConditionCheck on the order, orders.repository.status_check_action, as :func:`finish_task_if`), the task
    OPEN -> DONE with the result (conditional on it still holding ``token``, the one read: a retried step that
    gave it a new token meanwhile fails the condition, and the caller reads again), ``shipment_change`` (
    :func:`pack_started_action`) and ``following`` created OPEN with that same token, as :func:`store_task_with`
    creates it. Nothing is written unless all hold. ``now`` is the task's completed_at."""
    done = _task_done_action(task_id, result, by, now)
    update = done["Update"]
    if token is None:
        update["ConditionExpression"] += " AND attribute_not_exists(task_token)"
    else:
        update["ConditionExpression"] += " AND task_token = :token"
        update["ExpressionAttributeValues"][":token"] = {"S": token}
    actions = [order_check, done, shipment_change, _new_open_task_action(following, token)]
    try:
        _transact(actions)
    except TransactionCancelled as exc:
        failed = [c == "ConditionalCheckFailed" for c in exc.codes]
        if failed and failed[0]:
            return TaskOutcome.ORDER_NOT_SHIPPABLE
        if len(failed) > 1 and failed[1]:
            return TaskOutcome.TASK_NOT_OPEN
        if any(failed[2:]):
            return TaskOutcome.NEXT_NOT_OPENED
        aws.busy_if_contended(exc, f"completing task {task_id}")
        raise Conflict(f"completing task {task_id} failed: {exc.codes}") from exc
    return TaskOutcome.DONE


def pack_shipment(order: Order | str, shipment: Shipment, package_weight_grams: int, *,
                  task: tuple[str, dict[str, Any], str] | None = None, now: str | None = None,
                  allocations: list[ParcelAllocation] | None = None) -> PackOutcome:
    """The parcel is packed: its reserved stock leaves the shelf (reserved -> shipped, on_hand down), the
    shipment becomes PACKED and the order DISPATCHING, in ONE transaction, together with the pack task
    (``task`` = (task id, result, staff id)) becoming DONE when staff complete it. Conditions: the order is
    FULFILLING or DISPATCHING (never a cancelled one: a cancellation is conditional on the order being at
    most FULFILLING, so of a pack and a cancel exactly one lands), the shipment PACKING, the task OPEN, each
    stock row still holds the reservation. Nothing is written unless all hold. ``now``: the time written (the
    task's completed_at), so that the caller knows what it stored without reading it back. ``order``: the
    order, or its id with the parcel's ``allocations`` (a pack task that carries them: nothing read first)."""
    order_id = order if isinstance(order, str) else order.order_id
    now = now or now_iso()
    note = f"parcel {shipment.shipment_id} packed ({package_weight_grams} g)"
    if shipment.exchange_id:  # a replacement parcel of a delivered order: the order's status stays
        actions = [timeline_action(order_id, "EXCHANGE_PACKED", note)]
    else:
        actions = [status_update_action(order_id, {S.FULFILLING, S.DISPATCHING}, S.DISPATCHING, note)]
    actions.append({"Update": {
        "TableName": _table(), "Key": _shipment_key(order_id, shipment.shipment_id),
        "UpdateExpression": "SET #s = :packed, package_weight_grams = :w, packed_at = :now, updated_at = :now",
        "ConditionExpression": "#s = :packing", "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":packed": {"S": ShipmentStatus.PACKED.value},
                                      ":packing": {"S": ShipmentStatus.PACKING.value},
                                      ":w": {"N": str(package_weight_grams)}, ":now": {"S": now}},
    }})
    actions.extend(commit_stock_actions(None if isinstance(order, str) else order, shipment, now, allocations))
    from shop.inventory import repository as inventory  # the packing only (issue 17)

    for item in shipment.items:  # the ledger: on_hand is the sum of its movements
        actions.append(inventory.movement_action(item.sku, shipment.warehouse_id, -item.quantity, "shipment", now,
                                                 ref=shipment.shipment_id))
    if task is not None:
        actions.append(_task_done_action(task[0], task[1], task[2], now))
    try:
        _transact(actions)
    except TransactionCancelled as exc:
        codes = exc.codes
        failed = [c == "ConditionalCheckFailed" for c in codes]
        if task is not None and len(failed) == len(actions) and failed[-1]:
            return PackOutcome.TASK_NOT_OPEN
        if failed and failed[0]:
            return PackOutcome.ORDER_NOT_SHIPPABLE
        if len(failed) > 1 and failed[1]:
            return PackOutcome.ALREADY_PACKED
        aws.busy_if_contended(exc, f"committing stock of {shipment.shipment_id}")
        raise Conflict(f"committing stock of {shipment.shipment_id} failed: {codes}") from exc
    return PackOutcome.PACKED


def commit_shipment(order: Order, shipment: Shipment, package_weight_grams: int) -> bool:
    """The workflow's stock commit after the pack task (idempotent; the order workflow's label step, the
    exchanges workflow's CommitReplacementStock): :func:`pack_shipment` without a task.
    Staff completing the pack task commit the parcel already (the task's DONE is in that transaction), so
    this normally finds the shipment PACKED and returns False; True when it committed (a pack task completed
    before completions committed). Raises Conflict with the order's status when the order cannot ship."""
    if shipment.status == ShipmentStatus.PACKED or shipment.status in HANDED_OVER:
        # PACKED is reached from PACKING only, by this commit: a shipment read (consistently) past PACKING was
        # committed before, and the transaction would only fail on its condition (no write, no units spent)
        return False
    outcome = pack_shipment(order, shipment, package_weight_grams)
    if outcome == PackOutcome.ORDER_NOT_SHIPPABLE:
        raise Conflict(f"order {order.order_id} can no longer ship", details={"order_id": order.order_id})
    return outcome == PackOutcome.PACKED


def save_label(order_id: str, shipment: Shipment, fields: dict[str, Any], note: str) -> bool:
    """Record the label on the shipment (once: a retry keeps the first), the tracking lookup and a timeline
    entry on the order, in one transaction. False when the label was recorded before."""
    names = {f"#f{i}": k for i, k in enumerate(fields)}
    values = {f":f{i}": value(v) for i, v in enumerate(fields.values())}
    values[":now"] = {"S": now_iso()}
    sets = [f"#f{i} = :f{i}" for i in range(len(fields))] + ["updated_at = :now"]
    tracking_number = str(fields["tracking_number"])
    actions = [
        {"Update": {"TableName": _table(), "Key": _shipment_key(order_id, shipment.shipment_id),
                    "UpdateExpression": "SET " + ", ".join(sets),
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(tracking_number)",
                    "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}},
        {"Put": {"TableName": _table(),
                 "Item": to_item({"pk": f"TRACKING#{tracking_number}", "sk": "TRACKING", "order_id": order_id,
                                  "shipment_id": shipment.shipment_id}),
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        timeline_action(order_id, "LABEL_CREATED", note),
    ]
    try:
        _transact(actions)
    except TransactionCancelled as exc:
        if exc.codes and exc.codes[0] == "ConditionalCheckFailed":
            return False
        aws.busy_if_contended(exc, f"saving the label of {shipment.shipment_id}")
        raise Conflict(f"saving the label of {shipment.shipment_id} failed: {exc.codes}") from exc
    return True


def save_pickup(order_id: str, shipment_id: str, booking: dict[str, Any]) -> bool:
    """Record the carrier's pickup booking on the shipment (once: a retry keeps the first). False when one was
    recorded before."""
    try:
        with aws.translate_common_errors("pickup booking"):
            aws.client("dynamodb").update_item(
                TableName=_table(), Key=_shipment_key(order_id, shipment_id),
                UpdateExpression="SET pickup = :b, updated_at = :now",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(pickup)",
                ExpressionAttributeValues={":b": value(booking), ":now": {"S": now_iso()}})
    except ClientError as exc:
        if _conditional_failed(exc):
            return False
        raise
    return True


def find_shipment(shipment_id: str) -> Shipment | None:
    """A shipment by its id alone: the id names its order (shop.fulfillment.split.shipment_id_for)."""
    middle, sep, n = shipment_id.removeprefix("shp_").rpartition("_")
    if not shipment_id.startswith("shp_") or not sep or not middle or not n.isdigit():
        return None
    try:
        return get_shipment(f"ord_{middle}", shipment_id)
    except NotFound:
        return None


# ------------------------------------------------------------------ label documents (LabelsBucket)
def _labels_bucket() -> str:
    return get_settings().require("labels_bucket")


def label_key(order_id: str, shipment_id: str, extension: str) -> str:
    """One key per shipment: a label bought again lands on the same object."""
    return f"labels/{order_id}/{shipment_id}.{extension}"


def store_label_document(key: str, body: bytes, content_type: str) -> bool:
    """Store the label document unless it is there already (a conditional put: the first one stays, so a
    retried purchase never makes a second object or changes the printed one). False when it was there."""
    try:
        with aws.translate_common_errors("label upload"):
            aws.client("s3").put_object(Bucket=_labels_bucket(), Key=key, Body=body, ContentType=content_type,
                                        ContentDisposition=f'inline; filename="{key.rpartition("/")[2]}"',
                                        IfNoneMatch="*")
    except ClientError as exc:
        if aws.error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
            return False
        raise
    return True


def label_link(key: str, expires_in_seconds: int) -> str:
    """A presigned GET of the label document, for whoever holds the link during ``expires_in_seconds``."""
    with aws.translate_common_errors("label link"):
        return str(aws.client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": _labels_bucket(), "Key": key}, ExpiresIn=expires_in_seconds))
