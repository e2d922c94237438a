"""Procurement data access (ProcurementTable), and the stock side of purchasing (InventoryTable).

Items (pk, sk):
- supplier       SUPPLIER, <supplier_id>
- contract       CONTRACT#<sku>, <supplier_id>#<contract_id>      (the contracts of a SKU in one query)
- purchase order PO#<po_id>, PO       po_status + created_at feed the index PurchaseOrdersByStatus
- receipt        PO#<po_id>, RECEIPT#<receipt_id>
- return         PO#<po_id>, RETURN#<return_id>
- invoice        PO#<po_id>, INVOICE#<invoice_id>
- restock guard  RESTOCK#<sku>#<warehouse_id>, GUARD   the one open automatic PO of a stock level
- supplier mail  PO#<po_id>, MAIL      the e-mail of the PO to its supplier: claimed (SENDING) by one
                 conditional write before SES is called, then SENT (or SUPPRESSED); one mail per submission
- auto spend     SPEND#<supplier_id>#<YYYY-MM>, SPEND   what the automatic restock submitted to a supplier in a
                 month (minor units), raised only in the transaction that submits, under the supplier's limit
Every purchase order write is conditional on its version (optimistic concurrency), and every change of
stock happens in the same transaction as the PO change and the ledger movement that explain it. The invoice
counters (per line `invoiced`, per PO `invoiced_amount` and `settled_amount`) move only in the transaction
that records a MATCHED invoice or settles one, under conditions that keep invoiced <= received - returned and
settled <= invoiced (:func:`invoice_counters_action`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shop import aws
from shop.config import get_settings
from shop.dynamo import encode_cursor, from_item, model_from_item, page_query, to_item, value
from shop.procurement.models import Contract, PoEvent, PurchaseOrder, Supplier

TransactionFailed = aws.TransactionCancelled


# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): the ProcurementTable's keys (these
# prefixes), its name and its codecs are built here only; the stock side of a receipt or a supplier return is
# inventory's (shop.inventory.repository.receive_actions ...). Other contexts use the names in PUBLIC.
TABLE = "procurement_table"
KEY_PREFIXES = ("PO#", "RECEIPT#", "RETURN#", "INVOICE#", "RESTOCK#", "CONTRACT#", "SUPPLIER", "SPEND#")
PUBLIC = frozenset({"list_pos"})


def table() -> str:
    return get_settings().require("procurement_table")


def po_key(po_id: str, sk: str = "PO") -> dict[str, Any]:
    return {"pk": {"S": f"PO#{po_id}"}, "sk": {"S": sk}}


def guard_key(sku: str, warehouse_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"RESTOCK#{sku}#{warehouse_id}"}, "sk": {"S": "GUARD"}}


def transact(actions: list[dict[str, Any]], what: str) -> None:
    aws.transact(actions, what)


# ------------------------------------------------------------------ suppliers and contracts
def put_supplier(supplier: Supplier) -> None:
    item = {"pk": "SUPPLIER", "sk": supplier.supplier_id, **supplier.model_dump(mode="json")}
    with aws.translate_common_errors("save supplier"):
        aws.client("dynamodb").put_item(TableName=table(), Item=to_item(item))


def get_supplier(supplier_id: str) -> Supplier | None:
    with aws.translate_common_errors("read supplier"):
        raw = aws.client("dynamodb").get_item(TableName=table(), ConsistentRead=True, Key={
            "pk": {"S": "SUPPLIER"}, "sk": {"S": supplier_id}}).get("Item")
    return model_from_item(Supplier, raw) if raw else None


def _query_all(**args: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    ddb = aws.client("dynamodb")
    while True:
        resp = ddb.query(**args)
        items.extend(resp.get("Items", []))
        if "LastEvaluatedKey" not in resp:
            return items
        args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def list_suppliers() -> list[Supplier]:
    with aws.translate_common_errors("list suppliers"):
        rows = _query_all(TableName=table(), KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "SUPPLIER"}})
    return [model_from_item(Supplier, r) for r in rows]


def put_contract(contract: Contract) -> None:
    item = {"pk": f"CONTRACT#{contract.sku}", "sk": f"{contract.supplier_id}#{contract.contract_id}",
            **contract.model_dump(mode="json")}
    with aws.translate_common_errors("save contract"):
        aws.client("dynamodb").put_item(TableName=table(), Item=to_item(item))


def contracts_for(sku: str) -> list[Contract]:
    with aws.translate_common_errors("list contracts"):
        rows = _query_all(TableName=table(), KeyConditionExpression="pk = :p", ConsistentRead=True,
                          ExpressionAttributeValues={":p": {"S": f"CONTRACT#{sku}"}})
    return [model_from_item(Contract, r) for r in rows]


# ------------------------------------------------------------------ purchase orders
def po_item(po: PurchaseOrder) -> dict[str, Any]:
    return to_item({"pk": f"PO#{po.po_id}", "sk": "PO", **po.model_dump(mode="json", exclude_none=True),
                    "po_status": po.status.value})


def get_po(po_id: str) -> PurchaseOrder | None:
    with aws.translate_common_errors("read purchase order"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=po_key(po_id), ConsistentRead=True).get("Item")
    return model_from_item(PurchaseOrder, raw) if raw else None


def po_records(po_id: str) -> dict[str, list[dict[str, Any]]]:
    """Receipts, returns and invoices of a PO (one query)."""
    with aws.translate_common_errors("read purchase order"):
        rows = _query_all(TableName=table(), KeyConditionExpression="pk = :p", ConsistentRead=True,
                          ExpressionAttributeValues={":p": {"S": f"PO#{po_id}"}})
    out: dict[str, list[dict[str, Any]]] = {"receipts": [], "returns": [], "invoices": []}
    for raw in rows:
        sk = raw["sk"]["S"]
        kind = {"RECEIPT#": "receipts", "RETURN#": "returns", "INVOICE#": "invoices"}.get(sk[:sk.find("#") + 1])
        if kind:
            out[kind].append({k: v for k, v in from_item(raw).items() if k not in ("pk", "sk")})
    return out


def get_record(po_id: str, kind: str, record_id: str) -> dict[str, Any] | None:
    with aws.translate_common_errors("read purchase order"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=po_key(po_id, f"{kind}#{record_id}"),
                                              ConsistentRead=True).get("Item")
    return {k: v for k, v in from_item(raw).items() if k not in ("pk", "sk")} if raw else None


def list_pos(status: str, limit: int, cursor: str | None) -> tuple[list[PurchaseOrder], str | None]:
    args = page_query({"TableName": table(), "IndexName": "PurchaseOrdersByStatus", "Limit": limit,
                       "ScanIndexForward": False, "KeyConditionExpression": "po_status = :s",
                       "ExpressionAttributeValues": {":s": {"S": status}}}, cursor, ("po_status", status))
    with aws.translate_common_errors("list purchase orders"):
        resp = aws.client("dynamodb").query(**args)
    pos = [model_from_item(PurchaseOrder, i) for i in resp.get("Items", [])]
    return pos, encode_cursor(resp.get("LastEvaluatedKey"))


def put_new_po_action(po: PurchaseOrder) -> dict[str, Any]:
    return {"Put": {"TableName": table(), "Item": po_item(po), "ConditionExpression": "attribute_not_exists(pk)"}}


def guard_put_action(sku: str, warehouse_id: str, po_id: str, now: str) -> dict[str, Any]:
    item = {**guard_key(sku, warehouse_id), "po_id": {"S": po_id}, "created_at": {"S": now}}
    return {"Put": {"TableName": table(), "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


def guard_delete_action(sku: str, warehouse_id: str, po_id: str) -> dict[str, Any]:
    return {"Delete": {"TableName": table(), "Key": guard_key(sku, warehouse_id),
                       "ConditionExpression": "attribute_not_exists(pk) OR po_id = :po",
                       "ExpressionAttributeValues": {":po": {"S": po_id}}}}


def guard_of(sku: str, warehouse_id: str) -> str | None:
    with aws.translate_common_errors("read restock guard"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=guard_key(sku, warehouse_id),
                                              ConsistentRead=True).get("Item")
    return raw["po_id"]["S"] if raw else None


def po_update_action(before: PurchaseOrder, after: PurchaseOrder, note: str, now: str) -> dict[str, Any]:
    """Replace the PO's lines and status, conditional on the version read (no lost update)."""
    entry = PoEvent(at=now, status=after.status.value, note=note).model_dump(mode="json", exclude_none=True)
    return {"Update": {
        "TableName": table(), "Key": po_key(before.po_id),
        "UpdateExpression": "SET #s = :s, po_status = :s, #l = :lines, version = :next, updated_at = :now, "
                            "timeline = list_append(if_not_exists(timeline, :empty), :entry)",
        "ConditionExpression": "version = :v",
        "ExpressionAttributeNames": {"#s": "status", "#l": "lines"},
        "ExpressionAttributeValues": {
            ":s": {"S": after.status.value}, ":lines": value([ln.model_dump(mode="json") for ln in after.lines]),
            ":v": {"N": str(before.version)}, ":next": {"N": str(before.version + 1)}, ":now": {"S": now},
            ":empty": {"L": []}, ":entry": value([entry])},
    }}


def record_put_action(po_id: str, kind: str, record_id: str, record: dict[str, Any]) -> dict[str, Any]:
    item = to_item({"pk": f"PO#{po_id}", "sk": f"{kind}#{record_id}", **record})
    return {"Put": {"TableName": table(), "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


def invoice_counters_action(po: PurchaseOrder, units: Mapping[str, int], invoiced: int,
                            settled: int) -> dict[str, Any]:
    """The PO's invoice counters, moved in the same transaction as the invoice record that explains them.

    - per SKU in ``units``: ``lines[i].invoiced += n`` under ``invoiced + n <= received - returned``: the
      condition is ``invoiced <= (received_net as read) - n`` with ``returned`` unchanged and ``received`` at
      least as read (it only grows), so concurrent invoices can never cover the same units twice. The PO's
      ``version`` is bumped, so a receipt or return that read the lines before fails its version condition.
    - ``invoiced_amount += invoiced`` (minor units, PO currency);
    - ``settled_amount += settled`` under ``settled_amount + settled <= invoiced_amount``: the condition is
      ``settled_amount <= invoiced_amount as read + invoiced - settled`` (invoiced_amount only grows).
    The caller checks the limits on what it read first (a refusal there names the line); these conditions
    make them hold whatever ran in between.
    """
    sets: list[str] = []
    conditions = ["attribute_exists(pk)"]
    names: dict[str, str] = {}
    values: dict[str, Any] = {":zero": {"N": "0"}}
    for i, line in enumerate(po.lines):
        n = units.get(line.sku, 0)
        if n <= 0:
            continue
        names["#l"] = "lines"
        at = f"#l[{i}]"
        sets.append(f"{at}.invoiced = if_not_exists({at}.invoiced, :zero) + :n{i}")
        conditions.append(f"{at}.sku = :sku{i} AND {at}.received >= :rec{i} AND {at}.returned = :ret{i} AND "
                          f"(attribute_not_exists({at}.invoiced) OR {at}.invoiced <= :lim{i})")
        values.update({f":n{i}": {"N": str(n)}, f":sku{i}": {"S": line.sku}, f":rec{i}": {"N": str(line.received)},
                       f":ret{i}": {"N": str(line.returned)}, f":lim{i}": {"N": str(line.received_net - n)}})
    if names:
        sets.append("version = if_not_exists(version, :zero) + :one")
        values[":one"] = {"N": "1"}
    if invoiced:
        sets.append("invoiced_amount = if_not_exists(invoiced_amount, :zero) + :ia")
        values[":ia"] = {"N": str(invoiced)}
    if settled:
        sets.append("settled_amount = if_not_exists(settled_amount, :zero) + :sa")
        conditions.append("(attribute_not_exists(settled_amount) OR settled_amount <= :slim)")
        values.update({":sa": {"N": str(settled)},
                       ":slim": {"N": str(po.invoiced_amount + invoiced - settled)}})
    if not sets:
        raise ValueError("nothing to count")
    update: dict[str, Any] = {"TableName": table(), "Key": po_key(po.po_id),
                              "UpdateExpression": "SET " + ", ".join(sets),
                              "ConditionExpression": " AND ".join(conditions), "ExpressionAttributeValues": values}
    if names:
        update["ExpressionAttributeNames"] = names
    return {"Update": update}


def settle_invoice_action(po_id: str, invoice_id: str, now: str, *, count: bool) -> dict[str, Any]:
    """MATCHED -> SETTLED (once). ``count`` marks an invoice recorded before the counters existed as counted
    (the same transaction counts it on the PO)."""
    values: dict[str, Any] = {":to": {"S": "SETTLED"}, ":from": {"S": "MATCHED"}, ":now": {"S": now}}
    expression = "SET #s = :to, settled_at = :now"
    if count:
        expression += ", counted = :yes"
        values[":yes"] = {"BOOL": True}
    return {"Update": {"TableName": table(), "Key": po_key(po_id, f"INVOICE#{invoice_id}"),
                       "UpdateExpression": expression, "ConditionExpression": "#s = :from",
                       "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": values}}


# ------------------------------------------------------------------ supplier confirmation
def confirm_delivery(po_id: str, day: str, note: str, now: str, statuses: tuple[str, ...]) -> bool:
    """Record the supplier's delivery date; False (nothing written) when the PO already has that date or is not
    in one of ``statuses``. A different date replaces it, the timeline keeping the earlier one. The PO's
    version is not bumped: lines and status are untouched, so a receipt racing with it still applies."""
    entry = PoEvent(at=now, status="CONFIRMED", note=note).model_dump(mode="json", exclude_none=True)
    wanted = ", ".join(f":s{i}" for i in range(len(statuses)))
    with aws.conditional_write("confirm purchase order") as write:
        aws.client("dynamodb").update_item(
            TableName=table(), Key=po_key(po_id),
            UpdateExpression="SET confirmed_delivery_date = :d, confirmed_at = :now, updated_at = :now, "
                             "timeline = list_append(if_not_exists(timeline, :empty), :entry)",
            ConditionExpression=f"attribute_exists(pk) AND po_status IN ({wanted}) AND "
                                "(attribute_not_exists(confirmed_delivery_date) OR confirmed_delivery_date <> :d)",
            ExpressionAttributeValues={":d": {"S": day}, ":now": {"S": now}, ":empty": {"L": []},
                                       ":entry": value([entry]),
                                       **{f":s{i}": {"S": st} for i, st in enumerate(statuses)}})
    return write.applied


# ------------------------------------------------------------------ the e-mail to the supplier
MAIL_SK = "MAIL"


def get_mail(po_id: str) -> dict[str, Any] | None:
    with aws.translate_common_errors("read purchase order mail"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=po_key(po_id, MAIL_SK),
                                              ConsistentRead=True).get("Item")
    return {k: v for k, v in from_item(raw).items() if k not in ("pk", "sk")} if raw else None


def claim_mail(po_id: str, record: dict[str, Any], stale_before: str) -> bool:
    """Claim the one e-mail of a PO (status SENDING): True for the one caller that may send. A claim older
    than ``stale_before`` still SENDING is taken over (its sender died before SES answered or before it
    recorded the answer)."""
    item = to_item({"pk": f"PO#{po_id}", "sk": MAIL_SK, **record, "status": "SENDING"})
    with aws.conditional_write("claim purchase order mail") as write:
        aws.client("dynamodb").put_item(
            TableName=table(), Item=item,
            ConditionExpression="attribute_not_exists(pk) OR (#s = :sending AND claimed_at < :stale)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":sending": {"S": "SENDING"}, ":stale": {"S": stale_before}})
    return write.applied


def finish_mail(po_id: str, claimed_at: str, status: str, fields: dict[str, Any]) -> None:
    """SENDING -> SENT or SUPPRESSED, only by the claim that sent (its ``claimed_at``)."""
    sets = ", ".join(f"#{k} = :{k}" for k in fields)
    with aws.translate_common_errors("record purchase order mail"):
        aws.client("dynamodb").update_item(
            TableName=table(), Key=po_key(po_id, MAIL_SK),
            UpdateExpression=f"SET #s = :status_to, {sets}" if sets else "SET #s = :status_to",
            ConditionExpression="claimed_at = :claimed",
            ExpressionAttributeNames={"#s": "status", **{f"#{k}": k for k in fields}},
            ExpressionAttributeValues={":status_to": {"S": status}, ":claimed": {"S": claimed_at},
                                       **{f":{k}": value(v) for k, v in fields.items()}})


def release_mail(po_id: str, claimed_at: str) -> None:
    """Give the claim up after a failed send, so the retried event sends."""
    with aws.conditional_write("release purchase order mail"):
        aws.client("dynamodb").delete_item(
            TableName=table(), Key=po_key(po_id, MAIL_SK), ConditionExpression="#s = :sending AND claimed_at = :c",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":sending": {"S": "SENDING"}, ":c": {"S": claimed_at}})


# ------------------------------------------------------------------ automatic submission under a spending limit
def spend_key(supplier_id: str, period: str) -> dict[str, Any]:
    return {"pk": {"S": f"SPEND#{supplier_id}#{period}"}, "sk": {"S": "SPEND"}}


def spend_action(supplier_id: str, period: str, amount: int, limit: int, currency: str,
                 po_id: str) -> dict[str, Any]:
    """Add ``amount`` to what was auto-submitted to the supplier in ``period``, under ``spent + amount <= limit``
    (the condition is ``spent <= limit - amount``, checked by DynamoDB inside the transaction, so concurrent
    restocks of the same supplier can never pass the limit together). The currency must stay the one the
    counter started in."""
    return {"Update": {
        "TableName": table(), "Key": spend_key(supplier_id, period),
        "UpdateExpression": "SET spent = if_not_exists(spent, :zero) + :amt, currency = :cur, last_po = :po",
        "ConditionExpression": "(attribute_not_exists(spent) OR spent <= :room) AND "
                               "(attribute_not_exists(currency) OR currency = :cur)",
        "ExpressionAttributeValues": {":zero": {"N": "0"}, ":amt": {"N": str(amount)},
                                      ":room": {"N": str(limit - amount)}, ":cur": {"S": currency},
                                      ":po": {"S": po_id}}}}


def spent(supplier_id: str, period: str) -> int:
    """What the restock submitted to the supplier in ``period`` (for messages only: the limit is enforced by
    :func:`spend_action`'s condition)."""
    with aws.translate_common_errors("read auto-submit spend"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=spend_key(supplier_id, period),
                                              ConsistentRead=True).get("Item")
    return int(raw["spent"]["N"]) if raw and "spent" in raw else 0
