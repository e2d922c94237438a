"""Shopper email templates: one per emailed detail type, None for the rest; money, escaping, missing fields."""

from __future__ import annotations

import copy
import json
import re

import pytest
from shop.events import DETAIL_TYPES
from shop.notifications.templates import EMAILED_DETAIL_TYPES, Email, format_amount, format_money, render

from shoplocal.stack import ROOT

pytestmark = pytest.mark.unit

SAMPLES = ROOT / "events" / "notifications"
EMAILED = {"OrderPaid", "PaymentFailed", "ShipmentPacked", "ShipmentException", "ShipmentDelivered",
           "OrderCancelled", "RefundIssued", "TicketAnswered"}


def sample(name: str) -> tuple[str, dict]:
    event = json.loads((SAMPLES / f"{name}.json").read_text())
    return event["detail-type"], copy.deepcopy(event["detail"])


def rendered(name: str, **changes) -> tuple[dict, Email]:
    detail_type, detail = sample(name)
    detail.update(changes)
    email = render(detail_type, detail)
    assert email is not None
    return detail, email


def html_text(markup: str) -> str:
    """The visible text of the HTML part (tags removed, entities kept)."""
    return re.sub(r"<[^>]+>", " ", markup)


# ------------------------------------------------------------------------------------------------ money
@pytest.mark.parametrize(("amount", "currency", "expected"), [
    (1234, "EUR", "EUR 12.34"), (5, "EUR", "EUR 0.05"), (100, "USD", "USD 1.00"), (0, "EUR", "EUR 0.00"),
    (-250, "EUR", "EUR -2.50"), (-5, "GBP", "GBP -0.05"), (123456789, "EUR", "EUR 1234567.89"),
    (1234, "JPY", "JPY 1234"), (-1234, "JPY", "JPY -1234"), (50000, "KRW", "KRW 50000"),
    (1234, "KWD", "KWD 1.234"), (5, "BHD", "BHD 0.005"),
])
def test_amounts_use_the_currency_exponent(amount, currency, expected):
    assert format_amount(amount, currency) == expected


def test_money_formatting_refuses_floats_and_malformed_values():
    assert format_money({"amount": 1999, "currency": "EUR"}) == "EUR 19.99"
    for bad in ({"amount": 19.99, "currency": "EUR"}, {"amount": "1999", "currency": "EUR"},
                {"amount": True, "currency": "EUR"}, {"amount": 1999}, {"currency": "EUR"}, None, 1999):
        assert format_money(bad) is None


# --------------------------------------------------------------------------------------- which types
@pytest.mark.parametrize("detail_type", sorted(DETAIL_TYPES - EMAILED))
def test_types_without_email_render_none(detail_type):
    _, detail = sample("order_paid")
    assert render(detail_type, detail) is None


def test_every_emailed_type_has_a_template_and_a_sample():
    assert EMAILED_DETAIL_TYPES == EMAILED
    assert EMAILED <= DETAIL_TYPES
    samples = {json.loads(p.read_text())["detail-type"] for p in SAMPLES.glob("*.json")}
    assert samples == EMAILED


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_sample_renders_with_its_reference_and_the_order_id_in_the_subject(path):
    event = json.loads(path.read_text())
    assert {"version", "id", "detail-type", "source", "account", "time", "region", "resources",
            "detail"} <= set(event)
    assert event["source"] == "shop.orders"
    detail = event["detail"]
    reference = detail["ticket_id"] if event["detail-type"] == "TicketAnswered" else detail["order_id"]
    assert detail["dedupe_key"].startswith(f"{event['detail-type']}:{reference}")
    email = render(event["detail-type"], detail)
    assert email is not None
    for shown in {reference, detail["order_id"]}:
        assert shown in email.subject
        assert shown in email.text
        assert shown in email.html
    assert email.html.lstrip().startswith("<!DOCTYPE html>")
    assert "\n" not in email.subject


# ----------------------------------------------------------------------------------------- templates
def test_order_confirmation_lists_lines_totals_and_address():
    detail, email = rendered("order_paid")
    assert "confirm" in email.subject.lower()
    for line in detail["lines"]:
        assert line["name"] in email.text
        assert line["name"] in email.html
    # 2 x EUR 12.99 and 1 x EUR 17.99, line amounts computed in minor units
    assert re.search(r"Enamel mug, blue\s+MUG-BLUE-350\s+2\s+EUR 12\.99\s+EUR 25\.98", email.text)
    assert re.search(r"Walnut coaster set\s+C40-WALNUT\s+1\s+EUR 17\.99\s+EUR 17\.99", email.text)
    assert re.search(r"Subtotal:\s+EUR 43\.97", email.text)
    assert re.search(r"Shipping:\s+EUR 4\.90", email.text)
    assert re.search(r"Tax:\s+EUR 8\.35", email.text)
    assert re.search(r"Total:\s+EUR 52\.32", email.text)
    assert "Discount" not in email.text  # a zero discount is not shown
    for part in ("Erika Mustermann", "Hauptstrasse 5", "10115 Berlin"):
        assert part in email.text
        assert part in email.html
    assert "None" not in email.text  # line2 is null in the sample


def test_order_confirmation_shows_a_discount_and_jpy_without_decimals():
    def yen(amount):
        return {"amount": amount, "currency": "JPY"}

    _, email = rendered("order_paid", lines=[{"sku": "TEA-1", "name": "Sencha", "quantity": 3,
                                              "unit_price": yen(1200)}],
                        totals={"subtotal": yen(3600), "discount": yen(500), "shipping": yen(800),
                                "tax": yen(390), "total": yen(4290)})
    assert re.search(r"Sencha\s+TEA-1\s+3\s+JPY 1200\s+JPY 3600", email.text)
    assert re.search(r"Discount:\s+JPY -500", email.text)
    assert re.search(r"Total:\s+JPY 4290", email.text)
    assert "JPY 42.90" not in email.text


def test_payment_failed_explains_reason_and_release():
    _, email = rendered("payment_failed")
    assert "failed" in email.subject.lower()
    assert "released" in email.text
    assert "insufficient funds" in email.text
    assert "insufficient_funds" not in email.text  # the code is put in plain words
    assert "EUR 52.32" in email.text


@pytest.mark.parametrize(("reason", "code", "expected"), [
    ("authentication_timeout", None, "not confirmed in time"),
    ("error", None, "technical error"),
    ("declined", "expired_card", "expired"),
    ("declined", "stolen_card", "the card was declined"),
    ("declined", "some_new_code", "some new code"),
])
def test_payment_failed_reasons_in_plain_words(reason, code, expected):
    _, email = rendered("payment_failed", reason=reason, decline_code=code)
    assert expected in email.text
    assert "stolen" not in email.text


def test_shipment_packed_has_carrier_tracking_and_parcel_items():
    detail, email = rendered("shipment_packed")
    assert detail["tracking_number"] in email.subject
    for part in (detail["carrier"], detail["tracking_number"], detail["tracking_url"]):
        assert part in email.text
    assert f'href="{detail["tracking_url"]}"' in email.html
    for item in detail["items"]:
        assert re.search(rf"{re.escape(item['name'])}\s+{item['sku']}\s+{item['quantity']}", email.text)
        assert item["name"] in email.html


def test_shipment_packed_never_links_a_non_http_url():
    _, email = rendered("shipment_packed", tracking_url="javascript:alert(1)")
    assert "javascript:" not in email.html
    assert "href" not in email.html


def test_shipment_exception_describes_the_problem():
    detail, email = rendered("shipment_exception")
    assert "problem" in email.subject.lower()
    assert detail["description"] in email.text
    assert detail["description"] in email.html
    assert detail["tracking_number"] in email.text


def test_shipment_delivered():
    _, email = rendered("shipment_delivered")
    assert "delivered" in email.subject.lower()
    assert "2026-11-27 10:45 UTC" in email.text


def test_order_cancelled_mentions_refund_only_when_there_is_one():
    _, with_refund = rendered("order_cancelled")
    assert "cancelled" in with_refund.subject.lower()
    assert "EUR 52.32" in with_refund.text
    assert "refund" in with_refund.text.lower()
    _, without = rendered("order_cancelled", refund=None, reason="fulfillment_failed")
    assert "EUR" not in without.text
    assert "refund" not in without.text.lower()
    assert "unable to fulfil" in without.text


def test_refund_issued_states_the_amount():
    _, email = rendered("refund_issued", amount={"amount": 999, "currency": "USD"})
    assert "USD 9.99" in email.subject
    assert "USD 9.99" in email.text
    assert "USD 9.99" in email.html


def test_ticket_answer_quotes_the_answer_under_the_ticket_id_and_subject():
    detail, email = rendered("ticket_answered")
    assert email.subject == f"Re: {detail['subject']} [{detail['ticket_id']}] (order {detail['order_id']})"
    for line in detail["answer"].splitlines():  # every line of the answer, blank lines kept
        assert f"  {line}".rstrip() + "\n" in email.text
    assert "\n\n  your parcel left" in email.text
    assert re.search(r"Answered:\s+2026-11-26 14:30 UTC", email.text)
    assert re.search(r"Ticket:\s+" + detail["ticket_id"], email.text)
    assert "Order reference" not in email.text  # a ticket's footer names the ticket
    assert f"Ticket reference: {detail['ticket_id']}" in email.text
    assert "<blockquote" in email.html
    assert "Hello Erika,<br><br>your parcel left" in email.html  # line breaks survive in HTML


def test_ticket_answer_without_an_order_leaves_the_order_out():
    detail, email = rendered("ticket_answered", order_id=None)
    assert email.subject == f"Re: {detail['subject']} [{detail['ticket_id']}]"
    assert "order" not in email.subject.lower()
    assert not re.search(r"^Order:", email.text, re.MULTILINE)
    assert "None" not in email.text
    assert "ord_" not in email.html


def test_ticket_answer_and_subject_are_escaped_and_the_subject_has_one_line():
    evil = '<script>alert("x")</script>'
    _, email = rendered("ticket_answered", answer=f"See {evil}\nand <a href='javascript:x'>here</a>",
                        subject="Help <b>now</b>\r\nBcc: victim@example.com")
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in email.html
    assert "<a href" not in email.html
    assert "<b>" not in email.html
    assert "Help &lt;b&gt;now&lt;/b&gt;" in email.html
    assert evil in email.text  # plain text is shown verbatim
    assert "\r" not in email.subject
    assert "\n" not in email.subject
    assert email.subject.startswith("Re: Help <b>now</b>")


# ------------------------------------------------------------------------------------------ escaping
def test_shop_and_customer_strings_are_escaped_in_html():
    evil = '<script>alert("x")</script>'
    _, detail = sample("order_paid")
    detail["lines"][0]["name"] = evil
    detail["shipping_address"]["name"] = "O'Brien & <b>Sons</b>"
    email = render("OrderPaid", detail)
    assert email is not None
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in email.html
    assert "<b>" not in email.html
    assert "O&#x27;Brien &amp; &lt;b&gt;Sons&lt;/b&gt;" in email.html
    assert evil in email.text  # plain text is shown verbatim

    _, detail = sample("shipment_packed")
    detail["items"][0]["name"] = evil
    detail["carrier"] = "<img src=x onerror=alert(1)>"
    packed = render("ShipmentPacked", detail)
    assert packed is not None
    assert "<script>" not in packed.html
    assert "<img" not in packed.html

    _, detail = sample("shipment_exception")
    detail["description"] = evil
    problem = render("ShipmentException", detail)
    assert problem is not None
    assert "<script>" not in problem.html


def test_subject_has_no_line_breaks_even_if_a_field_does():
    _, email = rendered("shipment_packed", tracking_number="JJD1\r\nBcc: victim@example.com")
    assert "\r" not in email.subject
    assert "\n" not in email.subject


# ------------------------------------------------------------------------------------ missing fields
@pytest.mark.parametrize("name", ["order_paid", "payment_failed", "shipment_packed", "shipment_exception",
                                  "shipment_delivered", "order_cancelled", "refund_issued", "ticket_answered"])
def test_only_the_common_fields_still_render(name):
    detail_type, detail = sample(name)
    minimal = {k: detail[k] for k in ("order_id", "customer_id", "email", "occurred_at", "dedupe_key")}
    email = render(detail_type, minimal)
    assert email is not None
    assert detail["order_id"] in email.subject
    assert "None" not in email.text


def test_a_ticket_answer_missing_its_fields_still_renders():
    _, detail = sample("ticket_answered")
    for missing in ({"ticket_id": None, "subject": None, "answer": None, "answered_at": None, "order_id": None},
                    {"answer": "   ", "subject": ""}, {"ticket_id": 42, "answer": ["not", "text"]}):
        email = render("TicketAnswered", {**detail, **missing})
        assert email is not None
        assert email.subject
        assert "None" not in email.text
        assert "None" not in email.subject


def test_malformed_optional_fields_do_not_crash():
    _, email = rendered("order_paid", lines=[{"sku": "X-1"}, "junk", {"name": "Y", "quantity": 2.5,
                                                                    "unit_price": {"amount": 1.5}}],
                        totals=None, shipping_address="nowhere")
    assert "X-1" in email.text
    assert "n/a" in email.text
    _, email = rendered("shipment_delivered", delivered_at="yesterday-ish")
    assert "yesterday-ish" in email.text
