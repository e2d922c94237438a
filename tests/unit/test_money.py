from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from shop.money import (
    CurrencyMismatch,
    Money,
    currency_exponent,
    format_money,
    parse_money,
    round_half_up,
    sum_money,
)

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


# ------------------------------------------------------------------------------------- formatting (issue 13)
@pytest.mark.parametrize(("amount", "currency", "expected"), [
    (60083, "EUR", "EUR 600.83"), (-12345, "EUR", "EUR -123.45"), (-5, "EUR", "EUR -0.05"), (-100, "USD", "USD -1.00"),
    (0, "EUR", "EUR 0.00"), (7, "GBP", "GBP 0.07"), (123456789, "EUR", "EUR 1234567.89"),
    (1234, "JPY", "JPY 1234"), (-1234, "JPY", "JPY -1234"), (0, "JPY", "JPY 0"), (50000, "KRW", "KRW 50000"),
    (1234, "KWD", "KWD 1.234"), (-1234, "KWD", "KWD -1.234"), (5, "BHD", "BHD 0.005"), (-5, "TND", "TND -0.005"),
    (12345, "CLF", "CLF 1.2345"),
])
def test_format_money_uses_the_iso_exponent_and_does_not_floor_negative_amounts(amount, currency, expected):
    assert format_money(amount, currency) == expected
    assert parse_money(expected) == (amount, currency)


def test_a_negative_net_is_not_floored():
    # -12345 // 100 == -124 and -12345 % 100 == 55: the old report subject said "EUR -124.55"
    assert format_money(-12345, "EUR") == "EUR -123.45"


def test_exponents_follow_iso_4217():
    assert [currency_exponent(c) for c in ("EUR", "USD", "JPY", "KRW", "KWD", "BHD", "CLF", "jpy")] == \
        [2, 2, 0, 0, 3, 3, 4, 0]


@pytest.mark.parametrize("bad", [12.5, "1250", True, None])
def test_format_money_takes_integer_minor_units_only(bad):
    with pytest.raises(TypeError):
        format_money(bad, "EUR")


@pytest.mark.parametrize("text", ["EUR 1.5", "EUR 1", "JPY 12.00", "KWD 1.23", "EUR  1.00", "EUR +1.00", "1.00 EUR",
                                  "EUR 1,000.00", "EUR -", "EUR"])
def test_parse_money_refuses_what_format_money_never_writes(text):
    with pytest.raises(ValueError):
        parse_money(text)


CURRENCIES = st.one_of(st.sampled_from(["EUR", "USD", "GBP", "JPY", "KRW", "KWD", "BHD", "TND", "CLF", "CHF"]),
                       st.from_regex(r"\A[A-Z]{3}\Z"))


@given(st.integers(min_value=-10**15, max_value=10**15), CURRENCIES)
def test_formatted_money_reads_back_as_the_same_amount(amount, currency):
    text = format_money(amount, currency)
    assert parse_money(text) == (amount, currency)
    # and independently of parse_money: the number shown is amount / 10**exponent, with exactly exponent decimals
    code, number = text.split(" ")
    exponent = currency_exponent(currency)
    assert code == currency
    assert Decimal(number).scaleb(exponent) == amount
    assert len(number.partition(".")[2]) == exponent
