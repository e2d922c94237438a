import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from shop.money import CurrencyMismatch, Money, round_half_up, sum_money

pytestmark = pytest.mark.unit


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def test_arithmetic_keeps_currency_and_integers():
    assert eur(1999) + eur(1) == eur(2000)
    assert eur(500) - eur(750) == eur(-250)
    assert eur(1999).times(3) == eur(5997)
    assert sum_money([eur(1), eur(2), eur(3)], "EUR") == eur(6)


def test_mixing_currencies_is_refused():
    with pytest.raises(CurrencyMismatch):
        _ = eur(1) + Money(amount=1, currency="USD")


@pytest.mark.parametrize("bad", [{"amount": 1.5, "currency": "EUR"}, {"amount": "10", "currency": "EUR"},
                                 {"amount": 10, "currency": "eur"}, {"amount": 10, "currency": "EURO"}])
def test_floats_strings_and_bad_currencies_are_rejected(bad):
    with pytest.raises(ValidationError):
        Money.model_validate(bad)


@pytest.mark.parametrize(("amount", "bps", "expected"), [
    (1000, 1900, 190), (1, 5000, 1), (3, 5000, 2), (2, 2500, 1), (1, 4999, 0), (-3, 5000, -2), (0, 1900, 0),
])
def test_percent_rounds_half_up_once(amount, bps, expected):
    assert eur(amount).percent_bps(bps).amount == expected


@given(st.integers(min_value=-10**12, max_value=10**12), st.integers(min_value=1, max_value=10**6))
def test_round_half_up_is_within_half_of_exact(n, d):
    q = round_half_up(n, d)
    assert abs(q * d - n) * 2 <= d
    # symmetric: rounding is away from zero on exact halves
    assert round_half_up(-n, d) == -q
