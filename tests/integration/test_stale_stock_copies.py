"""The cart and checkout read a SKU's levels only where this container last saw it stocked
(shop.inventory.repository.stock_read). On AWS another container may create a level elsewhere meanwhile; the
copy is then stale for up to HOLDERS_MAX_AGE_SECONDS. A stale copy may hide stock from an estimate, but never
makes a cart or a checkout refuse units that exist: before refusing, they read every warehouse.

The local functions share one process (and so one copy): the other container's write is simulated by putting
back the copy from before it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from shop.inventory import repository as inv

from tests.factories import checkout, make_product, ok, order_item, stock_of
from tests.race import plain

pytestmark = [pytest.mark.integration, pytest.mark.audited]


def stale_copy(sku: str, *warehouses: str) -> None:
    inv._holders[sku] = (time.monotonic(), frozenset(warehouses))


def test_stock_created_elsewhere_by_another_container_is_found_before_a_refusal(stack: Any, admin: Any) -> None:
    product = make_product(stack, admin.id_token, stock={"a": 2, "b": 0})
    sku, (wh_a, wh_b) = product.skus[0], product.warehouses
    shopper = stack.user()
    ok(stack.request("PUT", f"/cart/items/{sku}", json={"quantity": 1}, token=shopper.id_token))
    assert inv._holders[sku][1] == {wh_a, wh_b}  # learned from the first read (both levels exist)

    ok(stack.request("PUT", f"/admin/inventory/{sku}/{wh_b}", json={"on_hand": 3}, token=admin.id_token))
    stale_copy(sku, wh_a)  # as a container that read before b was stocked... and thinks b holds nothing
    view = ok(stack.request("GET", "/cart", token=shopper.id_token))
    assert view["items"][0]["available"] == 2  # the estimate may be stale (for at most the copy's age)

    # wanting more than the copy shows: the cart reads every warehouse before refusing, and learns
    view = ok(stack.request("PUT", f"/cart/items/{sku}", json={"quantity": 5}, token=shopper.id_token))
    assert view["items"][0]["available"] == 5 and inv._holders[sku][1] == {wh_a, wh_b}

    stale_copy(sku, wh_a)
    order_id = ok(checkout(stack, shopper.id_token), 201)["order_id"]
    allocations = plain(order_item(stack, order_id))["lines"][0]["allocations"]
    assert sorted((a["warehouse_id"], a["quantity"]) for a in allocations) == sorted([(wh_a, 2), (wh_b, 3)])
    levels = stock_of(stack, sku)
    assert {wh: (lv["available"], lv["reserved"]) for wh, lv in levels.items()} == {wh_a: (0, 2), wh_b: (0, 3)}


def test_a_level_created_here_is_read_at_once(stack: Any, admin: Any) -> None:
    sku = make_product(stack, admin.id_token, stock={"a": 1}).skus[0]
    other = make_product(stack, admin.id_token, stock={"c": 0}).warehouses[0]  # holds nothing of sku
    inv._warehouses_seen = None  # a container started now: its warehouse list has both
    shopper = stack.user()
    ok(stack.request("PUT", f"/cart/items/{sku}", json={"quantity": 1}, token=shopper.id_token))
    assert other not in inv._holders[sku][1]
    ok(stack.request("PUT", f"/admin/inventory/{sku}/{other}", json={"on_hand": 4}, token=admin.id_token))
    assert sku not in inv._holders  # the write that created the level forgot the copy
    view = ok(stack.request("GET", "/cart", token=shopper.id_token))
    assert view["items"][0]["available"] == 5, view
