"""SES feedback read from SNS deliveries (shop.notifications.feedback, pure): which reports suppress which
addresses. The samples are events/notifications_feedback/ (SES's documented record shapes inside SNS's Lambda event)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shop.notifications.feedback import (
    BOUNCE,
    COMPLAINT,
    MalformedFeedback,
    normalize_email,
    parse_record,
    parse_sns_event,
)

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "notifications_feedback"


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def ses_record(name: str) -> dict[str, Any]:
    return json.loads(sample(name)["Records"][0]["Sns"]["Message"])


def test_a_permanent_bounce_suppresses_each_bounced_recipient():
    (found,) = parse_sns_event(sample("bounce_permanent"))
    record = ses_record("bounce_permanent")
    assert found.event_type == "Bounce"
    (s,) = found.suppressions
    assert (s.email, s.reason, s.detail) == ("gone@shopper.example", BOUNCE, "Permanent/General")
    assert s.feedback_id == record["bounce"]["feedbackId"]
    assert s.ses_message_id == record["mail"]["messageId"]
    assert s.at == record["bounce"]["timestamp"]


def test_a_complaint_suppresses_the_complaining_recipient():
    (found,) = parse_sns_event(sample("complaint"))
    (s,) = found.suppressions
    assert (s.email, s.reason, s.detail) == ("annoyed@shopper.example", COMPLAINT, "abuse")


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined", ""])
def test_a_bounce_that_is_not_permanent_suppresses_nothing(bounce_type):
    record = ses_record("bounce_transient")
    record["bounce"]["bounceType"] = bounce_type
    found = parse_record(record)
    assert found.suppressions == ()
    assert "bounce" in found.ignored


def test_a_not_spam_report_suppresses_nothing():
    record = ses_record("complaint")
    record["complaint"]["complaintFeedbackType"] = "not-spam"
    assert parse_record(record).suppressions == ()


def test_identity_notifications_name_the_type_notification_type():
    record = ses_record("bounce_permanent")
    record["notificationType"] = record.pop("eventType")
    assert [s.email for s in parse_record(record).suppressions] == ["gone@shopper.example"]


@pytest.mark.parametrize("event_type", ["Delivery", "Send", "Open", "Reject", None])
def test_other_events_suppress_nothing(event_type):
    record = ses_record("complaint")
    record["eventType"] = event_type
    found = parse_record(record)
    assert found.suppressions == () and found.ignored


def test_recipients_are_normalized_and_deduplicated():
    record = ses_record("bounce_permanent")
    record["bounce"]["bouncedRecipients"] = [
        {"emailAddress": "Gone Shopper <Gone@Shopper.Example>"}, {"emailAddress": " gone@shopper.example "},
        {"emailAddress": "not an address"}, "junk", {"status": "5.1.1"}]
    assert [s.email for s in parse_record(record).suppressions] == ["gone@shopper.example"]
    assert normalize_email("  A@B.example ") == "a@b.example"


@pytest.mark.parametrize("event", [{}, {"Records": []}, {"Records": [{"Sns": {}}]},
                                   {"Records": [{"Sns": {"Message": "not json"}}]},
                                   {"Records": [{"Sns": {"Message": "[1, 2]"}}]}, {"detail-type": "OrderPaid"}])
def test_a_delivery_that_is_not_ses_feedback_is_malformed(event):
    with pytest.raises(MalformedFeedback):
        parse_sns_event(event)


def test_every_sample_is_an_sns_delivery_of_one_ses_event():
    for path in sorted(SAMPLES.glob("*.json")):
        event = json.loads(path.read_text())
        (rec,) = event["Records"]
        assert rec["EventSource"] == "aws:sns" and rec["Sns"]["Type"] == "Notification", path.name
        body = json.loads(rec["Sns"]["Message"])
        assert body["eventType"] in ("Bounce", "Complaint") and body["mail"]["messageId"], path.name
