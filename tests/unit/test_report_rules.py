"""Pure parts of the daily report: day boundaries in the shop's time zone, the p90, facts of each event,
the local scheduler's time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from shop.analytics import facts, report

from shoplocal.scheduler import Scheduler

pytestmark = pytest.mark.unit
BERLIN = ZoneInfo("Europe/Berlin")


def test_a_fact_belongs_to_the_day_of_the_shop_time_zone():
    # 23:30 UTC on 9 March is 00:30 on 10 March in Berlin
    assert facts.local_day("2026-03-09T23:30:00Z", BERLIN) == date(2026, 3, 10)
    assert facts.local_day("2026-03-09T22:59:59Z", BERLIN) == date(2026, 3, 9)
    assert facts.local_day("2026-07-09T22:30:00Z", BERLIN) == date(2026, 7, 10)  # summer time: UTC+2


def test_p90_is_the_nearest_rank():
    assert report.p90([]) is None
    assert report.p90([5.0]) == 5.0
    assert report.p90([float(v) for v in range(1, 11)]) == 9.0
    assert report.p90([float(v) for v in range(1, 12)]) == 10.0  # rank ceil(9.9) = 10
    assert report.p90([3.0, 1.0, 2.0]) == 3.0


def test_each_event_becomes_one_fact_and_unused_ones_none():
    paid = facts.fact_for("OrderPaid", {
        "order_id": "ord_x", "occurred_at": "2026-03-10T10:00:00Z", "paid_at": "2026-03-10T10:00:00Z",
        "totals": {"total": {"amount": 5000, "currency": "EUR"}},
        "lines": [{"sku": "A-1", "product_id": "a", "quantity": 2, "unit_price": {"amount": 1000, "currency": "EUR"}},
                  {"sku": "B-1", "product_id": "b", "quantity": 1, "unit_price": {"amount": 3000, "currency": "EUR"}}]},
        BERLIN)
    assert paid is not None and paid.sk == "PAID#ord_x" and paid.day == date(2026, 3, 10)
    assert paid.totals == {"orders_paid": 1, "revenue": 5000, "units": 3}
    assert set(paid.pairs) == {("a", "b"), ("b", "a")}
    assert facts.fact_for("WarehouseTaskOpened", {"order_id": "ord_x"}, BERLIN) is None
    low = facts.fact_for("StockLow", {"sku": "A-1", "warehouse_id": "w", "available": 0, "reorder_point": 2,
                                      "occurred_at": "2026-03-10T10:00:00Z"}, BERLIN)
    assert low is not None and low.totals == {} and low.sk == "LOW#A-1#w"  # a snapshot: overwritten, not counted


def test_money_in_the_report_is_formatted_from_minor_units():
    assert report._fmt({"amount": 123456, "currency": "EUR"}) == "EUR 1234.56"
    assert report._fmt({"amount": -5, "currency": "EUR"}) == "EUR -0.05"


def test_the_local_scheduler_reads_a_cron_in_its_schedule_time_zone():
    s = Scheduler.__new__(Scheduler)
    winter = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert s._next("cron(30 6 * * ? *)", winter, "Europe/Berlin") == datetime(2026, 1, 16, 5, 30, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
    assert s._next("cron(30 6 * * ? *)", summer, "Europe/Berlin") == datetime(2026, 7, 16, 4, 30, tzinfo=UTC)
    assert s._next("cron(30 6 * * ? *)", winter) == datetime(2026, 1, 16, 6, 30, tzinfo=UTC)
