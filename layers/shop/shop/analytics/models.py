"""Inputs of the analytics and report functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shop.analytics.facts import RECORDED

if TYPE_CHECKING:
    from shop import event_contracts


def parse_event(event: Mapping[str, Any]) -> event_contracts.ShopEvent[event_contracts.EventDetail]:
    """An EventBridge event as delivered to the Analytics function, its detail validated against the shared
    contract (shop.event_contracts) for the types the reports record; pydantic's ValidationError otherwise.
    The contract is imported here: the report function reads ScheduledReport from this module and consumes no
    event (the Analytics function imports the contract with its handler, so its first event pays nothing)."""
    from shop import event_contracts

    return event_contracts.parse_event(event, RECORDED)


class ScheduledReport(BaseModel):
    """What the schedule sends: the report to run and, optionally, the day (default: yesterday)."""

    # built on the first schedule (issue 17): the Analytics function imports this module and never validates one
    model_config = ConfigDict(extra="ignore", defer_build=True)
    report: str = Field("daily", pattern="^daily$")
    date: dt.date | None = None
