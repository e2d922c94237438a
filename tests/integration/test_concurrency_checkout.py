"""No overselling: 50 shoppers check out at the same moment for the last 5 units of one SKU.

The 5 units sit in two warehouses (3 + 2). Requests go over real HTTP through the local gateway, each
checkout in its own Lambda execution environment. Exactly 5 orders hold the units (a placed order whose
payment fails gives its unit back, which another shopper of the burst may then buy); the others get 409
naming the SKU; at no moment is any stock level negative or more than 5 units held; per warehouse
available + reserved == on_hand, the ledger sums to on_hand, and what is reserved is exactly what the holding
orders hold (tests/race.py; the 200-shopper flash sale in test_flash_sale.py runs the same race, scaled).
"""

from __future__ import annotations

import pytest

from tests.factories import make_product, ok, put_in_cart
from tests.race import assert_never_oversold, assert_stock_conserved, make_shoppers, run_checkout_race, stock_sampler

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("concurrency"), pytest.mark.audited]

SHOPPERS = 50
UNITS = {"a": 3, "b": 2}


def test_fifty_parallel_checkouts_for_the_last_five_units(stack, admin):
    product = make_product(stack, admin.id_token, stock=UNITS, price=4999)
    sku = product.skus[0]
    shoppers = make_shoppers(stack, SHOPPERS)
    for shopper in shoppers:
        put_in_cart(stack, shopper.id_token, sku, 1)

    sampler = stock_sampler(stack, sku)
    with sampler.running():
        outcome = run_checkout_race(stack, shoppers)

    assert set(outcome.statuses) <= {201, 409}, outcome.statuses
    for answer in outcome.refused():
        assert answer.error["code"] == "out_of_stock", answer.body
        assert [s["sku"] for s in answer.error["details"]["skus"]] == [sku]
    assert_never_oversold(sampler.samples, sum(UNITS.values()))

    # Every placed order goes on into payment. One whose payment then fails (the provider refusing under
    # this load) gives its unit back at once, and a later shopper of the same burst may get it: that is
    # selling it once, not twice. So: exactly 5 orders end up holding the 5 units, and any further placed
    # order is one that was released before the burst ended.
    assert len(outcome.live) == 5, outcome.final
    assert len(outcome.placed) == 5 + len(outcome.released), (outcome.statuses, outcome.released)
    assert outcome.statuses[409] == SHOPPERS - outcome.statuses[201], outcome.statuses

    figures = assert_stock_conserved(stack, sku, outcome.placed)
    assert sum(f["available"] for f in figures.values()) == 0, figures
    assert sum(f["held"] for f in figures.values()) == 5, figures
    assert sorted(f["on_hand"] for f in figures.values()) == sorted(UNITS.values())
    # the losers' carts still hold the item (nothing of theirs was half-written)
    cart = ok(stack.request("GET", "/cart", token=outcome.refused()[0].shopper.id_token))
    assert [(i["sku"], i["quantity"]) for i in cart["items"]] == [(sku, 1)]
