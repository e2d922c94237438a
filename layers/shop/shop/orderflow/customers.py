"""Customers as staff see them (GET /admin/customers?email=, GET /admin/customers/{customerId}): the profile from
Cognito (through the auth context's repository: the user pool is the one record of a shopper), their newest orders
(ByCustomer index), their support tickets (TicketsByCustomer) and the returns of the orders listed. Each part is one
bounded read; nothing is scanned."""

from __future__ import annotations

from typing import Any

from shop.auth import repository as users
from shop.dynamo import encode_cursor
from shop.errors import InvalidInput, NotFound
from shop.orderflow import admin
from shop.orders import repository as orders_repo
from shop.orders.models import OrderStatus
from shop.support import repository as support_repo
from shop.support import service as support

MAX_MATCHES = 20
RECENT = 20  # orders and tickets shown on the customer page
MAY_HAVE_RETURNS = frozenset({OrderStatus.DISPATCHING, OrderStatus.SHIPPED, OrderStatus.DELIVERED})


def _email(text: str) -> str:
    email = text.strip().lower()
    if not email or len(email) > 254 or any(c in email for c in '"\\'):
        raise InvalidInput("email", "must be an e-mail address or the start of one")
    return email


def search(email: str) -> dict[str, Any]:
    """Customers whose sign-in e-mail starts with ``email`` (at most 20)."""
    return {"items": users.find_users("email", _email(email), prefix=True, limit=MAX_MATCHES)}


def ids_by_email(email: str) -> list[str]:
    """The customer id(s) of exactly this e-mail (the order list's e-mail filter)."""
    return [u["customer_id"] for u in users.find_users("email", _email(email), limit=2) if u["customer_id"]]


def get(customer_id: str, returns_of: admin.ReturnsOf) -> dict[str, Any]:
    found = users.find_users("sub", customer_id, limit=1)
    if not found:
        raise NotFound(f"customer {customer_id} not found")
    rows, last = orders_repo.customer_orders_page(customer_id, limit=RECENT)
    tickets, _ = support_repo.list_for_customer(customer_id, RECENT, None)
    returns = [r for order, _ in rows if order.status in MAY_HAVE_RETURNS for r in returns_of(order.order_id)]
    cursor = encode_cursor(last)
    return {"profile": found[0], "orders": [admin.summary(o, attention) for o, attention in rows],
            "orders_next_cursor": cursor, "tickets": [support.ticket_view(t) for t in tickets],
            "returns": [admin.return_view(r) for r in sorted(returns, key=lambda r: r["created_at"], reverse=True)]}
