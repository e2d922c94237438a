"""Money as integer minor units plus an ISO 4217 currency. Never floats.

Rounding is explicit: percentages are in basis points and rounded half-up on the minor unit, once per
total (not per line), so totals are reproducible and independent of line order.

:func:`format_money` is the one place that turns minor units into text (e-mails, the daily report, its
subject line); :func:`parse_money` reads that text back.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]


class CurrencyMismatch(ValueError):
    pass


class Money(BaseModel):
    # built when first validated (issue 17): every function imports it with shop.models, not all validate one
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    amount: StrictInt = Field(description="integer amount in the currency's minor unit (cents)")
    currency: Currency

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=0, currency=currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def times(self, quantity: int) -> Money:
        return Money(amount=self.amount * quantity, currency=self.currency)

    def percent_bps(self, bps: int) -> Money:
        """This amount times bps/10000, rounded half-up (half away from zero)."""
        return Money(amount=round_half_up(self.amount * bps, 10_000), currency=self.currency)

    def min(self, other: Money) -> Money:
        self._same(other)
        return self if self.amount <= other.amount else other

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator/denominator rounded to the nearest integer, halves away from zero; exact integer math."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return sign * q


def sum_money(values: list[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for v in values:
        total = total + v
    return total


# ISO 4217 minor-unit digits ("exponent") of the currencies whose minor unit is not 1/100; every other code
# (EUR, USD, GBP, ...) has 2. From the ISO 4217 list one (current currencies and funds).
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
# compiled on first use (re's cache), not at import: only parse_money reads it, on no function's path (issue 17)
_FORMATTED = r"^(?P<currency>\S+) (?P<sign>-?)(?P<major>[0-9]+)(?:\.(?P<minor>[0-9]+))?$"


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point in ``currency`` (ISO 4217): 2 unless listed in ``_EXPONENTS``."""
    return _EXPONENTS.get(currency.upper(), 2)


def format_money(amount_minor: int, currency: str) -> str:
    """Integer minor units as text: "EUR 600.83", "EUR -123.45", "EUR -0.05", "JPY 1234", "KWD 1.234".

    The convention, everywhere the shop shows money (e-mails, the daily report and its subject): the ISO code,
    one space, a minus sign for negative amounts, the major units without grouping, then a point and exactly
    ``currency_exponent(currency)`` minor digits (none for JPY). Exact integer arithmetic on the absolute
    value, so negative amounts are not floored (-12345 is "EUR -123.45", not "EUR -124.55"). Locale-neutral
    on purpose: the same text in every e-mail, CSV and log, and :func:`parse_money` reads it back.

    Babel's ``format_currency`` would give localised text ("-123,45 €"), but it ships ~30 MB of CLDR locale
    data that would have to go into the deps layer, which the cold-start budget (layer size) does not allow.
    """
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError(f"amount_minor must be an int (minor units), got {type(amount_minor).__name__}")
    if not currency or any(c.isspace() for c in currency):
        raise ValueError(f"not a currency code: {currency!r}")
    exponent = currency_exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    if exponent == 0:
        return f"{currency} {sign}{abs(amount_minor)}"
    major, minor = divmod(abs(amount_minor), 10**exponent)
    return f"{currency} {sign}{major}.{minor:0{exponent}d}"


def parse_money(text: str) -> tuple[int, str]:
    """The (amount in minor units, currency) that :func:`format_money` turned into ``text``; strict: the
    number of minor digits must be the currency's exponent, so "EUR 1.5" or "JPY 12.00" are refused."""
    m = re.match(_FORMATTED, text)
    if m is None:
        raise ValueError(f"not formatted money: {text!r}")
    currency, minor = m["currency"], m["minor"] or ""
    exponent = currency_exponent(currency)
    if len(minor) != exponent:
        raise ValueError(f"{currency} has {exponent} minor digits: {text!r}")
    amount = int(m["major"]) * 10**exponent + (int(minor) if minor else 0)
    return (-amount if m["sign"] else amount), currency
