"""Analytics consumer (EventBridge, order and inventory events): each event becomes one fact of the day it
happened on, once, with the day's totals and the bought-together counts (shop.analytics.facts)."""

from __future__ import annotations

from typing import Any

from shop.analytics import recording
from shop.analytics.facts import RECORDED
from shop.analytics.models import parse_event
from shop.event_contracts import consumer_view, define
from shop.observability import observability

define(RECORDED)  # the models of the types the reports record, defined at import (the other types' never)

obs = observability("analytics", needs=("analytics_table", "report_time_zone"))


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parsed = parse_event(event)
    detail = consumer_view(parsed.detail)
    obs.logger.append_keys(detail_type=parsed.detail_type, order_id=detail.get("order_id"))
    result = recording.record_event(parsed.detail_type, detail)
    obs.count("FactRecorded" if result["recorded"] else "FactSkipped")
    return result


handler = obs.entrypoint(_handle)
