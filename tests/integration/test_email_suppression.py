"""The suppression list against moto: SES's bounce and complaint events (SNS deliveries to EmailFeedbackFunction)
put an address on it once however often they are delivered, a transient bounce puts nothing there, and
NotificationsFunction sends no mail to a listed shopper (moto SES's outbox), while others are mailed as before.

Every test rewrites the samples in events/notifications_feedback/ (and events/notifications/) with its own addresses, so
tests sharing the stack (its NotificationsTable and SES outbox) do not see each other's records and mail.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from shop.notifications.feedback import MalformedFeedback
from shop.observability import Observability

from shoplocal.stack import ROOT
from tests.integration.test_notifications import fresh_event, mails_to

pytestmark = pytest.mark.integration

FEEDBACK = "EmailFeedbackFunction"
NOTIFICATIONS = "NotificationsFunction"
SAMPLES = ROOT / "events" / "notifications_feedback"
SAMPLE_RECIPIENT = {"bounce_permanent": "gone@shopper.example", "bounce_transient": "full@shopper.example",
                    "complaint": "annoyed@shopper.example"}


def feedback_event(name: str, recipient: str) -> dict[str, Any]:
    """A sample SNS delivery of an SES event with its recipient replaced everywhere (the SES record is the SNS
    message, a JSON string: replaced inside it too)."""
    return json.loads((SAMPLES / f"{name}.json").read_text().replace(SAMPLE_RECIPIENT[name], recipient))


def new_address(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}@shopper.example"


def suppression_records(stack: Any, address: str) -> list[dict[str, Any]]:
    """Every item of NotificationsTable that names the address (a scan: records under any key count)."""
    ddb = stack.client("dynamodb")
    table = stack.physical_id("NotificationsTable")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "FilterExpression": "email = :e",
                              "ExpressionAttributeValues": {":e": {"S": address}}}
    while True:
        page = ddb.scan(**kwargs)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_a_bounce_and_a_complaint_delivered_twice_are_recorded_once_each(stack):
    bounced, complained = new_address("gone"), new_address("annoyed")
    bounce, complaint = feedback_event("bounce_permanent", bounced), feedback_event("complaint", complained)

    first = [stack.invoke(FEEDBACK, bounce), stack.invoke(FEEDBACK, complaint)]
    again = [stack.invoke(FEEDBACK, bounce), stack.invoke(FEEDBACK, complaint)]  # SNS redelivers

    assert [r["suppressed"] for r in first] == [[bounced], [complained]]
    assert [r["already"] for r in again] == [[bounced], [complained]]
    assert [r["suppressed"] for r in again] == [[], []]
    (bounce_record,) = suppression_records(stack, bounced)
    (complaint_record,) = suppression_records(stack, complained)
    assert bounce_record["reason"]["S"] == "bounce" and bounce_record["detail"]["S"] == "Permanent/General"
    assert complaint_record["reason"]["S"] == "complaint" and complaint_record["detail"]["S"] == "abuse"
    ses = json.loads(bounce["Records"][0]["Sns"]["Message"])
    assert bounce_record["feedback_id"]["S"] == ses["bounce"]["feedbackId"]
    assert bounce_record["ses_message_id"]["S"] == ses["mail"]["messageId"]


def test_a_transient_bounce_suppresses_nothing(stack):
    full = new_address("full")

    result = stack.invoke(FEEDBACK, feedback_event("bounce_transient", full))

    assert result["suppressed"] == [] and result["already"] == []
    assert "Transient" in result["ignored"][0]
    assert suppression_records(stack, full) == []
    event = fresh_event("shipment_packed")
    event["detail"]["email"] = full
    assert stack.invoke(NOTIFICATIONS, event)["sent"] is True
    assert len(mails_to(stack, full)) == 1


def test_a_suppressed_shopper_gets_no_order_mail_and_another_shopper_does(stack, monkeypatch):
    listed, other = new_address("gone"), new_address("fine")
    stack.invoke(FEEDBACK, feedback_event("bounce_permanent", listed))
    to_listed, to_other = fresh_event("order_paid"), fresh_event("order_paid")
    # the address as the shop stored it may differ in case from SES's report
    to_listed["detail"]["email"] = listed.upper()
    to_other["detail"]["email"] = other
    counted: list[tuple[str, str]] = []  # the local stack disables metric output: the counts are watched here
    real_count = Observability.count
    monkeypatch.setattr(Observability, "count", lambda self, name, value=1: (
        counted.append((self.service, name)), real_count(self, name, value))[-1])

    skipped = stack.invoke(NOTIFICATIONS, to_listed)
    suppressed_counts = counted.count(("notifications", "EmailSuppressed"))
    sent = stack.invoke(NOTIFICATIONS, to_other)

    assert skipped["sent"] is False and skipped["suppressed"] is True  # an answer, not an error
    # (other tests' asynchronous deliveries may count too, but none of them is suppressed)
    assert suppressed_counts == 1 and counted.count(("notifications", "EmailSuppressed")) == 1
    assert mails_to(stack, listed) == [] and mails_to(stack, listed.upper()) == []
    assert sent["sent"] is True
    (mail,) = mails_to(stack, other)
    assert to_other["detail"]["order_id"] in mail["subject"]


def test_a_complaining_shopper_gets_no_mail_and_a_redelivered_event_still_sends_nothing(stack):
    annoyed = new_address("annoyed")
    stack.invoke(FEEDBACK, feedback_event("complaint", annoyed))
    event = fresh_event("shipment_delivered")
    event["detail"]["email"] = annoyed

    assert stack.invoke(NOTIFICATIONS, event)["suppressed"] is True
    assert stack.invoke(NOTIFICATIONS, {**event, "id": str(uuid.uuid4())})["suppressed"] is True
    assert mails_to(stack, annoyed) == []


def test_the_functions_send_with_the_stacks_configuration_set(stack):
    name = stack.physical_id("EmailConfigurationSet")
    for function in (NOTIFICATIONS, "ReportsFunction"):
        assert stack.function_env(function)["EMAIL_CONFIGURATION_SET"] == name
    described = stack.client("ses").describe_configuration_set(ConfigurationSetName=name)
    assert described["ConfigurationSet"]["Name"] == name


def test_a_delivery_that_is_not_ses_feedback_fails(stack):
    with pytest.raises(MalformedFeedback):
        stack.invoke(FEEDBACK, {"Records": [{"Sns": {"Message": "not json"}}]})
    with pytest.raises(MalformedFeedback):
        stack.invoke(FEEDBACK, {"detail-type": "OrderPaid"})
