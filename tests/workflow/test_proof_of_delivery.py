"""Proof of delivery through the signed carrier webhook on the local stack (issue 16 item 1): an order above
SIGNATURE_REQUIRED_ABOVE records at checkout that it asks for a signature; the carrier's ``delivered`` event
carries who signed, where the parcel was left and a proof link, which the shopper's and the staff's order views
show and the delivered e-mail repeats. Such an order delivered without a signature (or not handed to the
recipient) is listed under NEEDS_ATTENTION with DeliveryNeedsAttention published, once however often the
carrier sends it; a low-value order delivered at the door is fine. The workflow's steps are unchanged (the
delivery comes by webhook after the execution ends, or resumes it as the pickup when no scan came first)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import shop.events

from tests.factories import (
    checkout,
    emails_to,
    make_product,
    ok,
    order_view,
    pick_and_pack,
    put_in_cart,
    wait_for,
    wait_paid,
    wait_status,
)

pytestmark = [pytest.mark.workflow, pytest.mark.audited]  # the invariant audit runs around each test

PROOF = "https://pod.shoppost.example/signature.png"


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every entry the functions put on the bus while the test runs (they run in this process)."""
    seen: list[dict[str, Any]] = []
    original = shop.events.publish

    def spy(*entries: dict[str, Any]) -> None:
        seen.extend(entries)
        original(*entries)

    monkeypatch.setattr(shop.events, "publish", spy)
    return seen


def delivered_parcel(stack: Any, admin: Any, staff: Any, price: int) -> tuple[Any, str, str]:
    """A shopper's order of one unit at ``price``, paid, picked and packed: (shopper, order id, tracking)."""
    product = make_product(stack, admin.id_token, stock={"a": 2}, price=price)
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    order_id = ok(checkout(stack, shopper.id_token), 201)["order_id"]
    wait_paid(stack, order_id)
    pick_and_pack(stack, staff.id_token, order_id, product.warehouses[0])
    tracking = wait_for(lambda: order_view(stack, shopper.id_token, order_id)["shipments"][0]["tracking_number"], 20,
                        "the label")
    return shopper, order_id, tracking


def fields(resp: Any) -> list[str]:
    return [f["field"] for f in resp.json()["error"]["details"]["fields"]]


def attention_ids(api: Any) -> list[str]:
    return [o["order_id"] for o in api("GET", "/admin/orders", query={"status": "NEEDS_ATTENTION",
                                                                      "limit": "100"})["items"]]


def of_type(published: list[dict[str, Any]], detail_type: str, order_id: str) -> list[dict[str, Any]]:
    return [json.loads(e["Detail"]) for e in published
            if e["DetailType"] == detail_type and json.loads(e["Detail"]).get("order_id") == order_id]


def test_a_signed_delivery_shows_on_the_order_the_shipment_the_events_and_the_email(stack, admin, staff, api,
                                                                                   published):
    shopper, order_id, tracking = delivered_parcel(stack, admin, staff, price=25000)
    assert order_view(stack, shopper.id_token, order_id)["signature_required"] is True

    answer = ok(stack.carrier_webhook(tracking, "delivered", event_id=f"cevt-signed-{order_id}",
                                      signed_by="Erika Mustermann", left_at="handed_to_recipient", proof_url=PROOF))
    assert answer["status"] == "DELIVERED" and "needs_attention" not in answer
    view = wait_status(stack, shopper.id_token, order_id, "DELIVERED")
    proof = {"signed_by": "Erika Mustermann", "left_at": "handed_to_recipient", "proof_url": PROOF,
             "signature_required": True, "signature_missing": False}
    assert view["shipments"][0]["delivery_proof"] == proof
    staff_view = api("GET", f"/admin/orders/{order_id}")
    assert staff_view["shipments"][0]["delivery_proof"] == proof and staff_view["signature_required"] is True
    assert staff_view["needs_attention"] is None and order_id not in attention_ids(api)

    shipped = of_type(published, "ShipmentDelivered", order_id)
    assert shipped and all({k: d[k] for k in proof} == proof for d in shipped)
    [delivered] = of_type(published, "OrderDelivered", order_id)
    assert [{k: p[k] for k in proof} for p in delivered["deliveries"]] == [proof]
    assert not of_type(published, "DeliveryNeedsAttention", order_id)

    stack.drain_async()
    mail = wait_for(lambda: next((m for m in emails_to(stack, shopper.email) if "delivered" in m["subject"]), None),
                    30, "the delivered e-mail")
    assert "handed to you in person" in mail["body"] and "Erika Mustermann" in mail["body"]


def test_an_unsigned_high_value_delivery_needs_attention_once(stack, admin, staff, api, published):
    shopper, order_id, tracking = delivered_parcel(stack, admin, staff, price=25000)
    event_id = f"cevt-door-{order_id}"

    first = stack.carrier_webhook(tracking, "delivered", event_id=event_id, left_at="door", proof_url=PROOF)
    answer = ok(first)
    assert answer["status"] == "DELIVERED" and answer["needs_attention"] == "delivered_without_signature"
    view = wait_status(stack, shopper.id_token, order_id, "DELIVERED")  # the goods arrived: the order is delivered
    assert view["shipments"][0]["delivery_proof"] == {"left_at": "door", "proof_url": PROOF,
                                                      "signature_required": True, "signature_missing": True}

    assert order_id in attention_ids(api)
    staff_view = api("GET", f"/admin/orders/{order_id}")
    attention = staff_view["needs_attention"]
    shipment_id = view["shipments"][0]["shipment_id"]
    assert attention["kind"] == "delivery" and attention["error"] == "DeliveryException"
    assert attention["reason"] == "delivered_without_signature" and attention["shipment_id"] == shipment_id
    assert "nobody signed" in attention["cause"] and "door" in attention["cause"]
    assert "workflow_status" not in attention and "execution_arn" not in attention
    [event] = of_type(published, "DeliveryNeedsAttention", order_id)
    assert event["reason"] == "delivered_without_signature" and event["left_at"] == "door"
    assert event["signed_by"] is None and event["total"]["amount"] > 20000
    assert event["dedupe_key"] == f"DeliveryNeedsAttention:{order_id}:{shipment_id}"
    history = [e for e in staff_view["timeline"] if e["kind"] == "attention"]
    assert len(history) == 1

    # the same event again (the carrier retrying), and another delivered report for the parcel: nothing changes
    again = stack.carrier_webhook(tracking, "delivered", event_id=event_id, left_at="door", proof_url=PROOF)
    assert ok(again) == answer
    other = ok(stack.carrier_webhook(tracking, "delivered", event_id=f"{event_id}-2", signed_by="Someone",
                                     left_at="handed_to_recipient"))
    assert other["status"] == "DELIVERED"
    after = api("GET", f"/admin/orders/{order_id}")
    assert after["needs_attention"] == attention
    assert after["shipments"][0]["delivery_proof"] == view["shipments"][0]["delivery_proof"]  # the first proof stays
    assert len([e for e in after["timeline"] if e["kind"] == "attention"]) == 1
    assert len(of_type(published, "DeliveryNeedsAttention", order_id)) == 1
    assert attention_ids(api).count(order_id) == 1


def test_a_redelivery_after_a_crash_before_the_mark_marks_once(stack, admin, staff, api, published):
    """The parcel's DELIVERED was written and the function died before marking the order: the carrier's retry
    (its idempotency record gone with the crash) finds the event on the parcel, changes nothing there, and marks
    the order from the parcel's stored finding; a further repeat changes nothing."""
    from shop.config import function_environment
    from shop.fulfillment.models import CarrierEvent
    from shop.orderflow import webhooks

    shopper, order_id, tracking = delivered_parcel(stack, admin, staff, price=25000)
    event = CarrierEvent(event_id=f"cevt-late-{order_id}", tracking_number=tracking, status="delivered",
                         occurred_at="2026-11-27T10:00:00Z", left_at="neighbour", signed_by="K. Schmidt")
    with function_environment(stack.function_env("WebhooksFunction")):
        from shop.fulfillment import service as fulfillment

        first = fulfillment.carrier_event(event)  # the parcel's write, then a crash before the mark
        assert first["signature_missing"] is True and order_id not in attention_ids(api)
        repaired = webhooks.handle_carrier(event)
        assert repaired["duplicate"] is True and repaired["needs_attention"] == "delivered_without_signature"
    assert order_id in attention_ids(api)
    before = api("GET", f"/admin/orders/{order_id}")
    with function_environment(stack.function_env("WebhooksFunction")):
        from shop.orderflow import deliveries

        assert deliveries.on_delivered(order_id, before["shipments"][0]["shipment_id"]) is False
    assert api("GET", f"/admin/orders/{order_id}") == before
    assert len(of_type(published, "DeliveryNeedsAttention", order_id)) == 1
    wait_status(stack, shopper.id_token, order_id, "DELIVERED")


def test_a_low_value_order_left_at_the_door_is_fine(stack, admin, staff, api, published):
    shopper, order_id, tracking = delivered_parcel(stack, admin, staff, price=1500)
    assert order_view(stack, shopper.id_token, order_id)["signature_required"] is False
    answer = ok(stack.carrier_webhook(tracking, "delivered", left_at="door"))
    assert answer["status"] == "DELIVERED" and "needs_attention" not in answer
    view = wait_status(stack, shopper.id_token, order_id, "DELIVERED")
    assert view["shipments"][0]["delivery_proof"] == {"left_at": "door", "signature_required": False,
                                                      "signature_missing": False}
    assert api("GET", f"/admin/orders/{order_id}")["needs_attention"] is None
    assert order_id not in attention_ids(api)
    assert not of_type(published, "DeliveryNeedsAttention", order_id)


def test_a_bad_proof_is_refused_through_the_route_naming_the_field(stack, admin, staff):
    tracking = delivered_parcel(stack, admin, staff, price=1500)[2]
    for extra, field in (({"proof_url": "http://pod.shoppost.example/p.png"}, "body.proof_url"),
                         ({"left_at": "roof"}, "body.left_at")):
        bad = stack.carrier_webhook(tracking, "delivered", **extra)
        assert bad.status == 422 and fields(bad) == [field], bad.body
    exc = stack.carrier_webhook(tracking, "in_transit", signed_by="Erika")
    assert exc.status == 422 and fields(exc) == ["body.signed_by"], exc.body
    ok(stack.carrier_webhook(tracking, "delivered"))  # nothing was recorded by the refused ones: it delivers now
