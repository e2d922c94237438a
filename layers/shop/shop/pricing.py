"""Order totals (pure): subtotal, discounts, shipping by weight and zone, tax by region.

Rules (all amounts integer minor units of one currency):
- subtotal = sum(unit price x quantity)
- discount = sum of the applied discounts, capped at the subtotal. No promotions exist yet: callers pass
  ``discounts=()``; a promotions engine (later issue) plugs in by producing :class:`AppliedDiscount` items.
- shipping = the sum over the order's parcels (the shipment plan: one parcel per warehouse the allocation
  ships from, :func:`parcels_of`) of zone base + per_kg x started kilograms of the parcel's
  weight, for the parcel's route zone (:func:`route_zone`: origin warehouse country -> destination country).
  This is exactly what the parcels' labels will cost (shop.fulfillment.carrier). Without a plan (``parcels``
  None: no stock to plan from) the whole weight is one parcel priced by the destination's zone alone.
  Nothing to ship -> 0. Unknown country -> InvalidInput.
- tax = rate in basis points (settings.tax_rates_bps, key "CC-REGION" first, then "CC") on
  (subtotal - discount + shipping when settings.tax_shipping), rounded half-up once on the total.
- total = subtotal - discount + shipping + tax.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shop.config import Settings
from shop.errors import ConfigurationError, InvalidInput
from shop.models import Allocation, Totals, Warehouse
from shop.money import Money, round_half_up

GRAMS_PER_KG = 1000


@dataclass(frozen=True)
class PricedLine:
    """One line to price: a SKU, its quantity, unit price and unit weight."""

    sku: str
    quantity: int
    unit_price: Money
    weight_grams: int

    @property
    def line_total(self) -> Money:
        return self.unit_price.times(self.quantity)


@dataclass(frozen=True)
class AppliedDiscount:
    """Extension point for promotions: a code/description and the (non-negative) amount it takes off."""

    code: str
    description: str
    amount: Money


@dataclass(frozen=True)
class Destination:
    """Where the order ships to: its country and, where tax depends on it, its region."""

    country: str
    region: str | None = None


@dataclass(frozen=True)
class Parcel:
    """One parcel of the shipment plan: where it ships from and what its items weigh."""

    origin_country: str
    origin_zone: str  # the warehouse's own zone: used when its country is not in the zone table
    weight_grams: int


@dataclass(frozen=True)
class PriceBreakdown:
    """The priced order: its totals, the discounts applied, and the tax rate, zone and weight used."""

    totals: Totals
    discounts: tuple[AppliedDiscount, ...]
    tax_rate_bps: int
    shipping_zone: str
    weight_grams: int


def shipping_zone(settings: Settings, country: str, field: str) -> str:
    zone = settings.shipping_zones.get(country)
    if zone is None:
        shippable = ", ".join(sorted(settings.shipping_zones))
        raise InvalidInput(field, f"we do not ship to {country} (shippable countries: {shippable})")
    if zone not in settings.shipping_rates:
        raise ConfigurationError(f"shipping zone {zone} has no rate")
    return zone


def _rank(settings: Settings, zone: str) -> tuple[int, int, str]:
    rate = settings.shipping_rates[zone]
    return rate.base, rate.per_kg, zone


def route_zone(settings: Settings, origin_country: str, origin_zone: str | None, destination_country: str,
               field: str) -> str:
    """The shipping zone of a parcel going from ``origin_country`` to ``destination_country``.

    The zone table (settings.shipping_zones) names each country's zone as seen from the shop's home; a
    parcel's route takes the dearer of its two ends' zones (zones ranked by their rate: base, then per kg),
    and a parcel that stays within one country is priced at the cheapest zone ("domestic"). So DE -> DE is
    domestic, FR -> DE and DE -> FR are eu, FR -> GB is europe, FR -> FR is domestic. An origin country not
    in the table counts with the warehouse's own zone."""
    destination_zone = shipping_zone(settings, destination_country, field)
    if origin_country == destination_country:
        return min(settings.shipping_rates, key=lambda z: _rank(settings, z))
    origin = settings.shipping_zones.get(origin_country, origin_zone or destination_zone)
    if origin not in settings.shipping_rates:
        raise ConfigurationError(f"shipping zone {origin} has no rate")
    return max(origin, destination_zone, key=lambda z: _rank(settings, z))


def parcels_of(allocation: Mapping[str, list[Allocation]], weights: Mapping[str, int],
               warehouses: Mapping[str, Warehouse]) -> list[Parcel]:
    """The shipment plan of an allocation (sku -> allocations), as shop.fulfillment.split.plan_shipments will
    split it: one parcel per warehouse, weighing its items (``weights``: grams per unit of each SKU). Checkout
    and the cart price shipping on these parcels, the labels are bought for the same ones. Here, below every
    context, so that pricing a cart needs no fulfillment code."""
    grams: dict[str, int] = {}
    for sku in sorted(allocation):
        for alloc in allocation[sku]:
            grams[alloc.warehouse_id] = grams.get(alloc.warehouse_id, 0) + weights[sku] * alloc.quantity
    return [Parcel(origin_country=warehouses[wid].country, origin_zone=warehouses[wid].zone, weight_grams=g)
            for wid, g in grams.items()]


def plan_shipping(settings: Settings, parcels: Sequence[Parcel], destination_country: str, currency: str,
                  field: str = "country") -> Money:
    """What the planned parcels' labels cost together (each by its weight and route zone)."""
    total = Money.zero(currency)
    for parcel in parcels:
        zone = route_zone(settings, parcel.origin_country, parcel.origin_zone, destination_country, field)
        total = total + shipping_cost(settings, zone, parcel.weight_grams, currency)
    return total


def started_kilograms(weight_grams: int) -> int:
    return -(-weight_grams // GRAMS_PER_KG) if weight_grams > 0 else 0


def shipping_cost(settings: Settings, zone: str, weight_grams: int, currency: str) -> Money:
    if weight_grams <= 0:
        return Money.zero(currency)
    rate = settings.shipping_rates[zone]
    return Money(amount=rate.base + rate.per_kg * started_kilograms(weight_grams), currency=currency)


def tax_rate_bps(settings: Settings, destination: Destination) -> int:
    if destination.region:
        regional = settings.tax_rates_bps.get(f"{destination.country}-{destination.region}")
        if regional is not None:
            return regional
    rate = settings.tax_rates_bps.get(destination.country)
    if rate is None:
        raise ConfigurationError(f"no tax rate configured for {destination.country}")
    return rate


def compute_totals(lines: Sequence[PricedLine], destination: Destination, settings: Settings, *,
                   currency: str | None = None, discounts: Iterable[AppliedDiscount] = (),
                   country_field: str = "country", parcels: Sequence[Parcel] | None = None) -> PriceBreakdown:
    """``parcels``: the shipment plan of the lines (see the module docstring); None prices one parcel by the
    destination's zone."""
    cur = currency or settings.currency
    zone = shipping_zone(settings, destination.country, country_field)
    subtotal = Money.zero(cur)
    weight = 0
    for line in lines:
        if line.quantity <= 0:
            raise ValueError(f"line {line.sku}: quantity must be positive")
        subtotal = subtotal + line.line_total
        weight += line.weight_grams * line.quantity
    applied = tuple(discounts)
    discount = Money.zero(cur)
    for d in applied:
        if d.amount.amount < 0:
            raise ValueError(f"discount {d.code} is negative")
        discount = discount + d.amount
    discount = discount.min(subtotal)
    if parcels is None:
        shipping = shipping_cost(settings, zone, weight, cur)
    else:
        planned = sum(p.weight_grams for p in parcels)
        if planned != weight:
            raise ValueError(f"the shipment plan weighs {planned} g, the lines {weight} g")
        shipping = plan_shipping(settings, parcels, destination.country, cur, country_field)
    bps = tax_rate_bps(settings, destination)
    taxable = subtotal.amount - discount.amount + (shipping.amount if settings.tax_shipping else 0)
    tax = Money(amount=round_half_up(taxable * bps, 10_000), currency=cur)
    total = subtotal - discount + shipping + tax
    return PriceBreakdown(
        totals=Totals(subtotal=subtotal, discount=discount, shipping=shipping, tax=tax, total=total),
        discounts=applied, tax_rate_bps=bps, shipping_zone=zone, weight_grams=weight,
    )


def totals_view(b: PriceBreakdown) -> dict[str, object]:
    out: dict[str, object] = b.totals.model_dump()
    out["discounts"] = [{"code": d.code, "description": d.description, "amount": d.amount.model_dump()}
                        for d in b.discounts]
    out["tax_rate_bps"] = b.tax_rate_bps
    out["shipping_zone"] = b.shipping_zone
    out["weight_grams"] = b.weight_grams
    return out
