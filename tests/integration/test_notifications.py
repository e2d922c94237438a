"""NotificationsFunction against moto: each emailed domain event sends exactly one email (SES) to the shopper,
a redelivered event sends nothing more, a concurrent duplicate is told to retry, and events that notify no one
send nothing.

Every test rewrites a sample event from events/notifications/ with its own order id, dedupe_key and
recipient, so tests sharing the stack (and its idempotency table and SES outbox) do not see each other's mail.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pydantic import ValidationError
from shop.errors import ServiceBusy
from shop.notifications import mailer
from shop.notifications.templates import render

from shoplocal.stack import ROOT

pytestmark = pytest.mark.integration

FUNCTION = "NotificationsFunction"
SAMPLES = sorted((ROOT / "events" / "notifications").glob("*.json"))


def new_order_id() -> str:
    return "ord_" + base64.b32encode(uuid.uuid4().bytes).decode().rstrip("=").lower()


def fresh_event(name: str = "order_paid", detail_type: str | None = None) -> dict[str, Any]:
    """A sample event for a new order (its id replaced everywhere: order, shipment ids, dedupe_key) with its
    own recipient; ``detail_type`` relabels it (and its dedupe_key) as another type."""
    text = (ROOT / "events" / "notifications" / f"{name}.json").read_text()
    sample_order = json.loads(text)["detail"]["order_id"]
    event = json.loads(text.replace(sample_order.removeprefix("ord_"), new_order_id().removeprefix("ord_")))
    detail = event["detail"]
    if detail_type is not None:
        detail["dedupe_key"] = ":".join([detail_type, *detail["dedupe_key"].split(":")[1:]])
        event["detail-type"] = detail_type
    detail["email"] = f"shopper-{uuid.uuid4().hex[:12]}@example.com"
    event["id"] = str(uuid.uuid4())
    return event


def mails_to(stack: Any, recipient: str) -> list[dict[str, Any]]:
    return [m for m in stack.sent_emails() if recipient in m["destinations"]]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_each_emailed_event_sends_one_email_to_the_shopper(stack, sample):
    event = fresh_event(sample.stem)
    detail = event["detail"]
    expected = render(event["detail-type"], detail)
    assert expected is not None

    result = stack.invoke(FUNCTION, event)

    assert result["sent"] is True
    assert result["dedupe_key"] == detail["dedupe_key"]
    assert result["message_id"]
    mails = mails_to(stack, detail["email"])
    assert len(mails) == 1
    mail = mails[0]
    assert mail["destinations"] == [detail["email"]]
    assert mail["subject"] == expected.subject
    assert detail["order_id"] in mail["subject"]
    assert mail["source"] == stack.function_env(FUNCTION)["SENDER_EMAIL"]
    assert detail["order_id"] in mail["body"]


def test_a_redelivered_event_sends_no_second_email(stack):
    event = fresh_event("shipment_packed")
    recipient = event["detail"]["email"]

    first = stack.invoke(FUNCTION, event)
    again = stack.invoke(FUNCTION, {**event, "id": str(uuid.uuid4())})  # EventBridge redelivery / republish

    assert first["sent"] is True
    assert again["replayed"] is True
    assert again["message_id"] == first["message_id"]
    mails = mails_to(stack, recipient)
    assert len(mails) == 1
    assert event["detail"]["tracking_number"] in mails[0]["subject"]


def test_another_fact_of_the_same_order_is_mailed_separately(stack):
    packed = fresh_event("shipment_packed")
    second_parcel = json.loads(json.dumps(packed))
    order_id = packed["detail"]["order_id"]
    second_parcel["detail"]["shipment_id"] = shipment_id = f"shp_{order_id.removeprefix('ord_')}_2"
    second_parcel["detail"]["dedupe_key"] = f"ShipmentPacked:{order_id}:{shipment_id}"

    assert stack.invoke(FUNCTION, packed)["sent"] is True
    assert stack.invoke(FUNCTION, second_parcel)["sent"] is True

    assert len(mails_to(stack, packed["detail"]["email"])) == 2


def test_a_concurrent_duplicate_is_retried_later_not_sent_twice(stack, monkeypatch):
    event = fresh_event("order_paid")
    recipient = event["detail"]["email"]
    in_send, release = threading.Event(), threading.Event()
    real_send = mailer.send

    def slow_send(to, email):
        in_send.set()
        release.wait(10)
        return real_send(to, email)

    monkeypatch.setattr(mailer, "send", slow_send)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(stack.invoke, FUNCTION, event)
        try:
            assert in_send.wait(10), "the first delivery never reached the mailer"
            with pytest.raises(ServiceBusy):
                stack.invoke(FUNCTION, event)  # the first one holds the IN_PROGRESS record
            assert mails_to(stack, recipient) == []
        finally:
            release.set()
        assert first.result(timeout=20)["sent"] is True

    assert stack.invoke(FUNCTION, event)["replayed"] is True  # EventBridge's retry of the busy one
    assert len(mails_to(stack, recipient)) == 1


def test_a_failed_send_is_not_remembered_so_the_retry_sends(stack, monkeypatch):
    event = fresh_event("refund_issued")
    recipient = event["detail"]["email"]
    real_send = mailer.send
    calls = []

    def failing_once(to, email):
        calls.append(to)
        if len(calls) == 1:
            raise ServiceBusy("email send: the mail service is busy, retry shortly")
        return real_send(to, email)

    monkeypatch.setattr(mailer, "send", failing_once)
    with pytest.raises(ServiceBusy):
        stack.invoke(FUNCTION, event)
    assert mails_to(stack, recipient) == []

    assert stack.invoke(FUNCTION, event)["sent"] is True
    assert len(calls) == 2
    assert len(mails_to(stack, recipient)) == 1


@pytest.mark.parametrize("detail_type", ["OrderPlaced", "OrderSplit", "ShipmentShipped", "ShipmentInTransit",
                                         "OrderDelivered"])
def test_event_types_without_an_email_send_nothing(stack, detail_type):
    event = fresh_event("order_paid", detail_type=detail_type)

    result = stack.invoke(FUNCTION, event)

    assert result["sent"] is False
    assert detail_type in result["reason"]
    assert mails_to(stack, event["detail"]["email"]) == []


def test_an_event_without_an_address_sends_nothing(stack):
    event = fresh_event("order_paid")
    event["detail"]["email"] = None
    order_id = event["detail"]["order_id"]

    result = stack.invoke(FUNCTION, event)

    assert result["sent"] is False
    assert "address" in result["reason"]
    assert [m for m in stack.sent_emails() if order_id in (m["subject"] or "")] == []


@pytest.mark.parametrize("breakage", ["no_dedupe_key", "no_order_id", "bad_order_id", "detail_not_object",
                                      "no_detail_type"])
def test_a_malformed_event_is_rejected_and_sends_nothing(stack, breakage):
    event = fresh_event("order_paid")
    recipient = event["detail"]["email"]
    if breakage == "no_dedupe_key":
        del event["detail"]["dedupe_key"]
    elif breakage == "no_order_id":
        del event["detail"]["order_id"]
    elif breakage == "bad_order_id":
        event["detail"]["order_id"] = "not an order"
    elif breakage == "detail_not_object":
        event["detail"] = json.dumps(event["detail"])
    else:
        del event["detail-type"]

    with pytest.raises(ValidationError):
        stack.invoke(FUNCTION, event)
    assert mails_to(stack, recipient) == []
