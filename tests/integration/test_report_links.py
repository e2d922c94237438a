"""The daily report's e-mailed link (issue 14): it opens the staff console's report view of the day, which shows
the stored report through the admin API (GET /admin/reports/daily/{date}) for as long as it is kept, instead of a
presigned S3 URL that dies with the function's temporary credentials; and the management list respects the
e-mail suppression list."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
import requests
from shop.analytics.contracts import ReportFigures

pytestmark = pytest.mark.integration

DAY = date(2026, 4, 2)  # days of their own: tests/integration/test_reports.py uses March


def mails_about(stack: Any, day: date) -> list[dict[str, Any]]:
    return [m for m in stack.sent_emails() if day.isoformat() in (m["subject"] or "")]


def links(body: str) -> list[str]:
    """The mail's links (not the SVG chart's XML namespace)."""
    return [u for u in re.findall(r"""https?://[^"'\s<>]+""", body) if "www.w3.org" not in u]


@pytest.fixture(scope="module")
def emailed(stack: Any) -> dict[str, Any]:
    result = stack.invoke("ReportsFunction", {"report": "daily", "date": DAY.isoformat()})
    assert result["emailed"], result
    [mail] = mails_about(stack, DAY)
    return mail


def test_the_email_links_to_the_consoles_report_view_of_the_stack(stack, emailed):
    url = f"{stack.base_url.rstrip('/')}/console/#/reports?date={DAY.isoformat()}"
    assert links(emailed["body"]) == [url], links(emailed["body"])  # the one link: "Full report"
    assert "X-Amz-Signature" not in emailed["body"] and "X-Amz-Credential" not in emailed["body"]
    [link] = links(emailed["body"])
    page = requests.get(link.split("#", 1)[0], timeout=30)  # what a browser fetches (the fragment stays local)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")


def test_the_api_answers_the_stored_html_to_an_admin(stack, admin, emailed):
    link = f"{stack.base_url.rstrip('/')}/admin/reports/daily/{DAY.isoformat()}"  # what the console's view reads
    resp = requests.get(link, headers={"Authorization": f"Bearer {admin.id_token}"}, timeout=30)
    assert resp.status_code == 200, resp.text[:500]
    assert resp.headers["Content-Type"].startswith("text/html")
    assert DAY.isoformat() in resp.text and "<svg" in resp.text and "Orders paid" in resp.text
    assert requests.get(link, timeout=30).status_code == 401  # no token: the authorizer refuses


def test_the_stored_report_in_csv_and_json(stack, admin, emailed):
    path = f"/admin/reports/daily/{DAY.isoformat()}"
    as_csv = stack.request("GET", path, query={"format": "csv"}, token=admin.id_token)
    assert as_csv.status == 200 and as_csv.header("Content-Type").startswith("text/csv")
    assert "Orders paid" in as_csv.body
    as_json = stack.request("GET", path, query={"format": "json"}, token=admin.id_token)
    assert as_json.status == 200 and as_json.header("Content-Type").startswith("application/json")
    assert json.loads(as_json.body)["date"] == DAY.isoformat()
    ReportFigures.model_validate_json(as_json.body)  # the schema docs/openapi.json publishes for format=json
    assert stack.request("GET", path, query={"format": "pdf"}, token=admin.id_token).status == 422


def test_a_shopper_gets_403_and_a_day_without_a_report_404(stack, admin, emailed):
    path = f"/admin/reports/daily/{DAY.isoformat()}"
    assert stack.request("GET", path, token=stack.user().id_token).status == 403
    missing = stack.request("GET", "/admin/reports/daily/2020-01-01", token=admin.id_token)
    assert missing.status == 404, missing.body
    assert missing.json()["error"]["code"] == "not_found"
    assert stack.request("GET", "/admin/reports/daily/yesterday", token=admin.id_token).status == 422


def test_the_report_skips_a_suppressed_management_address(stack):
    from shop.analytics import service
    from shop.config import function_environment
    from shop.notifications import suppressions
    from shop.notifications.feedback import Suppression

    day = date(2026, 4, 3)
    env = {**stack.function_env("ReportsFunction"), "MANAGEMENT_EMAILS": "ops@example.com, Bounced@Example.com"}
    with function_environment(env):
        suppressions.add(Suppression(email="bounced@example.com", reason="bounce", detail="Permanent/General",
                                     feedback_id="fb-1", ses_message_id="m-1", at="2026-04-03T00:00:00Z"),
                         "2026-04-03T00:00:00Z")
        try:
            result = service.daily_report(day)
        finally:
            ddb = stack.client("dynamodb")
            ddb.delete_item(TableName=env["NOTIFICATIONS_TABLE"], Key=suppressions.key("bounced@example.com"))
    assert result["emailed"]
    [mail] = mails_about(stack, day)
    assert mail["destinations"] == ["ops@example.com"]


def test_a_report_whose_whole_list_is_suppressed_is_not_sent(stack):
    from shop.analytics import service
    from shop.config import function_environment
    from shop.notifications import suppressions
    from shop.notifications.feedback import Suppression

    day = date(2026, 4, 4)
    env = {**stack.function_env("ReportsFunction"), "MANAGEMENT_EMAILS": "gone@example.com"}
    with function_environment(env):
        suppressions.add(Suppression(email="gone@example.com", reason="complaint", detail="abuse",
                                     feedback_id="fb-2", ses_message_id="m-2", at="2026-04-04T00:00:00Z"),
                         "2026-04-04T00:00:00Z")
        try:
            result = service.daily_report(day)
        finally:
            stack.client("dynamodb").delete_item(TableName=env["NOTIFICATIONS_TABLE"],
                                                 Key=suppressions.key("gone@example.com"))
    assert result["emailed"] is False and mails_about(stack, day) == []
    assert result["objects"]["html"].endswith(f"{day.isoformat()}/report.html")  # stored all the same


def test_the_sample_event_of_the_stored_report_route(stack, emailed):
    """events/analytics_reports/stored_report.json (`make invoke`), pointed at the day reported above."""
    from shoplocal.stack import ROOT

    event = json.loads((ROOT / "events" / "analytics_reports" / "stored_report.json").read_text())
    event["pathParameters"]["date"] = DAY.isoformat()
    event["path"] = f"/admin/reports/daily/{DAY.isoformat()}"
    answer = stack.invoke("ReportsFunction", event)
    assert answer["statusCode"] == 200, answer
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    headers.update({k.lower(): v[0] for k, v in (answer.get("multiValueHeaders") or {}).items() if v})
    assert headers["content-type"].startswith("text/html") and DAY.isoformat() in answer["body"]
