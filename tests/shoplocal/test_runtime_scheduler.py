"""The local scheduler's bookkeeping without moto: what is scheduled, what is refused (and logged)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from shoplocal.deploy import ScheduledRule
from shoplocal.scheduler import Scheduler, scheduled_event

pytestmark = pytest.mark.unit


def _stack(*expressions: str) -> SimpleNamespace:
    rules = [ScheduledRule(f"Rule{i}", f"rule-{i}", expr, []) for i, expr in enumerate(expressions)]
    return SimpleNamespace(deployment=SimpleNamespace(schedules=rules))


def test_supported_schedules_get_a_next_run_and_unsupported_ones_are_logged_not_fired(caplog):
    scheduler = Scheduler(_stack("rate(5 minutes)", "cron(0 6 * * ? *)", "cron(0 12 L * ? *)", "cron(0 6 * *)",
                                 "at(2026-01-01T00:00:00)"), tick_seconds=60)
    before = datetime.now(UTC)
    with caplog.at_level(logging.WARNING, logger="shoplocal.scheduler"):
        scheduler.start()
    scheduler.stop()
    assert set(scheduler.next_run) == {"Rule0", "Rule1"}
    assert before + timedelta(minutes=5) <= scheduler.next_run["Rule0"] <= datetime.now(UTC) + timedelta(minutes=5)
    assert scheduler.next_run["Rule1"].hour == 6 and scheduler.next_run["Rule1"].minute == 0
    logged = caplog.text
    assert "cron(0 12 L * ? *)" in logged and "cron(0 6 * *)" in logged and "at(2026-01-01T00:00:00)" in logged


def test_scheduled_event_has_eventbridge_shape():
    when = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    event = scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r", when)
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-11-24T06:00:00Z"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/r"]
    assert event["detail"] == {}
