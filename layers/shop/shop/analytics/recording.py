"""The Analytics consumer's path: each domain event becomes one fact of the day it happened on, once
(shop.analytics.facts). Apart from the report's service so the consumer's cold start loads only what recording
needs (none of the report's procurement, mailing and rendering modules)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from shop.analytics import facts
from shop.analytics import repository as repo
from shop.config import get_settings


def tz() -> ZoneInfo:
    """The report's time zone: the day a fact counts on and the day the report covers."""
    return ZoneInfo(get_settings().report_time_zone)


def record_event(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    fact = facts.fact_for(detail_type, detail, tz())
    if fact is None:
        return {"recorded": False, "reason": f"{detail_type} is not used by the reports"}
    new = repo.record(fact)
    return {"recorded": new, "day": fact.day.isoformat(), "fact": fact.sk, **({} if new else {"duplicate": True})}
