"""The daily report management reads at a glance (issue 16, item 9): the breaches first ("needs attention", or
"all good"), each headline figure next to the previous day and the 7-day average (checked against a computation
of its own here), money in major units with its currency everywhere (never "minor units"), charts with titled
axes, tick values and bar values, the comparison as an additive, optional part of the stored contract, and the
e-mailed link opening the staff console's report view when the console's URL is configured. The browser
rendering of a generated day is tests/e2e/test_daily_report_browser.py."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from shop.analytics import report
from shop.analytics import service as analytics_service
from shop.analytics.contracts import DailyReport, ReportFigures
from shop.notifications import mailer, suppressions

from tests.answers import same

pytestmark = pytest.mark.unit

DAY = date(2026, 3, 10)
TZ = ZoneInfo("Europe/Berlin")


def paid(order: str, at: str, amount: int, units: int = 1) -> dict[str, Any]:
    return {"kind": "paid", "order_id": order, "at": at, "units": units, "total": {"amount": amount, "currency": "EUR"},
            "lines": [{"sku": "MUG-1", "product_id": "p1", "quantity": units, "amount": amount}]}


def shipped(order: str, at: str, paid_at: str, warehouse: str = "berlin") -> dict[str, Any]:
    return {"kind": "shipped", "order_id": order, "at": at, "paid_at": paid_at, "warehouse_id": warehouse}


GOOD_DAY = [paid("o1", "2026-03-10T08:00:00Z", 12345, 2), paid("o2", "2026-03-10T15:30:00Z", 2990),
            {"kind": "placed", "order_id": "o1", "at": "2026-03-10T07:59:00Z"},
            {"kind": "placed", "order_id": "o2", "at": "2026-03-10T15:29:00Z"},
            shipped("o1", "2026-03-10T12:00:00Z", "2026-03-10T08:00:00Z"),
            {"kind": "low", "sku": "MUG-1", "warehouse_id": "berlin", "available": 2, "incoming": 0,
             "reorder_point": 3}]
BAD_DAY = [*GOOD_DAY, shipped("o0", "2026-03-10T09:00:00Z", "2026-03-06T09:00:00Z", "paris"),
           {"kind": "low", "sku": "TEA-9", "warehouse_id": "paris", "available": 0, "incoming": 5,
            "reorder_point": 4}]
# the week before: 03-03 .. 03-09, one day (03-06) without a totals item at all (no sales: zeros)
HISTORY = {
    "2026-03-03": {"orders_placed": 3, "orders_paid": 2, "revenue": 5000, "units": 2, "parcels_shipped": 1},
    "2026-03-04": {"orders_placed": 5, "orders_paid": 4, "revenue": 10001, "refunds": 999, "units": 6,
                   "orders_cancelled": 1, "parcels_shipped": 3, "parcels_delivered": 1},
    "2026-03-05": {"orders_placed": 1, "orders_paid": 1, "revenue": 1990, "units": 1, "parcels_packed": 2},
    "2026-03-07": {"orders_placed": 2, "orders_paid": 2, "revenue": 7777, "units": 3},
    "2026-03-08": {"orders_placed": 4, "orders_paid": 3, "revenue": 4321, "refunds": 4321, "units": 3},
    "2026-03-09": {"orders_placed": 6, "orders_paid": 5, "revenue": 20000, "refunds": 500, "units": 9,
                   "parcels_shipped": 4, "parcels_delivered": 2},
}


def figures(facts: list[dict[str, Any]] = GOOD_DAY, history: dict[str, Any] | None = HISTORY,
            currency: str = "EUR") -> dict[str, Any]:
    return report.compute(DAY, facts, [], {"p1": "mugs"}, currency=currency, tz=TZ, promised_ship_hours=48,
                          history=history)


def half_up(total: int, days: int) -> int:
    return int((Decimal(total) / days).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def week_sum(key: str) -> int:
    if key == "net":
        return week_sum("revenue") - week_sum("refunds")
    return sum(HISTORY.get((DAY - timedelta(days=k)).isoformat(), {}).get(key, 0) for k in range(1, 8))


# ------------------------------------------------------------------ the comparison figures
def test_the_comparison_is_the_previous_day_and_the_average_of_the_seven_days_before():
    c = figures()["comparison"]
    assert [d["date"] for d in c["days"]] == [f"2026-03-0{d}" for d in range(3, 10)]
    prev = c["previous_day"]
    assert prev == c["days"][-1] and prev["date"] == "2026-03-09"
    assert (prev["orders_paid"], prev["revenue"], prev["refunds"], prev["net"]) == (
        5, {"amount": 20000, "currency": "EUR"}, {"amount": 500, "currency": "EUR"},
        {"amount": 19500, "currency": "EUR"})
    assert c["days"][3] == {"date": "2026-03-06", **dict.fromkeys(report.COUNT_TOTALS, 0),
                            **{k: {"amount": 0, "currency": "EUR"} for k in report.MONEY_TOTALS}}
    avg = c["seven_day_average"]
    assert (avg["from"], avg["to"], avg["days"]) == ("2026-03-03", "2026-03-09", 7)
    for key in report.COUNT_TOTALS:
        assert avg[key] == round(week_sum(key) / 7, 2), key
    for key in report.MONEY_TOTALS:
        assert avg[key] == {"amount": half_up(week_sum(key), 7), "currency": "EUR"}, key
    assert avg["revenue"]["amount"] == 7013  # 49089 / 7 = 7012.71...: rounded, not floored


def test_without_history_there_is_no_comparison_key_and_the_page_says_so():
    r = figures(history=None)
    assert "comparison" not in r
    html = report.to_html(r)
    assert "No comparison with earlier days" in html and "Previous day" not in html
    ReportFigures.model_validate(r)


def test_the_comparison_is_an_additive_optional_part_of_the_stored_contract():
    base = "reports/daily/2026-03-10/report"
    extra = {"objects": {"json": f"{base}.json", "csv": f"{base}.csv", "html": f"{base}.html"},
             "link": "https://example/report.html", "created_at": "2026-03-11T05:00:00Z", "emailed": True}
    for r in (figures(), figures(history=None)):  # with it, and as stored before it existed (absent, not null)
        same(DailyReport, {**json.loads(json.dumps(r)), **extra})
    body = same(ReportFigures, json.loads(json.dumps(figures())))
    assert body["comparison"]["seven_day_average"]["from"] == "2026-03-03"  # the alias, not from_


def test_headline_rows_put_the_day_next_to_the_previous_day_and_the_average():
    rows = {row["key"]: row for row in report.headline(figures())}
    assert rows["revenue"]["day"] == "EUR 153.35" and rows["revenue"]["previous"] == "EUR 200.00"
    assert rows["revenue"]["average"] == "EUR 70.13"
    assert rows["revenue"]["change"] == f"{(15335 - 7013) / 7013 * 100:+.0f}%" and rows["revenue"]["tone"] == "good"
    assert rows["orders_paid"]["average"] == f"{17 / 7:.2f}"
    # fewer refunds than usual is good, more cancellations bad; nothing against nothing is flat
    assert rows["refunds"]["tone"] == "good" and rows["orders_cancelled"]["tone"] == "good"
    assert rows["parcels_delivered"]["tone"] == "bad"
    assert report.change(0, 0, True) == ("0%", "flat") and report.change(3, 0, True) == ("new", "good")
    assert report.change(3, 0, False) == ("new", "bad") and report.change(102, 100, True) == ("+2%", "flat")
    assert report.change(80, 100, False) == ("-20%", "good")


# ------------------------------------------------------------------ what needs attention, first
def test_a_broken_promise_and_a_stock_out_are_flagged_before_anything_else():
    r = figures(BAD_DAY)
    assert report.attention(r) == [
        "Shipping promise broken: 1 of 2 parcels shipped later than 48 h after payment",
        "Out of stock: 1 level: TEA-9 (paris)"]
    html = report.to_html(r)
    body = html[html.index("<body>"):]
    assert body.index("Needs attention") < body.index("At a glance") < body.index("<svg")
    assert body.index("Shipping promise broken") < body.index("All figures")
    text = report.email_text(r, "https://x")
    assert text.splitlines()[2] == "NEEDS ATTENTION"
    assert text.index("Out of stock: 1 level: TEA-9 (paris)") < text.index("At a glance") < text.index(
        "Orders placed: 2\n")


def test_a_day_without_breaches_says_all_good():
    r = figures(GOOD_DAY)
    assert report.attention(r) == []
    good = "All good: every parcel shipped within the promised 48 h and nothing ran out of stock."
    assert good in report.to_html(r) and "Needs attention" not in report.to_html(r)
    assert report.email_text(r, "https://x").splitlines()[2] == good


def test_many_stock_outs_are_counted_not_all_listed():
    lows = [{"kind": "low", "sku": f"S-{i:02d}", "warehouse_id": "w", "available": 0, "incoming": 0,
             "reorder_point": 1} for i in range(13)]
    [line] = report.attention(figures(lows))
    assert line.startswith("Out of stock: 13 levels: S-00 (w), ") and line.endswith("S-09 (w) and 3 more")


# ------------------------------------------------------------------ money and charts
@pytest.mark.parametrize("facts", [GOOD_DAY, BAD_DAY])
def test_no_minor_units_anywhere_and_money_in_major_units_with_the_currency(facts):
    r = figures(facts)
    html, text, table = report.to_html(r, link="https://x"), report.email_text(r, "https://x"), report.to_csv(r)
    for out in (html, text, table):
        assert "minor unit" not in out.lower()
        assert "12345" not in out and "15335" not in out  # the day's paid totals only ever as EUR 123.45 ...
    rows = list(csv.reader(io.StringIO(table)))
    assert ["revenue_by_hour", "09", "EUR 123.45"] in rows and ["revenue_by_hour", "16", "EUR 29.90"] in rows
    assert ["previous_day", "Revenue", "EUR 200.00"] in rows and ["seven_day_average", "Revenue", "EUR 70.13"] in rows


def svg_texts(html: str, title: str) -> dict[str, list[str]]:
    """The texts of the chart titled ``title``, by class (tick, x-label, value, axis-title ...)."""
    svg = next(s for s in re.findall(r"<svg.*?</svg>", html, re.S) if f'aria-label="{title}"' in s)
    out: dict[str, list[str]] = {}
    for cls, text in re.findall(r'<text [^>]*class="([^"]+)"[^>]*>([^<]*)</text>', svg):
        for c in cls.split():
            out.setdefault(c, []).append(text)
    return out


def test_the_charts_have_titled_axes_round_ticks_and_their_values_written():
    r = figures(BAD_DAY)
    html = report.to_html(r)
    hourly = svg_texts(html, "Revenue by hour")
    assert hourly["x-title"] == ["Hour of the day (Europe/Berlin)"] and hourly["y-title"] == ["Revenue (EUR)"]
    assert hourly["x-label"] == [f"{h:02d}" for h in range(24)]
    assert hourly["tick"] == ["EUR 0.00", "EUR 50.00", "EUR 100.00", "EUR 150.00"]  # 123.45 at most: up to 150
    assert hourly["value"] == ["EUR 123.45", "EUR 29.90"]  # the hours with sales (09 and 16 in Berlin)
    week = svg_texts(html, "Revenue, 2026-03-10 against the 7 days before")
    assert week["x-label"] == [f"03-{d:02d}" for d in range(3, 11)] and week["x-title"] == ["Day"]
    assert week["value"][-1] == "EUR 153.35" and week["value"][-2] == "EUR 200.00"
    assert week["reference"] == ["7-day average EUR 70.13"]
    parcels = svg_texts(html, "Parcels shipped per warehouse")
    assert parcels["y-title"] == ["Parcels shipped"] and parcels["x-label"] == ["berlin", "paris"]
    assert parcels["value"] == ["1", "1"] and parcels["tick"] == ["0", "1"]


def test_axis_steps_are_round_and_reach_the_largest_value():
    assert [report.nice_step(v) for v in (1, 4, 7, 15335, 99_999)] == [1, 1, 2, 5000, 50_000]
    assert report.nice_step(3, smallest=100) == 100  # money axes step by one major unit at least
    for values in ([0] * 24, [1], [7, 3], [15335, 20000, 1]):
        c = report.bar_chart("t", "x", "y", [str(i) for i in range(len(values))], values, str)
        tops = [int(t["text"]) for t in c["ticks"]]
        assert tops[0] == 0 and tops[-1] >= max(values) and len(tops) >= 2
        assert all(c["top"] <= b["y"] <= c["bottom"] for b in c["bars"])


def test_japanese_yen_axes_and_values_have_no_decimals():
    r = report.compute(DAY, [paid("o1", "2026-03-10T08:00:00Z", 4980)], [], {}, currency="JPY", tz=TZ,
                       promised_ship_hours=48)
    hourly = svg_texts(report.to_html(r), "Revenue by hour")
    assert hourly["tick"][:2] == ["JPY 0", "JPY 2000"] and hourly["value"] == ["JPY 4980"]


# ------------------------------------------------------------------ the link
def test_the_link_opens_the_consoles_report_view_when_the_console_is_configured(monkeypatch):
    day, stored = date(2026, 3, 10), {"objects": {"html": "r.html"}}
    monkeypatch.setattr(analytics_service.repo, "console_url", lambda: "https://console.example/")
    assert analytics_service.report_url(day, stored) == "https://console.example/#/reports?date=2026-03-10"
    monkeypatch.setattr(analytics_service.repo, "console_url", lambda: None)  # a function without the parameter
    monkeypatch.setattr(analytics_service.repo, "api_url", lambda: "https://api.example/prod/")
    assert analytics_service.report_url(day, stored) == "https://api.example/prod/admin/reports/daily/2026-03-10"


def test_the_email_shows_the_breaches_first_and_links_the_console(monkeypatch):
    r = figures(BAD_DAY)
    sent: list[Any] = []
    monkeypatch.setattr(analytics_service, "get_settings", lambda: SimpleNamespace(management_emails="m@example.com"))
    monkeypatch.setattr(analytics_service.repo, "console_url", lambda: "https://console.example")
    monkeypatch.setattr(analytics_service.repo, "claim_email", lambda day, at: True)
    monkeypatch.setattr(analytics_service.repo, "emailed", lambda day, message_id: None)
    monkeypatch.setattr(suppressions, "is_suppressed", lambda address: False)
    monkeypatch.setattr(mailer, "send", lambda to, email: sent.append(email) or "msg-1")
    analytics_service._email_once(DAY, {"figures": json.dumps(r), "objects": {"html": "r.html"}})
    [email] = sent
    link = "https://console.example/#/reports?date=2026-03-10"
    assert f'<p><a href="{link}">Full report</a></p>' in email.html
    assert email.html.index("Full report") < email.html.index("Needs attention") < email.html.index("At a glance")
    assert email.text.endswith(f"Full report (HTML, JSON, CSV): {link}")
    assert email.text.splitlines()[2] == "NEEDS ATTENTION"
