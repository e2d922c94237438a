"""The shipment facts of the bus (producers: shop.fulfillment.event_details, shop.orderflow.deliveries).
Defined when a type of the family is first needed (see shop.event_contracts)."""

from typing import Literal

from pydantic import Field

from shop.event_contracts import (
    _EXAMPLE_AT,
    _EXAMPLE_ORDER,
    _EXAMPLE_PROOF,
    _EXAMPLE_SHIPMENT,
    _ITEMS,
    _ORDER_FIELDS,
    LeftAtValue,
    OrderFact,
    ParcelItem,
    _eur,
    _example,
)
from shop.models import Slug
from shop.money import Money


# ------------------------------------------------------------------------------------------------ shipments
class ShipmentPacked(OrderFact):
    """Published when a parcel is packed and labelled: its stock left the shelf (shipment email with
    tracking)."""

    model_config = _example("ShipmentPacked", _EXAMPLE_ORDER, _EXAMPLE_SHIPMENT, **_ORDER_FIELDS,
                            shipment_id=_EXAMPLE_SHIPMENT, warehouse_id="berlin", carrier="DHL",
                            tracking_number="JJD0001234567890", tracking_url="https://track.example.com/JJD0001234567890",
                            package_weight_grams=950, shipping_cost=_eur(490), items=_ITEMS)

    shipment_id: str
    warehouse_id: Slug
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    package_weight_grams: int | None
    shipping_cost: Money | None
    items: list[ParcelItem]


class ShipmentShipped(OrderFact):
    """Published when the carrier picked the parcel up (no email)."""

    model_config = _example("ShipmentShipped", _EXAMPLE_ORDER, _EXAMPLE_SHIPMENT, **_ORDER_FIELDS,
                            shipment_id=_EXAMPLE_SHIPMENT, warehouse_id="berlin", carrier="DHL",
                            tracking_number="JJD0001234567890", tracking_url=None, shipped_at=_EXAMPLE_AT,
                            paid_at=_EXAMPLE_AT, units=2)

    shipment_id: str
    warehouse_id: Slug
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    shipped_at: str | None
    paid_at: str | None
    units: int = Field(ge=0, description="units in the parcel")


class _ShipmentTracking(OrderFact):
    shipment_id: str
    tracking_number: str | None
    description: str | None = Field(description="the carrier's text")
    location: str | None


class ShipmentInTransit(_ShipmentTracking):
    """Published for each in-transit scan the carrier reports (no email)."""

    model_config = _example("ShipmentInTransit", _EXAMPLE_ORDER, "cevt_0001", **_ORDER_FIELDS,
                            shipment_id=_EXAMPLE_SHIPMENT, tracking_number="JJD0001234567890",
                            description="Arrived at the sorting centre", location="Leipzig")


class ShipmentException(_ShipmentTracking):
    """Published when the carrier reports a delivery problem (delivery problem email)."""

    model_config = _example("ShipmentException", _EXAMPLE_ORDER, "cevt_0002", **_ORDER_FIELDS,
                            shipment_id=_EXAMPLE_SHIPMENT, tracking_number="JJD0001234567890",
                            description="Address not found", location="Berlin")


class ShipmentDelivered(OrderFact):
    """Published when the carrier reports a parcel delivered (delivered email)."""

    model_config = _example("ShipmentDelivered", _EXAMPLE_ORDER, _EXAMPLE_SHIPMENT, **_ORDER_FIELDS,
                            shipment_id=_EXAMPLE_SHIPMENT, warehouse_id="berlin", carrier="DHL",
                            tracking_number="JJD0001234567890", delivered_at=_EXAMPLE_AT, **_EXAMPLE_PROOF)

    shipment_id: str
    warehouse_id: Slug
    carrier: str | None
    tracking_number: str | None
    delivered_at: str | None = Field(description="as the carrier reported it")
    # schema version 1, additive (proof of delivery): sent since it was recorded; absent in details before
    signed_by: str | None = Field(None, description="the name the recipient signed with; null: nobody signed")
    left_at: LeftAtValue | None = Field(None, description="where the carrier left the parcel; null: not said")
    proof_url: str | None = Field(None, description="photo or signature image at the carrier (https)")
    signature_required: bool = Field(False, description="the order asked for a signature (its value)")
    signature_missing: bool = Field(False, description="required but not given: a DeliveryNeedsAttention follows")


class DeliveryNeedsAttention(OrderFact):
    """Published when a parcel of an order that asked for a signature (its value above the shop's threshold)
    was delivered without one: nobody signed, or it was not handed to the recipient. The order keeps its
    status and is listed under GET /admin/orders?status=NEEDS_ATTENTION. No shopper email."""

    model_config = _example("DeliveryNeedsAttention", _EXAMPLE_ORDER, _EXAMPLE_SHIPMENT, **_ORDER_FIELDS,
                            status="DELIVERED", shipment_id=_EXAMPLE_SHIPMENT, tracking_number="JJD0001234567890",
                            reason="delivered_without_signature",
                            cause="parcel shp_sampleorderaaaaaaaaaaaaaaa_1 was delivered without a signature "
                                  "(left at door); the order (EUR 249.00) asked for one",
                            total=_eur(24900), signed_by=None, left_at="door", proof_url=None)

    status: str = Field(description="the order's business status, unchanged")
    shipment_id: str
    tracking_number: str | None
    reason: Literal["delivered_without_signature"] = Field(
        description="delivered_without_signature: nobody signed, or the parcel was not handed to the recipient")
    cause: str = Field(description="what staff read")
    total: Money = Field(description="the order's total, which asked for the signature")
    signed_by: str | None
    left_at: LeftAtValue | None
    proof_url: str | None
