"""Shopper texts (shop.notifications.sms): the E.164 rule of the account's phone number, and the short texts of
the order confirmation, shipped and delivered updates (one GSM-7 segment where possible, content checked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from shop.notifications import sms
from shop.notifications.templates import EMAILED_DETAIL_TYPES

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "notifications"
ORDER = "ord_sampleorderaaaaaaaaaaaaaaa"  # 30 characters: the length of every order id


def sample(name: str) -> tuple[str, dict[str, Any]]:
    event = json.loads((SAMPLES / f"{name}.json").read_text())
    return event["detail-type"], event["detail"]


# ------------------------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize(("typed", "stored"), [
    ("+4915123456789", "+4915123456789"),
    ("+49 151 2345-6789", "+4915123456789"),
    (" +1 (415) 555.0100 ", "+14155550100"),
    ("+6834002", "+6834002"),  # 7 digits: the shortest numbering plans
    ("+123456789012345", "+123456789012345"),  # 15 digits: E.164's longest
])
def test_a_number_is_stored_in_e164(typed: str, stored: str) -> None:
    assert sms.normalize_phone(typed) == stored
    assert sms.ChannelsIn.model_validate({"channels": ["sms"], "phone": typed}).phone == stored


@pytest.mark.parametrize("typed", [
    "015123456789",  # no country code: not guessed
    "4915123456789",  # no +
    "+0151234567",  # a country code never starts with 0
    "+12345",  # too short
    "+1234567890123456",  # 16 digits
    "+49151abc456",
    "+49 151 2345 6789 ext 12",
    "",
])
def test_a_number_that_is_not_e164_is_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        sms.ChannelsIn.model_validate({"channels": ["email", "sms"], "phone": typed})
    [error] = caught.value.errors()
    assert error["loc"] == ("phone",)
    assert "E.164" in error["msg"]


def test_sms_needs_a_number_and_email_alone_does_not() -> None:
    with pytest.raises(ValidationError) as caught:
        sms.ChannelsIn.model_validate({"channels": ["sms"]})
    assert [e["loc"] for e in caught.value.errors()] == [("phone",)]
    assert "required when channels include sms" in caught.value.errors()[0]["msg"]
    assert sms.ChannelsIn.model_validate({"channels": ["email"]}).phone is None


@pytest.mark.parametrize(("body", "field"), [
    ({"channels": []}, "channels"),  # at least one channel
    ({"channels": ["email", "fax"]}, "channels"),
    ({"channels": "sms", "phone": "+4915123456789"}, "channels"),
    ({"channels": ["email"], "phone": 4915123456789}, "phone"),
    ({"channels": ["email"], "sms": True}, "sms"),  # unknown fields are refused
])
def test_malformed_choices_are_refused_naming_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        sms.ChannelsIn.model_validate(body)
    assert {e["loc"][0] for e in caught.value.errors()} == {field}


def test_channels_are_kept_once_each_in_order() -> None:
    assert sms.ChannelsIn.model_validate({"channels": ["sms", "email", "sms"][:2], "phone": "+4915123456789"}) \
        .channels == ["email", "sms"]


def test_a_masked_number_shows_only_its_ends() -> None:
    assert sms.masked("+4915123456789") == "+49*********89"


# ------------------------------------------------------------------------------------------------ texts
def test_texts_go_only_for_confirmation_shipped_and_delivered_each_also_emailed() -> None:
    assert sms.SMS_DETAIL_TYPES == {"OrderPaid", "ShipmentPacked", "ShipmentDelivered"}
    assert sms.SMS_DETAIL_TYPES <= EMAILED_DETAIL_TYPES
    for detail_type in sorted(EMAILED_DETAIL_TYPES - sms.SMS_DETAIL_TYPES):
        assert sms.render(detail_type, {"order_id": ORDER}) is None, detail_type


def test_the_confirmation_names_the_order_and_its_total() -> None:
    text = sms.render(*sample("order_paid"))
    assert text == (f"Serverless Shop: order {ORDER} is confirmed, total EUR 52.32. We will text you when it ships. "
                    "Reply STOP to opt out.")
    assert sms.gsm_length(text) == len(text) <= 160


def test_the_shipped_text_carries_the_tracking_link_when_it_fits() -> None:
    text = sms.render("ShipmentPacked", {"order_id": ORDER, "carrier": "ShopPost", "tracking_number": "SP00012345",
                                         "tracking_url": "https://track.shoppost.example/SP00012345"})
    assert text == (f"Serverless Shop: order {ORDER} has shipped with ShopPost. "
                    "Track: https://track.shoppost.example/SP00012345 Reply STOP to opt out.")
    assert len(text) <= 160


def test_a_tracking_link_too_long_for_one_segment_gives_way_to_the_tracking_number() -> None:
    detail_type, detail = sample("shipment_packed")  # DHL's link is 95 characters
    text = sms.render(detail_type, detail)
    assert text == (f"Serverless Shop: order {ORDER} has shipped with DHL. Tracking number JJD000390007812345678. "
                    "Reply STOP to opt out.")
    assert len(text) <= 160


def test_the_delivered_text_says_where_the_parcel_was_left() -> None:
    assert sms.render("ShipmentDelivered", {"order_id": ORDER, "left_at": "neighbour"}) == \
        f"Serverless Shop: order {ORDER} was delivered, left with a neighbour. Reply STOP to opt out."
    assert sms.render(*sample("shipment_delivered")).startswith(f"Serverless Shop: order {ORDER} was delivered")


def test_only_http_links_are_sent_and_foreign_characters_keep_the_text_gsm7() -> None:
    text = sms.render("ShipmentPacked", {"order_id": ORDER, "carrier": "Poczta Polska \u2013 Łódź 📦",
                                         "tracking_url": "javascript:alert(1)", "tracking_number": "PP1"})
    assert text is not None
    assert "javascript" not in text
    assert "with Poczta Polska - Lodz ?." in text
    assert sms.gsm_length(text) == len(text) <= 160


def test_the_stop_hint_is_dropped_before_the_text_needs_a_second_segment() -> None:
    url = "https://track.example/" + "x" * 60
    text = sms.render("ShipmentPacked", {"order_id": ORDER, "tracking_url": url})
    assert text == f"Serverless Shop: order {ORDER} has shipped. Track: {url}"
    assert len(text) <= 160


def test_gsm_length_counts_extension_characters_twice_and_refuses_ucs2() -> None:
    assert sms.gsm_length("abc") == 3
    assert sms.gsm_length("a~b€") == 6
    assert sms.gsm_length("Łódź") is None


def test_a_detail_without_an_order_id_sends_no_text() -> None:
    assert sms.render("OrderPaid", {"totals": {}}) is None
