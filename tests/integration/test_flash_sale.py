"""Flash sale: 200 shoppers check out at the same moment (issue 7, concurrency).

1. Ten units of one SKU in two warehouses (6 + 4): exactly ten units are sold, every other shopper gets 409
   out_of_stock naming the SKU, at no sampled instant is more than ten held or any level negative, and the
   stock is conserved per warehouse (tests/race.py: assert_stock_conserved). Twice: with one stock item per
   warehouse, and with the hot SKU's levels sharded (4 and 2 shards, shop.inventory.shards), where the
   reservations must also have spread over several shard items.
2. A coupon limited to ten uses, plenty of stock: exactly ten live orders carry it and its ``used`` is ten,
   every other shopper gets 409 coupon_not_applicable (exhausted), and the count is never above ten.

Checkouts go over real HTTP through the local gateway, one session per shopper, released by one barrier;
a 503 service_busy is retried with the same Idempotency-Key (tests/race.py). A placed order whose payment
then fails gives back its unit and its coupon use, which a later shopper of the same burst may take: that is
selling it once, not twice. So the counts are about the live orders, and released ones are reported.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.factories import eur, make_coupon, make_product, ok, order_item, put_in_cart
from tests.race import (
    RaceOutcome,
    Sampler,
    assert_never_oversold,
    assert_stock_conserved,
    make_shoppers,
    plain,
    run_checkout_race,
    stock_sampler,
    timed,
)

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("concurrency"), pytest.mark.audited]

SHOPPERS = 200
UNITS = {"a": 6, "b": 4}
COUPON_LIMIT = 10


def fill_carts(stack: Any, shoppers: list[Any], product: Any, coupon: str | None = None) -> None:
    """One unit of the product's SKU (and the coupon) in every shopper's cart. The first shopper's through the
    routes (PUT /cart/items, PUT /cart/coupon: the cart function is warm before the race); every other cart is
    written as the cart function writes it (shop.cart.repository.save_cart, run in its environment). Through
    HTTP, 200 carts were half of this module's time (four DynamoDB calls a line, one interpreter), while what it
    tests is the race; the cart routes have their own tests (test_cart_api.py, test_promotions.py)."""
    from shop.cart import repository as carts
    from shop.config import function_environment, get_settings

    sku = product.skus[0]
    first, rest = shoppers[0], shoppers[1:]
    put_in_cart(stack, first.id_token, sku, 1)
    if coupon:
        ok(stack.request("PUT", "/cart/coupon", token=first.id_token, json={"code": coupon}))
    with function_environment(stack.function_env("CartFunction")):
        ttl = get_settings().cart_ttl_seconds
        for shopper in rest:
            now = time.time()
            stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # as the cart service writes
            carts.save_cart(shopper.user_id, {sku: 1}, 0, now=stamp, expires_at=int(now) + ttl, coupon_code=coupon,
                            products={sku: product.product_id}, email=shopper.email)


def breakdown(name: str, timings: dict[str, float], outcome: RaceOutcome) -> None:
    busy = sum(a.busy for a in outcome.answers)
    print(f"\n{name}: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
          + f"; answers {dict(outcome.statuses)}, 503s retried {busy}, released {len(outcome.released)}")


@pytest.mark.parametrize("shards", [None, (4, 2)], ids=["one-item-per-level", "sharded-4-and-2"])
def test_200_parallel_checkouts_sell_exactly_the_10_units_of_two_warehouses(stack, admin, shards):
    timings: dict[str, float] = {}
    with timed(timings, "setup"):
        product = make_product(stack, admin.id_token, stock=UNITS, price=4999)
    sku = product.skus[0]
    for wh, n in zip(product.warehouses, shards, strict=True) if shards else ():  # the hot SKU's levels, sharded
        ok(stack.request("PUT", f"/admin/inventory/{sku}/{wh}/shards", token=admin.id_token, json={"shards": n}))
    with timed(timings, "users"):
        shoppers = make_shoppers(stack, SHOPPERS)
    with timed(timings, "carts"):
        fill_carts(stack, shoppers, product)

    sampler = stock_sampler(stack, sku)
    with sampler.running():
        outcome = run_checkout_race(stack, shoppers, timings=timings)

    with timed(timings, "checks"):
        assert set(outcome.statuses) <= {201, 409}, outcome.statuses
        for answer in outcome.refused():
            assert answer.error["code"] == "out_of_stock", answer.body
            assert [s["sku"] for s in answer.error["details"]["skus"]] == [sku], answer.body
        # ten units held by ten live orders; any other placed order was released before the burst ended
        assert len(outcome.live) == sum(UNITS.values()), outcome.final
        assert len(outcome.placed) == len(outcome.live) + len(outcome.released)
        assert outcome.statuses[409] == SHOPPERS - len(outcome.placed), outcome.statuses
        assert_never_oversold(sampler.samples, sum(UNITS.values()))

        figures = assert_stock_conserved(stack, sku, outcome.placed)
        assert {wh: figures[wh]["on_hand"] for wh in product.warehouses} == dict(
            zip(product.warehouses, UNITS.values(), strict=True)), figures
        assert sum(f["available"] for f in figures.values()) == 0, figures
        assert sum(f["held"] for f in figures.values()) == sum(UNITS.values()), figures
        if shards:  # the reservations went to several items: what sharding is for
            slots = {(a["warehouse_id"], a.get("shard")) for oid in outcome.live
                     for a in plain(order_item(stack, oid))["lines"][0]["allocations"]}
            assert len({slot for slot in slots if slot[1] is not None}) >= 3, slots
        # the losers' carts still hold the item (nothing of theirs was half-written)
        loser = outcome.refused()[0].shopper
        cart = ok(stack.request("GET", "/cart", token=loser.id_token))
        assert [(i["sku"], i["quantity"]) for i in cart["items"]] == [(sku, 1)]
    breakdown("flash sale", timings, outcome)


def coupon_used(stack: Any, code: str) -> int:
    item = stack.client("dynamodb").get_item(
        TableName=stack.physical_id("PromotionsTable"), ConsistentRead=True,
        Key={"pk": {"S": f"COUPON#{code}"}, "sk": {"S": "COUPON"}})["Item"]
    return int(item["used"]["N"])


def coupon_rows(stack: Any, code: str) -> dict[str, int]:
    """The coupon's per-customer and per-order rows: sk -> used (1 for a redemption)."""
    items = stack.client("dynamodb").query(
        TableName=stack.physical_id("PromotionsTable"), ConsistentRead=True, KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": f"COUPON#{code}"}})["Items"]
    return {i["sk"]["S"]: int(i["used"]["N"]) if "used" in i else 1 for i in items if i["sk"]["S"] != "COUPON"}


def test_a_coupon_limited_to_10_is_used_10_times_by_200_parallel_checkouts(stack, admin):
    timings: dict[str, float] = {}
    with timed(timings, "setup"):
        product = make_product(stack, admin.id_token, stock={"a": SHOPPERS + 50}, price=2000)
        sku = product.skus[0]
        code = make_coupon(stack, admin.id_token, percent=25, global_limit=COUPON_LIMIT)
    with timed(timings, "users"):
        shoppers = make_shoppers(stack, SHOPPERS)
    with timed(timings, "carts"):
        fill_carts(stack, shoppers, product, code)

    sampler = Sampler(lambda: coupon_used(stack, code))
    with sampler.running():
        outcome = run_checkout_race(stack, shoppers, what="unit and coupon use", timings=timings)

    with timed(timings, "checks"):
        assert set(outcome.statuses) <= {201, 409}, outcome.statuses
        for answer in outcome.refused():
            assert answer.error["code"] == "coupon_not_applicable", answer.body
            assert answer.error["details"] == {"coupon": code, "reason": "exhausted"}, answer.body
        for answer in outcome.answers:
            if answer.status == 201:
                assert answer.body["totals"]["discount"] == eur(500), answer.body
                assert order_item(stack, answer.body["order_id"])["coupon_code"]["S"] == code
        assert len(sampler.samples) > 10 and max(sampler.samples) <= COUPON_LIMIT, max(sampler.samples)
        assert min(sampler.samples) >= 0

        # ten live orders carry the coupon; a released one gave its use back (and someone else took it)
        assert len(outcome.live) == COUPON_LIMIT, outcome.final
        assert len(outcome.placed) == len(outcome.live) + len(outcome.released)
        assert ok(stack.request("GET", f"/admin/coupons/{code}", token=admin.id_token))["used"] == COUPON_LIMIT
        rows = coupon_rows(stack, code)
        assert {sk.removeprefix("ORDER#") for sk in rows if sk.startswith("ORDER#")} == set(outcome.live), rows
        per_customer = {sk: n for sk, n in rows.items() if sk.startswith("CUSTOMER#")}
        assert sum(per_customer.values()) == COUPON_LIMIT and set(per_customer.values()) <= {0, 1}, per_customer

        figures = assert_stock_conserved(stack, sku, outcome.placed)
        assert sum(f["held"] for f in figures.values()) == COUPON_LIMIT, figures
    breakdown("coupon race", timings, outcome)
