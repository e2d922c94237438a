"""Shipping labels (pure): carrier, tracking number and cost from the parcel's weight and route zone.

The zone is the route's, origin warehouse country -> destination country (shop.pricing.route_zone), and the
cost uses the same rates as the shopper's shipping charge, which checkout computed on the same parcels
(shop.fulfillment.split.parcels_of): a parcel whose packaging keeps it within the planned started kilogram
costs exactly what the shopper paid for it. The tracking number is derived from the shipment id: buying the
label again after a crash yields the same number, never a second label.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from shop.config import Settings
from shop.money import Money
from shop.pricing import route_zone, shipping_cost, shipping_zone


@dataclass(frozen=True)
class Label:
    carrier: str
    tracking_number: str
    tracking_url: str
    zone: str
    cost: Money
    weight_grams: int


def tracking_number_for(shipment_id: str) -> str:
    digest = hashlib.sha256(shipment_id.encode()).digest()
    return "SP" + base64.b32encode(digest).decode().rstrip("=")[:16]


def create_label(settings: Settings, shipment_id: str, destination_country: str, weight_grams: int,
                 currency: str, origin_country: str | None = None, origin_zone: str | None = None) -> Label:
    """``origin_country``: the country of the warehouse the parcel leaves from (None: priced by the
    destination's zone alone, as for a return label bought before the origin is known)."""
    field = "shipping_address.country"
    zone = (shipping_zone(settings, destination_country, field) if origin_country is None
            else route_zone(settings, origin_country, origin_zone, destination_country, field))
    number = tracking_number_for(shipment_id)
    return Label(carrier=settings.carrier_name, tracking_number=number,
                 tracking_url=settings.tracking_url_template.format(tracking_number=number), zone=zone,
                 cost=shipping_cost(settings, zone, weight_grams, currency), weight_grams=weight_grams)
