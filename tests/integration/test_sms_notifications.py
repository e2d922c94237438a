"""SMS next to e-mail against moto: a shopper chooses channels through GET/PUT /account/notifications (a bad
number is a 422 naming body.phone), and the order confirmation, shipped and delivered events text an opted-in
shopper once each, however often they are delivered; a shopper without SMS, with SMS removed, or whose number
replied STOP gets no text; the e-mails go on as before (only the shipped and delivered updates follow the choice).

Texts are read from moto SNS's record of published SMS (``stack.sent_sms()``, the local outbox). Every test uses
its own shopper and number, so tests sharing the stack do not see each other's texts.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from typing import Any

import pytest
import requests

from shoplocal.stack import ROOT
from tests.factories import checkout, make_product, ok, put_in_cart, wait_for, wait_status

pytestmark = [pytest.mark.integration, pytest.mark.audited]  # the invariant audit runs around each test

FUNCTION = "NotificationsFunction"
ROUTE = "/account/notifications"
TEXTED = {"OrderPaid": "order_paid", "ShipmentPacked": "shipment_packed", "ShipmentDelivered": "shipment_delivered"}


def new_phone(opted_out: bool = False) -> str:
    """A German mobile number of its own; moto's SNS reports numbers ending in 99 as opted out (STOP)."""
    digits = f"{random.randrange(10**8):08d}"
    return "+49151" + (digits[:6] + "99" if opted_out else digits[:7] + "1")


def event_for(name: str, customer_id: str) -> dict[str, Any]:
    """A sample event of events/notifications/ for a new order of this shopper, with its own address."""
    text = (ROOT / "events" / "notifications" / f"{name}.json").read_text()
    sample_order = json.loads(text)["detail"]["order_id"]
    order = "ord_" + base64.b32encode(uuid.uuid4().bytes).decode().rstrip("=").lower()
    event = json.loads(text.replace(sample_order.removeprefix("ord_"), order.removeprefix("ord_")))
    event["detail"].update(customer_id=customer_id, email=f"shopper-{uuid.uuid4().hex[:12]}@example.com")
    event["id"] = str(uuid.uuid4())
    return event


def texts_to(stack: Any, phone: str) -> list[str]:
    return [m["message"] for m in stack.sent_sms() if m["phone_number"] == phone]


def mails_to(stack: Any, address: str) -> list[dict[str, Any]]:
    return [m for m in stack.sent_emails() if address in m["destinations"]]


def choose(stack: Any, token: str, body: dict[str, Any], status: int = 200) -> Any:
    return ok(stack.request("PUT", ROUTE, token=token, json=body), status)


# ------------------------------------------------------------------------------------------------ the route
def test_a_shopper_sees_email_only_until_choosing_and_then_the_choice(stack):
    shopper = stack.user()
    assert ok(stack.request("GET", ROUTE, token=shopper.id_token)) == {
        "channels": ["email"], "phone": None, "sms_stopped": False, "updated_at": None}
    phone = new_phone()
    spaced = f"{phone[:3]} {phone[3:6]} {phone[6:]}"
    saved = choose(stack, shopper.id_token, {"channels": ["sms", "email"], "phone": spaced})
    assert (saved["channels"], saved["phone"], saved["sms_stopped"]) == (["email", "sms"], phone, False)
    assert saved["updated_at"]
    assert ok(stack.request("GET", ROUTE, token=shopper.id_token)) == saved
    # another shopper's choice is their own
    assert ok(stack.request("GET", ROUTE, token=stack.user().id_token))["channels"] == ["email"]


@pytest.mark.parametrize(("body", "field"), [
    ({"channels": ["sms"], "phone": "015112345678"}, "body.phone"),  # no country code
    ({"channels": ["sms"], "phone": "+49 151 abc"}, "body.phone"),
    ({"channels": ["sms"]}, "body.phone"),  # sms without a number
    ({"channels": []}, "body.channels"),
    ({"channels": ["email", "pigeon"]}, "body.channels.1"),
])
def test_a_bad_choice_is_a_422_naming_the_field_and_stores_nothing(stack, body, field):
    shopper = stack.user()
    refused = choose(stack, shopper.id_token, body, 422)
    assert field in [f["field"] for f in refused["error"]["details"]["fields"]], refused
    assert ok(stack.request("GET", ROUTE, token=shopper.id_token))["updated_at"] is None


def test_the_route_needs_a_signed_in_shopper(stack):
    assert stack.request("GET", ROUTE).status == 401
    assert stack.request("PUT", ROUTE, json={"channels": ["email"]}).status == 401


# ------------------------------------------------------------------------------------------------ the texts
@pytest.mark.parametrize("detail_type", sorted(TEXTED))
def test_an_opted_in_shopper_gets_one_text_per_event_even_when_it_is_delivered_twice(stack, detail_type):
    shopper, phone = stack.user(), new_phone()
    choose(stack, shopper.id_token, {"channels": ["email", "sms"], "phone": phone})
    event = event_for(TEXTED[detail_type], shopper.user_id)
    order_id, address = event["detail"]["order_id"], event["detail"]["email"]

    first = stack.invoke(FUNCTION, event)
    again = stack.invoke(FUNCTION, {**event, "id": str(uuid.uuid4())})  # EventBridge delivers it again

    assert first["sms"]["sent"] is True and first["sms"]["message_id"]
    assert again["sms"]["replayed"] is True
    [text] = texts_to(stack, phone)
    assert text.startswith(f"Serverless Shop: order {order_id} ")
    assert len(text) <= 160
    expected = {"OrderPaid": "is confirmed, total EUR ", "ShipmentPacked": "has shipped with DHL. Tracking number ",
                "ShipmentDelivered": "was delivered"}[detail_type]
    assert expected in text
    assert len(mails_to(stack, address)) == 1  # the e-mail too, once


@pytest.mark.parametrize("channels", [None, ["email"]])
def test_a_shopper_without_sms_gets_no_text_and_the_emails_as_before(stack, channels):
    shopper, phone = stack.user(), new_phone()
    if channels:  # SMS chosen, then removed again: the number is kept but gets nothing
        choose(stack, shopper.id_token, {"channels": ["email", "sms"], "phone": phone})
        choose(stack, shopper.id_token, {"channels": channels, "phone": phone})
    before = len(stack.sent_sms())
    for name in TEXTED.values():
        event = event_for(name, shopper.user_id)
        result = stack.invoke(FUNCTION, event)
        assert result["sent"] is True
        assert result["sms"] == {"sent": False, "reason": "the shopper did not choose SMS"}
        assert len(mails_to(stack, event["detail"]["email"])) == 1
    assert texts_to(stack, phone) == []
    assert len(stack.sent_sms()) == before


def test_a_number_that_replied_stop_never_gets_a_text_and_the_stop_is_shown(stack):
    shopper, phone = stack.user(), new_phone(opted_out=True)
    choose(stack, shopper.id_token, {"channels": ["email", "sms"], "phone": phone})
    first = stack.invoke(FUNCTION, event_for("order_paid", shopper.user_id))
    assert first["sms"]["opted_out"] is True and first["sent"] is True  # the e-mail still goes
    assert ok(stack.request("GET", ROUTE, token=shopper.id_token))["sms_stopped"] is True
    # recorded on the shop's own STOP list: another account naming the number gets nothing either
    other = stack.user()
    assert choose(stack, other.id_token, {"channels": ["sms"], "phone": phone})["sms_stopped"] is True
    second = stack.invoke(FUNCTION, event_for("shipment_packed", other.user_id))
    assert second["sms"] == {"sent": False, "opted_out": True, "dedupe_key": second["sms"]["dedupe_key"],
                             "reason": "the number replied STOP"}
    assert texts_to(stack, phone) == []


def test_sms_only_turns_off_the_shipped_and_delivered_mails_but_never_the_confirmation(stack):
    shopper, phone = stack.user(), new_phone()
    choose(stack, shopper.id_token, {"channels": ["sms"], "phone": phone})
    results = {}
    for detail_type, name in TEXTED.items():
        event = event_for(name, shopper.user_id)
        results[detail_type] = stack.invoke(FUNCTION, event)
        mailed = len(mails_to(stack, event["detail"]["email"]))
        assert mailed == (1 if detail_type == "OrderPaid" else 0), detail_type
    assert results["ShipmentPacked"]["channel_off"] is True
    assert all(r["sms"]["sent"] for r in results.values())
    assert len(texts_to(stack, phone)) == 3
    # a mail that needs the shopper's attention is always sent
    refund = event_for("refund_issued", shopper.user_id)
    assert stack.invoke(FUNCTION, refund)["sent"] is True


def test_a_real_order_texts_its_confirmation_and_the_local_outbox_shows_it(stack, admin):
    shopper, phone = stack.user(), new_phone()
    choose(stack, shopper.id_token, {"channels": ["email", "sms"], "phone": phone})
    product = make_product(stack, admin.id_token, stock={"a": 5})
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    order_id = ok(checkout(stack, shopper.id_token), 201)["order_id"]
    wait_status(stack, shopper.id_token, order_id, "FULFILLING", timeout=60)
    [text] = wait_for(lambda: texts_to(stack, phone), 30, "the confirmation text")
    assert text.startswith(f"Serverless Shop: order {order_id} is confirmed, total EUR ")
    served = requests.get(f"{stack.base_url}/_local/outbox/sms", timeout=10)
    assert served.status_code == 200 and served.headers["Content-Type"] == "application/json"
    assert [m["message"] for m in served.json()["sms"] if m["phone_number"] == phone] == [text]
    mails = requests.get(f"{stack.base_url}/_local/outbox/email", timeout=10).json()["email"]
    assert any(order_id in (m["subject"] or "") for m in mails)
