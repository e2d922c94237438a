"""shop.pricing.compute_totals: subtotal, capped discount, shipping by zone and started kilogram, tax by region."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shop.config import Settings
from shop.errors import ConfigurationError, InvalidInput
from shop.money import Money
from shop.pricing import AppliedDiscount, Destination, PricedLine, compute_totals, started_kilograms

pytestmark = pytest.mark.unit

SETTINGS = Settings.model_validate({
    "SHOP_CURRENCY": "EUR",
    "TAX_RATES_BPS": '{"DE": 1900, "US": 0, "US-CA": 725, "XX": 1000}',
    "SHIPPING_ZONES": '{"DE": "domestic", "US": "world", "XX": "domestic", "ZZ": "domestic"}',
    "SHIPPING_RATES": '{"domestic": {"base": 490, "per_kg": 100}, "world": {"base": 2490, "per_kg": 600}}',
    "TAX_SHIPPING": "true",
})


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def line(price: int, qty: int = 1, grams: int = 100, sku: str = "SKU-1") -> PricedLine:
    return PricedLine(sku=sku, quantity=qty, unit_price=eur(price), weight_grams=grams)


def amounts(lines: list[PricedLine], dest: Destination, settings: Settings = SETTINGS,
            discounts: tuple[AppliedDiscount, ...] = ()) -> dict[str, int]:
    totals = compute_totals(lines, dest, settings, discounts=discounts).totals
    return {k: v["amount"] for k, v in totals.model_dump().items()}


def test_tax_by_country_on_goods_and_shipping() -> None:
    # 2 x 10.00 + 1 x 5.00, 3 x 100 g -> 1 started kg: shipping 4.90 + 1.00
    got = amounts([line(1000, 2), line(500, 1, sku="SKU-2")], Destination("DE"))
    assert got == {"subtotal": 2500, "discount": 0, "shipping": 590, "tax": 587, "total": 3677}
    # (2500 + 590) * 19% = 587.1 -> 587


def test_tax_by_region_falls_back_to_country() -> None:
    lines = [line(10_000, 1, 2500)]  # 3 started kg: 24.90 + 3 x 6.00 = 42.90
    ca = amounts(lines, Destination("US", "CA"))
    assert ca["shipping"] == 4290
    assert ca["tax"] == 1036  # (10000 + 4290) * 7.25% = 1036.025
    assert ca["total"] == 10_000 + 4290 + 1036
    assert amounts(lines, Destination("US", "TX"))["tax"] == 0
    assert amounts(lines, Destination("US"))["tax"] == 0


def test_shipping_not_taxed_when_configured() -> None:
    settings = SETTINGS.model_copy(update={"tax_shipping": False})
    assert amounts([line(1000)], Destination("DE"), settings)["tax"] == 190


@pytest.mark.parametrize(("grams", "kilos"), [(0, 0), (1, 1), (999, 1), (1000, 1), (1001, 2), (2999, 3),
                                              (3000, 3)])
def test_started_kilograms(grams: int, kilos: int) -> None:
    assert started_kilograms(grams) == kilos


def test_shipping_uses_total_weight_in_started_kilograms() -> None:
    # 3 x 400 g = 1.2 kg -> 2 started kg (not 3 x 1 kg per line)
    assert amounts([line(100, 3, 400)], Destination("DE"))["shipping"] == 490 + 2 * 100
    assert amounts([line(100, 1, 1000)], Destination("DE"))["shipping"] == 490 + 100


def test_empty_cart_costs_nothing() -> None:
    assert amounts([], Destination("US", "CA")) == dict.fromkeys(
        ("subtotal", "discount", "shipping", "tax", "total"), 0)


def test_tax_rounds_half_up_once_on_the_total() -> None:
    settings = SETTINGS.model_copy(update={"tax_shipping": False})
    # 10% of 5 -> 0.5 -> 1 (half-up); per-line rounding of two 0.5s would give 2 instead of 1
    lines = [line(2, grams=1), line(3, grams=1, sku="SKU-2")]
    assert amounts(lines, Destination("XX"), settings)["tax"] == 1
    # 10% of 14 = 1.4 -> 1; 10% of 15 = 1.5 -> 2
    assert amounts([line(14, grams=1)], Destination("XX"), settings)["tax"] == 1
    assert amounts([line(15, grams=1)], Destination("XX"), settings)["tax"] == 2
    # per unit 0.4 + 0.4 + 0.4 would round to 0 each; once on 1.2 -> 1
    assert amounts([line(4, 3, grams=1)], Destination("XX"), settings)["tax"] == 1


def test_discount_is_capped_at_subtotal() -> None:
    big = (AppliedDiscount("BIG", "more than everything", eur(5000)),)
    got = amounts([line(1000)], Destination("DE"), discounts=big)
    assert got["discount"] == 1000
    assert got["subtotal"] - got["discount"] == 0
    assert got["tax"] == 112  # only shipping (590) stays taxable: 112.1 -> 112
    assert got["total"] == 590 + 112


def test_discount_reduces_taxable_amount() -> None:
    d = (AppliedDiscount("TEN", "ten off", eur(1000)), AppliedDiscount("TWO", "two off", eur(200)))
    got = amounts([line(5000)], Destination("DE"), discounts=d)
    assert got["discount"] == 1200
    assert got["tax"] == 834  # (5000 - 1200 + 590) * 19% = 834.1 -> 834
    assert got["total"] == 5000 - 1200 + 590 + 834


def test_unshippable_country_is_invalid_input_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as exc:
        compute_totals([line(100)], Destination("JP"), SETTINGS, country_field="query.country")
    assert exc.value.field == "query.country"
    assert "JP" in exc.value.message


def test_shippable_country_without_tax_rate_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        compute_totals([line(100)], Destination("ZZ"), SETTINGS)


def test_rejects_non_positive_quantity_and_negative_discount() -> None:
    with pytest.raises(ValueError, match="quantity"):
        compute_totals([line(100, 0)], Destination("DE"), SETTINGS)
    with pytest.raises(ValueError, match="negative"):
        compute_totals([line(100)], Destination("DE"), SETTINGS,
                       discounts=(AppliedDiscount("NEG", "x", eur(-1)),))


def test_breakdown_reports_rate_zone_and_weight() -> None:
    b = compute_totals([line(100, 2, 700)], Destination("US", "CA"), SETTINGS)
    assert (b.tax_rate_bps, b.shipping_zone, b.weight_grams) == (725, "world", 1400)


lines_strategy = st.lists(
    st.builds(PricedLine, sku=st.just("SKU-1"), quantity=st.integers(1, 100),
              unit_price=st.integers(0, 10**7).map(eur), weight_grams=st.integers(1, 50_000)),
    max_size=12,
)
destinations = st.sampled_from([Destination("DE"), Destination("US"), Destination("US", "CA"),
                                Destination("US", "NY"), Destination("XX")])
discount_strategy = st.lists(st.integers(0, 10**8).map(lambda a: AppliedDiscount("D", "d", eur(a))), max_size=3)


@given(lines_strategy, destinations, discount_strategy, st.booleans())
def test_total_is_sum_of_parts_and_never_negative(lines: list[PricedLine], dest: Destination,
                                                  discounts: list[AppliedDiscount], tax_shipping: bool) -> None:
    settings = SETTINGS.model_copy(update={"tax_shipping": tax_shipping})
    t = compute_totals(lines, dest, settings, discounts=discounts).totals
    assert t.total.amount == t.subtotal.amount - t.discount.amount + t.shipping.amount + t.tax.amount
    for part in (t.subtotal, t.discount, t.shipping, t.tax, t.total):
        assert part.amount >= 0 and part.currency == "EUR"
    assert t.discount.amount <= t.subtotal.amount
    assert t.subtotal.amount == sum(ln.unit_price.amount * ln.quantity for ln in lines)
    # order of lines never changes the result
    assert compute_totals(list(reversed(lines)), dest, settings, discounts=discounts).totals == t
