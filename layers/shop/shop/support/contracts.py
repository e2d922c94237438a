"""HTTP answers of the support API (functions/support): tickets and their messages, as shoppers and as staff
see them. Staff see who wrote each message (``author_id``); a shopper sees only whether it was them or the
shop, so the shopper's message model has no ``author_id`` (an answer carrying one would be a 500, not a leak).
"""

from pydantic import Field

from shop.contracts import ResponseModel
from shop.support.models import Author, TicketStatus


class SupportTicket(ResponseModel):
    ticket_id: str
    customer_id: str
    email: str | None = Field(description="where staff answers are emailed (the shopper's sign-in email)")
    subject: str
    order_id: str | None = Field(description="the shopper's order the ticket is about, if any")
    status: TicketStatus = Field(description="open: waiting for staff; pending: answered, waiting for the "
                                             "shopper; closed")
    created_at: str
    updated_at: str
    message_count: int
    last_message_by: Author | None
    closed_at: str | None = Field(description="set while closed")
    closed_by: str | None = Field(description="the staff member who closed it, while closed")


class SupportTicketPage(ResponseModel):
    items: list[SupportTicket]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class SupportMessage(ResponseModel):
    """A message as the shopper sees it."""

    message_id: str
    ticket_id: str
    author: Author = Field(description="customer (the shopper) or staff (the shop)")
    text: str
    created_at: str


class StaffSupportMessage(SupportMessage):
    """A message as staff see it: with its writer."""

    author_id: str = Field(description="user id of the shopper or the staff member who wrote it")


class SupportTicketThread(SupportTicket):
    """A ticket with all of its messages, oldest first (shopper's view)."""

    messages: list[SupportMessage]


class StaffSupportTicketThread(SupportTicket):
    """A ticket with all of its messages, oldest first (staff view)."""

    messages: list[StaffSupportMessage]


class SupportTicketMessageAdded(SupportTicket):
    """The ticket after the shopper's message, and that message."""

    message: SupportMessage


class StaffSupportTicketMessageAdded(SupportTicket):
    """The ticket after a staff answer, and that answer."""

    message: StaffSupportMessage
