"""Support data access (SupportTable).

Items (pk, sk):
- ticket   TICKET#<ticket_id>, TICKET     ticket_status + updated_at feed the index TicketsByStatus,
                                          customer_id + updated_at feed TicketsByCustomer
- message  TICKET#<ticket_id>, MSG#<created_at>#<message_id>   (a ticket and its messages are one query;
                                          "MSG#" sorts before "TICKET", messages oldest first)
Messages carry none of the index attributes, so only tickets appear in the indexes. Every change of a ticket
is conditional on the status and version it was read with, and a new message is written in the same
transaction as the ticket change it causes: two concurrent writers cannot both win, and a message is never
stored without its ticket knowing (or the other way round).
"""

from __future__ import annotations

from typing import Any

from shop import aws
from shop.config import get_settings
from shop.dynamo import encode_cursor, model_from_item, page_query, to_item, value
from shop.support.models import Message, Ticket

TICKET_SK = "TICKET"
# a lost race: the ticket changed after it was read (re-read and decide again)
STALE_CODES = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


TransactionFailed = aws.TransactionCancelled


# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): the SupportTable's keys (these
# prefixes), its name and its codecs are here only; other contexts use the names in PUBLIC.
TABLE = "support_table"
KEY_PREFIXES = ("TICKET#", "MSG#")
PUBLIC = frozenset({"list_for_customer"})


def table() -> str:
    return get_settings().require("support_table")


def ticket_key(ticket_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TICKET#{ticket_id}"}, "sk": {"S": TICKET_SK}}


def _ticket(raw: dict[str, Any]) -> Ticket:
    return model_from_item(Ticket, raw, status=raw["ticket_status"]["S"])


def _message(raw: dict[str, Any]) -> Message:
    return model_from_item(Message, raw)


def ticket_item(ticket: Ticket) -> dict[str, Any]:
    return to_item({"pk": f"TICKET#{ticket.ticket_id}", "sk": TICKET_SK,
                    **ticket.model_dump(mode="json", exclude={"status"}), "ticket_status": ticket.status.value})


def message_item(message: Message) -> dict[str, Any]:
    return to_item({"pk": f"TICKET#{message.ticket_id}", "sk": f"MSG#{message.created_at}#{message.message_id}",
                    **message.model_dump(mode="json")})


def _transact(actions: list[dict[str, Any]], what: str) -> None:
    aws.transact(actions, what)


def _put_new(item: dict[str, Any]) -> dict[str, Any]:
    return {"Put": {"TableName": table(), "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


def _update_action(before: Ticket, after: Ticket) -> dict[str, Any]:
    """Write the changeable fields of ``after``, conditional on the status and version of ``before``."""
    sets = ["ticket_status = :status", "updated_at = :now", "version = :next", "message_count = :count"]
    values: dict[str, Any] = {
        ":status": {"S": after.status.value}, ":now": {"S": after.updated_at}, ":next": {"N": str(after.version)},
        ":count": {"N": str(after.message_count)}, ":was": {"S": before.status.value},
        ":v": {"N": str(before.version)}}
    removes = []
    for field in ("last_message_by", "closed_at", "closed_by"):
        current = getattr(after, field)
        if current is None:
            removes.append(field)
        else:
            sets.append(f"{field} = :{field}")
            values[f":{field}"] = value(current)
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return {"Update": {"TableName": table(), "Key": ticket_key(before.ticket_id), "UpdateExpression": expression,
                       "ConditionExpression": "ticket_status = :was AND version = :v",
                       "ExpressionAttributeValues": values}}


# ------------------------------------------------------------------ writes
def create(ticket: Ticket, first: Message) -> None:
    """The new ticket and its first message, together."""
    _transact([_put_new(ticket_item(ticket)), _put_new(message_item(first))], "open ticket")


def add_message(before: Ticket, after: Ticket, message: Message) -> bool:
    """The message and the ticket change it causes; False when the ticket changed since ``before`` was read."""
    try:
        _transact([_update_action(before, after), _put_new(message_item(message))], "ticket message")
    except TransactionFailed as exc:
        if STALE_CODES.intersection(exc.codes):
            return False
        raise
    return True


def update(before: Ticket, after: Ticket) -> bool:
    """A ticket change without a message (closing); False when the ticket changed since ``before`` was read."""
    action = _update_action(before, after)["Update"]
    with aws.conditional_write("ticket update") as write:
        aws.client("dynamodb").update_item(**action)
    return write.applied


# ------------------------------------------------------------------ reads
def get_ticket(ticket_id: str) -> Ticket | None:
    with aws.translate_common_errors("read ticket"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=ticket_key(ticket_id),
                                              ConsistentRead=True).get("Item")
    return _ticket(raw) if raw else None


def ticket_with_messages(ticket_id: str) -> tuple[Ticket | None, list[Message]]:
    """The ticket and its messages, oldest first (one query on the ticket's partition)."""
    args: dict[str, Any] = {"TableName": table(), "KeyConditionExpression": "pk = :p", "ConsistentRead": True,
                            "ExpressionAttributeValues": {":p": {"S": f"TICKET#{ticket_id}"}}}
    rows: list[dict[str, Any]] = []
    with aws.translate_common_errors("read ticket"):
        ddb = aws.client("dynamodb")
        while True:
            resp = ddb.query(**args)
            rows.extend(resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                break
            args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    ticket = next((_ticket(r) for r in rows if r["sk"]["S"] == TICKET_SK), None)
    messages = [_message(r) for r in rows if r["sk"]["S"].startswith("MSG#")]
    return ticket, messages


def _page(index: str, attribute: str, key: str, newest_first: bool, limit: int,
          cursor: str | None) -> tuple[list[Ticket], str | None]:
    args = page_query({"TableName": table(), "IndexName": index, "Limit": limit, "ScanIndexForward": not newest_first,
                       "KeyConditionExpression": f"{attribute} = :k",
                       "ExpressionAttributeValues": {":k": {"S": key}}}, cursor, (attribute, key))
    with aws.translate_common_errors("list tickets"):
        resp = aws.client("dynamodb").query(**args)
    return [_ticket(i) for i in resp.get("Items", [])], encode_cursor(resp.get("LastEvaluatedKey"))


def list_for_customer(customer_id: str, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
    """The customer's tickets, most recently changed first."""
    return _page("TicketsByCustomer", "customer_id", customer_id, True, limit, cursor)


def list_by_status(status: str, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
    """Tickets in one status, least recently changed first (the longest-waiting come first)."""
    return _page("TicketsByStatus", "ticket_status", status, False, limit, cursor)
