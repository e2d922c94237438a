"""The staff's order view (functions/orderflow_admin: GET /admin/orders/{orderId} and the cancellation's answer):
payment money, refunds, returns, the staff history. A module of its own (issue 17): the order list's cold start
does not define it (shop.orderflow.admin_contracts offers these by name too). The order's lines, address and
shipments keep the shapes of the shopper's order view (shop.orders.contracts)."""

from typing import Literal

from pydantic import Field

from shop.contracts import ResponseModel, absent
from shop.models import Totals
from shop.money import Money
from shop.orderflow.admin_contracts import Attention, StaffNote
from shop.orders.contracts import OrderAddress, OrderLineView, ShipmentView
from shop.orders.models import OrderStatus


class AdminPayment(ResponseModel):
    status: str = Field(description="as the shopper sees it: pending, processing, requires_action, paid, failed, "
                                    "refunded")
    payment_intent_id: str | None
    payment_method_id: str
    decline_code: str | None
    captured: Money = Field(description="what was charged (zero until the payment succeeded)")
    refunded: Money = Field(description="every refund so far: cancellation, returns and staff refunds")
    refundable: Money = Field(description="captured - refunded: the most a staff refund may give back now")


class AdminRefund(ResponseModel):
    refund_id: str
    amount: Money | None
    source: Literal["cancellation", "return", "staff"]
    reason: str | None
    at: str | None
    by: str | None = Field(None, exclude_if=absent, description="the staff member (staff refunds)")
    return_id: str | None = Field(None, exclude_if=absent)


class AdminReturnLine(ResponseModel):
    sku: str
    name: str
    quantity: int
    reason: str
    refund: Money


class AdminReturn(ResponseModel):
    return_id: str
    status: str
    lines: list[AdminReturnLine]
    refund_total: Money
    refund_id: str | None
    refunded: Money | None
    created_at: str
    updated_at: str


class AdminTimelineEntry(ResponseModel):
    at: str
    kind: Literal["status", "attention", "retry", "resolved", "note"] = Field(
        description="status: the order's own history (the shopper sees these); the others are staff-only "
                    "(resolved: a needs-attention mark cleared by hand, with the staff member's note)")
    status: str | None = Field(None, exclude_if=absent, description="kind status: the status (or REFUNDED, "
                                                                    "LABEL_CREATED ...)")
    note: str | None = Field(None, exclude_if=absent)
    by: str | None = Field(None, exclude_if=absent, description="the staff member")


class WorkflowRetry(ResponseModel):
    at: str
    by: str
    action: Literal["restarted", "compensated"]
    execution_arn: str | None
    note: str


class AdminWorkflow(ResponseModel):
    retries: int
    last_retry: WorkflowRetry | None


class AdminOrderView(ResponseModel):
    """Any order as staff see it: lines, totals, payment with its money, parcels with tracking, returns,
    refunds, the full history (the shopper's timeline and staff events, oldest first) and staff notes."""

    order_id: str
    status: OrderStatus
    customer_id: str
    email: str | None
    created_at: str
    updated_at: str
    coupon_code: str | None
    cancel_reason: str | None
    lines: list[OrderLineView]
    totals: Totals
    shipping_address: OrderAddress
    payment: AdminPayment
    shipments: list[ShipmentView]
    returns: list[AdminReturn]
    refunds: list[AdminRefund]
    timeline: list[AdminTimelineEntry]
    notes: list[StaffNote]
    needs_attention: Attention | None
    workflow: AdminWorkflow
    signature_required: bool | None = Field(
        None, exclude_if=absent, description="the order asks for the recipient's signature on delivery (decided "
                                             "at checkout); absent for orders placed before the rule")
