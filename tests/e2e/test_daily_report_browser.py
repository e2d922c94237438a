"""The daily report as management sees it (issue 16, item 9), rendered by a real browser: generated days of orders
(the report's day and the week before, one day of it without sales) go through the Analytics function as events,
the Reports function makes the day's report as the morning schedule does, and the stored HTML an admin gets from
GET /admin/reports/daily/{date} is opened in headless Chromium (Debian's, driven by Playwright; page.set_content).
Checked there: what needs attention comes first, the comparison with the previous day and the 7-day average is
right against an independent computation from the generated events, the charts' axis titles, tick values and bar
values are text in the SVG, money is in major units with its currency and "minor units" appears nowhere. A
screenshot goes to .local/screenshots/daily-report.png (git-ignored) for a reviewer. Then the e-mail (breaches
first) and the console link: the e-mailed link opens the console's report view of the day
for a signed-in admin."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from shop.analytics.contracts import ReportFigures
from shop.money import parse_money

from shoplocal.demo_day import generate_day
from tests.factories import make_product

# one worker runs the whole module (--dist loadgroup): its fixtures (reported and browser) are built once;
# the invariant audit runs around each test
pytestmark = [pytest.mark.e2e, pytest.mark.audited, pytest.mark.xdist_group("daily_report_browser")]

SHOTS = Path(__file__).resolve().parents[2] / ".local" / "screenshots"  # the browser fixture creates it
DAY = date(2026, 5, 20)  # days of their own: the other report tests use March and April
QUIET = DAY - timedelta(days=4)  # no sales at all that day: it counts as zeros in the average
TIMEOUT_MS = 20_000


def totals(exp: dict[str, Any] | None) -> dict[str, int]:
    """A generated day's figures, counted independently by the generator, under the day totals' names."""
    if exp is None:
        return dict.fromkeys(("orders_placed", "orders_paid", "orders_cancelled", "units", "parcels_packed",
                              "parcels_shipped", "parcels_delivered", "revenue", "refunds", "net"), 0)
    return {"orders_placed": exp["placed"], "orders_paid": exp["paid"], "orders_cancelled": exp["cancelled"],
            "units": exp["units"], "parcels_packed": exp["shipped"] - exp["late"], "parcels_shipped": exp["shipped"],
            "parcels_delivered": exp["delivered"], "revenue": exp["revenue"], "refunds": exp["refunds"],
            "net": exp["revenue"] - exp["refunds"]}


@pytest.fixture(scope="module")
def reported(stack: Any, admin: Any) -> dict[str, Any]:
    products = []
    for _ in range(3):
        p = make_product(stack, admin.id_token, stock={"a": 1})
        products.append((p.skus[0], p.product_id))
    tz = ZoneInfo(stack.function_env("ReportsFunction")["REPORT_TIME_ZONE"])
    expected: dict[date, dict[str, Any]] = {}
    for back in range(7, -1, -1):
        day = DAY - timedelta(days=back)
        if day == QUIET:
            continue
        events, exp = generate_day(day, 30 if back == 0 else 6 + 2 * back, 900 + back, products, tz)
        for event in events:
            assert stack.invoke("AnalyticsFunction", event)["recorded"], event["detail-type"]
        expected[day] = exp
    result = stack.invoke("ReportsFunction", {"report": "daily", "date": DAY.isoformat()})
    assert result.get("objects"), result
    path = f"/admin/reports/daily/{DAY.isoformat()}"
    resp = stack.request("GET", path, token=admin.id_token)
    assert resp.status == 200, resp.body
    stored = stack.request("GET", path, query={"format": "json"}, token=admin.id_token)
    assert stored.status == 200, stored.body
    figures = ReportFigures.model_validate_json(stored.body).model_dump(mode="json", by_alias=True)
    week = [totals(expected.get(DAY - timedelta(days=k))) for k in range(7, 0, -1)]
    return {"objects": result["objects"], "figures": figures, "html": resp.body, "expected": expected,
            "day": totals(expected[DAY]), "previous": week[-1],
            "week_sum": {k: sum(d[k] for d in week) for k in week[0]}}


def average_text_is(text: str, total: int, money: bool) -> bool:
    """The page's 7-day average against the independent one: money rounded half-up to the minor unit (read back
    from its text), counts to 2 decimals."""
    if money:
        amount, currency = parse_money(text)
        return currency == "EUR" and amount == int((Decimal(total) / 7).quantize(Decimal(1), ROUND_HALF_UP))
    return float(text) == round(total / 7, 2)


MONEY = {"revenue", "refunds", "net"}


def test_the_report_reads_at_a_glance_in_a_browser(browser, reported):
    figures, exp_day = reported["figures"], reported["day"]
    page = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.set_content(reported["html"])
        page.screenshot(path=str(SHOTS / "daily-report.png"), full_page=True)
        text = page.inner_text("body")
        assert "minor unit" not in page.content().lower() and "minor unit" not in text.lower()

        # first what needs attention: the late parcels (72 h after payment, promised 48) and the stock-out
        late = reported["expected"][DAY]["late"]
        attention = page.locator("#attention")
        assert attention.locator("h2").inner_text() == "Needs attention"
        assert attention.locator("li").all_inner_texts() == [
            f"Shipping promise broken: {late} of {exp_day['parcels_shipped']} parcels shipped later than 48 h "
            "after payment", "Out of stock: 1 level: LOW-A (berlin)"]
        boxes = [page.locator(sel).first.bounding_box() for sel in ("#attention", "#headline", "svg.chart")]
        assert all(boxes) and boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]  # type: ignore[index]

        # each headline figure next to the previous day and the 7-day average, against the generator's counts
        rows = page.locator("#headline tr[data-figure]")
        checked = set()
        for i in range(rows.count()):
            row = rows.nth(i)
            key = row.get_attribute("data-figure")
            assert key is not None
            cells = {c: row.locator(f"td.{c}").inner_text() for c in ("day", "previous", "average")}
            money = key in MONEY
            for cell, want in (("day", exp_day[key]), ("previous", reported["previous"][key])):
                assert (parse_money(cells[cell]) == (want, "EUR")) if money else int(cells[cell]) == want, (key, cell)
            assert average_text_is(cells["average"], reported["week_sum"][key], money), (key, cells)
            checked.add(key)
        assert {"revenue", "net", "refunds", "orders_placed", "orders_paid", "orders_cancelled", "units",
                "parcels_shipped", "parcels_delivered"} <= checked
        assert figures["comparison"]["previous_day"]["date"] == (DAY - timedelta(days=1)).isoformat()
        assert figures["comparison"]["days"][3] == {"date": QUIET.isoformat(), **{
            k: ({"amount": 0, "currency": "EUR"} if k in MONEY else 0) for k in totals(None)}}

        # the charts: axis titles, tick values and bar values are text in the SVG (SVG <text>: its text content)
        hourly = page.locator('svg[aria-label="Revenue by hour"]')
        assert hourly.locator("text.x-title").text_content() == "Hour of the day (Europe/Berlin)"
        assert hourly.locator("text.y-title").text_content() == "Revenue (EUR)"
        assert hourly.locator("text.x-label").all_text_contents() == [f"{h:02d}" for h in range(24)]
        ticks = [parse_money(t) for t in hourly.locator("text.tick").all_text_contents()]
        by_hour = reported["expected"][DAY]["by_hour"]
        assert ticks[0] == (0, "EUR") and ticks[-1][0] >= max(by_hour) and len(ticks) >= 3
        assert [parse_money(t) for t in hourly.locator("text.value").all_text_contents()] == [
            (v, "EUR") for v in by_hour if v]
        week = page.locator("svg.chart").nth(1)
        labels = week.locator("text.x-label").all_text_contents()
        assert labels == [(DAY - timedelta(days=k)).isoformat()[5:] for k in range(7, -1, -1)]
        values = [parse_money(t)[0] for t in week.locator("text.value").all_text_contents()]
        assert values[-1] == exp_day["revenue"] and values[-2] == reported["previous"]["revenue"] and values[3] == 0
        assert (week.locator("text.reference").text_content() or "").startswith("7-day average EUR ")
        parcels = page.locator('svg[aria-label="Parcels shipped per warehouse"]')
        assert parcels.locator("text.y-title").text_content() == "Parcels shipped"
        shipped = dict(zip(parcels.locator("text.x-label").all_text_contents(),
                           map(int, parcels.locator("text.value").all_text_contents()), strict=True))
        assert shipped == {w: c["shipped"] for w, c in reported["expected"][DAY]["wh"].items()}
        for i in range(page.locator("svg.chart").count()):  # drawn, not collapsed
            box = page.locator("svg.chart").nth(i).bounding_box()
            assert box and box["width"] > 300 and box["height"] > 150
    finally:
        page.context.close()


def test_the_email_puts_the_breaches_first(stack, reported):
    """The mail as the local outbox holds it (moto keeps the HTML part of a simple send): the link, then what
    needs attention, then the figures. The link is the console's report view of the day (locally the gateway's
    /console/, written to the stack's console-url parameter as the template writes the CloudFront URL)."""
    [mail] = [m for m in stack.sent_emails() if DAY.isoformat() in (m["subject"] or "")]
    body = mail["body"]
    link = f'<a href="{stack.base_url.rstrip("/")}/console/#/reports?date={DAY.isoformat()}">Full report</a>'
    assert body.index(link) < body.index("Needs attention") < body.index("Shipping promise broken: ")
    assert body.index("Out of stock: 1 level: LOW-A (berlin)") < body.index("At a glance") < body.index("All figures")
    assert "minor unit" not in body


def test_the_console_link_opens_the_report_for_an_admin(stack, browser, reported):
    """The e-mailed link (the console-url parameter: ConsoleUrlParameter on AWS) is the console's report view;
    an admin signed in to the console follows it and sees that day's report."""
    from shop.analytics import service
    from shop.config import function_environment

    with function_environment(stack.function_env("ReportsFunction")):
        link = service.report_url(DAY, {"objects": reported["objects"]})
    assert link == f"{stack.base_url}/console/#/reports?date={DAY.isoformat()}"
    staff = stack.user(groups=("admin",))
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(link)  # clicked in the mail while signed out: the console asks to sign in, then opens the day
        page.fill("#login-email", staff.email)
        page.fill("#login-password", staff.password)
        page.click("#login-submit")
        page.wait_for_selector("#logout")
        assert page.url == link
        frame = page.frame_locator("#report-frame")
        assert f"Fulfillment and performance, {DAY.isoformat()}" in frame.locator("h1").inner_text()
        assert frame.locator("#attention h2").inner_text() == "Needs attention"
        page.screenshot(path=str(SHOTS / "daily-report-console.png"), full_page=True)
    finally:
        page.context.close()
