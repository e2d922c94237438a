"""Support tickets. Shoppers (signed in): POST /support/tickets (optionally about one of their orders),
GET /support/tickets (their own, newest first, paginated), GET /support/tickets/{ticketId} (with its
messages) and POST /support/tickets/{ticketId}/messages (reopens a closed ticket). Staff (group admin):
GET /admin/support/tickets?status= (longest-waiting first, paginated), GET /admin/support/tickets/{ticketId},
POST /admin/support/tickets/{ticketId}/messages (answer: the shopper is emailed) and
POST /admin/support/tickets/{ticketId}/close. Status rules: shop.support.models."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from shop.api import JSON, Guard, Principal, http_handler, make_resolver, once_per_key, principal, require_group
from shop.observability import observability
from shop.support import service
from shop.support.contracts import (
    StaffSupportTicketMessageAdded,
    StaffSupportTicketThread,
    SupportTicket,
    SupportTicketMessageAdded,
    SupportTicketPage,
    SupportTicketThread,
)
from shop.support.models import TICKET_ID_PATTERN, MessageIn, TicketIn, TicketStatus

obs = observability("support", needs=("support_table", "orders_table", "idempotency_table", "event_bus_name"))
app = make_resolver(obs.logger)
tickets = Router()
staff = Router()
TicketId = Annotated[str, Path(pattern=TICKET_ID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]


def admin() -> Principal:
    return require_group(app, "admin")


def created(body: dict[str, Any], location: str) -> Response[Any]:
    return Response(status_code=201, content_type=JSON, body=body, headers={"Location": location})


# ------------------------------------------------------------------ shoppers
@tickets.post("/support/tickets", status_code=201)
def open_ticket(body: TicketIn) -> Response[SupportTicketThread]:
    who = principal(app)

    def work() -> dict[str, Any]:
        opened = service.open_ticket(who.user_id, who.email, body)
        obs.count("TicketOpened")
        return opened

    view = once_per_key(app, who, "open_ticket", body, work)  # a double click opens one ticket
    obs.logger.append_keys(ticket_id=view["ticket_id"], order_id=body.order_id)
    return created(view, f"/support/tickets/{view['ticket_id']}")


@tickets.get("/support/tickets")
def list_my_tickets(limit: Limit = 20, cursor: Cursor = None) -> SupportTicketPage:
    who = principal(app)
    return service.list_for_customer(who.user_id, limit, cursor)


@tickets.get("/support/tickets/<ticketId>")
def get_ticket(ticketId: TicketId) -> SupportTicketThread:
    who = principal(app)
    obs.logger.append_keys(ticket_id=ticketId)
    return service.get_for_customer(ticketId, who.user_id)


@tickets.post("/support/tickets/<ticketId>/messages", status_code=201)
def add_message(ticketId: TicketId, body: MessageIn) -> Response[SupportTicketMessageAdded]:
    """The shopper writes; the ticket waits for staff again (open), also when it was closed (reopened)."""
    who = principal(app)
    obs.logger.append_keys(ticket_id=ticketId)

    def work() -> dict[str, Any]:
        added, reopened = service.add_customer_message(ticketId, who.user_id, body)
        obs.count("TicketMessageAdded")
        if reopened:
            obs.count("TicketReopened")
        return added

    view = once_per_key(app, who, f"ticket_message:{ticketId}", body, work)
    return created(view, f"/support/tickets/{ticketId}")


# ------------------------------------------------------------------ staff
@staff.get("/admin/support/tickets")
def list_tickets(status: Annotated[TicketStatus, Query()] = TicketStatus.OPEN, limit: Limit = 20,
                 cursor: Cursor = None) -> SupportTicketPage:
    admin()
    return service.list_by_status(status, limit, cursor)


@staff.get("/admin/support/tickets/<ticketId>")
def get_ticket_as_staff(ticketId: TicketId) -> StaffSupportTicketThread:
    admin()
    obs.logger.append_keys(ticket_id=ticketId)
    return service.get_for_staff(ticketId)


@staff.post("/admin/support/tickets/<ticketId>/messages", status_code=201)
def answer_ticket(ticketId: TicketId, body: MessageIn) -> Response[StaffSupportTicketMessageAdded]:
    """Answer: the ticket waits for the shopper (pending) and the shopper is emailed. A closed ticket is 409."""
    who = admin()
    obs.logger.append_keys(ticket_id=ticketId)

    def work() -> dict[str, Any]:
        answered = service.answer(ticketId, who.user_id, body)
        obs.count("TicketAnswered")
        return answered

    view = once_per_key(app, who, f"ticket_answer:{ticketId}", body, work)  # one answer, one e-mail
    return created(view, f"/admin/support/tickets/{ticketId}")


@staff.post("/admin/support/tickets/<ticketId>/close")
def close_ticket(ticketId: TicketId) -> SupportTicket:
    who = admin()
    obs.logger.append_keys(ticket_id=ticketId)
    view, closed = service.close(ticketId, who.user_id)
    if closed:
        obs.count("TicketClosed")
    return view


app.include_router(tickets)
app.include_router(staff)


handler = http_handler(app, obs, Guard("/admin/", "admin"), Guard("/"))
