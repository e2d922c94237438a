"""Inputs of the analytics and report functions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class BusEvent(BaseModel):
    """An EventBridge event as delivered to a Lambda target."""

    model_config = ConfigDict(extra="ignore")
    detail_type: str = Field(alias="detail-type", min_length=1)
    detail: dict[str, Any]


class ScheduledReport(BaseModel):
    """What the schedule sends: the report to run and, optionally, the day (default: yesterday)."""

    model_config = ConfigDict(extra="ignore")
    report: str = Field("daily", pattern="^daily$")
    date: dt.date | None = None
