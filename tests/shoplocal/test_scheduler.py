from datetime import UTC, datetime, timedelta

import pytest

from shoplocal.scheduler import Cron, parse_rate

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("expr", "delta"), [
    ("rate(5 minutes)", timedelta(minutes=5)), ("rate(1 minute)", timedelta(minutes=1)),
    ("rate(2 hours)", timedelta(hours=2)), ("rate(1 day)", timedelta(days=1)), ("cron(0 6 * * ? *)", None),
])
def test_rate(expr, delta):
    assert parse_rate(expr) == delta


def test_daily_cron_fires_at_the_given_utc_time():
    cron = Cron.parse("cron(30 6 * * ? *)")
    assert cron is not None
    assert cron.next_after(datetime(2026, 11, 24, 7, 0, tzinfo=UTC)) == datetime(2026, 11, 25, 6, 30, tzinfo=UTC)
    assert cron.next_after(datetime(2026, 11, 24, 6, 0, tzinfo=UTC)) == datetime(2026, 11, 24, 6, 30, tzinfo=UTC)


def test_weekday_names_and_steps():
    cron = Cron.parse("cron(0/15 8-9 ? * MON-FRI *)")
    assert cron is not None
    # 2026-11-28 is a Saturday: the next match is Monday 08:00
    assert cron.next_after(datetime(2026, 11, 27, 9, 50, tzinfo=UTC)) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert cron.next_after(datetime(2026, 11, 30, 8, 0, tzinfo=UTC)) == datetime(2026, 11, 30, 8, 15, tzinfo=UTC)


def test_bad_cron_is_refused():
    with pytest.raises(ValueError, match="6 fields"):
        Cron.parse("cron(0 6 * *)")
