"""Support use cases: shoppers open tickets (optionally about one of their orders) and write messages; staff
list them by status, answer and close them. The status rules are in :mod:`shop.support.models`.

Every change re-reads the ticket, decides with the pure rules and writes conditionally on the status and
version it read; a lost race is decided again on the fresh ticket (a staff answer racing a close becomes a
409, a shopper message racing a staff answer is simply stored after it). A staff answer publishes
``TicketAnswered`` after it is stored, and the Notifications function emails it to the shopper once per
message (docs/events.md).

A shopper sees only their own tickets: another shopper's ticket or order is "not found", exactly like a
missing one, so ids cannot be probed.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from shop.errors import Conflict, NotFound
from shop.support import repository as repo
from shop.support.models import (
    CUSTOMER,
    STAFF,
    Author,
    Message,
    MessageIn,
    Ticket,
    TicketIn,
    TicketStatus,
    can_close,
    status_after_message,
)

MAX_ATTEMPTS = 8  # a lost race is decided again on the fresh ticket, after a short random pause


def __getattr__(name: str) -> Any:
    # PUBLISHED (what this module publishes: events.require, which defines the type's contract) is made on first
    # access, and the event bus's module is imported by the staff answer, the one use case that publishes: the
    # shopper's routes, the queues and closing load neither it nor the event contracts (issue 17). The answer's
    # first publication finds the contract through shop.event_contracts.DETAIL_MODELS, which imports it then.
    if name == "PUBLISHED":
        from shop import events

        return events.require("TicketAnswered")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _pause(attempt: int) -> None:
    if attempt:
        time.sleep(random.uniform(0, 0.02 * attempt))


class TicketClosed(Conflict):
    code = "ticket_closed"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_ticket_id() -> str:
    return f"tkt_{uuid.uuid4().hex[:20]}"


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex[:20]}"


# ------------------------------------------------------------------ views
def ticket_view(ticket: Ticket) -> dict[str, Any]:
    return ticket.model_dump(mode="json", exclude={"version"})


def message_view(message: Message, *, staff: bool) -> dict[str, Any]:
    """Staff see who wrote each message; shoppers see only whether it was them or the shop."""
    return message.model_dump(mode="json", exclude=None if staff else {"author_id"})


def _full_view(ticket: Ticket, messages: list[Message], *, staff: bool) -> dict[str, Any]:
    return {**ticket_view(ticket), "messages": [message_view(m, staff=staff) for m in messages]}


def _page(tickets: list[Ticket], cursor: str | None) -> dict[str, Any]:
    return {"items": [ticket_view(t) for t in tickets], "next_cursor": cursor}


# ------------------------------------------------------------------ reads
def _not_found(ticket_id: str) -> NotFound:
    return NotFound(f"ticket {ticket_id} not found")


def _ticket(ticket_id: str, customer_id: str | None = None) -> Ticket:
    ticket = repo.get_ticket(ticket_id)
    if ticket is None or (customer_id is not None and ticket.customer_id != customer_id):
        raise _not_found(ticket_id)
    return ticket


def get_for_customer(ticket_id: str, customer_id: str) -> dict[str, Any]:
    ticket, messages = repo.ticket_with_messages(ticket_id)
    if ticket is None or ticket.customer_id != customer_id:
        raise _not_found(ticket_id)
    return _full_view(ticket, messages, staff=False)


def get_for_staff(ticket_id: str) -> dict[str, Any]:
    ticket, messages = repo.ticket_with_messages(ticket_id)
    if ticket is None:
        raise _not_found(ticket_id)
    return _full_view(ticket, messages, staff=True)


def list_for_customer(customer_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    return _page(*repo.list_for_customer(customer_id, limit, cursor))


def list_by_status(status: TicketStatus, limit: int, cursor: str | None) -> dict[str, Any]:
    return _page(*repo.list_by_status(status.value, limit, cursor))


# ------------------------------------------------------------------ changes
def open_ticket(customer_id: str, email: str | None, body: TicketIn) -> dict[str, Any]:
    """A new open ticket with the shopper's first message. An order must be the shopper's own."""
    if body.order_id is not None:
        # the orders' repository (with what it imports of inventory and promotions) is loaded by a ticket about
        # an order only: the other routes never read an order (issue 17)
        from shop.orders import repository as orders

        order = orders.get_order(body.order_id)
        if order is None or order.customer_id != customer_id:
            raise NotFound(f"order {body.order_id} not found", details={"field": "order_id"})
    now = now_iso()
    ticket_id = new_ticket_id()
    first = Message(message_id=new_message_id(), ticket_id=ticket_id, author=CUSTOMER, author_id=customer_id,
                    text=body.message, created_at=now)
    ticket = Ticket(ticket_id=ticket_id, customer_id=customer_id, email=email, subject=body.subject,
                    order_id=body.order_id, status=TicketStatus.OPEN, created_at=now, updated_at=now,
                    message_count=1, last_message_by=CUSTOMER, version=1)
    repo.create(ticket, first)
    return _full_view(ticket, [first], staff=False)


def _write_message(ticket_id: str, author: Author, author_id: str, text: str,
                   customer_id: str | None = None) -> tuple[Ticket, Ticket, Message]:
    """Store one message and the status it causes; returns (ticket before, ticket after, message)."""
    for attempt in range(MAX_ATTEMPTS):
        _pause(attempt)
        before = _ticket(ticket_id, customer_id)
        status = status_after_message(before.status, author)
        if status is None:
            raise TicketClosed(f"ticket {ticket_id} is closed: it cannot be answered until the shopper writes again",
                               details={"ticket_id": ticket_id, "status": before.status.value})
        now = max(now_iso(), before.updated_at)  # updated_at never goes back, even with a skewed clock
        message = Message(message_id=new_message_id(), ticket_id=ticket_id, author=author, author_id=author_id,
                          text=text, created_at=now)
        reopened = before.status == TicketStatus.CLOSED
        after = before.model_copy(update={
            "status": status, "updated_at": now, "version": before.version + 1,
            "message_count": before.message_count + 1, "last_message_by": author,
            **({"closed_at": None, "closed_by": None} if reopened else {})})
        if repo.add_message(before, after, message):
            return before, after, message
    raise Conflict(f"ticket {ticket_id} is changing too often right now; retry", details={"ticket_id": ticket_id})


def _changed_view(after: Ticket, message: Message, *, staff: bool) -> dict[str, Any]:
    return {**ticket_view(after), "message": message_view(message, staff=staff)}


def add_customer_message(ticket_id: str, customer_id: str, body: MessageIn) -> tuple[dict[str, Any], bool]:
    """The shopper writes: the ticket is open again (waiting for staff), also when it was closed.
    Returns the view and whether the ticket was reopened."""
    before, after, message = _write_message(ticket_id, CUSTOMER, customer_id, body.message, customer_id)
    return _changed_view(after, message, staff=False), before.status == TicketStatus.CLOSED


def answer(ticket_id: str, staff_id: str, body: MessageIn) -> dict[str, Any]:
    """Staff answer: the ticket is pending (waiting for the shopper) and the shopper is emailed."""
    from shop import events  # see __getattr__

    _, after, message = _write_message(ticket_id, STAFF, staff_id, body.message)
    detail = {"ticket_id": after.ticket_id, "subject": after.subject, "email": after.email,
              "customer_id": after.customer_id, "answer": message.text, "answered_at": message.created_at,
              "order_id": after.order_id, "occurred_at": message.created_at}
    events.publish(events.entry("TicketAnswered", detail, dedupe_suffix=message.message_id, subject=after.ticket_id))
    return _changed_view(after, message, staff=True)


def close(ticket_id: str, staff_id: str) -> tuple[dict[str, Any], bool]:
    """Staff close an open or pending ticket; closing a closed one answers it unchanged.
    Returns the view and whether this call closed it."""
    for attempt in range(MAX_ATTEMPTS):
        _pause(attempt)
        before = _ticket(ticket_id)
        if not can_close(before.status):
            return ticket_view(before), False
        now = max(now_iso(), before.updated_at)
        after = before.model_copy(update={"status": TicketStatus.CLOSED, "updated_at": now,
                                          "version": before.version + 1, "closed_at": now, "closed_by": staff_id})
        if repo.update(before, after):
            return ticket_view(after), True
    raise Conflict(f"ticket {ticket_id} is changing too often right now; retry", details={"ticket_id": ticket_id})
