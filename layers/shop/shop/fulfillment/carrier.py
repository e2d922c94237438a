"""Shipping labels (pure): carrier, tracking number and cost from the parcel's weight and destination zone.

The cost uses the same zone table and per-kilogram rates as the cart's shipping estimate
(settings.shipping_zones / shipping_rates), applied to the weighed parcel, so the label cost and what the
shopper paid can be compared per order. The tracking number is derived from the shipment id: buying the
label again after a crash yields the same number, never a second label.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from shop.config import Settings
from shop.money import Money
from shop.pricing import shipping_cost, shipping_zone


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
                 currency: str) -> Label:
    zone = shipping_zone(settings, destination_country, "shipping_address.country")
    number = tracking_number_for(shipment_id)
    return Label(carrier=settings.carrier_name, tracking_number=number,
                 tracking_url=settings.tracking_url_template.format(tracking_number=number), zone=zone,
                 cost=shipping_cost(settings, zone, weight_grams, currency), weight_grams=weight_grams)
