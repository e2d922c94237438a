"""Order totals (pure): subtotal, discounts, shipping by weight and zone, tax by region.

Rules (all amounts integer minor units of one currency):
- subtotal = sum(unit price x quantity)
- discount = sum of the applied discounts, capped at the subtotal. No promotions exist yet: callers pass
  ``discounts=()``; a promotions engine (later issue) plugs in by producing :class:`AppliedDiscount` items.
- shipping = zone base + per_kg x started kilograms of the total weight, for the destination country's zone
  (settings.shipping_zones -> settings.shipping_rates); nothing to ship -> 0. Unknown country -> InvalidInput.
- tax = rate in basis points (settings.tax_rates_bps, key "CC-REGION" first, then "CC") on
  (subtotal - discount + shipping when settings.tax_shipping), rounded half-up once on the total.
- total = subtotal - discount + shipping + tax.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shop.config import Settings
from shop.errors import ConfigurationError, InvalidInput
from shop.models import Totals
from shop.money import Money, round_half_up

GRAMS_PER_KG = 1000


@dataclass(frozen=True)
class PricedLine:
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
    country: str
    region: str | None = None


@dataclass(frozen=True)
class PriceBreakdown:
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
                   country_field: str = "country") -> PriceBreakdown:
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
    shipping = shipping_cost(settings, zone, weight, cur)
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
