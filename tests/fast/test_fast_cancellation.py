"""Cancellation rules against the fakes: before a parcel is packed the stock goes back and the charge is refunded
once, a repeated cancellation leaves the same state, after packing it is refused; and of a pack and a
cancellation exactly one lands."""

from __future__ import annotations

import pytest
from shop.errors import NotFound
from shop.fulfillment.models import ShipmentStatus
from shop.fulfillment.repository import PackOutcome
from shop.orderflow import cancellation
from shop.orderflow.cancellation import AlreadyShipping
from shop.orders.models import OrderStatus

from tests.fakes import Crash, FakeShop
from tests.fast.flows import CUSTOMER, pay, place

pytestmark = pytest.mark.fast


def paid_order(shop: FakeShop, *, coupon: str | None = None) -> str:
    shop.add_product("SKU-A", price=2500, stock={"berlin": 5})
    shop.put_cart(CUSTOMER, {"SKU-A": 2}, coupon=coupon)
    order_id = str(place()["order_id"])
    pay(order_id)
    return order_id


def state(shop: FakeShop, order_id: str) -> tuple[object, ...]:
    """What a cancellation changes: stock, money, the order (its record), coupon counts, shipments, tokens."""
    level = shop.stock("SKU-A", "berlin")
    record = {k: v for k, v in shop.tables.orders[order_id].items() if k != "updated_at"}
    return ((level.available, level.reserved, level.on_hand), shop.gateway.captured(order_id),
            shop.gateway.refunded(order_id), shop.store.refunded_amount(order_id), record,
            repr(shop.tables.coupons), dict(shop.tables.redemptions), shop.fulfillment.shipments_of(order_id),
            dict(shop.workflow.outcomes), shop.events.facts())


def test_cancelling_a_paid_order_releases_its_stock_and_refunds_it_once(shop):
    shop.add_coupon("SAVE10", global_limit=10)
    order_id = paid_order(shop, coupon="SAVE10")
    total = shop.store.require_order(order_id).totals.total.amount

    view = cancellation.cancel(order_id, reason="changed my mind", customer_id=CUSTOMER)

    assert view["status"] == "CANCELLED" and view["payment"]["status"] == "refunded"
    level = shop.stock("SKU-A", "berlin")
    assert (level.available, level.reserved, level.on_hand) == (5, 0, 5)
    assert shop.gateway.captured(order_id) == total and shop.gateway.refunded(order_id) == total
    assert shop.store.refunded_amount(order_id) == total  # the order's counter: refunded <= captured
    order = shop.store.require_order(order_id)
    assert order.cancel_reason == "changed my mind" and order.refunded and order.refunded.amount == total
    assert shop.coupon_used("SAVE10") == 0 and shop.tables.redemptions == {}  # the use went back with the stock
    cancelled = shop.events.details("OrderCancelled")
    assert [d["refund"]["amount"] for d in cancelled] == [total]
    assert [d["amount"]["amount"] for d in shop.events.details("RefundIssued")] == [total]


def test_cancelling_twice_leaves_the_same_state(shop):
    order_id = paid_order(shop)
    cancellation.cancel(order_id, reason="shopper", customer_id=CUSTOMER)
    after_first = state(shop, order_id)

    view = cancellation.cancel(order_id, reason="shopper", customer_id=CUSTOMER)

    assert view["status"] == "CANCELLED"
    assert state(shop, order_id) == after_first
    assert shop.events.types.count("RefundIssued") == 1  # paid once, announced once
    assert shop.events.types.count("OrderCancelled") == 2  # announced again, the same fact (dedupe key)


def test_cancelling_before_payment_releases_the_stock_and_refunds_nothing(shop):
    shop.add_product("SKU-A", stock={"berlin": 5})
    shop.put_cart(CUSTOMER, {"SKU-A": 2})
    order_id = str(place()["order_id"])

    cancellation.cancel(order_id, reason="shopper", customer_id=CUSTOMER)

    assert shop.stock("SKU-A", "berlin").reserved == 0 and shop.gateway.intents == {}
    assert [d["refund"] for d in shop.events.details("OrderCancelled")] == [None]
    assert "pending_pk" not in shop.tables.orders[order_id]  # the sweeper no longer sees it


def test_cancelling_during_fulfillment_cancels_the_open_work_and_ends_the_waiting_workflow(shop):
    order_id = paid_order(shop)
    [shipment] = shop.fulfillment.split(order_id)
    pick_token = shop.fulfillment.tasks[(shipment.shipment_id, "pick")].token

    cancellation.cancel(order_id, reason="fulfillment_failed")

    assert shop.fulfillment.shipments_of(order_id)[0].status == ShipmentStatus.CANCELLED
    assert shop.workflow.outcomes[pick_token] == ("failure", "OrderNotShippable")
    assert shop.stock("SKU-A", "berlin").reserved == 0
    assert shop.gateway.refunded(order_id) == shop.gateway.captured(order_id) > 0


def test_a_packed_order_can_no_longer_be_cancelled(shop):
    order_id = paid_order(shop)
    [shipment] = shop.fulfillment.split(order_id)
    shop.fulfillment.pick(shipment)
    assert shop.fulfillment.pack(shipment) == PackOutcome.PACKED
    before = state(shop, order_id)

    with pytest.raises(AlreadyShipping) as refused:
        cancellation.cancel(order_id, reason="shopper", customer_id=CUSTOMER)

    assert refused.value.details == {"order_id": order_id, "status": "DISPATCHING"}
    assert state(shop, order_id) == before
    level = shop.stock("SKU-A", "berlin")
    assert (level.available, level.reserved, level.on_hand) == (3, 0, 3)  # the parcel's units left the shelf
    assert shop.gateway.refunded(order_id) == 0 and "OrderCancelled" not in shop.events.types


def test_a_pack_after_a_cancellation_is_refused_and_the_stock_stays_released(shop):
    order_id = paid_order(shop)
    [shipment] = shop.fulfillment.split(order_id)
    shop.fulfillment.pick(shipment)
    cancellation.cancel(order_id, reason="shopper", customer_id=CUSTOMER)

    # the shipment was cancelled with the order: a pack racing in cannot take the released units
    assert shop.fulfillment.pack(shipment) == PackOutcome.ORDER_NOT_SHIPPABLE
    level = shop.stock("SKU-A", "berlin")
    assert (level.available, level.reserved, level.on_hand) == (5, 0, 5)
    assert shop.store.require_order(order_id).status == OrderStatus.CANCELLED


def test_a_cancellation_dying_after_the_refund_refunds_once_when_repeated(shop):
    order_id = paid_order(shop)
    total = shop.gateway.captured(order_id)
    shop.gateway.faults.crash_next("refund", when="after")  # paid out, the answer lost

    with pytest.raises(Crash):
        cancellation.cancel(order_id, reason="shopper", customer_id=CUSTOMER)
    assert shop.gateway.refunded(order_id) == total and shop.store.require_order(order_id).refund_id is None

    cancellation.cancel(order_id, reason="shopper", customer_id=CUSTOMER)

    intent = shop.gateway.of_order(order_id)[0]
    assert len(intent.refunds) == 1 and shop.gateway.refunded(order_id) == total
    assert shop.store.refunded_amount(order_id) == total
    assert shop.store.require_order(order_id).refund_id == next(iter(intent.refunds.values())).refund_id
    assert shop.events.types.count("RefundIssued") == 1


def test_another_shoppers_order_is_not_found_and_untouched(shop):
    order_id = paid_order(shop)
    before = state(shop, order_id)

    with pytest.raises(NotFound):
        cancellation.cancel(order_id, reason="shopper", customer_id="cust-mallory")

    assert state(shop, order_id) == before
