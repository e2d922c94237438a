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
from shop.dynamo import model_from_item, status_update, to_item
from shop.errors import Conflict
from shop.inventory.repository import forget_holders, movement_action, stock_key
from shop.orders.repository import count_returned_action, inventory_table, now_iso, orders_table
from shop.returns.models import CustomerReturn, ReturnStatus

OWNER = "return_customer_id"  # the stored name of the return's customer_id (kept out of the ByCustomer index)


class ReturnQuantityExceeded(Conflict):
    """A concurrent return took the units first: the counters' condition refused this one."""

    code = "return_quantity_exceeded"


def return_key(order_id: str, return_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": f"RETURN#{return_id}"}}


def _model(raw: dict[str, Any]) -> CustomerReturn:
    owner = raw.get(OWNER) or raw.get("customer_id")  # returns written before the rename kept customer_id
    return model_from_item(CustomerReturn, raw, **({"customer_id": owner["S"]} if owner else {}))


def create(ret: CustomerReturn, counted: dict[str, tuple[int, int, int]]) -> None:
    """Write the return, its lookup item and the order's returned counters (``counted``: see
    orders.repository.count_returned_action) in one transaction; ReturnQuantityExceeded when the counters'
    condition fails (other returns took those units meanwhile)."""
    data = ret.model_dump(mode="json", exclude_none=True)
    data[OWNER] = data.pop("customer_id")
    item = to_item({"pk": f"ORDER#{ret.order_id}", "sk": f"RETURN#{ret.return_id}", **data})
    lookup = to_item({"pk": f"RETURN#{ret.return_id}", "sk": "RETURN", "order_id": ret.order_id,
                      OWNER: ret.customer_id})
    new = "attribute_not_exists(pk)"
    codes = aws.transact_codes([
        {"Put": {"TableName": orders_table(), "Item": item, "ConditionExpression": new}},
        {"Put": {"TableName": orders_table(), "Item": lookup, "ConditionExpression": new}},
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
        raw = aws.client("dynamodb").get_item(TableName=orders_table(), ConsistentRead=True, Key={
            "pk": {"S": f"RETURN#{return_id}"}, "sk": {"S": "RETURN"}}).get("Item")
    return raw["order_id"]["S"] if raw else None


def get(order_id: str, return_id: str) -> CustomerReturn | None:
    with aws.translate_common_errors("return read"):
        raw = aws.client("dynamodb").get_item(TableName=orders_table(), Key=return_key(order_id, return_id),
                                              ConsistentRead=True).get("Item")
    return _model(raw) if raw else None


def of_order(order_id: str) -> list[CustomerReturn]:
    with aws.translate_common_errors("returns of an order"):
        resp = aws.client("dynamodb").query(
            TableName=orders_table(), ConsistentRead=True, KeyConditionExpression="pk = :p AND begins_with(sk, :r)",
            ExpressionAttributeValues={":p": {"S": f"ORDER#{order_id}"}, ":r": {"S": "RETURN#"}})
    return [_model(i) for i in resp.get("Items", [])]


def _status_update(ret: CustomerReturn, allowed: set[ReturnStatus], to: ReturnStatus, note: str,
                   fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return status_update(orders_table(), return_key(ret.order_id, ret.return_id), (s.value for s in allowed),
                         to.value, now_iso(), fields=fields,
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
    now = now_iso()
    warehouse = inspecting_warehouse(ret)
    out: list[dict[str, Any]] = []
    for line in ret.lines:
        units = sellable.get(line.sku, 0)
        if units > line.quantity:
            raise ValueError(f"{units} sellable unit(s) of {line.sku}, {line.quantity} returned")
        if units <= 0:
            continue
        forget_holders(line.sku)  # the level is created if the SKU was never stocked there
        out.append({"Update": {"TableName": inventory_table(), "Key": stock_key(line.sku, warehouse),
                               "UpdateExpression": "SET on_hand = if_not_exists(on_hand, :zero) + :q, "
                                                   "available = if_not_exists(available, :zero) + :q, "
                                                   "reserved = if_not_exists(reserved, :zero), "
                                                   "sku = if_not_exists(sku, :sku), "
                                                   "warehouse_id = if_not_exists(warehouse_id, :wh), "
                                                   "updated_at = :now",
                               "ExpressionAttributeValues": {":q": {"N": str(units)}, ":now": {"S": now},
                                                             ":zero": {"N": "0"}, ":sku": {"S": line.sku},
                                                             ":wh": {"S": warehouse}}}})
        out.append(movement_action(line.sku, warehouse, units, "customer_return", now, ref=ret.return_id,
                                   table=inventory_table()))
    return out
