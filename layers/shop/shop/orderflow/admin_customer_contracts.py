"""The staff's customer pages (functions/orderflow_admin: GET /admin/customers and /admin/customers/{customerId}).
A module of its own (issue 17): the order routes' cold starts define neither these nor the support tickets
(shop.orderflow.admin_contracts offers these by name too)."""

from pydantic import Field

from shop.contracts import ResponseModel
from shop.orderflow.admin_contracts import AdminOrderSummary
from shop.orderflow.admin_order_contracts import AdminReturn
from shop.support.contracts import SupportTicket


class CustomerProfile(ResponseModel):
    customer_id: str
    email: str | None
    name: str | None
    email_verified: bool
    status: str = Field(description="Cognito's user status: CONFIRMED, UNCONFIRMED, RESET_REQUIRED, ...")
    enabled: bool
    created_at: str | None


class CustomerPage(ResponseModel):
    items: list[CustomerProfile] = Field(description="at most 20; the e-mail is matched as a prefix")


class CustomerView(ResponseModel):
    profile: CustomerProfile
    orders: list[AdminOrderSummary] = Field(description="the newest orders")
    orders_next_cursor: str | None = Field(description="more: GET /admin/orders?email=...&cursor=")
    tickets: list[SupportTicket] = Field(description="the most recently changed support tickets")
    returns: list[AdminReturn] = Field(description="returns of the orders listed")
