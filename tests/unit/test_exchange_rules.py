"""The rules of an exchange that need no stack (shop.returns.exchanges): what the swap costs or gives back (the
unit price difference plus tax, the line's discount kept, a refund never above what the units paid, an equal
price moving nothing), when an inspection lets it go ahead, and the request's own validation."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from shop.errors import InvalidInput
from shop.models import Allocation
from shop.money import Money
from shop.orders.models import Order, OrderLine
from shop.returns.exchanges import accepted, price_difference, request_exchange
from shop.returns.models import ExchangeIn

pytestmark = pytest.mark.unit


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def _line(unit: int, quantity: int = 2, discount: int | None = None) -> OrderLine:
    return OrderLine(sku="V60-02-WHITE", product_id="v60", name="white", quantity=quantity, unit_price=eur(unit),
                     weight_grams=400, allocations=[Allocation(warehouse_id="berlin", quantity=quantity)],
                     discount=eur(discount) if discount is not None else None)


def _order(tax_bps: int | None = 1900) -> Order:
    return Order.model_construct(tax_rate_bps=tax_bps)


@pytest.mark.parametrize(("unit", "replacement", "quantity", "tax", "expected"), [
    (2490, 2490, 1, 1900, 0),  # the same price: no money moves
    (2490, 5990, 1, 1900, 3500 + 665),  # dearer: the difference plus 19 % tax on it, charged
    (2490, 5990, 2, 1900, 7000 + 1330),
    (5990, 2490, 1, 1900, -(3500 + 665)),  # cheaper: refunded, tax included
    (1000, 1001, 1, 1900, 1),  # 0.19 of a cent of tax rounds to nothing
    (1000, 1003, 1, 1900, 4),  # 0.57 rounds half up
    (1000, 997, 1, 1900, -4),  # and half away from zero when refunded
    (2490, 5990, 1, None, 3500),  # an order without tax
])
def test_the_difference_is_the_unit_price_difference_plus_tax(unit: int, replacement: int, quantity: int,
                                                              tax: int | None, expected: int) -> None:
    diff = price_difference(_order(tax), _line(unit, quantity), eur(replacement), quantity)
    assert diff == eur(expected) and isinstance(diff.amount, int)


def test_the_line_discount_stays_with_the_shopper_and_a_refund_never_exceeds_what_the_units_paid() -> None:
    # 2 units at 10.00 with 18.00 of discount: they paid 2.00 (plus tax); a same-price swap moves nothing
    assert price_difference(_order(0), _line(1000, 2, discount=1800), eur(1000), 2) == eur(0)
    # a replacement at 1.00 a unit would give back 18.00: capped at the 2.00 the units paid
    assert price_difference(_order(0), _line(1000, 2, discount=1800), eur(100), 2) == eur(-200)
    assert price_difference(_order(1000), _line(1000, 2, discount=1800), eur(100), 2) == eur(-220)


def test_a_replacement_in_another_currency_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as err:
        price_difference(_order(), _line(2490), Money(amount=2490, currency="USD"), 1)
    assert err.value.field == "replacement_sku"


@pytest.mark.parametrize(("inspection", "goes_ahead"), [
    ([{"sku": "A", "sellable": 2, "damaged": 0}], True),
    ([{"sku": "A", "sellable": 1, "damaged": 1}], True),  # no decision: damaged units count in full
    ([{"sku": "A", "sellable": 0, "damaged": 1, "damaged_refund": {"decision": "full", "reason": "transit"}}], True),
    ([{"sku": "A", "sellable": 1, "damaged": 1, "damaged_refund": {"decision": "none", "reason": "worn"}}], False),
    ([{"sku": "A", "sellable": 0, "damaged": 1,
       "damaged_refund": {"decision": "partial", "reason": "scratched", "amount": {"amount": 5, "currency": "EUR"}}}],
     False),
])
def test_an_inspection_refuses_the_exchange_only_when_staff_cut_what_damaged_units_give_back(
        inspection: list[dict[str, Any]], goes_ahead: bool) -> None:
    assert accepted(inspection) is goes_ahead


@pytest.mark.parametrize("bad", [
    {"sku": "A-1", "quantity": 0, "replacement_sku": "A-2"},
    {"sku": "A-1", "quantity": "1", "replacement_sku": "A-2"},  # strict: a number
    {"sku": "A-1", "quantity": 1},  # which replacement
    {"sku": "A-1", "quantity": 1, "replacement_sku": "a 2"},
    {"sku": "A-1", "quantity": 1, "replacement_sku": "A-2", "reason": "bored"},
    {"sku": "A-1", "quantity": 1, "replacement_sku": "A-2", "colour": "red"},
])
def test_a_malformed_exchange_request_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ExchangeIn.model_validate(bad)


def test_exchanging_a_sku_for_itself_is_refused_before_anything_is_read() -> None:
    body = ExchangeIn.model_validate({"sku": "A-1", "quantity": 1, "replacement_sku": "A-1"})
    with pytest.raises(InvalidInput) as err:
        request_exchange("ord_sampleorderaaaaaaaaaaaaaaa", "c1", body)
    assert err.value.field == "replacement_sku"
