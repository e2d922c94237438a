"""Pure fulfillment rules: splitting, labels, status transitions, webhook signatures."""

from __future__ import annotations

import itertools
import json

import pytest
from shop.config import Settings
from shop.errors import InvalidInput, Unauthorized
from shop.fulfillment import carrier
from shop.fulfillment.models import HANDED_OVER, SHIPMENT_FROM, ShipmentStatus
from shop.fulfillment.split import plan_shipments, shipment_id_for, task_id_for
from shop.models import Address, Allocation, Totals
from shop.money import Money
from shop.orderflow.webhooks import carrier_event, carrier_signature
from shop.orders import status
from shop.orders.models import Order, OrderLine, OrderStatus

pytestmark = pytest.mark.unit
EUR = "EUR"
S = OrderStatus


def eur(n: int) -> Money:
    return Money(amount=n, currency=EUR)


def order(lines: list[tuple[str, int, list[tuple[str, int]]]]) -> Order:
    zero = eur(0)
    return Order(
        order_id="ord_abcdefghijklmnop", customer_id="c1", status=S.PAID,
        lines=[OrderLine(sku=sku, product_id="p", name=f"Item {sku}", quantity=qty, unit_price=eur(100),
                         weight_grams=250, allocations=[Allocation(warehouse_id=w, quantity=q) for w, q in allocs])
               for sku, qty, allocs in lines],
        totals=Totals(subtotal=zero, discount=zero, shipping=zero, tax=zero, total=zero),
        shipping_address=Address(name="A", line1="B", city="C", postal_code="1", country="DE"),
        payment_method_id="pm", created_at="t", updated_at="t", reservation_expires_at=0)


def test_split_makes_one_parcel_per_warehouse_and_splits_a_line_across_two():
    o = order([("SKU-A", 3, [("berlin", 2), ("paris", 1)]), ("SKU-B", 1, [("berlin", 1)])])
    shipments = plan_shipments(o, {("SKU-A", "berlin"): "A-01", ("SKU-B", "berlin"): "B-07"}, "now")
    assert [(s.shipment_id, s.warehouse_id) for s in shipments] == [
        ("shp_abcdefghijklmnop_1", "berlin"), ("shp_abcdefghijklmnop_2", "paris")]
    berlin, paris = shipments
    assert [(i.sku, i.quantity, i.bin) for i in berlin.items] == [("SKU-A", 2, "A-01"), ("SKU-B", 1, "B-07")]
    assert [(i.sku, i.quantity, i.bin) for i in paris.items] == [("SKU-A", 1, "UNASSIGNED")]
    assert berlin.items_weight_grams == 750 and paris.items_weight_grams == 250
    # every reserved unit is in exactly one parcel
    assert sum(i.quantity for s in shipments for i in s.items) == sum(ln.quantity for ln in o.lines)
    assert plan_shipments(o, {}, "later")[0].shipment_id == berlin.shipment_id  # stable ids for retries


def test_task_and_shipment_ids_are_derived_and_distinct():
    sid = shipment_id_for("ord_xyzxyzxyzxyz", 2)
    assert sid == "shp_xyzxyzxyzxyz_2"
    assert {task_id_for(sid, k) for k in ("pick", "pack", "pickup")} == {
        "tsk_xyzxyzxyzxyz_2_pick", "tsk_xyzxyzxyzxyz_2_pack", "tsk_xyzxyzxyzxyz_2_pickup"}


def test_label_cost_comes_from_the_weighed_parcel_and_the_destination_zone():
    settings = Settings()
    domestic = carrier.create_label(settings, "shp_a_1", "DE", 1001, EUR)
    assert domestic.zone == "domestic" and domestic.cost == eur(490 + 2 * 100)  # two started kilograms
    world = carrier.create_label(settings, "shp_a_1", "US", 3000, EUR)
    assert world.zone == "world" and world.cost == eur(2490 + 3 * 600)
    assert domestic.tracking_number == world.tracking_number == carrier.tracking_number_for("shp_a_1")
    assert carrier.tracking_number_for("shp_a_2") != domestic.tracking_number
    assert domestic.tracking_url.endswith(domestic.tracking_number)
    with pytest.raises(InvalidInput):
        carrier.create_label(settings, "shp_a_1", "ZZ", 100, EUR)


def test_order_transitions_allow_cancellation_only_before_packing():
    assert status.CANCELLABLE == {S.PENDING_PAYMENT, S.PAYMENT_PROCESSING, S.PAID, S.FULFILLING}
    for shipping in status.SHIPPING_STARTED:
        assert not status.can_transition(shipping, S.CANCELLED)
    assert status.RELEASE_FROM[S.PAYMENT_FAILED] == {S.PENDING_PAYMENT, S.PAYMENT_PROCESSING}
    path = [S.PENDING_PAYMENT, S.PAYMENT_PROCESSING, S.PAID, S.FULFILLING, S.DISPATCHING, S.SHIPPED, S.DELIVERED]
    for a, b in itertools.pairwise(path):
        assert status.can_transition(a, b), (a, b)
    for closed in (*status.CLOSED, S.DELIVERED):
        assert status.TRANSITIONS[closed] == frozenset()


def test_shipment_statuses_only_move_forward():
    SH = ShipmentStatus
    assert SH.DELIVERED not in SHIPMENT_FROM[SH.SHIPPED]
    assert SH.CANCELLED not in {s for sources in SHIPMENT_FROM.values() for s in sources}
    assert SHIPMENT_FROM[SH.CANCELLED] == {SH.PICKING, SH.PACKING}  # a packed parcel is never cancelled
    assert SH.PACKED not in HANDED_OVER and SH.DELIVERED in HANDED_OVER


def _env(secret: str | None):
    """The carrier secret as shop.secrets would read it from the function's secret (tests/unit/test_secrets.py
    reads it from Secrets Manager for real)."""
    from contextlib import ExitStack
    from unittest import mock

    from shop.config import function_environment

    stack = ExitStack()
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop"
    stack.enter_context(function_environment({"SHOP_SECRETS_ARN": arn}))
    stack.enter_context(mock.patch("shop.secrets.shop_secrets",
                                   return_value={"carrier_webhook_secret": secret} if secret else {}))
    return stack


def test_carrier_signature_is_verified_with_the_secret_and_a_fresh_timestamp():
    body = json.dumps({"event_id": "e1", "tracking_number": "SPABCDEFGH12", "status": "delivered",
                       "occurred_at": "2026-11-27T10:00:00Z"})
    now = 1_800_000_000
    good = carrier_signature("s3cret", now, body)
    with _env("s3cret"):
        assert carrier_event(body, good, now=now + 10).status == "delivered"
        for bad in (None, "", carrier_signature("other", now, body), good.replace("v1=", "v1=0"), "t=x,v1=y"):
            with pytest.raises(Unauthorized):
                carrier_event(body, bad, now=now)
        with pytest.raises(Unauthorized):
            carrier_event(body, good, now=now + 301)  # replayed long after
        tampered = body.replace("delivered", "exception")
        with pytest.raises(Unauthorized):
            carrier_event(tampered, good, now=now)
        wrong = json.dumps({"event_id": "e1", "tracking_number": "x", "status": "delivered", "occurred_at": "t"})
        with pytest.raises(InvalidInput) as caught:
            carrier_event(wrong, carrier_signature("s3cret", now, wrong), now=now)
        assert caught.value.field == "tracking_number"
    with _env(None), pytest.raises(Unauthorized):
        carrier_event(body, good, now=now)  # not configured: refused, never accepted unsigned
