"""The order facts of the bus (producers: shop.orders.event_details, shop.fulfillment.event_details,
shop.orderflow.attention). Defined when a type of the family is first needed (see shop.event_contracts)."""

from typing import Literal

from pydantic import Field

from shop.event_contracts import (
    _EXAMPLE_AT,
    _EXAMPLE_ORDER,
    _EXAMPLE_PROOF,
    _EXAMPLE_SHIPMENT,
    _ITEMS,
    _LINES,
    _ORDER_FIELDS,
    _TOTALS,
    LeftAtValue,
    OrderFact,
    ParcelItem,
    Part,
    _eur,
    _example,
)
from shop.models import Address, SkuCode, Slug, Totals
from shop.money import Money


class LineItem(Part):
    sku: SkuCode
    product_id: Slug
    name: str
    quantity: int = Field(gt=0)
    unit_price: Money


class PlannedShipment(Part):
    shipment_id: str
    warehouse_id: Slug
    items: list[ParcelItem]


# ------------------------------------------------------------------------------------------------ orders
class OrderPlaced(OrderFact):
    """Published once the order is stored and its stock reserved (the payment step starts; no email)."""

    model_config = _example("OrderPlaced", _EXAMPLE_ORDER, **_ORDER_FIELDS, totals=_TOTALS, lines=_LINES)

    totals: Totals
    lines: list[LineItem]


class OrderPaid(OrderFact):
    """Published when the payment succeeded and the order is PAID (order confirmation email)."""

    model_config = _example("OrderPaid", _EXAMPLE_ORDER, **_ORDER_FIELDS, totals=_TOTALS, lines=_LINES,
                            paid_at=_EXAMPLE_AT, payment_intent_id="pi_sample000000",
                            shipping_address={"name": "Erika Mustermann", "line1": "Hauptstrasse 5",
                                              "city": "Berlin", "postal_code": "10115", "country": "DE"})

    totals: Totals
    lines: list[LineItem]
    paid_at: str | None = Field(description="the PAID entry of the order's timeline")
    payment_intent_id: str | None
    shipping_address: Address = Field(description="null members are left out")


class PaymentFailed(OrderFact):
    """Published when the payment did not complete and the order is closed PAYMENT_FAILED, its stock released
    (payment failed email)."""

    model_config = _example("PaymentFailed", _EXAMPLE_ORDER, **_ORDER_FIELDS, reason="declined",
                            decline_code="insufficient_funds", total=_eur(5232))

    reason: str = Field(description="declined, authentication_timeout, error, ...")
    decline_code: str | None
    total: Money


class OrderSplit(OrderFact):
    """Published when the paid order is split into one shipment per warehouse (no email)."""

    model_config = _example("OrderSplit", _EXAMPLE_ORDER, **_ORDER_FIELDS, shipments=[
        {"shipment_id": _EXAMPLE_SHIPMENT, "warehouse_id": "berlin", "items": _ITEMS}])

    shipments: list[PlannedShipment]


class DeliveryOfParcel(Part):
    """One parcel's delivery with its proof (OrderDelivered ``deliveries``)."""

    shipment_id: str
    delivered_at: str | None
    signed_by: str | None = None
    left_at: LeftAtValue | None = None
    proof_url: str | None = None
    signature_required: bool = False
    signature_missing: bool = False


class OrderDelivered(OrderFact):
    """Published when the last shipment of the order is delivered (no email: each shipment had its own).

    Schema version 1, additive: ``deliveries`` (each parcel's proof of delivery) is sent since proof of delivery
    was recorded; details published before lack it."""

    model_config = _example("OrderDelivered", _EXAMPLE_ORDER, **_ORDER_FIELDS, delivered_at=_EXAMPLE_AT,
                            deliveries=[{"shipment_id": _EXAMPLE_SHIPMENT, "delivered_at": _EXAMPLE_AT,
                                         **_EXAMPLE_PROOF}])

    delivered_at: str = Field(description="as the carrier reported it")
    deliveries: list[DeliveryOfParcel] | None = Field(
        None, description="each parcel's delivery and proof; absent in details published before it was added")


class OrderCancelled(OrderFact):
    """Published when the order is cancelled (by the shopper, or because it could not be fulfilled), its
    stock released and what was charged refunded (cancellation email)."""

    model_config = _example("OrderCancelled", _EXAMPLE_ORDER, **_ORDER_FIELDS, reason="customer",
                            refund=_eur(5232))

    reason: str = Field(description="customer, fulfillment_failed, ...")
    refund: Money | None = Field(description="what this cancellation refunded (what was left after earlier staff "
                                             "refunds); null when nothing had been charged or nothing was left")


class RefundIssued(OrderFact):
    """Published when money went back to the shopper: a cancellation's refund (what was left of the charge), a
    return's or a staff refund (refund email)."""

    model_config = _example("RefundIssued", _EXAMPLE_ORDER, "ord_sampleorderaaaaaaaaaaaaaaa:full",
                            **_ORDER_FIELDS, refund_id="re_sample000000", amount=_eur(5232), reason="customer",
                            payment_intent_id="pi_sample000000")

    refund_id: str
    amount: Money
    reason: str
    payment_intent_id: str | None


class OrderNeedsAttention(OrderFact):
    """Published when the order's workflow ended in a failure a person must settle (NeedsAttention,
    PaymentNeedsAttention, ReleaseFailed, a timeout, an abort): the order keeps its status and is listed as
    needing attention until staff retry it (POST /admin/orders/{orderId}/retry). No shopper email."""

    model_config = _example("OrderNeedsAttention", _EXAMPLE_ORDER, "ord_sampleorderaaaaaaaaaaaaaaa", **_ORDER_FIELDS,
                            status="DISPATCHING", error="NeedsAttention",
                            cause="Fulfillment failed after a parcel was packed: the order needs a person.",
                            workflow_status="FAILED",
                            execution_arn="arn:aws:states:eu-central-1:123456789012:execution:orders:"
                                          "ord_sampleorderaaaaaaaaaaaaaaa")

    status: str = Field(description="the order's business status, unchanged by the failure")
    error: str = Field(description="the execution's error: NeedsAttention, PaymentNeedsAttention, ReleaseFailed, "
                                   "States.Timeout, ...")
    cause: str | None
    workflow_status: Literal["FAILED", "TIMED_OUT", "ABORTED"]
    execution_arn: str
