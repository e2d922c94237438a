"""The carrier port: buying a parcel's label, its tracking link and booking the pickup go through
:class:`Carrier`; fulfillment's service (and so the order workflow) never knows which carrier answers.

``CARRIER`` (shop.config) picks the adapter by name from :data:`CARRIERS`; ``local`` is :class:`LocalCarrier`,
the shop's simulation: the label's price comes from the shop's own rates and zones, its tracking number is
derived from the shipment id, and the carrier's events arrive through the signed webhook (POST
/webhooks/carrier) that tests and ``make run`` send by hand. A real carrier (an EasyPost-like HTTP API) is a
class with the same three methods registered under its name (README "Carriers and labels"); it must keep the
port's promise that a repeated purchase for the same shipment id yields the same label (pass the shipment id
as the carrier's idempotency key or reference and return the label already bought).

The zone is the route's, origin warehouse country -> destination country (shop.pricing.route_zone), and the
local cost uses the same rates as the shopper's shipping charge, which checkout computed on the same parcels
(shop.fulfillment.split.parcels_of): a parcel whose packaging keeps it within the planned started kilogram
costs exactly what the shopper paid for it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from shop.config import Settings
from shop.errors import ConfigurationError
from shop.fulfillment import label_pdf
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


@dataclass(frozen=True)
class Party:
    """Ship-from or ship-to as printed: the name, then the address lines, then the country code."""

    name: str
    lines: tuple[str, ...]
    country: str

    def printed(self) -> tuple[str, ...]:
        return (self.name, *self.lines, self.country)


@dataclass(frozen=True)
class LabelRequest:
    """One parcel's label. ``shipment_id`` is the idempotency key: the same id buys the same label."""

    shipment_id: str
    order_id: str
    ship_from: Party
    ship_to: Party
    weight_grams: int
    currency: str
    origin_zone: str | None = None


@dataclass(frozen=True)
class PurchasedLabel:
    label: Label
    document: bytes  # what the warehouse prints
    content_type: str = "application/pdf"
    extension: str = "pdf"


@dataclass(frozen=True)
class Tracking:
    url: str  # where the shopper follows the parcel
    status: str | None  # the carrier's latest status; None: the carrier pushes its events (webhook) only


@dataclass(frozen=True)
class PickupRequest:
    shipment_id: str
    warehouse_id: str
    ship_from: Party
    tracking_number: str
    ready_at: str  # ISO time the parcel is ready (packed)


@dataclass(frozen=True)
class PickupBooked:
    confirmation: str
    window_start: str
    window_end: str


class Carrier(Protocol):
    """What fulfillment asks of a carrier. Each call is safe to repeat with the same shipment id."""

    @property
    def name(self) -> str: ...

    def buy_label(self, request: LabelRequest) -> PurchasedLabel: ...

    def tracking(self, tracking_number: str) -> Tracking: ...

    def book_pickup(self, request: PickupRequest) -> PickupBooked: ...


def tracking_number_for(shipment_id: str) -> str:
    digest = hashlib.sha256(shipment_id.encode()).digest()
    return "SP" + base64.b32encode(digest).decode().rstrip("=")[:16]


def create_label(settings: Settings, shipment_id: str, destination_country: str, weight_grams: int,
                 currency: str, origin_country: str | None = None, origin_zone: str | None = None) -> Label:
    """The local carrier's label data (no document). ``origin_country``: the country of the warehouse the parcel
    leaves from (None: priced by the destination's zone alone, as for a return label bought before the origin is
    known). The tracking number is derived from the shipment id: buying the label again after a crash yields
    the same number, never a second label."""
    field = "shipping_address.country"
    zone = (shipping_zone(settings, destination_country, field) if origin_country is None
            else route_zone(settings, origin_country, origin_zone, destination_country, field))
    number = tracking_number_for(shipment_id)
    return Label(carrier=settings.carrier_name, tracking_number=number,
                 tracking_url=settings.tracking_url_template.format(tracking_number=number), zone=zone,
                 cost=shipping_cost(settings, zone, weight_grams, currency), weight_grams=weight_grams)


def label_document(label: Label, request: LabelRequest) -> bytes:
    return label_pdf.render(label_pdf.LabelDocument(
        carrier=label.carrier, tracking_number=label.tracking_number, ship_from=request.ship_from.printed(),
        ship_to=request.ship_to.printed(), weight_grams=label.weight_grams, zone=label.zone,
        reference=request.shipment_id))


class LocalCarrier:
    """The simulation behind the port: labels priced by the shop's rates with tracking numbers derived from the
    shipment id (a retry yields the same label and the same PDF bytes), tracking links from
    TRACKING_URL_TEMPLATE, pickups confirmed at once for the next day's 09:00-17:00 (UTC)."""

    def __init__(self, settings: Settings) -> None:
        self._carrier_name = settings.carrier_name
        self._tracking_url_template = settings.tracking_url_template
        self._settings = settings

    @property
    def name(self) -> str:
        return self._carrier_name

    def buy_label(self, request: LabelRequest) -> PurchasedLabel:
        label = create_label(self._settings, request.shipment_id, request.ship_to.country, request.weight_grams,
                             request.currency, request.ship_from.country, request.origin_zone)
        return PurchasedLabel(label=label, document=label_document(label, request))

    def tracking(self, tracking_number: str) -> Tracking:
        return Tracking(url=self._tracking_url_template.format(tracking_number=tracking_number), status=None)

    def book_pickup(self, request: PickupRequest) -> PickupBooked:
        digest = hashlib.sha256(f"pickup:{request.shipment_id}".encode()).digest()
        ready = datetime.fromisoformat(request.ready_at.replace("Z", "+00:00")).astimezone(UTC)
        day = (ready + timedelta(days=1)).date()
        return PickupBooked(confirmation="PU" + base64.b32encode(digest).decode()[:10],
                            window_start=f"{day.isoformat()}T09:00:00Z", window_end=f"{day.isoformat()}T17:00:00Z")


CarrierFactory = Callable[[Settings], Carrier]
# adapters by CARRIER name; a real carrier's module adds itself here (README "Carriers and labels")
CARRIERS: dict[str, CarrierFactory] = {"local": LocalCarrier}


def carrier_for(settings: Settings) -> Carrier:
    """The configured carrier (CARRIER), built for these settings."""
    factory = CARRIERS.get(settings.carrier)
    if factory is None:
        raise ConfigurationError(f"CARRIER={settings.carrier!r} names no carrier adapter "
                                 f"(known: {', '.join(sorted(CARRIERS))})")
    return factory(settings)
