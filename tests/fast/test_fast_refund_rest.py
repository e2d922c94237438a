"""A cancellation after staff refunds refunds what is LEFT of the charge (payments.refund_in_full via
OrderStore.reserve_rest), once, and never more than was captured, also when a staff refund lands at the same
moment (the counter is the write's condition, against the fakes that enforce it as DynamoDB does)."""

from __future__ import annotations

from typing import Any

import pytest
from shop.money import Money
from shop.orderflow import cancellation
from shop.orders.repository import RefundContended, RefundLimitExceeded

from tests.fakes import FakeShop
from tests.fakes.refund_rest import REST_EXPECTED, rest_scenario
from tests.fast.flows import CUSTOMER, pay, place

pytestmark = pytest.mark.fast


def paid_order(shop: FakeShop) -> tuple[str, int, str]:
    shop.add_product("SKU-A", price=2500, stock={"berlin": 5})
    shop.put_cart(CUSTOMER, {"SKU-A": 2})
    order_id = str(place()["order_id"])
    pay(order_id)
    order = shop.store.require_order(order_id)
    assert order.payment_intent_id is not None
    return order_id, order.totals.total.amount, order.payment_intent_id


def staff_refund(shop: FakeShop, order_id: str, intent_id: str, amount: int, key: str) -> None:
    """What shop.orderflow.admin.refund does with the order's counter and the provider."""
    total = shop.store.require_order(order_id).totals.total.amount
    shop.store.reserve_refund(order_id, f"{order_id}:staff:{key}", amount, total)
    shop.gateway.refund(intent_id, Money(amount=amount, currency="EUR"), f"{order_id}:staff:{key}")


def provider_refunds(shop: FakeShop, intent_id: str) -> list[int]:
    return [r.amount.amount for r in shop.gateway.intents[intent_id].refunds.values()]


def test_a_cancellation_after_a_staff_refund_refunds_the_rest(shop: FakeShop):
    order_id, total, intent_id = paid_order(shop)
    staff_refund(shop, order_id, intent_id, 700, "k1")

    view = cancellation.cancel(order_id, reason="changed my mind", customer_id=CUSTOMER)

    assert view["status"] == "CANCELLED" and view["payment"]["refund"]["amount"]["amount"] == total - 700
    assert provider_refunds(shop, intent_id) == [700, total - 700]
    assert shop.store.refunded_amount(order_id) == total == shop.gateway.refunded(order_id)
    assert [d["amount"]["amount"] for d in shop.events.details("RefundIssued")] == [total - 700]
    assert [d["refund"]["amount"] for d in shop.events.details("OrderCancelled")] == [total - 700]
    order = shop.store.require_order(order_id)
    assert order.refunded == Money(amount=total - 700, currency="EUR")  # what this cancellation refunded


def test_a_cancellation_after_everything_was_refunded_pays_and_records_nothing(shop: FakeShop):
    order_id, total, intent_id = paid_order(shop)
    staff_refund(shop, order_id, intent_id, 1000, "k1")
    staff_refund(shop, order_id, intent_id, total - 1000, "k2")

    view = cancellation.cancel(order_id, reason="shopper", customer_id=CUSTOMER)
    again = cancellation.cancel(order_id, reason="shopper", customer_id=CUSTOMER)

    assert view["status"] == again["status"] == "CANCELLED" and "refund" not in view["payment"]
    assert provider_refunds(shop, intent_id) == [1000, total - 1000]
    assert shop.store.refunded_amount(order_id) == total
    assert shop.events.types.count("RefundIssued") == 0
    assert [d["refund"] for d in shop.events.details("OrderCancelled")] == [None, None]
    order = shop.store.require_order(order_id)
    assert order.refund_id is None and order.refunded is None
    assert "REFUNDED" not in [e.status for e in order.timeline]
    assert view["payment"]["status"] == again["payment"]["status"] == "refunded"  # not "succeeded": all given back


def test_a_retried_cancellation_refunds_the_rest_once(shop: FakeShop):
    order_id, total, intent_id = paid_order(shop)
    staff_refund(shop, order_id, intent_id, 700, "k1")
    shop.store.faults.crash_next("record_refund")  # the provider paid, the order did not record it yet
    with pytest.raises(Exception, match="crashed before record_refund"):
        cancellation.cancel(order_id, reason="shopper", customer_id=CUSTOMER)

    cancellation.cancel(order_id, reason="shopper", customer_id=CUSTOMER)
    cancellation.cancel(order_id, reason="shopper", customer_id=CUSTOMER)

    assert provider_refunds(shop, intent_id) == [700, total - 700]
    assert shop.store.refunded_amount(order_id) == total
    assert shop.store.require_order(order_id).refunded == Money(amount=total - 700, currency="EUR")


def test_reserve_rest_replays_its_amount_and_loses_no_race(shop: FakeShop):
    order_id, total, _ = paid_order(shop)
    store, tables = shop.store, shop.tables
    real_transact = tables.transact
    raced: list[bool] = []

    def staff_refund_lands_first(writes: list[Any]) -> list[str] | None:
        if not raced:  # between reserve_rest's read and its write, a staff refund is counted
            raced.append(True)
            store.reserve_refund(order_id, "staff-race", 300, total)
        return real_transact(writes)

    tables.transact = staff_refund_lands_first  # type: ignore[method-assign]
    try:
        assert store.reserve_rest(order_id, "rest", total) == total - 300  # read again, sized again
    finally:
        tables.transact = real_transact  # type: ignore[method-assign]
    assert store.refunded_amount(order_id) == total
    assert store.reserve_rest(order_id, "rest", total) == total - 300  # a replay: the same amount
    assert store.reserve_rest(order_id, "other", total) == 0  # nothing left, nothing written
    assert "refund.other" not in tables.orders[order_id]
    with pytest.raises(RefundLimitExceeded):
        store.reserve_refund(order_id, "late-staff", 1, total)


def test_reserve_rest_gives_up_on_an_order_whose_refunds_keep_changing(shop: FakeShop):
    order_id, total, _ = paid_order(shop)
    store, tables = shop.store, shop.tables
    real_transact = tables.transact
    staff: list[int] = []

    def always_raced(writes: list[Any]) -> list[str] | None:
        if len(staff) < 100 and not (staff and staff[-1] < 0):  # every write of reserve_rest, not the staff's own
            staff.append(-1)
            store.reserve_refund(order_id, f"staff-{len(staff)}", 1, total)
            staff[-1] = 1
        return real_transact(writes)

    tables.transact = always_raced  # type: ignore[method-assign]
    try:
        with pytest.raises(RefundContended):
            store.reserve_rest(order_id, "rest", total)
    finally:
        tables.transact = real_transact  # type: ignore[method-assign]
    assert "refund.rest" not in tables.orders[order_id]
    assert store.refunded_amount(order_id) == 5  # only the staff refunds were counted


def test_the_fake_store_keeps_the_reserve_rest_contract(shop: FakeShop):
    answers = rest_scenario(shop.checkout, shop.store, shop.tables.set_stock, shop.store.refunded_amount)
    assert answers == REST_EXPECTED
