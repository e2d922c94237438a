"""The order entity and its lifecycle, owned by the orders context: its repository is the only code that stores
and reads it; contexts above orders (checkout, payments, fulfillment, returns, orderflow, reviews) take it from
here. Entities more than one context below orders needs (Sku, Warehouse, StockLevel, Allocation, Totals, Address)
stay in shop.models.
"""

from enum import StrEnum

from pydantic import Field

from shop.models import Address, Allocation, Frozen, SkuCode, Slug, Totals
from shop.money import Money


class OrderLine(Frozen):
    sku: SkuCode
    product_id: Slug
    name: str
    quantity: int = Field(gt=0)
    unit_price: Money
    weight_grams: int = Field(gt=0)
    allocations: list[Allocation]
    discount: Money | None = Field(None, description="the line's share of sale and coupon discounts")


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAYMENT_PROCESSING = "PAYMENT_PROCESSING"
    PAID = "PAID"
    FULFILLING = "FULFILLING"  # split into shipments; picking and packing (still cancellable)
    DISPATCHING = "DISPATCHING"  # a parcel is packed: its stock left the shelf, cancellation is refused
    SHIPPED = "SHIPPED"  # every shipment handed to the carrier
    DELIVERED = "DELIVERED"  # every shipment delivered
    PAYMENT_FAILED = "PAYMENT_FAILED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


# Statuses in which the order still holds all of its reserved stock (none committed to a parcel yet), which
# a compensation (payment failure, expiry, cancellation) releases.
RESERVATION_HOLDING = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_PROCESSING, OrderStatus.PAID,
                                 OrderStatus.FULFILLING})


class TimelineEntry(Frozen):
    at: str
    status: str
    note: str | None = None


class Order(Frozen):
    order_id: str
    customer_id: str
    email: str | None = None
    status: OrderStatus
    lines: list[OrderLine]
    totals: Totals
    shipping_address: Address
    payment_method_id: str
    payment_intent_id: str | None = None
    payment_status: str | None = Field(None, description="last known payment outcome: succeeded, declined, ...")
    decline_code: str | None = None
    coupon_code: str | None = None
    tax_rate_bps: int | None = None
    payment_client_secret: str | None = Field(
        None, description="for the shopper's 3-D Secure step (Stripe.js handleNextAction) while requires_action")
    refund_id: str | None = None
    refunded: Money | None = None
    cancel_reason: str | None = None
    created_at: str
    updated_at: str
    reservation_expires_at: int
    timeline: list[TimelineEntry] = Field(default_factory=list)
    request_hash: str | None = Field(None, description="hash of the checkout request that placed the order: a "
                                                       "replay with the same Idempotency-Key must match it")
    signature_required: bool | None = Field(
        None, description="decided at checkout from the total (SIGNATURE_REQUIRED_ABOVE): each parcel must be "
                          "signed for by the recipient; null for orders placed before the rule (none asked)")
