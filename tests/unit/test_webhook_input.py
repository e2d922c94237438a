"""Pure input rules of the signed webhooks and of every JSON body (issue 12 rows 4, 7, 10)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from shop.api import parse_json
from shop.errors import InvalidInput
from shop.orderflow.webhooks import MAX_CLOCK_SKEW, event_time, handle_stripe

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-12-01T10:00:00", "2026-12-01", "not-a-date", "2999-01-01T10:00:00Z",
                                  "2026-12-01T12:05:01Z", "2026-12-01T13:05:01+01:00", "0001-01-01T00:00:00+01:00",
                                  "1999-12-31T23:59:59Z", "", "2026-13-01T10:00:00Z"])
def test_an_event_time_without_a_zone_not_a_date_or_in_the_future_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        event_time(text, NOW)
    assert err.value.field == "occurred_at"


def test_an_event_time_within_the_clock_skew_is_accepted_and_stored_in_utc() -> None:
    assert MAX_CLOCK_SKEW.total_seconds() == 300
    assert event_time("2026-12-01T12:05:00Z", NOW) == "2026-12-01T12:05:00Z"
    assert event_time("2026-12-01T13:04:59.123+01:00", NOW) == "2026-12-01T12:04:59Z"
    assert event_time("2026-11-30T08:00:00-05:00", NOW) == "2026-11-30T13:00:00Z"


@pytest.mark.parametrize("body", ['{"n": %s}' % ("1" * 4301), "[" * 100_000, '{"a": 1', b'{"n": -%s}' % (b"9" * 5000)])
def test_every_unreadable_body_is_a_json_decode_error(body: str | bytes) -> None:
    with pytest.raises(json.JSONDecodeError):
        parse_json(body)
    assert parse_json('{"n": %s}' % ("1" * 4300)) == {"n": int("1" * 4300)}


SHAPES: list[Any] = ["pi_1", ["x"], None, 5, {"object": ["pi"]}, {"object": "pi_1"}, {"object": None},
                     {"object": {"id": "pi_1", "metadata": "order_id=o1"}},
                     {"object": {"id": "pi_1", "metadata": ["o1"]}},
                     {"object": {"id": "pi_1", "metadata": {"order_id": {"a": 1}}}},
                     {"object": {"id": ["pi_1"], "metadata": {"order_id": "o1"}}},
                     {"object": {"id": 7, "metadata": {"order_id": 8}}}]


@pytest.mark.parametrize("data", SHAPES)
def test_a_stripe_intent_event_of_another_shape_is_ignored(data: Any) -> None:
    out = handle_stripe({"id": "evt_1", "type": "payment_intent.succeeded", "data": data})
    assert out["handled"] is False


@pytest.mark.parametrize("event", [{"id": ["evt"], "type": "payment_intent.succeeded"}, {"id": 5},
                                   {"type": "payment_intent.succeeded"}, {"id": "evt_1", "type": {"t": 1}},
                                   {"id": "evt_1", "type": None}])
def test_a_stripe_event_without_a_string_id_and_type_is_422(event: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as err:
        handle_stripe(event)
    assert err.value.field in ("id", "type")
