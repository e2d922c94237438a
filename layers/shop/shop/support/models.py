"""Support tickets: a shopper's request (optionally about one of their orders) and its messages.

Status rules (pure functions below, used by the service):
- open      waiting for staff. A new ticket is open; every shopper message makes the ticket open again.
- pending   staff answered, waiting for the shopper. A staff message on an open or pending ticket.
- closed    staff closed it. Closing a closed ticket changes nothing (it is answered as it is).
A shopper message on a closed ticket REOPENS it (open): the shopper is not told to start over, and staff
see the follow-up in the open queue with its history. Staff cannot answer a closed ticket (409
ticket_closed): a closed ticket must not send the shopper mail; the shopper reopens it by writing.
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shop.models import Frozen, OrderId

TICKET_ID_PATTERN = r"^tkt_[a-f0-9]{20}$"
TicketId = Annotated[str, StringConstraints(pattern=TICKET_ID_PATTERN)]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    CLOSED = "closed"


Author = Literal["customer", "staff"]
CUSTOMER: Author = "customer"
STAFF: Author = "staff"


def status_after_message(current: TicketStatus, author: Author) -> TicketStatus | None:
    """The status a ticket gets from a new message, or None when the message is refused (staff on a closed
    ticket)."""
    if author == CUSTOMER:
        return TicketStatus.OPEN  # from open (still waiting), pending (replied) or closed (reopened)
    if current == TicketStatus.CLOSED:
        return None
    return TicketStatus.PENDING


def can_close(current: TicketStatus) -> bool:
    """Open and pending tickets can be closed (a closed one already is)."""
    return current in (TicketStatus.OPEN, TicketStatus.PENDING)


# ------------------------------------------------------------------ requests
class In(BaseModel):
    # request bodies: built on their route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class TicketIn(In):
    subject: Subject
    message: Text
    order_id: OrderId | None = Field(None, description="one of the shopper's own orders, if the ticket is about it")


class MessageIn(In):
    message: Text


# ------------------------------------------------------------------ stored
class Ticket(Frozen):
    ticket_id: TicketId
    customer_id: str
    email: str | None = None
    subject: str
    order_id: str | None = None
    status: TicketStatus
    created_at: str
    updated_at: str
    message_count: int = Field(0, ge=0)
    last_message_by: Author | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    version: int = 0


class Message(Frozen):
    message_id: str
    ticket_id: TicketId
    author: Author
    author_id: str
    text: str
    created_at: str
