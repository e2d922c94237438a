"""The daily report and analytics against the deployed stack: a generated day of orders goes through the
Analytics function as events; every figure of the report is checked against an independent computation;
the report reads without a single scan, is stored (JSON, CSV, HTML with charts) and emailed once however often
it runs; sales trends and "bought together" follow the events."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from shoplocal.demo_day import generate_day
from shoplocal.stack import ROOT
from tests.factories import wrapped_dynamodb

# one worker runs the whole module (--dist loadgroup): its fixture (day_of_orders) is built once;
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("reports")]
TZ = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def day_of_orders(stack: Any, admin: Any) -> dict[str, Any]:
    from tests.factories import make_product

    products = []
    for _ in range(4):
        p = make_product(stack, admin.id_token, stock={"a": 1})
        products.append((p.skus[0], p.product_id))
    # the categories the report will look up are the products' own: make_product gives each its category
    day = date(2026, 3, 10)
    events, expected = generate_day(day, 40, 7, products, TZ)
    for event in events:
        result = stack.invoke("AnalyticsFunction", event)
        assert result["recorded"], (event["detail-type"], result)
    assert stack.invoke("AnalyticsFunction", events[0])["recorded"] is False  # a redelivery counts once
    return {"day": day, "events": events, "expected": expected, "products": products}


def test_every_figure_matches_an_independent_count(stack, admin, day_of_orders):
    day, exp = day_of_orders["day"], day_of_orders["expected"]
    resp = stack.request("GET", "/admin/reports/daily", query={"date": day.isoformat()}, token=admin.id_token)
    assert resp.status == 200, resp.body
    r = resp.json()
    assert r["orders"]["placed"] == exp["placed"] and r["orders"]["paid"] == exp["paid"]
    assert r["orders"]["cancelled"] == exp["cancelled"] and r["orders"]["shipped"] == exp["shipped"]
    assert r["orders"]["delivered"] == exp["delivered"] > 0
    assert r["parcels"] == {"packed": exp["shipped"] - exp["late"], "shipped": exp["shipped"],
                            "delivered": exp["delivered"]}
    assert r["revenue"]["amount"] == exp["revenue"] and r["refunds"]["amount"] == exp["refunds"]
    assert r["net"]["amount"] == exp["revenue"] - exp["refunds"] and r["units"] == exp["units"]
    hours = exp["hours"]
    assert r["payment_to_shipment_hours"]["parcels"] == len(hours)
    assert r["payment_to_shipment_hours"]["average"] == pytest.approx(sum(hours) / len(hours), abs=0.01)
    assert r["payment_to_shipment_hours"]["p90"] == pytest.approx(exp["p90"], abs=0.01)
    assert r["shipped_late"] == {"promised_hours": 48, "parcels": exp["late"]} and exp["late"] > 0
    assert [s["sku"] for s in r["stock_outs"]] == ["LOW-A"]
    assert [s["sku"] for s in r["below_reorder_point"]] == ["LOW-A", "LOW-B"]
    assert [m["amount"] for m in r["revenue_by_hour"]] == exp["by_hour"]
    top = sorted(exp["sku_units"].items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    assert [(s["sku"], s["units"]) for s in r["top_skus"]] == top
    # make_product files product p-<tag> under category cat-<tag>
    categories = Counter({f"cat-{pid.removeprefix('cat-p-')}": n for pid, n in exp["cat_rev"].items()})
    assert [(c["category"], c["revenue"]["amount"]) for c in r["top_categories"]] == sorted(
        categories.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    assert {w["warehouse_id"]: (w["packed"], w["shipped"], w["delivered"]) for w in r["warehouses"]} == {
        wh: (c["packed"], c["shipped"], c["delivered"]) for wh, c in exp["wh"].items()}
    assert r["open_purchase_orders"]["count"] == len(r["open_purchase_orders"]["items"])

    # stored as JSON, CSV and HTML (with the charts), linked
    html = requests.get(r["link"], timeout=10).text
    assert "<svg" in html and "Revenue by hour" in html and day.isoformat() in html
    from shop.analytics import repository
    from shop.config import function_environment

    with function_environment(stack.function_env("ReportsFunction")):
        stored = json.loads(repository.get_object(r["objects"]["json"]))
        rows = list(csv.reader(io.StringIO(repository.get_object(r["objects"]["csv"]))))
    assert stored["revenue"] == r["revenue"] and stored["orders"] == r["orders"]
    assert ["summary", "Orders paid", str(exp["paid"])] in rows


def test_running_the_report_twice_stores_one_report_and_sends_one_email(stack, admin, day_of_orders):
    day = day_of_orders["day"]
    before = [m for m in stack.sent_emails() if day.isoformat() in (m["subject"] or "")]
    first = stack.invoke("ReportsFunction", {"report": "daily", "date": day.isoformat()})
    second = stack.invoke("ReportsFunction", {"report": "daily", "date": day.isoformat()})
    via_api = stack.request("GET", "/admin/reports/daily", query={"date": day.isoformat()}, token=admin.id_token)
    assert first["objects"] == second["objects"] and via_api.json()["created_at"]
    mails = [m for m in stack.sent_emails() if day.isoformat() in (m["subject"] or "")]
    assert len(mails) == 1 and not before[1:], [m["subject"] for m in mails]
    [mail] = mails
    assert mail["destinations"] == ["management@example.com"]
    assert "Orders paid" in mail["body"] and "Full report" in mail["body"]


def test_the_report_never_scans(stack, admin, day_of_orders):
    calls: list[str] = []

    class Spy:
        def __init__(self, inner: Any):
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            calls.append(name)
            return getattr(self._inner, name)

    from shop.analytics import service
    from shop.config import function_environment

    with wrapped_dynamodb(Spy), function_environment(stack.function_env("ReportsFunction")):
        figures = service.build(day_of_orders["day"])
    assert figures["orders"]["placed"] == day_of_orders["expected"]["placed"]
    assert calls and "scan" not in calls, calls
    assert set(calls) <= {"query", "batch_get_item", "get_item"}, calls


def test_a_day_that_has_not_ended_cannot_be_reported(stack, admin):
    today = datetime.now(TZ).date().isoformat()
    resp = stack.request("GET", "/admin/reports/daily", query={"date": today}, token=admin.id_token)
    assert resp.status == 422 and resp.json()["error"]["details"]["fields"][0]["field"] == "query.date"
    assert stack.request("GET", "/admin/reports/daily", query={"date": "yesterday"},
                         token=admin.id_token).status == 422
    assert stack.request("GET", "/admin/reports/daily", token=stack.user().id_token).status == 403


def test_sales_trend_and_bought_together_follow_the_events(stack, admin, day_of_orders):
    day, exp = day_of_orders["day"], day_of_orders["expected"]
    around = {"from": (day - timedelta(days=1)).isoformat(), "to": (day + timedelta(days=1)).isoformat()}
    resp = stack.request("GET", "/admin/analytics/sales", token=admin.id_token, query=around)
    assert resp.status == 200, resp.body
    trend = resp.json()
    assert [d["date"] for d in trend["days"]] == [(day + timedelta(days=k)).isoformat() for k in (-1, 0, 1)]
    mid = trend["days"][1]
    assert (mid["orders_placed"], mid["orders_paid"], mid["revenue"], mid["refunds"]) == (
        exp["placed"], exp["paid"], exp["revenue"], exp["refunds"])
    assert trend["days"][0]["orders_placed"] == 0 and trend["totals"]["net"] == exp["revenue"] - exp["refunds"]
    bad = stack.request("GET", "/admin/analytics/sales", token=admin.id_token,
                        query={"from": day.isoformat(), "to": (day - timedelta(days=1)).isoformat()})
    assert bad.status == 422

    pairs: Counter = Counter()
    for event in day_of_orders["events"]:
        if event["detail-type"] == "OrderPaid":
            pids = sorted({ln["product_id"] for ln in event["detail"]["lines"]})
            pairs.update((a, b) for a in pids for b in pids if a != b)
    product = day_of_orders["products"][0][1]
    details = stack.request("GET", f"/products/{product}").json()
    expected = sorted(((b, n) for (a, b), n in pairs.items() if a == product), key=lambda p: (-p[1], p[0]))
    assert [(x["product_id"], x["orders"]) for x in details["also_bought"]] == expected[:5]


def test_the_scheduled_report_sample_event_reports_yesterday(stack):
    event = json.loads((ROOT / "events" / "analytics_reports" / "scheduled.json").read_text())
    result = stack.invoke("ReportsFunction", event)
    yesterday = (datetime.now(TZ) - timedelta(days=1)).date().isoformat()
    assert result["date"] == yesterday and result["objects"]["html"].endswith(f"{yesterday}/report.html")


def test_the_local_report_command_writes_the_html_and_emails_management(stack, tmp_path, capsys):
    """`python -m shoplocal report`, its command line and output, run on this worker's stack (main(stack=)) rather
    than in a subprocess starting its own (~8 s CPU more): that the CLI starts its own stack is what
    tests/shoplocal/test_runtime.py's invoke tests check, as a user runs them."""
    from shoplocal.__main__ import main

    returncode = main(["report", "--date", "2026-03-11", "--orders", "30", "--out", str(tmp_path)], stack=stack)
    done = capsys.readouterr()
    assert returncode == 0, done.err[-3000:]
    html = (tmp_path / "daily-2026-03-11.html").read_text()
    assert "<svg" in html and "Orders paid" in html
    figures = json.loads((tmp_path / "daily-2026-03-11.json").read_text())
    assert figures["orders"]["placed"] == 30 and figures["date"] == "2026-03-11"
    assert "email to management@example.com: Daily fulfillment report 2026-03-11" in done.out


def test_the_morning_schedule_is_deployed_in_the_shop_time_zone(stack):
    [schedule] = [s for s in stack.deployment.schedules if s.logical_id == "ReportsFunctionDailyReport"]
    assert schedule.expression == "cron(30 6 * * ? *)" and schedule.timezone == "Europe/Berlin"
    described = stack.client("scheduler").get_schedule(Name=schedule.name)
    assert described["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert json.loads(described["Target"]["Input"]) == {"report": "daily"}
