"""Sale events and coupons against the deployed stack: admin validation, the stacking rules in the cart, the
coupon counted in the checkout transaction (a limit of N is never exceeded by 50 parallel checkouts), per
customer limits, and the use given back when the order is cancelled."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import PROMO_WINDOW as WINDOW
from tests.factories import checkout, eur, make_coupon, make_product, ok, put_in_cart, uid, wait_paid

pytestmark = pytest.mark.integration


def coupon(stack: Any, admin: Any, **terms: Any) -> str:
    return make_coupon(stack, admin.id_token, **terms)


def category_of(stack: Any, product_id: str) -> str:
    return str(stack.request("GET", f"/products/{product_id}").json()["category"])


def test_admin_input_is_validated(stack, admin):
    path = f"/admin/coupons/C{uid(6).upper()}"
    both = stack.request("PUT", path, token=admin.id_token, json={**WINDOW, "percent": 10, "amount_off": eur(100)})
    assert both.status == 422 and "exactly one" in both.body
    naive = stack.request("PUT", path, token=admin.id_token, json={"percent": 10, "starts_at": "2026-01-01T00:00:00",
                                                                   "ends_at": "2026-02-01T00:00:00"})
    assert naive.status == 422 and "time zone" in naive.body
    usd = stack.request("PUT", path, token=admin.id_token,
                        json={**WINDOW, "amount_off": {"amount": 5, "currency": "USD"}})
    assert usd.status == 422 and usd.json()["error"]["details"]["fields"][0]["field"] == "body.amount_off.currency"
    no_target = stack.request("PUT", f"/admin/sales/s-{uid()}", token=admin.id_token,
                              json={**WINDOW, "name": "x", "scope": "sku", "percent": 10})
    assert no_target.status == 422 and "target" in no_target.body
    assert stack.request("GET", "/admin/coupons/NOPE123", token=admin.id_token).status == 404
    assert stack.request("GET", "/admin/sales", token=stack.user().id_token).status == 403


def test_one_sale_per_line_then_one_coupon_on_the_discounted_subtotal(stack, admin):
    product = make_product(stack, admin.id_token, stock={"a": 20}, price=10000, n_skus=2)
    sku_a, sku_b = product.skus
    category = category_of(stack, product.product_id)
    tag = uid()
    # every product 10 % off, this category 20 % off, SKU b 500 off per unit: each line takes its best sale
    sales = ({"scope": "all", "percent": 10}, {"scope": "category", "target": category, "percent": 20},
             {"scope": "sku", "target": sku_b, "amount_off": eur(2500)})
    for sale in sales:
        ok(stack.request("PUT", f"/admin/sales/s-{tag}-{sale['scope']}", token=admin.id_token,
                         json={**WINDOW, "name": f"{sale['scope']} {tag}", **sale}))
    try:
        check_stacking(stack, admin, sku_a, sku_b)
    finally:  # the stack is shared by this worker's tests: a shop-wide sale must end with the test
        for sale in sales:
            ok(stack.request("PUT", f"/admin/sales/s-{tag}-{sale['scope']}", token=admin.id_token,
                             json={**WINDOW, "name": f"{sale['scope']} {tag}", **sale, "active": False}))
    running = [s["sale_id"] for s in ok(stack.request("GET", "/admin/sales", token=admin.id_token))["items"]
               if s["running"] and s["sale_id"].startswith(f"s-{tag}")]
    assert running == []


def check_stacking(stack: Any, admin: Any, sku_a: str, sku_b: str) -> None:
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, sku_a, 2)
    put_in_cart(stack, shopper.id_token, sku_b, 1)
    cart = ok(stack.request("GET", "/cart", token=shopper.id_token))
    lines = {i["sku"]: i for i in cart["items"]}
    assert lines[sku_a]["discount"] == eur(4000)  # 20 % of 20000 beats 10 %
    assert lines[sku_b]["discount"] == eur(2500)  # 2500 off one unit beats 20 % (2000)
    assert cart["totals"]["discount"] == eur(6500)

    code = coupon(stack, admin, percent=10, min_subtotal=eur(30000))
    small = ok(stack.request("PUT", "/cart/coupon", token=shopper.id_token, json={"code": code.lower()}))
    assert small["coupon"] == code and small["totals"]["discount"] == eur(6500)  # 23500 after sales < 30000
    assert [w["reason"] for w in small["warnings"] if w["code"] == "coupon_not_applicable"] == ["below_minimum"]
    put_in_cart(stack, shopper.id_token, sku_a, 4)  # 40000 - 8000 + 7500 = 39500 after sales
    big = ok(stack.request("GET", "/cart", token=shopper.id_token))
    assert big["totals"]["discount"] == eur(8000 + 2500 + 3950)
    assert sum(i["discount"]["amount"] for i in big["items"]) == 8000 + 2500 + 3950  # shares add up
    assert {d["code"] for d in big["discounts"]} >= {code}
    assert stack.request("PUT", "/cart/coupon", token=shopper.id_token, json={"code": "UNKNOWN-1"}).status == 404
    gone = ok(stack.request("DELETE", "/cart/coupon", token=shopper.id_token))
    assert gone["coupon"] is None and gone["totals"]["discount"] == eur(10500)


def test_checkout_counts_the_coupon_once_per_customer_and_a_cancellation_gives_it_back(stack, admin):
    product = make_product(stack, admin.id_token, stock={"a": 20}, price=5000)
    sku = product.skus[0]
    code = coupon(stack, admin, amount_off=eur(1000), per_customer_limit=1, global_limit=10)
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, sku, 2)
    ok(stack.request("PUT", "/cart/coupon", token=shopper.id_token, json={"code": code}))
    placed = ok(checkout(stack, shopper.id_token), 201)
    assert placed["totals"]["discount"] == eur(1000) and placed["totals"]["subtotal"] == eur(10000)
    assert [ln["discount"] for ln in placed["lines"]] == [eur(1000)]
    assert ok(stack.request("GET", f"/admin/coupons/{code}", token=admin.id_token))["used"] == 1
    assert ok(stack.request("GET", "/cart", token=shopper.id_token))["coupon"] is None  # used up with the cart

    put_in_cart(stack, shopper.id_token, sku, 1)
    ok(stack.request("PUT", "/cart/coupon", token=shopper.id_token, json={"code": code}))
    again = checkout(stack, shopper.id_token)
    assert again.status == 409 and again.json()["error"]["code"] == "coupon_not_applicable"
    assert again.json()["error"]["details"]["reason"] == "already_used"

    wait_paid(stack, placed["order_id"])
    ok(stack.request("POST", f"/orders/{placed['order_id']}/cancel", token=shopper.id_token))
    assert ok(stack.request("GET", f"/admin/coupons/{code}", token=admin.id_token))["used"] == 0
    ok(stack.request("POST", f"/orders/{placed['order_id']}/cancel", token=shopper.id_token))  # twice: once back
    assert ok(stack.request("GET", f"/admin/coupons/{code}", token=admin.id_token))["used"] == 0
    reuse = ok(checkout(stack, shopper.id_token), 201)
    assert reuse["totals"]["discount"] == eur(1000)


@pytest.mark.xdist_group("concurrency")
def test_a_coupon_limited_to_5_is_used_5_times_by_50_parallel_checkouts(stack, admin):
    """The race of tests/race.py (over HTTP, all at once); scaled to 200 shoppers in test_flash_sale.py."""
    from tests.race import make_shoppers, run_checkout_race

    product = make_product(stack, admin.id_token, stock={"a": 100}, price=2000)
    sku = product.skus[0]
    code = coupon(stack, admin, percent=25, global_limit=5)
    shoppers = make_shoppers(stack, 50)
    for s in shoppers:
        put_in_cart(stack, s.id_token, sku, 1)
        ok(stack.request("PUT", "/cart/coupon", token=s.id_token, json={"code": code}))

    outcome = run_checkout_race(stack, shoppers, what="coupon use")  # every request got its own answer
    assert set(outcome.statuses) <= {201, 409}, outcome.statuses
    assert len(outcome.live) == 5, outcome.final  # exactly 5 orders carry the coupon (released ones gave it back)
    assert len(outcome.placed) == 5 + len(outcome.released), outcome.statuses
    assert all(a.error["code"] == "coupon_not_applicable" for a in outcome.refused())
    assert all(a.body["totals"]["discount"] == eur(500) for a in outcome.answers if a.status == 201)
    assert ok(stack.request("GET", f"/admin/coupons/{code}", token=admin.id_token))["used"] == 5
    # the others' carts are untouched: they can still check out without the coupon
    loser = outcome.refused()[0].shopper
    ok(stack.request("DELETE", "/cart/coupon", token=loser.id_token))
    assert ok(checkout(stack, loser.id_token), 201)["totals"]["discount"] == eur(0)


def test_promotions_sample_events_are_answered(stack):
    """events/promotions: the admin samples create a sale and a coupon, list and read them."""
    import json

    from shoplocal.stack import ROOT

    folder = ROOT / "events" / "promotions"
    for name in ("put_sale", "list_sales", "put_coupon", "get_coupon"):
        result = stack.invoke("PromotionsFunction", json.loads((folder / f"{name}.json").read_text()))
        assert result["statusCode"] == 200, (name, result)
    coupon = json.loads(stack.invoke("PromotionsFunction", json.loads(
        (folder / "get_coupon.json").read_text()))["body"])
    assert coupon["code"] == "WELCOME10" and coupon["used"] == 0
    ok(stack.request("PUT", "/admin/sales/winter-coffee", token=stack.user(groups=("admin",)).id_token,
                     json={**WINDOW, "name": "Winter coffee", "scope": "category", "target": "coffee", "percent": 15,
                           "active": False}))  # the stack is shared: end the sample's sale
