"""Returns data access: the return next to its order (OrdersTable pk ORDER#<order>, sk RETURN#<return>), a lookup
item (pk RETURN#<return>) for GET /returns/{id}, and the restock of
sellable units with their ledger movement (InventoryTable), all conditional on the return's status. The
warehouse's inspection task (and the workflow token waiting on it) is a fulfillment task of kind "return".

A return is written in one transaction with the order's per-line returned counters (``returned.<sku>``,
conditional on ``returned + units <= delivered``): concurrent returns of the same units cannot both be created.
The stored return keeps its shopper in ``return_customer_id``, never ``customer_id``: with ``created_at`` that
would put it in the ByCustomer index, which holds orders only (the API view is unchanged)."""

from __future__ import annotations

from typing import Any

from shop import aws
from shop.config import get_settings
from shop.dynamo import encode_cursor, model_from_item, page_query, status_update, to_item, value
from shop.errors import Conflict
from shop.returns.models import CustomerReturn, ReturnStatus

# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): returns' items of the OrdersTable
# are keyed here only (a return in its order's partition, orders.repository.order_collection_pk); other
# contexts use the names in PUBLIC.
TABLE = "orders_table"
KEY_PREFIXES = ("RETURN#",)
PUBLIC = frozenset({"of_order"})

OWNER = "return_customer_id"  # the stored name of the return's customer_id (kept out of the ByCustomer index)
# the staff queue (GET /admin/returns?status=): the return's status again, as ``RETURN#<status>`` in the partition
# attribute of the orders table's status index (orders use ``STATUS#<status>`` there). One index serves both queues:
# CloudFormation adds only one GSI to a table per stack update, and a second would double the index writes.
QUEUE = "status_pk"
QUEUE_INDEX = "OrdersByStatus"


# the orders' repository is imported when a return is read by its key or written: the staff queue's list
# (functions/returns_admin, one query of the queue index) never loads it (issue 17)
def order_collection_pk(order_id: str) -> str:
    """shop.orders.repository.order_collection_pk: a return is kept in its order's partition."""
    from shop.orders import repository as orders

    return orders.order_collection_pk(order_id)


def now_iso() -> str:
    from shop.orders import repository as orders

    return orders.now_iso()


def count_returned_action(order_id: str, lines: dict[str, tuple[int, int, int]]) -> dict[str, Any]:
    from shop.orders import repository as orders

    return orders.count_returned_action(order_id, lines)


def queue_partition(status: ReturnStatus) -> str:
    return f"RETURN#{status.value}"


class ReturnQuantityExceeded(Conflict):
    """A concurrent return took the units first: the counters' condition refused this one."""

    code = "return_quantity_exceeded"


def _table() -> str:
    return get_settings().require("orders_table")


def _return_key(order_id: str, return_id: str) -> dict[str, Any]:
    return {"pk": {"S": order_collection_pk(order_id)}, "sk": {"S": f"RETURN#{return_id}"}}


def _model(raw: dict[str, Any]) -> CustomerReturn:
    owner = raw.get(OWNER) or raw.get("customer_id")  # returns written before the rename kept customer_id
    return model_from_item(CustomerReturn, raw, **({"customer_id": owner["S"]} if owner else {}))


def create(ret: CustomerReturn, counted: dict[str, tuple[int, int, int]]) -> None:
    """Write the return, its lookup item and the order's returned counters (``counted``: see
    orders.repository.count_returned_action) in one transaction; ReturnQuantityExceeded when the counters'
    condition fails (other returns took those units meanwhile)."""
    data = ret.model_dump(mode="json", exclude_none=True)
    data[OWNER] = data.pop("customer_id")
    data[QUEUE] = queue_partition(ret.status)
    item = to_item({"pk": order_collection_pk(ret.order_id), "sk": f"RETURN#{ret.return_id}", **data})
    lookup = to_item({"pk": f"RETURN#{ret.return_id}", "sk": "RETURN", "order_id": ret.order_id,
                      OWNER: ret.customer_id})
    new = "attribute_not_exists(pk)"
    codes = aws.transact_codes([
        {"Put": {"TableName": _table(), "Item": item, "ConditionExpression": new}},
        {"Put": {"TableName": _table(), "Item": lookup, "ConditionExpression": new}},
        count_returned_action(ret.order_id, counted)], "create return")
    if codes is None:
        return
    if len(codes) > 2 and codes[2] == "ConditionalCheckFailed":
        raise ReturnQuantityExceeded(
            f"order {ret.order_id}: these units are already being returned",
            details={"order_id": ret.order_id, "lines": {sku: units for sku, (units, _, _) in counted.items()}})
    exc = aws.TransactionCancelled(codes)
    aws.busy_if_contended(exc, f"creating return {ret.return_id}")
    raise exc


def order_of(return_id: str) -> str | None:
    with aws.translate_common_errors("return lookup"):
        raw = aws.client("dynamodb").get_item(TableName=_table(), ConsistentRead=True, Key={
            "pk": {"S": f"RETURN#{return_id}"}, "sk": {"S": "RETURN"}}).get("Item")
    return raw["order_id"]["S"] if raw else None


def get(order_id: str, return_id: str) -> CustomerReturn | None:
    with aws.translate_common_errors("return read"):
        raw = aws.client("dynamodb").get_item(TableName=_table(), Key=_return_key(order_id, return_id),
                                              ConsistentRead=True).get("Item")
    return _model(raw) if raw else None


def of_order(order_id: str) -> list[CustomerReturn]:
    with aws.translate_common_errors("returns of an order"):
        resp = aws.client("dynamodb").query(
            TableName=_table(), ConsistentRead=True, KeyConditionExpression="pk = :p AND begins_with(sk, :r)",
            ExpressionAttributeValues={":p": {"S": order_collection_pk(order_id)}, ":r": {"S": "RETURN#"}})
    return [_model(i) for i in resp.get("Items", [])]


def _status_update(ret: CustomerReturn, allowed: set[ReturnStatus], to: ReturnStatus, note: str,
                   fields: dict[str, Any] | None = None) -> dict[str, Any]:
    # the queue's index attribute moves in the same write as the status (never a second write to forget)
    return status_update(_table(), _return_key(ret.order_id, ret.return_id), (s.value for s in allowed),
                         to.value, now_iso(), fields={**(fields or {}), QUEUE: queue_partition(to)},
                         append={"timeline": [{"at": now_iso(), "status": to.value, "note": note}]})


def transition(ret: CustomerReturn, allowed: set[ReturnStatus], to: ReturnStatus, note: str,
               fields: dict[str, Any] | None = None, extra: list[dict[str, Any]] | None = None) -> bool:
    """Conditional status change (with ``extra`` actions in the same transaction); False when the return was
    not in ``allowed`` any more (a retried step: nothing written)."""
    codes = aws.transact_codes([_status_update(ret, allowed, to, note, fields), *(extra or [])], "return status")
    if codes is None:
        return True
    if codes and codes[0] == "ConditionalCheckFailed":
        return False
    raise aws.TransactionCancelled(codes)


def inspecting_warehouse(ret: CustomerReturn) -> str:
    """The one warehouse that receives and inspects the return's parcel (a return has one label, so one
    parcel): the warehouse that shipped its first line. Every unit is restocked there."""
    return ret.lines[0].warehouse_id


def restock_actions(ret: CustomerReturn, sellable: dict[str, int]) -> list[dict[str, Any]]:
    """Sellable units go back on the shelf of the warehouse that inspected them (the level is created there if
    that warehouse never stocked the SKU): on_hand and available up, with the movement (damaged ones are
    written off: they never re-enter stock). Never more than the return line's units (ValueError)."""
    from shop.inventory import repository as inventory  # the restock only: the returns' reads load it not (issue 17)

    now = now_iso()
    warehouse = inspecting_warehouse(ret)
    out: list[dict[str, Any]] = []
    for line in ret.lines:
        units = sellable.get(line.sku, 0)
        if units > line.quantity:
            raise ValueError(f"{units} sellable unit(s) of {line.sku}, {line.quantity} returned")
        if units <= 0:
            continue
        out.extend(inventory.restock_actions(line.sku, warehouse, units, now, ret.return_id))
    return out


def by_status(status: ReturnStatus, limit: int, cursor: str | None) -> tuple[list[CustomerReturn], str | None]:
    """One page of the returns in ``status``, newest first: one Query of the status index (never a scan)."""
    args = page_query({"TableName": _table(), "IndexName": QUEUE_INDEX, "Limit": limit,
                       "ScanIndexForward": False, "KeyConditionExpression": "#q = :s",
                       "ExpressionAttributeNames": {"#q": QUEUE},
                       "ExpressionAttributeValues": {":s": {"S": queue_partition(status)}}}, cursor,
                      (QUEUE, queue_partition(status)))
    with aws.translate_common_errors("returns by status"):
        resp = aws.client("dynamodb").query(**args)
    return [_model(i) for i in resp.get("Items", [])], encode_cursor(resp.get("LastEvaluatedKey"))


def update_exchange(ret: CustomerReturn, status: ReturnStatus, exchange: dict[str, Any], note: str | None = None,
                    unless: str | None = None, extra: list[dict[str, Any]] | None = None) -> bool:
    """Store the exchange's new state (shop.returns.exchanges) while the return is in ``status``, and only if the
    stored exchange has no ``unless`` member yet (a step's one-time record: the charge, the release, a refund),
    with ``extra`` actions (stock) in the same transaction (a member that is false counts as not there yet).
    False when either condition failed: nothing
    written (a retried step, or another run got there first)."""
    names = {"#s": "status", "#x": "exchange"}
    values: dict[str, Any] = {":s": {"S": status.value}, ":x": value(exchange), ":now": {"S": now_iso()}}
    sets = ["#x = :x", "updated_at = :now"]
    if note:
        names["#t"] = "timeline"
        values[":t"] = value([{"at": now_iso(), "status": status.value, "note": note}])
        values[":empty"] = {"L": []}
        sets.append("#t = list_append(if_not_exists(#t, :empty), :t)")
    condition = "attribute_exists(pk) AND #s = :s"
    if unless:  # absent (a record not made yet) or false (a flag not raised yet)
        names["#u"] = unless
        values[":no"] = {"BOOL": False}
        condition += " AND (attribute_not_exists(#x.#u) OR #x.#u = :no)"
    update = {"Update": {"TableName": _table(), "Key": _return_key(ret.order_id, ret.return_id),
                         "UpdateExpression": "SET " + ", ".join(sets), "ConditionExpression": condition,
                         "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}
    codes = aws.transact_codes([update, *(extra or [])], "exchange update")
    if codes is None:
        return True
    if codes and codes[0] == "ConditionalCheckFailed":
        return False
    exc = aws.TransactionCancelled(codes)
    aws.busy_if_contended(exc, f"updating exchange {ret.return_id}")
    raise exc


def backfill_queue(page_size: int, start: dict[str, Any] | None) -> tuple[int, int, dict[str, Any] | None]:
    """One page of the backfill of the staff returns queue for returns written before it existed (no ``status_pk``):
    a Scan page (a one-off migration, never a request path), and per return a write of its queue partition,
    conditional on the return still lacking it and still having the status read (a status change in between
    writes it itself). Returns (returns seen, returns updated, the next page's start or None)."""
    ddb = aws.client("dynamodb")
    args: dict[str, Any] = {"TableName": _table(), "Limit": page_size,
                            "FilterExpression": "begins_with(sk, :ret) AND attribute_not_exists(#q)",
                            "ExpressionAttributeNames": {"#q": QUEUE},
                            "ExpressionAttributeValues": {":ret": {"S": "RETURN#"}}}
    if start:
        args["ExclusiveStartKey"] = start
    page = ddb.scan(**args)
    updated = 0
    for raw in page.get("Items", []):
        status = ReturnStatus(raw["status"]["S"])
        with aws.conditional_write("return queue backfill") as write:
            ddb.update_item(
                TableName=_table(), Key={"pk": raw["pk"], "sk": raw["sk"]},
                UpdateExpression="SET #q = :q", ConditionExpression="attribute_not_exists(#q) AND #status = :s",
                ExpressionAttributeNames={"#q": QUEUE, "#status": "status"},
                ExpressionAttributeValues={":q": {"S": queue_partition(status)}, ":s": {"S": status.value}})
        updated += write.applied
    return len(page.get("Items", [])), updated, page.get("LastEvaluatedKey")
