"""Checkout's outcome matrix against the fakes: stock per line, coupons, the total the shopper saw, the
Idempotency-Key. Every case checks what was (or was not) written: stock, order, cart, coupon counts, the
workflow start, not only the answer."""

from __future__ import annotations

import pytest
from shop.errors import Conflict, InvalidInput, OutOfStock
from shop.idempotency import IdempotencyKeyReused
from shop.orders.models import OrderStatus
from shop.promotions.service import CouponNotApplicable

from tests.fakes import FakeShop
from tests.fast.flows import CUSTOMER, KEY, body, place

pytestmark = pytest.mark.fast


def snapshot(shop: FakeShop) -> tuple[object, ...]:
    """Everything a checkout may write."""
    t = shop.tables
    return ({k: (s.available, s.reserved, s.on_hand) for k, s in t.stock.items()}, repr(t.orders), repr(t.carts),
            repr(t.coupons), dict(t.coupon_customers), dict(t.redemptions), dict(shop.workflow.executions))


def assert_nothing_written(shop: FakeShop, before: tuple[object, ...]) -> None:
    assert snapshot(shop) == before
    assert shop.tables.transactions == 0 and shop.workflow.executions == {} and shop.events.entries == []


# ------------------------------------------------------------------ stock per line
def test_an_in_stock_cart_reserves_every_line_places_the_order_and_empties_the_cart(shop):
    shop.add_product("SKU-A", price=1250, weight_grams=700, stock={"berlin": 10})
    shop.add_product("SKU-B", price=300, stock={"berlin": 1, "hamburg": 5})
    shop.put_cart(CUSTOMER, {"SKU-A": 3, "SKU-B": 2})
    told: list[str] = []

    placed = place(told=told)

    assert placed["status"] == "PENDING_PAYMENT" and placed["replayed"] is False
    # the fewest warehouses for the whole order, {berlin, hamburg}; each line from them in preference order
    assert [ln["allocations"] for ln in placed["lines"]] == [
        [{"warehouse_id": "berlin", "quantity": 3}],
        [{"warehouse_id": "berlin", "quantity": 1}, {"warehouse_id": "hamburg", "quantity": 1}]]
    a, b_berlin = shop.stock("SKU-A", "berlin"), shop.stock("SKU-B", "berlin")
    b_hamburg = shop.stock("SKU-B", "hamburg")
    assert (a.available, a.reserved, a.on_hand) == (7, 3, 10)
    assert (b_berlin.available, b_berlin.reserved) == (0, 1) and (b_hamburg.available, b_hamburg.reserved) == (4, 1)
    order = shop.store.require_order(placed["order_id"])
    assert order.status == OrderStatus.PENDING_PAYMENT and order.customer_id == CUSTOMER
    totals = order.totals
    assert totals.subtotal.amount == 3 * 1250 + 2 * 300 and totals.discount.amount == 0
    assert totals.total.amount == totals.subtotal.amount + totals.shipping.amount + totals.tax.amount
    assert shop.tables.orders[order.order_id]["pending_pk"] == "PENDING"  # in the expiry index until paid
    assert shop.cart_items(CUSTOMER) == {} and shop.tables.carts[CUSTOMER]["version"] == 2
    assert shop.workflow.executions == {order.order_id: ("order_state_machine_arn", {
        "order_id": order.order_id, "payment_timeout_seconds": 900})}  # the configured 3-D Secure wait
    assert told == ["OrderPlaced"] and shop.events.entries == []  # OrderPlaced is published by the workflow


@pytest.mark.parametrize(("a_in_stock", "b_in_stock"), [(True, False), (False, True), (False, False)])
def test_a_short_line_refuses_the_checkout_naming_every_short_sku_and_writes_nothing(shop, a_in_stock, b_in_stock):
    shop.add_product("SKU-A", stock={"berlin": 5 if a_in_stock else 1})
    shop.add_product("SKU-B", stock={"berlin": 4 if b_in_stock else 0, "hamburg": 0})
    shop.put_cart(CUSTOMER, {"SKU-A": 2, "SKU-B": 3})
    before, told = snapshot(shop), []

    with pytest.raises(OutOfStock) as refused:
        place(told=told)

    short = {s["sku"]: (s["requested"], s["available"]) for s in refused.value.details["skus"]}
    assert short == {**({} if a_in_stock else {"SKU-A": (2, 1)}), **({} if b_in_stock else {"SKU-B": (3, 0)})}
    assert told == ["CheckoutOutOfStock"]
    assert shop.checkout.calls["fresh_stock"] == 1  # the warehouse list was read again before refusing
    assert_nothing_written(shop, before)


def test_stock_taken_between_the_read_and_the_transaction_is_never_oversold(shop):
    shop.add_product("SKU-A", stock={"berlin": 2})
    shop.put_cart(CUSTOMER, {"SKU-A": 2})
    rival = shop.tables.level("SKU-A", "berlin")

    def another_order_reserves() -> None:  # lands after our read, before our transaction
        rival.available, rival.reserved = 0, 2

    shop.checkout.interleave.append(another_order_reserves)
    with pytest.raises(OutOfStock):
        place()

    assert (rival.available, rival.reserved, rival.on_hand) == (0, 2, 2)  # theirs, never below zero
    assert shop.tables.orders == {} and shop.cart_items(CUSTOMER) == {"SKU-A": 2}
    assert shop.checkout.calls["reserve_and_place"] == 1 and shop.workflow.executions == {}


def test_a_lost_race_retries_from_the_warehouse_that_still_has_the_stock(shop):
    shop.add_product("SKU-A", stock={"berlin": 2, "munich": 2})
    shop.put_cart(CUSTOMER, {"SKU-A": 2})
    first = min(("berlin", "munich"))  # allocation prefers by priority, then id: both priority 100

    def another_order_reserves() -> None:
        level = shop.tables.level("SKU-A", first)
        level.available, level.reserved = 0, 2

    shop.checkout.interleave.append(another_order_reserves)
    placed = place()

    other = "munich" if first == "berlin" else "berlin"
    assert placed["lines"][0]["allocations"] == [{"warehouse_id": other, "quantity": 2}]
    assert shop.stock("SKU-A", other).reserved == 2 and shop.stock("SKU-A", first).reserved == 2
    assert shop.checkout.calls["reserve_and_place"] == 2 and shop.tables.transactions == 1


# ------------------------------------------------------------------ coupons
def test_a_valid_coupon_discounts_the_order_and_counts_one_use(shop):
    shop.add_product("SKU-A", price=2000, stock={"berlin": 5})
    shop.add_coupon("SAVE10", percent=10, global_limit=5)
    shop.put_cart(CUSTOMER, {"SKU-A": 2}, coupon="SAVE10")

    placed = place()

    order = shop.store.require_order(placed["order_id"])
    assert order.coupon_code == "SAVE10" and order.totals.discount.amount == 400
    assert shop.coupon_used("SAVE10") == 1 and shop.tables.coupon_customers[("SAVE10", CUSTOMER)] == 1
    assert shop.tables.redemptions[("SAVE10", order.order_id)]["customer_id"] == CUSTOMER
    assert "coupon_code" not in shop.tables.carts[CUSTOMER]  # the emptied cart forgets it


@pytest.mark.parametrize(("terms", "reason"), [
    ({"global_limit": 3, "used": 3}, "exhausted"),
    ({"active": False}, "not_active"),
])
def test_a_coupon_that_cannot_apply_refuses_the_checkout_and_writes_nothing(shop, terms, reason):
    shop.add_product("SKU-A", stock={"berlin": 5})
    shop.add_coupon("SAVE10", **terms)
    shop.put_cart(CUSTOMER, {"SKU-A": 1}, coupon="SAVE10")
    before = snapshot(shop)

    with pytest.raises(CouponNotApplicable) as refused:
        place()

    assert refused.value.details == {"coupon": "SAVE10", "reason": reason}
    assert_nothing_written(shop, before)


def test_a_coupon_is_used_once_per_customer(shop):
    shop.add_product("SKU-A", stock={"berlin": 5})
    shop.add_coupon("ONCE", per_customer_limit=1)
    shop.put_cart(CUSTOMER, {"SKU-A": 1}, coupon="ONCE")
    place()
    shop.put_cart(CUSTOMER, {"SKU-A": 1}, coupon="ONCE")

    with pytest.raises(CouponNotApplicable) as refused:
        place(key="key-0000000002")

    assert refused.value.details["reason"] == "already_used"
    assert shop.coupon_used("ONCE") == 1 and shop.stock("SKU-A", "berlin").reserved == 1


def test_the_last_use_of_a_coupon_taken_meanwhile_refuses_the_checkout_atomically(shop):
    shop.add_product("SKU-A", stock={"berlin": 5})
    shop.add_coupon("LAST", global_limit=1)
    shop.put_cart(CUSTOMER, {"SKU-A": 1}, coupon="LAST")
    told: list[str] = []

    def someone_else_redeems() -> None:  # the read saw one use left; the transaction's condition decides
        shop.tables.coupons["LAST"]["used"] = 1

    shop.checkout.interleave.append(someone_else_redeems)
    with pytest.raises(CouponNotApplicable) as refused:
        place(told=told)

    assert refused.value.details["reason"] == "exhausted" and told == ["CouponExhausted"]
    assert shop.coupon_used("LAST") == 1 and shop.tables.redemptions == {}
    assert shop.stock("SKU-A", "berlin").reserved == 0 and shop.tables.orders == {}  # the stock was not taken


# ------------------------------------------------------------------ the total the shopper saw
def test_a_price_change_since_the_cart_was_shown_refuses_the_checkout_with_the_new_totals(shop):
    shop.add_product("SKU-A", price=1000, stock={"berlin": 5})
    shop.put_cart(CUSTOMER, {"SKU-A": 2})
    with pytest.raises(Conflict) as seen:  # what the cart showed: the totals at the old price
        place(request=body(expected_total={"amount": 1, "currency": "EUR"}))
    shown = seen.value.details["totals"]["total"]
    shop.add_product("SKU-A", price=1100, stock={"berlin": 5})
    before, told = snapshot(shop), []

    with pytest.raises(Conflict) as refused:
        place(request=body(expected_total=shown), told=told)

    assert refused.value.code == "price_changed" and told == ["CheckoutPriceChanged"]
    new_total = refused.value.details["totals"]["total"]
    assert new_total["amount"] > shown["amount"] and refused.value.details["expected_total"] == shown
    assert_nothing_written(shop, before)
    placed = place(request=body(expected_total=new_total))  # checking out with the new total goes through
    assert placed["totals"]["total"] == new_total and shop.stock("SKU-A", "berlin").reserved == 2


# ------------------------------------------------------------------ the Idempotency-Key
def test_a_repeated_request_replays_the_order_without_reserving_again(shop):
    shop.add_product("SKU-A", stock={"berlin": 5})
    shop.put_cart(CUSTOMER, {"SKU-A": 2})
    first = place()

    again = place()

    assert again["replayed"] is True and {k: v for k, v in again.items() if k != "replayed"} == \
        {k: v for k, v in first.items() if k != "replayed"}
    assert len(shop.tables.orders) == 1 and shop.tables.transactions == 1
    assert shop.stock("SKU-A", "berlin").reserved == 2
    # the workflow is started again in case the first start was lost; the start is once per order
    assert shop.workflow.start_calls == [first["order_id"]] * 2
    assert list(shop.workflow.executions) == [first["order_id"]]


def test_a_key_reused_for_another_request_is_refused_and_changes_nothing(shop):
    shop.add_product("SKU-A", stock={"berlin": 5})
    shop.put_cart(CUSTOMER, {"SKU-A": 2})
    place()
    shop.put_cart(CUSTOMER, {"SKU-A": 1})
    before = snapshot(shop)

    with pytest.raises(IdempotencyKeyReused):
        place(request=body(payment_method_id="pm_card_other"))

    assert snapshot(shop) == before and shop.tables.transactions == 1


def test_concurrent_duplicates_place_one_order_and_both_get_it(shop):
    shop.add_product("SKU-A", stock={"berlin": 5})
    shop.put_cart(CUSTOMER, {"SKU-A": 2})
    answers = []
    shop.checkout.interleave.append(lambda: answers.append(place()))  # the twin request wins the race

    mine = place()

    assert answers[0]["replayed"] is False and mine["replayed"] is True
    assert mine["order_id"] == answers[0]["order_id"] and len(shop.tables.orders) == 1
    assert shop.stock("SKU-A", "berlin").reserved == 2 and shop.tables.transactions == 1


def test_a_transaction_whose_answer_was_lost_is_answered_from_the_order_it_placed(shop):
    shop.add_product("SKU-A", stock={"berlin": 5})
    shop.put_cart(CUSTOMER, {"SKU-A": 2})
    shop.checkout.lose_answer = 1

    placed = place()

    assert placed["replayed"] is True and placed["status"] == "PENDING_PAYMENT"
    assert shop.stock("SKU-A", "berlin").reserved == 2 and shop.tables.transactions == 1
    assert list(shop.workflow.executions) == [placed["order_id"]]


def test_the_same_key_of_two_shoppers_places_two_orders(shop):
    shop.add_product("SKU-A", stock={"berlin": 5})
    shop.put_cart(CUSTOMER, {"SKU-A": 1})
    shop.put_cart("cust-bob", {"SKU-A": 1})

    ada, bob = place(), place(customer_id="cust-bob", key=KEY)

    assert ada["order_id"] != bob["order_id"] and bob["replayed"] is False
    assert shop.stock("SKU-A", "berlin").reserved == 2


# ------------------------------------------------------------------ refusals before any read of stock
def test_an_empty_cart_or_a_product_no_longer_sold_is_refused_before_anything_is_written(shop):
    with pytest.raises(InvalidInput):
        place()
    shop.add_product("SKU-A", stock={"berlin": 5}, active=False)
    shop.put_cart(CUSTOMER, {"SKU-A": 1})
    with pytest.raises(Conflict) as refused:
        place()
    assert refused.value.details == {"skus": ["SKU-A"]}
    assert shop.tables.transactions == 0 and shop.stock("SKU-A", "berlin").reserved == 0
