"""HTTP answers of the shopper's order routes (functions/orders): the order list, one order with its shipments
and tracking, and a cancellation (which answers with the order).

The shapes are those ``shop.orders.service`` has always returned. Keys it leaves out when they do not apply (an
address's ``line2``/``region``, an allocation's ``shard``, a timeline or tracking entry's optional text, the
payment's 3-D Secure and refund fields) are declared with ``exclude_if``: absent, never null. Shipments are
declared here (contexts do not import each other's contracts). An order's lines and payment, which checkout's
answer shares, are declared in ``shop.orders.order_parts`` (checkout defines only those at its cold start, not
the shipments and views of the order routes; issue 17) and the two used here importable from here as before.
"""

from typing import Literal

from pydantic import Field

from shop import lazy
from shop.contracts import ResponseModel, absent
from shop.models import Totals
from shop.money import Money
from shop.orders.models import OrderStatus
from shop.orders.order_parts import OrderLineView, OrderPayment


class OrderSummary(ResponseModel):
    order_id: str
    status: OrderStatus
    created_at: str
    totals: Totals
    item_count: int = Field(description="units over all lines")
    payment_status: str = Field(description="as the order's payment.status")


class OrderPage(ResponseModel):
    items: list[OrderSummary] = Field(description="newest first")
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last page")


class OrderAddress(ResponseModel):
    name: str
    line1: str
    line2: str | None = Field(None, exclude_if=absent)
    city: str
    postal_code: str
    country: str = Field(description="ISO 3166-1 alpha-2")
    region: str | None = Field(None, exclude_if=absent, description="state/province code, where given")


class ShipmentLine(ResponseModel):
    sku: str
    name: str
    quantity: int


class TrackingEntry(ResponseModel):
    event_id: str
    status: str = Field(description="as the carrier reported it: picked_up, in_transit, delivered, exception")
    occurred_at: str
    description: str | None = Field(None, exclude_if=absent)
    location: str | None = Field(None, exclude_if=absent)


class DeliveryProofView(ResponseModel):
    """What the carrier reported with the delivery, and whether it satisfies the order's signature rule."""

    signed_by: str | None = Field(None, exclude_if=absent, description="the name the recipient signed with")
    left_at: Literal["handed_to_recipient", "door", "neighbour", "parcel_shop", "parcel_locker", "mailbox",
                     "reception", "safe_place"] | None = Field(
        None, exclude_if=absent, description="where the carrier left the parcel (shop.fulfillment.models.LeftAt)")
    proof_url: str | None = Field(None, exclude_if=absent, description="photo or signature image (https)")
    signature_required: bool = Field(description="the order asked for a signature (its value)")
    signature_missing: bool = Field(description="required, but nobody signed or it was not handed over: the shop "
                                                "looks into it")


class ShipmentView(ResponseModel):
    """One parcel of the order (one per shipping warehouse)."""

    shipment_id: str
    warehouse_id: str
    status: Literal["PICKING", "PACKING", "PACKED", "SHIPPED", "IN_TRANSIT", "EXCEPTION", "DELIVERED", "CANCELLED"]
    items: list[ShipmentLine]
    package_weight_grams: int | None = Field(description="weighed when packed")
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    shipping_cost: Money | None = Field(description="what the label cost")
    packed_at: str | None
    shipped_at: str | None
    delivered_at: str | None
    delivery_proof: DeliveryProofView | None = Field(
        None, exclude_if=absent, description="once delivered: who signed, where it was left, the carrier's proof")
    tracking: list[TrackingEntry] = Field(description="carrier events, oldest first")


class OrderTimelineEntry(ResponseModel):
    at: str
    status: str
    note: str | None = Field(None, exclude_if=absent)


class OrderView(ResponseModel):
    """One of the shopper's orders: status, lines, payment, shipments with tracking, and its history."""

    order_id: str
    status: OrderStatus
    created_at: str
    updated_at: str
    email: str | None = Field(description="where order emails go")
    lines: list[OrderLineView]
    totals: Totals
    shipping_address: OrderAddress
    payment: OrderPayment
    shipments: list[ShipmentView] = Field(description="empty until the paid order is split into parcels")
    reservation_expires_at: int = Field(description="epoch seconds: unpaid by then, the order expires")
    timeline: list[OrderTimelineEntry] = Field(description="status changes, oldest first")
    signature_required: bool | None = Field(
        None, exclude_if=absent, description="the order's value asks for the recipient's signature on delivery "
                                             "(decided at checkout); absent for orders placed before the rule")


# the order workflow's models live in shop.orders.workflow_contracts (the order task functions import them from
# there): the shopper's routes do not define them at their cold start (issue 17). Importable from here as before,
# loaded on first access.
_WORKFLOW = frozenset({"OrderWorkflowInput", "OrderConfirmed", "ReservationReleased", "ExpiredReservationsSwept"})


__getattr__ = lazy.attributes_from(__name__, {"shop.orders.workflow_contracts": _WORKFLOW})

