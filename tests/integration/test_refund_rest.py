"""A cancellation after staff partial refunds refunds what is LEFT of the charge (payments.refund_in_full through
orders.repository.reserve_rest), not the order's total: the cancel succeeds, Stripe pays the rest once under the
order's key, RefundIssued announces it, and the order's refunded counter ends equal to what was captured, also
when the cancellation is repeated, when staff refunded everything before, and when a staff refund races it
(money audit: Stripe's refunds of the intent against the order's counter and the capture)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from shop.checkout.ports import DynamoCheckoutStore
from shop.config import function_environment
from shop.inventory import repository as inventory
from shop.notifications.templates import format_money
from shop.orders import repository as orders_repo

from tests.audit import stripe_list
from tests.factories import checkout, make_product, ok, order_item, put_in_cart, uid, wait_status
from tests.fakes import FakeShop
from tests.fakes.contract import WAREHOUSE, new_ids, order
from tests.fakes.refund_rest import REST_EXPECTED, rest_scenario
from tests.fakes.tables import now_iso

pytestmark = [pytest.mark.integration, pytest.mark.audited]  # the invariant audit runs around each test


def place(stack: Any, shopper: Any, sku: str, quantity: int = 2) -> str:
    put_in_cart(stack, shopper.id_token, sku, quantity)
    oid = str(ok(checkout(stack, shopper.id_token), 201)["order_id"])
    wait_status(stack, shopper.id_token, oid, "FULFILLING", timeout=60)
    return oid


def staff_refund(stack: Any, api: Any, oid: str, amount: int, key: str | None = None) -> Any:
    return stack.request("POST", f"/admin/orders/{oid}/refunds", token=api.token,
                         headers={"Idempotency-Key": key or f"k-{uid(12)}"},
                         json={"amount": {"amount": amount, "currency": "EUR"}, "reason": "damaged box"})


def stripe_refunds(stack: Any, oid: str) -> list[int]:
    """The amounts of Stripe's refunds of the order's intent, sorted (created within one second: no order)."""
    intent = order_item(stack, oid)["payment_intent_id"]["S"]
    found = [r for r in stripe_list(stack, "refunds")
             if r.get("payment_intent") == intent and r.get("status") in ("succeeded", "pending")]
    return sorted(int(r["amount"]) for r in found)


def audit(stack: Any, oid: str, total: int) -> None:
    """The order counts what Stripe paid out, which is exactly what was captured."""
    item = order_item(stack, oid)
    intent = item["payment_intent_id"]["S"]
    captured = sum(int(c["amount"]) for c in stripe_list(stack, "charges")
                   if c.get("payment_intent") == intent and c.get("captured") and c.get("status") == "succeeded")
    assert int(item["refunded_amount"]["N"]) == sum(stripe_refunds(stack, oid)) == captured == total


def refund_mails(stack: Any, shopper: Any, oid: str) -> list[str]:
    stack.drain_async()
    return [m["subject"] for m in stack.sent_emails()
            if shopper.email in m["destinations"] and oid in m["subject"] and m["subject"].startswith("Refund")]


@pytest.fixture(scope="module")
def sku(stack: Any, admin: Any) -> str:
    return str(make_product(stack, admin.id_token, stock={"a": 40}, price=2730).skus[0])


def test_a_cancel_after_a_staff_refund_refunds_the_rest_once(stack: Any, api: Any, sku: str) -> None:
    shopper = stack.user()
    oid = place(stack, shopper, sku)
    total = api("GET", f"/admin/orders/{oid}")["totals"]["total"]["amount"]
    assert staff_refund(stack, api, oid, 700).status == 201

    cancelled = stack.request("POST", f"/orders/{oid}/cancel", token=shopper.id_token)
    assert cancelled.status == 200, cancelled.body
    view = cancelled.json()
    assert view["status"] == "CANCELLED" and view["payment"]["refund"]["amount"]["amount"] == total - 700
    again = stack.request("POST", f"/orders/{oid}/cancel", token=shopper.id_token)  # the same call twice
    assert again.status == 200 and again.json()["payment"] == view["payment"]

    assert stripe_refunds(stack, oid) == sorted([700, total - 700])
    audit(stack, oid, total)
    staff_view = api("GET", f"/admin/orders/{oid}")
    assert staff_view["payment"]["refunded"]["amount"] == total and staff_view["payment"]["refundable"]["amount"] == 0
    assert sorted((r["source"], r["amount"]["amount"]) for r in staff_view["refunds"]) == [
        ("cancellation", total - 700), ("staff", 700)]
    rest = format_money({"amount": total - 700, "currency": "EUR"})
    mails = refund_mails(stack, shopper, oid)
    assert len(mails) == 2 and sum(1 for s in mails if f"Refund of {rest} " in s) == 1  # RefundIssued for the rest


def test_a_staff_cancel_after_everything_was_refunded_refunds_nothing_more(stack: Any, api: Any, sku: str) -> None:
    shopper = stack.user()
    oid = place(stack, shopper, sku)
    total = api("GET", f"/admin/orders/{oid}")["totals"]["total"]["amount"]
    assert staff_refund(stack, api, oid, 1000).status == 201
    assert staff_refund(stack, api, oid, total - 1000).status == 201

    view = api("POST", f"/admin/orders/{oid}/cancel")
    again = api("POST", f"/admin/orders/{oid}/cancel")

    assert view["status"] == again["status"] == "CANCELLED"
    assert stripe_refunds(stack, oid) == sorted([1000, total - 1000])
    audit(stack, oid, total)
    assert view["payment"]["refunded"]["amount"] == total and view["payment"]["refundable"]["amount"] == 0
    assert [r["source"] for r in again["refunds"]] == ["staff", "staff"]  # no cancellation refund of 0
    assert [t["status"] for t in again["timeline"] if t["kind"] == "status"].count("REFUNDED") == 2
    assert order_item(stack, oid).get("refund_id") is None
    shopper_view = ok(stack.request("GET", f"/orders/{oid}", token=shopper.id_token))
    assert shopper_view["payment"]["status"] == "refunded"  # everything was given back (by staff), not "succeeded"


def test_a_staff_refund_racing_a_cancel_never_refunds_more_than_was_captured(stack: Any, api: Any,
                                                                             sku: str) -> None:
    for _ in range(2):  # either may land first; twice, so both orders have a fair chance
        shopper = stack.user()
        oid = place(stack, shopper, sku)
        total = api("GET", f"/admin/orders/{oid}")["totals"]["total"]["amount"]
        share = total * 6 // 10
        barrier = threading.Barrier(2)
        answers: dict[str, Any] = {}

        def refund(oid: str = oid, share: int = share, barrier: threading.Barrier = barrier,
                   answers: dict[str, Any] = answers) -> None:
            barrier.wait()
            answers["refund"] = staff_refund(stack, api, oid, share)

        def cancel(oid: str = oid, shopper: Any = shopper, barrier: threading.Barrier = barrier,
                   answers: dict[str, Any] = answers) -> None:
            barrier.wait()
            answers["cancel"] = stack.request("POST", f"/orders/{oid}/cancel", token=shopper.id_token)

        threads = [threading.Thread(target=refund), threading.Thread(target=cancel)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert answers["cancel"].status == 200, answers["cancel"].body
        assert answers["refund"].status in (201, 409), answers["refund"].body
        if answers["refund"].status == 409:  # the cancellation counted everything first
            assert answers["refund"].json()["error"]["code"] == "refund_limit_exceeded"
            assert stripe_refunds(stack, oid) == [total]
        else:
            assert stripe_refunds(stack, oid) == sorted([share, total - share])
        audit(stack, oid, total)
        again = stack.request("POST", f"/orders/{oid}/cancel", token=shopper.id_token)
        assert again.status == 200 and sum(stripe_refunds(stack, oid)) == total


def counted(order_id: str) -> int:
    ops = orders_repo.order_ops(order_id)
    assert ops is not None
    return ops.refunded_amount


def test_reserve_rest_on_dynamodb_answers_like_the_fake(stack: Any) -> None:
    with function_environment(stack.function_env("CheckoutFunction")):
        real = rest_scenario(DynamoCheckoutStore(), orders_repo,
                             lambda sku, wh, on_hand: inventory.create_stock(sku, wh, on_hand, now_iso()), counted)
        fake_shop = FakeShop()
        fake = rest_scenario(fake_shop.checkout, fake_shop.store, fake_shop.tables.set_stock,
                             fake_shop.store.refunded_amount)
    assert real == REST_EXPECTED
    assert fake == real


def test_reserve_rest_racing_staff_reservations_on_dynamodb_counts_exactly_the_capture(stack: Any) -> None:
    """Many staff reservations and two reservations of the rest under one key, at once, against the real
    conditional writes: the counter ends at exactly the capture, the rest is one amount, the parts add up."""
    env = stack.function_env("CheckoutFunction")
    with function_environment(env):
        sku, customer, prefix = new_ids()
        inventory.create_stock(sku, WAREHOUSE, 1, now_iso())
        placed = order(f"{prefix}r", customer, sku, 1, total=1000)
        assert DynamoCheckoutStore().reserve_and_place(placed, customer, 0, now_iso()) == "placed"
        oid = placed.order_id
        barrier = threading.Barrier(8)
        staff: dict[int, bool] = {}
        rests: list[int] = []

        def reserve_staff(i: int) -> None:  # the settings are per thread: each one enters the function's
            with function_environment(env):
                barrier.wait()
                try:
                    staff[i] = orders_repo.reserve_refund(oid, f"staff{i}", 150, 1000)
                except orders_repo.RefundLimitExceeded:
                    staff[i] = False

        def reserve_rest() -> None:
            with function_environment(env):
                barrier.wait()
                rests.append(orders_repo.reserve_rest(oid, "full", 1000))

        threads = [threading.Thread(target=reserve_staff, args=(i,)) for i in range(6)]
        threads += [threading.Thread(target=reserve_rest) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(rests) == 2 and rests[0] == rests[1]  # one amount under the key, however often asked
        assert 150 * sum(staff.values()) + rests[0] == 1000 == counted(oid)
        assert orders_repo.reserve_rest(oid, "full", 1000) == rests[0]
