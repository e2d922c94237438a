"""E-mails and the daily report rendered from Jinja2 templates (issue 13): escaping in HTML only, strict
variables, the one money formatter, templates found beside their modules, the environment built lazily."""

from __future__ import annotations

import copy
import csv
import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jinja2 import UndefinedError
from shop import rendering
from shop.analytics import report
from shop.analytics import service as analytics_service
from shop.notifications import mailer, suppressions, templates
from shop.notifications.templates import EMAILED_DETAIL_TYPES, render

from shoplocal.stack import ROOT

pytestmark = pytest.mark.unit

SAMPLES = ROOT / "events" / "notifications"
SHOP = ROOT / "layers" / "shop"
EVIL = '<script>alert("x")</script>'


def sample(detail_type: str) -> dict[str, Any]:
    for path in SAMPLES.glob("*.json"):
        event = json.loads(path.read_text())
        if event["detail-type"] == detail_type:
            return copy.deepcopy(event["detail"])
    raise AssertionError(f"no sample for {detail_type}")


def figures(currency: str = "EUR", **changes: Any) -> dict[str, Any]:
    paid = {"kind": "paid", "order_id": "ord_1", "at": "2026-03-10T09:15:00Z", "units": 2,
            "total": {"amount": 4980, "currency": currency},
            "lines": [{"sku": EVIL, "product_id": "p1", "quantity": 2, "amount": 4980}]}
    r = report.compute(date(2026, 3, 10), [paid], [], {"p1": f"mugs {EVIL}"}, currency=currency,
                       tz=ZoneInfo("Europe/Berlin"), promised_ship_hours=48)
    r.update(changes)
    return r


# ------------------------------------------------------------------------------------------ e-mail escaping
def test_a_hostile_product_name_is_escaped_in_html_and_verbatim_in_text():
    detail = sample("OrderPaid")
    detail["lines"][0]["name"] = EVIL
    email = render("OrderPaid", detail)
    assert email is not None
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in email.html  # in the items table (a macro)
    assert EVIL in email.text
    assert "&lt;" not in email.text and "&quot;" not in email.text  # plain text is never HTML-escaped


@pytest.mark.parametrize("detail_type", sorted(EMAILED_DETAIL_TYPES))
def test_every_string_field_of_every_email_is_escaped_in_html(detail_type):
    detail = sample(detail_type)
    for key, value in list(detail.items()):
        if isinstance(value, str) and key not in ("order_id", "dedupe_key", "occurred_at"):
            detail[key] = f"{value} {EVIL}"
    for item in [*detail.get("lines", []), *detail.get("items", [])]:
        item["name"] = EVIL
    if isinstance(detail.get("shipping_address"), dict):
        detail["shipping_address"] = {k: f"{EVIL}{v or ''}" for k, v in detail["shipping_address"].items()}
    email = render(detail_type, detail)
    assert email is not None
    assert "<script" not in email.html
    # what the HTML shows escaped, the text shows verbatim (OrderCancelled shows no free text: reasons are codes)
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in email.html
    assert escaped == (EVIL in email.text)
    assert escaped or detail_type == "OrderCancelled"


def test_markup_of_the_templates_themselves_is_not_escaped():
    email = render("OrderPaid", sample("OrderPaid"))
    assert email is not None
    assert '<table cellpadding="4"><thead><tr><th align="left">Item</th>' in email.html
    assert "<p><strong>Shipping to</strong><br>Erika Mustermann<br>" in email.html
    assert "&lt;table" not in email.html and "&lt;p" not in email.html


# --------------------------------------------------------------------------------------- the environment
def test_html_templates_autoescape_and_text_templates_do_not():
    env = templates._env()
    env.get_template("order_paid.html.j2")  # compiles
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"  # strings default to escaped
    html_ctx = env.get_template("_blocks.html.j2").new_context({})
    text_ctx = env.get_template("_blocks.txt.j2").new_context({})
    assert html_ctx.eval_ctx.autoescape is True
    assert text_ctx.eval_ctx.autoescape is False


def test_a_missing_variable_is_an_error_not_a_blank():
    with pytest.raises(UndefinedError):
        templates._env().get_template("order_cancelled.txt.j2").render(order_id="ord_1", name="", why="")


def test_the_money_filter_is_the_one_formatter():
    env = report._env()
    assert env.from_string("{{ m|money }}").render(m={"amount": -12345, "currency": "EUR"}) == "EUR -123.45"
    assert env.from_string("{{ m|money }}").render(m={"amount": 1234, "currency": "JPY"}) == "JPY 1234"
    assert env.from_string("{{ m|money('n/a') }}").render(m={"amount": 1.5, "currency": "EUR"}) == "n/a"
    assert rendering.money_text({"amount": 5, "currency": "KWD"}) == "KWD 0.005"


def test_environments_are_built_once_and_find_every_template_beside_their_module():
    assert templates._env() is templates._env()
    assert report._env() is report._env()
    for module, env in ((templates, templates._env()), (report, report._env())):
        folder = Path(str(module.__file__)).parent / "templates"
        names = sorted(p.name for p in folder.glob("*.j2"))
        assert names, folder
        assert sorted(env.list_templates()) == names
        for name in names:
            env.get_template(name)  # every template compiles
    shipped = {p.name for p in (SHOP / "shop" / "notifications" / "templates").glob("*.j2")}
    assert {f"{stem}.{kind}.j2" for stem in ("order_paid", "payment_failed", "shipment_packed", "shipment_exception",
                                             "shipment_delivered", "order_cancelled", "refund_issued",
                                             "ticket_answered") for kind in ("txt", "html")} <= shipped


def test_importing_the_rendering_modules_does_not_import_jinja2():
    code = ("import sys; import shop.notifications.templates, shop.notifications.mailer, shop.analytics.report; "
            "assert 'jinja2' not in sys.modules, 'jinja2 imported at import time'")
    done = subprocess.run([sys.executable, "-c", code], cwd=SHOP, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr


# -------------------------------------------------------------------------------------------- the report
def test_the_report_shows_a_negative_net_and_escapes_skus_and_categories():
    r = figures(net={"amount": -12345, "currency": "EUR"})
    html = report.to_html(r)
    assert "<tr><th>Net</th><td>EUR -123.45</td></tr>" in html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html  # top SKU and top category
    # issue 16: the chart's money is in major units with the currency ("EUR minor units" was the old caption)
    assert "<svg" in html and "Revenue by hour" in html and "minor units" not in html
    text = report.email_text(r, "https://reports.example/2026-03-10.html")
    assert "Net: EUR -123.45" in text
    assert text.endswith("Full report (HTML, JSON, CSV): https://reports.example/2026-03-10.html")


def test_the_report_formats_currencies_without_and_with_three_decimals():
    assert "<tr><th>Revenue</th><td>JPY 4980</td></tr>" in report.to_html(figures("JPY"))
    assert "Revenue: KWD 4.980" in report.email_text(figures("KWD"), "https://x")
    rows = list(csv.reader(io.StringIO(report.to_csv(figures("JPY")))))
    assert ["top_category", f"mugs {EVIL}", "JPY 4980"] in rows
    assert ["summary", "Net", "JPY 4980"] in rows


def test_the_report_email_subject_shows_a_negative_net_unfloored(monkeypatch):
    r = figures(net={"amount": -12345, "currency": "EUR"})
    sent: list[Any] = []
    monkeypatch.setattr(analytics_service, "get_settings", lambda: SimpleNamespace(management_emails="m@example.com"))
    monkeypatch.setattr(analytics_service.repo, "claim_email", lambda day, at: True)
    monkeypatch.setattr(analytics_service.repo, "link", lambda key: f"https://reports.example/{key}")
    monkeypatch.setattr(analytics_service.repo, "emailed", lambda day, message_id: None)
    monkeypatch.setattr(suppressions, "is_suppressed", lambda address: False)

    def send(to: str, email: Any) -> str:
        sent.append(email)
        return "msg-1"

    monkeypatch.setattr(mailer, "send", send)
    analytics_service._email_once(date(2026, 3, 10), {"figures": json.dumps(r), "objects": {"html": "r.html"}})
    assert [e.subject for e in sent] == ["Daily fulfillment report 2026-03-10: 1 orders paid, net EUR -123.45"]
    assert "Net: EUR -123.45" in sent[0].text
    assert '<p><a href="https://reports.example/r.html">Full report</a></p>' in sent[0].html
