"""A promotion that cannot apply never breaks pricing (engine rule 4), and times need a zone (shop.timeutil)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel, ValidationError
from shop.errors import InvalidInput
from shop.money import Money
from shop.promotions import engine
from shop.promotions.models import CouponIn, SaleIn
from shop.promotions.repository import coupon_from, sale_from
from shop.timeutil import AwareDatetime, parse_aware, read_utc

pytestmark = pytest.mark.unit
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
START, END = NOW - timedelta(days=1), NOW + timedelta(days=1)


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def sale(sale_id: str, **kw: object) -> engine.Sale:
    terms: dict = {"name": sale_id, "scope": "all", "target": None, "percent_bps": None, "amount_off": None,
                   "starts_at": START, "ends_at": END, **kw}
    return engine.Sale(sale_id=sale_id, **terms)


LINE = engine.Line(sku="SKU-1", category=None, quantity=2, unit_price=eur(1000))


def test_a_sale_in_another_currency_is_skipped_and_noted():
    usd = sale("usd", amount_off=Money(amount=300, currency="USD"))
    ten = sale("ten", percent_bps=1000)
    result = engine.apply([LINE], [usd, ten], None, NOW, "EUR")
    assert result.lines["SKU-1"].sale == eur(200) and result.lines["SKU-1"].sale_id == "ten"
    assert result.notes == ["sale usd skipped: its amount is in USD, the shop sells in EUR"]


def test_a_sale_with_naive_times_is_skipped_not_a_type_error():
    naive = sale("naive", percent_bps=1000, starts_at=START.replace(tzinfo=None))
    result = engine.apply([LINE], [naive], None, NOW, "EUR")
    assert result.lines["SKU-1"].sale == eur(0) and "no time zone" in result.notes[0]


def test_a_coupon_in_another_currency_is_unusable():
    usd = engine.Coupon(code="USD5", percent_bps=None, amount_off=Money(amount=500, currency="USD"),
                        min_subtotal=eur(0), starts_at=START, ends_at=END)
    result = engine.apply([LINE], [], usd, NOW, "EUR")
    assert result.coupon_problem == "unusable" and result.coupon_amount == eur(0)


def test_unreadable_records_become_inert_promotions():
    broken = sale_from({"sk": "s-1", "name": "broken", "percent": 50})  # no scope, no window
    assert broken.problem and not broken.active
    assert engine.apply([LINE], [broken], None, NOW, "EUR").lines["SKU-1"].sale == eur(0)
    coupon = coupon_from({"code": "X1Y", "percent": 10}, "EUR")
    assert coupon.problem and coupon.unusable("EUR")


def test_stored_times_without_a_zone_are_read_as_utc():
    old = sale_from({"sk": "s-2", "name": "old", "scope": "all", "percent": 10,
                     "starts_at": "2026-05-31T00:00:00", "ends_at": "2026-06-02T00:00:00"})
    assert old.problem is None and old.starts_at == datetime(2026, 5, 31, tzinfo=UTC) and old.running(NOW)
    assert read_utc("2026-01-01T01:00:00+01:00") == datetime(2026, 1, 1, tzinfo=UTC)
    assert read_utc(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("model", [SaleIn, CouponIn])
@pytest.mark.parametrize("which", ["starts_at", "ends_at"])
def test_admin_times_need_a_zone_naming_the_field(model, which):
    body = {"percent": 10, "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-02-01T00:00:00Z",
            which: "2026-01-15T00:00:00"}
    if model is SaleIn:
        body.update(name="x", scope="all")
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    errors = caught.value.errors()
    assert [e["loc"] for e in errors] == [(which,)] and "needs a time zone" in errors[0]["msg"]


class _Event(BaseModel):
    at: AwareDatetime


@pytest.mark.parametrize("text", ["2026-12-01T10:00:00", "not-a-date", "12345", "0001-01-01T00:00:00+01:00"])
def test_aware_datetime_refuses_naive_and_garbage(text):
    with pytest.raises(ValidationError):
        _Event.model_validate({"at": text})
    with pytest.raises(ValidationError):
        _Event.model_validate({"at": 1764583200})  # a number is not an ISO date-time
    with pytest.raises(InvalidInput) as caught:
        parse_aware(text, "body.occurred_at")
    assert caught.value.field == "body.occurred_at"


def test_aware_datetime_converts_to_utc():
    assert _Event.model_validate({"at": "2026-12-01T11:00:00+01:00"}).at == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert parse_aware("2026-12-01T10:00:00Z", "f") == datetime(2026, 12, 1, 10, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="needs a time zone"):
        parse_aware("2026-12-01T10:00:00", "f")
