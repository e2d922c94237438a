"""Returns data access: the return next to its order (OrdersTable pk ORDER#<order>, sk RETURN#<return>), a lookup
item (pk RETURN#<return>) for GET /returns/{id}, and the restock of
sellable units with their ledger movement (InventoryTable), all conditional on the return's status. The
warehouse's inspection task (and the workflow token waiting on it) is a fulfilment task of kind "return"."""

from __future__ import annotations

from typing import Any

from shop import aws
from shop.dynamo import model_from_item, status_update, to_item
from shop.inventory.repository import movement_action, stock_key
from shop.orders.repository import inventory_table, now_iso, orders_table
from shop.returns.models import CustomerReturn, ReturnStatus


def return_key(order_id: str, return_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": f"RETURN#{return_id}"}}


def _model(raw: dict[str, Any]) -> CustomerReturn:
    return model_from_item(CustomerReturn, raw)


def create(ret: CustomerReturn) -> None:
    item = to_item({"pk": f"ORDER#{ret.order_id}", "sk": f"RETURN#{ret.return_id}",
                    **ret.model_dump(mode="json", exclude_none=True)})
    lookup = to_item({"pk": f"RETURN#{ret.return_id}", "sk": "RETURN", "order_id": ret.order_id,
                      "customer_id": ret.customer_id})
    new = "attribute_not_exists(pk)"
    aws.transact([{"Put": {"TableName": orders_table(), "Item": item, "ConditionExpression": new}},
                  {"Put": {"TableName": orders_table(), "Item": lookup, "ConditionExpression": new}}], "create return")


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


def restock_actions(ret: CustomerReturn, sellable: dict[str, int]) -> list[dict[str, Any]]:
    """Sellable units go back on the shelf of the receiving warehouse: on_hand and available up, with the
    movement (damaged ones are written off: they never re-enter stock)."""
    now = now_iso()
    out: list[dict[str, Any]] = []
    for line in ret.lines:
        units = sellable.get(line.sku, 0)
        if units <= 0:
            continue
        out.append({"Update": {"TableName": inventory_table(), "Key": stock_key(line.sku, line.warehouse_id),
                               "UpdateExpression": "SET on_hand = on_hand + :q, available = available + :q, "
                                                   "updated_at = :now",
                               "ConditionExpression": "attribute_exists(pk)",
                               "ExpressionAttributeValues": {":q": {"N": str(units)}, ":now": {"S": now}}}})
        out.append(movement_action(line.sku, line.warehouse_id, units, "customer_return", now, ref=ret.return_id,
                                   table=inventory_table()))
    return out
