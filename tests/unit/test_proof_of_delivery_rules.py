"""Proof of delivery, pure rules (issue 16 item 1): the carrier's ``delivered`` event input (``signed_by``,
``left_at``, ``proof_url``), the signature rule judged against the order, the contracts that repeat the
``left_at`` values, and the delivered e-mail saying where the parcel was left."""

from __future__ import annotations

import json
import time
import typing
from typing import Any

import pytest
from pydantic import ValidationError
from shop import event_contracts
from shop.config import Settings
from shop.errors import InvalidInput
from shop.fulfillment.models import CarrierEvent, LeftAt
from shop.fulfillment.service import delivery_proof
from shop.notifications.templates import render
from shop.orderflow import webhooks
from shop.orders.contracts import DeliveryProofView

pytestmark = pytest.mark.unit

BASE = {"event_id": "cevt_1", "tracking_number": "SPABCDEFGH123456", "status": "delivered",
        "occurred_at": "2026-11-27T10:00:00Z"}


def event(**extra: Any) -> CarrierEvent:
    return CarrierEvent.model_validate({**BASE, **extra})


def signed_request(monkeypatch: pytest.MonkeyPatch, **extra: Any) -> CarrierEvent:
    """The body as the carrier webhook reads it (signature checked, then the model)."""
    monkeypatch.setattr(webhooks, "optional_secret", lambda name: "test-secret")
    body = json.dumps({**BASE, **extra})
    now = time.time()
    return webhooks.carrier_event(body, webhooks.carrier_signature("test-secret", int(now), body), now=now)


# ------------------------------------------------------------------ input
def test_a_delivered_event_carries_who_signed_where_it_was_left_and_the_proof() -> None:
    got = event(signed_by="  Erika Mustermann ", left_at="handed_to_recipient",
                proof_url="https://pod.carrier.example/SP1/signature.png?size=large")
    assert got.signed_by == "Erika Mustermann" and got.left_at == LeftAt.HANDED_TO_RECIPIENT
    assert got.proof_url == "https://pod.carrier.example/SP1/signature.png?size=large"
    bare = event()
    assert bare.signed_by is None and bare.left_at is None and bare.proof_url is None


@pytest.mark.parametrize(("extra", "field"), [
    ({"left_at": "roof"}, "left_at"), ({"left_at": "DOOR"}, "left_at"), ({"left_at": 3}, "left_at"),
    ({"proof_url": "http://pod.carrier.example/p.png"}, "proof_url"),
    ({"proof_url": "ftp://pod.carrier.example/p.png"}, "proof_url"),
    ({"proof_url": "javascript:alert(1)"}, "proof_url"), ({"proof_url": "https://"}, "proof_url"),
    ({"proof_url": "https://user:pw@pod.carrier.example/p.png"}, "proof_url"),
    ({"proof_url": "https://pod.carrier.example/a b.png"}, "proof_url"),
    ({"proof_url": "https://pod.carrier.example/" + "a" * 2000}, "proof_url"),
    ({"signed_by": ""}, "signed_by"), ({"signed_by": "   "}, "signed_by"), ({"signed_by": "x" * 101}, "signed_by"),
    ({"signed_by": ["Erika"]}, "signed_by"),
])
def test_a_bad_proof_of_delivery_is_refused_naming_the_field(monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any],
                                                             field: str) -> None:
    with pytest.raises(ValidationError) as err:
        event(**extra)
    assert err.value.errors()[0]["loc"] == (field,)
    with pytest.raises(InvalidInput) as refused:  # what the route answers: 422 body.<field>
        signed_request(monkeypatch, **extra)
    assert refused.value.field == field


def test_an_http_proof_url_is_refused_with_a_message_saying_https() -> None:
    with pytest.raises(ValidationError) as err:
        event(proof_url="http://pod.carrier.example/p.png")
    assert "https" in err.value.errors()[0]["msg"]


@pytest.mark.parametrize("status", ["picked_up", "in_transit", "exception"])
@pytest.mark.parametrize("extra", [{"signed_by": "Erika"}, {"left_at": "door"},
                                   {"proof_url": "https://pod.carrier.example/p.png"}])
def test_only_a_delivered_event_carries_a_proof(monkeypatch: pytest.MonkeyPatch, status: str,
                                                extra: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as refused:
        signed_request(monkeypatch, status=status, **extra)
    assert refused.value.field == next(iter(extra))
    assert signed_request(monkeypatch, status=status).status == status  # without a proof: fine


# ------------------------------------------------------------------ the signature rule
@pytest.mark.parametrize(("extra", "missing"), [
    ({"signed_by": "Erika", "left_at": "handed_to_recipient"}, False),
    ({"signed_by": "Erika"}, False),  # a signature is given in person: no place said is fine
    ({"left_at": "handed_to_recipient"}, True),  # handed over, nobody signed
    ({}, True),
    ({"signed_by": "Neighbour Schmidt", "left_at": "neighbour"}, True),
    ({"signed_by": "Erika", "left_at": "parcel_shop"}, True),
    ({"left_at": "door", "proof_url": "https://pod.carrier.example/photo.jpg"}, True),
])
def test_an_order_asking_for_a_signature_wants_it_signed_and_handed_to_the_recipient(extra: dict[str, Any],
                                                                                      missing: bool) -> None:
    proof = delivery_proof(event(**extra), signature_required=True)
    assert proof.signature_required is True and proof.signature_missing is missing
    relaxed = delivery_proof(event(**extra), signature_required=False)
    assert relaxed.signature_missing is False  # an order that asked for none is never an exception


def test_the_threshold_is_a_setting_in_minor_units_with_a_default() -> None:
    assert Settings().signature_required_above == 20000
    assert Settings.model_validate({"SIGNATURE_REQUIRED_ABOVE": "5000"}).signature_required_above == 5000
    with pytest.raises(ValidationError):
        Settings.model_validate({"SIGNATURE_REQUIRED_ABOVE": "-1"})


# ------------------------------------------------------------------ contracts repeat the places
def test_every_contract_knows_the_same_places() -> None:
    places = {p.value for p in LeftAt}
    assert set(typing.get_args(event_contracts.LeftAtValue)) == places
    view = typing.get_args(DeliveryProofView.model_fields["left_at"].annotation)
    assert set(typing.get_args(view[0])) == places


def test_the_delivered_email_says_where_the_parcel_was_left_and_who_signed() -> None:
    detail = {"order_id": "ord_x", "delivered_at": "2026-11-27T10:00:00Z", "carrier": "ShopPost",
              "tracking_number": "SPABCDEFGH123456", "left_at": "neighbour", "signed_by": "K. Schmidt",
              "proof_url": "https://pod.carrier.example/p.png"}
    mail = render("ShipmentDelivered", detail)
    assert mail is not None
    for text in (mail.text, mail.html):
        assert "left with a neighbour" in text and "K. Schmidt" in text and "https://pod.carrier.example/p.png" in text
    older = render("ShipmentDelivered", {k: v for k, v in detail.items()
                                         if k not in ("left_at", "signed_by", "proof_url")})
    assert older is not None and "Where" not in older.text and "Signed by" not in older.text
