"""Analytics and the daily report.

- ``record_event`` (recording.py): the Analytics function turns each domain event into a day fact, once
  (facts.py).
- ``daily_report``: the report for one day, built from that day's facts (one partition), the open purchase
  orders (index by status), the categories of the products sold (batch get) and the day totals of the 7 days
  before (one query, for the comparison with the previous day and the week's average): stored as JSON, CSV and HTML
  in the reports bucket and emailed to the management list. Idempotent: the first run for a day stores it
  and sends the one email; any later run (the schedule retried, an admin asking) returns what was stored. The
  email links to the staff console's report view of the day (``report_url``), where an admin signs in and the
  console reads the stored report through the admin API: it lasts as long as the report, unlike a presigned S3
  URL signed with the function's temporary credentials; addresses on the suppression list get no email.
- ``stored_report``: a day's stored report as HTML, CSV or JSON (what the emailed link answers).
- ``sales_trend``: day totals over a range ("customers who bought this also bought" is
  shop.analytics.recommendations.bought_together: the product page needs none of the report's imports).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from shop.analytics import repository as repo
from shop.analytics.recording import tz
from shop.config import get_settings
from shop.errors import DependencyFailed, InvalidInput, NotFound
from shop.money import format_money

log = Logger(child=True)
MAX_TREND_DAYS = 366


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def previous_day(now: datetime | None = None) -> date:
    """Yesterday in the report's time zone (what the morning schedule reports on)."""
    return ((now or datetime.now(UTC)).astimezone(tz()) - timedelta(days=1)).date()


def _open_purchase_orders() -> list[dict[str, Any]]:
    # what builds a report (its figures, the open purchase orders, the products' categories, the rendering) is
    # imported when one is built or mailed: the stored report's and the sales trend's routes, and a day already
    # reported, load none of it (issue 17)
    from shop.procurement import repository as procurement
    from shop.procurement.models import OPEN

    out: list[dict[str, Any]] = []
    for status in sorted(s.value for s in OPEN):
        cursor: str | None = None
        while True:
            pos, cursor = procurement.list_pos(status, 100, cursor)
            out += [p.model_dump(mode="json") for p in pos]
            if cursor is None:
                break
    return out


def build(day: date) -> dict[str, Any]:
    """The report's figures for ``day`` (nothing stored)."""
    from shop.analytics import report
    from shop.catalog.repository import product_summaries

    day_facts = repo.day_facts(day)
    products = sorted({ln.get("product_id") for f in day_facts if f["kind"] == "paid" for ln in f["lines"]
                       if ln.get("product_id")})
    categories = {pid: str(s.get("category") or "uncategorised") for pid, s in product_summaries(products).items()}
    settings = get_settings()
    # the week before, for the comparison: one query of the running day totals (what the sales trend reads)
    history = repo.day_totals(day - timedelta(days=report.AVERAGE_DAYS), day - timedelta(days=1))
    return report.compute(day, day_facts, _open_purchase_orders(), categories, currency=settings.currency, tz=tz(),
                          promised_ship_hours=settings.promised_ship_hours, history=history)


def _keys(day: date) -> dict[str, str]:
    base = f"reports/daily/{day.isoformat()}/report"
    return {"json": f"{base}.json", "csv": f"{base}.csv", "html": f"{base}.html"}


def daily_report(day: date, *, today: date | None = None) -> dict[str, Any]:
    if day >= (today or datetime.now(UTC).astimezone(tz()).date()):
        raise InvalidInput("date", "a daily report covers a day that has ended")
    stored = repo.get_report(day)
    if stored is None:
        from shop.analytics import report

        figures = build(day)
        keys = _keys(day)
        repo.put_object(keys["json"], json.dumps(figures, indent=2), "application/json")
        repo.put_object(keys["csv"], report.to_csv(figures), "text/csv")
        repo.put_object(keys["html"], report.to_html(figures), "text/html; charset=utf-8")
        # figures hold fractional hours: stored as the JSON document itself (DynamoDB numbers are not floats)
        repo.save_report(day, {"figures": json.dumps(figures), "objects": keys, "created_at": now_iso()})
        stored = repo.get_report(day)
        assert stored is not None
    _email_once(day, stored)
    final = repo.get_report(day) or stored
    return {**json.loads(final["figures"]), "objects": final["objects"], "link": repo.link(final["objects"]["html"]),
            "created_at": final["created_at"], "emailed": bool(final.get("email_message_id"))}


REPORT_FORMATS = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8",
                  "json": "application/json"}


def report_url(day: date, stored: dict[str, Any]) -> str:
    """Where the emailed link points. With the staff console's URL (CONSOLE_URL_PARAMETER): its report view of the day,
    where an admin signs in and reads it, which a mail client cannot do for a bearer-token API. Otherwise
    ``GET /admin/reports/daily/{date}`` of the API (an admin's token opens it, for as long as the report is kept),
    and without the API's URL (a function or test without the parameter), the presigned S3 link (7 days at most,
    less with temporary credentials)."""
    console = repo.console_url()
    if console:
        return f"{console.rstrip('/')}/#/reports?date={day.isoformat()}"
    base = repo.api_url()
    if not base:
        return repo.link(stored["objects"]["html"])
    return f"{base.rstrip('/')}/admin/reports/daily/{day.isoformat()}"


def stored_report(day: date, fmt: str = "html") -> tuple[str, str]:
    """The stored report of ``day`` as (body, content type); NotFound when no report was made for that day
    (this never computes one: GET /admin/reports/daily?date= does)."""
    if fmt not in REPORT_FORMATS:
        raise InvalidInput("format", f"one of {', '.join(REPORT_FORMATS)}")
    stored = repo.get_report(day)
    if stored is None:
        raise NotFound(f"no daily report for {day.isoformat()}")
    return repo.get_object(stored["objects"][fmt]), REPORT_FORMATS[fmt]


def _recipients() -> list[str]:
    """The management list without the addresses on the suppression list (bounced for good, complained)."""
    from shop.notifications import suppressions  # the report's e-mail only, as the report's modules (issue 17)

    listed = [a.strip() for a in get_settings().management_emails.split(",") if a.strip()]
    kept = [a for a in listed if not suppressions.is_suppressed(a)]
    if len(kept) < len(listed):
        log.warning("daily report not sent to suppressed addresses", extra={"suppressed": len(listed) - len(kept)})
    return kept


def _email_once(day: date, stored: dict[str, Any]) -> None:
    if stored.get("email_message_id"):
        return
    recipients = _recipients()
    if not recipients or not repo.claim_email(day, now_iso()):
        return
    from shop.analytics import report
    from shop.notifications import mailer
    from shop.notifications.templates import Email

    figures, link = json.loads(stored["figures"]), report_url(day, stored)
    net = figures["net"]
    email = Email(subject=f"Daily fulfillment report {day.isoformat()}: {figures['orders']['paid']} orders paid, "
                          f"net {format_money(int(net['amount']), net['currency'])}",
                  text=report.email_text(figures, link), html=report.to_html(figures, link=link))
    message_id: str | None = None
    try:
        for to in recipients:
            message_id = mailer.send(to, email)
    except DependencyFailed:
        repo.emailed(day, None)  # release the claim: the next run sends
        raise
    repo.emailed(day, message_id)


def sales_trend(first: date, last: date) -> dict[str, Any]:
    if last < first:
        raise InvalidInput("to", "must not be before from")
    if (last - first).days >= MAX_TREND_DAYS:
        raise InvalidInput("to", f"a trend covers at most {MAX_TREND_DAYS} days")
    totals = repo.day_totals(first, last)
    keys = ("orders_placed", "orders_paid", "orders_cancelled", "revenue", "refunds", "units")
    days: list[dict[str, Any]] = []
    sums = dict.fromkeys((*keys, "net"), 0)
    d = first
    while d <= last:
        t = totals.get(d.isoformat(), {})
        row = {k: int(t.get(k, 0)) for k in keys}
        row["net"] = row["revenue"] - row["refunds"]
        for k, v in row.items():
            sums[k] += v
        days.append({"date": d.isoformat(), **row})
        d += timedelta(days=1)
    return {"from": first.isoformat(), "to": last.isoformat(), "currency": get_settings().currency,
            "days": days, "totals": sums}
