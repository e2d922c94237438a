"""Reports: the daily fulfillment and performance report, run by the morning schedule (EventBridge Scheduler,
in the report's time zone) for the previous day or by admins for any ended day, and the sales trend:
GET /admin/reports/daily?date=YYYY-MM-DD, GET /admin/analytics/sales?from=YYYY-MM-DD&to=YYYY-MM-DD.
GET /admin/reports/daily/{date}?format=html|csv|json answers a stored report as it was stored: the link the
report's email gives, which lasts as long as the report (a presigned S3 URL dies with the signing credentials)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BeforeValidator
from shop.analytics import service
from shop.analytics.contracts import DailyReport, ReportFigures, SalesTrend
from shop.analytics.models import ScheduledReport
from shop.api import Guard, http_handler, make_resolver, require_group
from shop.observability import is_http, observability


def _iso_day(value: Any) -> Any:
    # pydantic alone also reads "0" or "1700000000" as a Unix time: a report date is written YYYY-MM-DD
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


IsoDay = Annotated[date, BeforeValidator(_iso_day)]

obs = observability("reports", needs=("analytics_table", "catalog_table", "procurement_table", "reports_bucket",
                                      "report_time_zone", "management_emails", "sender_email",
                                      "email_configuration_set", "currency", "notifications_table",
                                      "api_url_parameter", "console_url_parameter"),
                    optional=("promised_ship_hours",))
app = make_resolver(obs.logger)
reports = Router()
analytics = Router()


@reports.get("/admin/reports/daily")
def daily(date: Annotated[IsoDay | None, Query(description="default: yesterday in the report's time zone")] = None
          ) -> DailyReport:
    require_group(app, "admin")
    day = date or service.previous_day()
    obs.logger.append_keys(report_date=day.isoformat())
    return service.daily_report(day)


STORED = {"description": "the stored report (never computed here: GET /admin/reports/daily?date= does that)",
          "content": {"text/html": {"schema": {"type": "string"}}, "text/csv": {"schema": {"type": "string"}},
                      "application/json": {"model": ReportFigures}}}


@reports.get("/admin/reports/daily/<date>", responses={200: STORED, 404: {"description": "no report for that day"}})
def stored_daily(date: Annotated[IsoDay, Path(description="the report's day, YYYY-MM-DD")],
                 format: Annotated[Literal["html", "csv", "json"], Query()] = "html") -> Response[str]:
    require_group(app, "admin")
    obs.logger.append_keys(report_date=date.isoformat())
    body, content_type = service.stored_report(date, format)
    return Response(status_code=200, content_type=content_type, body=body)


@analytics.get("/admin/analytics/sales")
def sales(start: Annotated[IsoDay, Query(alias="from")], end: Annotated[IsoDay, Query(alias="to")]) -> SalesTrend:
    require_group(app, "admin")
    return service.sales_trend(start, end)


app.include_router(reports)
app.include_router(analytics)
http = http_handler(app, obs, Guard("/admin/", "admin"))


def _scheduled(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = ScheduledReport.model_validate(event if isinstance(event, dict) else {})
    day = task.date or service.previous_day()
    obs.logger.append_keys(report_date=day.isoformat())
    result = service.daily_report(day)
    obs.count("DailyReportRun")
    return {"date": day.isoformat(), "objects": result["objects"], "emailed": result["emailed"]}


scheduled = obs.entrypoint(_scheduled)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway requests go to the routes; the schedule's event runs the report."""
    if is_http(event):
        return http(event, context)
    return scheduled(event, context)
