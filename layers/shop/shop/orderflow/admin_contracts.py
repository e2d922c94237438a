"""Staff order operations (functions/orderflow_admin): request bodies and HTTP answers of /admin/orders and
/admin/customers. The staff console reads these, so every answer is a declared model (tests/unit/test_openapi.py:
no untyped answer). The order's lines, address, shipments and tracking keep the shapes of the shopper's order
view (shop.orders.contracts); what only staff see (payment money, refunds, returns, attention, notes, the staff
history) is declared here.
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shop.contracts import ResponseModel, absent
from shop.models import Totals
from shop.money import Money
from shop.orders.contracts import OrderAddress, OrderLineView, ShipmentView
from shop.orders.models import OrderStatus
from shop.support.contracts import SupportTicket

NEEDS_ATTENTION = "NEEDS_ATTENTION"


class AdminOrderFilter(StrEnum):
    """A business status, or NEEDS_ATTENTION: orders whose workflow failed (whatever their status)."""

    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAYMENT_PROCESSING = "PAYMENT_PROCESSING"
    PAID = "PAID"
    FULFILLING = "FULFILLING"
    DISPATCHING = "DISPATCHING"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    NEEDS_ATTENTION = NEEDS_ATTENTION


# ------------------------------------------------------------------ requests
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class RefundIn(BaseModel):
    """A partial (or full) refund on behalf of the shopper: never more than is left to refund."""

    # a request body: built on its route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", defer_build=True)

    amount: Money = Field(description="what to give back, in the order's currency (minor units)")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class NoteIn(BaseModel):
    # a request body: built on its route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", defer_build=True)

    text: Text


# ------------------------------------------------------------------ answers
class Attention(ResponseModel):
    """Why the order needs a person: the failed workflow execution, or (``kind`` delivery) a parcel delivered
    without the signature the order asked for (shop.orderflow.deliveries)."""

    error: str = Field(description="NeedsAttention, PaymentNeedsAttention, ReleaseFailed, States.Timeout, ...; "
                                   "DeliveryException")
    cause: str | None
    kind: Literal["delivery"] | None = Field(None, exclude_if=absent,
                                             description="delivery: a delivery exception; absent: a failed workflow")
    reason: Literal["delivered_without_signature"] | None = Field(None, exclude_if=absent,
                                                                  description="delivery: what is wrong")
    shipment_id: str | None = Field(None, exclude_if=absent, description="delivery: the parcel")
    reference: str | None = Field(None, exclude_if=absent,
                                  description="delivery: what a repeated report is recognised by")
    workflow_status: Literal["FAILED", "TIMED_OUT", "ABORTED"] | None = Field(
        None, exclude_if=absent, description="a failed workflow: how it ended")
    execution_arn: str | None = Field(None, exclude_if=absent, description="a failed workflow: the execution")
    at: str = Field(description="when the failure was recorded")


class AdminOrderSummary(ResponseModel):
    order_id: str
    status: OrderStatus
    customer_id: str
    email: str | None
    created_at: str
    updated_at: str
    totals: Totals
    item_count: int = Field(description="units over all lines")
    skus: list[str]
    payment_status: str
    needs_attention: Attention | None = Field(description="set while the order's workflow failure is unsettled")


class AdminOrderPage(ResponseModel):
    items: list[AdminOrderSummary] = Field(description="newest first; a page may hold fewer than limit orders "
                                                       "(filters): follow next_cursor")
    next_cursor: str | None = Field(description="pass as cursor (with the same filters) for the next page; null on "
                                                "the last page")


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


class StaffNote(ResponseModel):
    note_id: str
    at: str
    author_id: str
    author_email: str | None
    text: str


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


class StaffRefund(ResponseModel):
    """A staff refund paid (or found paid: the same Idempotency-Key answers the same refund)."""

    order_id: str
    refund_id: str
    amount: Money
    reason: str
    status: str = Field(description="the provider's refund status: succeeded, pending")
    refunded: Money = Field(description="the order's refunds so far, this one included")
    refundable: Money = Field(description="what is left to refund")


class ResolveIn(BaseModel):
    """How the order was settled by hand (a refund, a call to the carrier, ...): kept in the staff history."""

    # a request body: built on its route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", defer_build=True)

    note: Text


class ResolveOutcome(ResponseModel):
    order_id: str
    status: OrderStatus = Field(description="the order's status (unchanged: resolving only clears the mark)")
    resolved: Attention = Field(description="the needs-attention mark that was cleared")
    note: str
    by: str


class RetryOutcome(ResponseModel):
    order_id: str
    status: OrderStatus = Field(description="the order's status once the retry was started")
    action: Literal["restarted", "compensated"] = Field(
        description="restarted: a new workflow execution from the start (every step is safe to repeat); "
                    "compensated: the order's cancellation (its release and refund) was completed")
    execution_arn: str | None


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
