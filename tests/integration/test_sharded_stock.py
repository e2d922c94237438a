"""Sharded stock for a hot SKU, over HTTP: the same no-oversell guarantees with the level split over N items.

- An admin shards a level (PUT /admin/inventory/{sku}/{wh}/shards); the available units are spread evenly,
  on_hand, available and reserved in sum are unchanged.
- The race of 200 shoppers for 10 units runs on sharded levels too (tests/integration/test_flash_sale.py).
- Released orders give their units back to the very shard they took them from; a packed parcel's units leave
  the shard's reserved and the level's on_hand; a stock count down takes units from the shards when the pool
  has too few; shards still holding reservations cannot be removed (409), and can once they are freed.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import (
    checkout,
    make_product,
    ok,
    order_item,
    order_view,
    pick_and_pack,
    put_in_cart,
    stock_of,
    wait_for,
    wait_paid,
)
from tests.race import plain

pytestmark = pytest.mark.integration


def slots(stack: Any, sku: str, warehouse_id: str) -> dict[Any, dict[str, int]]:
    """Raw slot items of a level: None -> the level item, i -> shard i."""
    items = stack.client("dynamodb").query(
        TableName=stack.physical_id("InventoryTable"), ConsistentRead=True,
        KeyConditionExpression="pk = :p AND begins_with(sk, :wh)",
        ExpressionAttributeValues={":p": {"S": f"SKU#{sku}"}, ":wh": {"S": f"WH#{warehouse_id}"}})["Items"]
    out: dict[Any, dict[str, int]] = {}
    for item in items:
        shard = int(item["shard"]["N"]) if "shard" in item else None
        out[shard] = {k: int(item[k]["N"]) for k in ("available", "reserved", "on_hand") if k in item}
    return out


def assert_conserved(stack: Any, sku: str, warehouse_id: str) -> dict[Any, dict[str, int]]:
    found = slots(stack, sku, warehouse_id)
    assert all(s["available"] >= 0 and s["reserved"] >= 0 for s in found.values()), found
    assert found[None]["on_hand"] == sum(s["available"] + s["reserved"] for s in found.values()), found
    return found


def shard(stack: Any, admin: Any, sku: str, warehouse_id: str, n: int) -> Any:
    return stack.request("PUT", f"/admin/inventory/{sku}/{warehouse_id}/shards", token=admin.id_token,
                         json={"shards": n})


def test_sharding_spreads_the_available_units_and_keeps_the_totals(stack, admin):
    product = make_product(stack, admin.id_token, stock={"a": 10})
    sku, wh = product.skus[0], product.warehouses[0]
    view = ok(shard(stack, admin, sku, wh, 4))
    assert view["shards"] == 4 and (view["on_hand"], view["available"], view["reserved"]) == (10, 10, 0)
    assert sorted(s["available"] for s in view["slots"]) == [0, 2, 2, 3, 3]  # the pool keeps none
    assert stock_of(stack, sku)[wh] == {"on_hand": 10, "available": 10, "reserved": 0}
    assert_conserved(stack, sku, wh)
    again = ok(stack.request("POST", f"/admin/inventory/{sku}/{wh}/rebalance", token=admin.id_token))
    assert again["slots"] == view["slots"]
    bad = shard(stack, admin, sku, wh, 33)
    assert bad.status == 422 and [f["field"] for f in bad.json()["error"]["details"]["fields"]] == ["body.shards"]


def test_release_returns_units_to_their_shard_and_packing_commits_from_it(stack, admin, staff):
    product = make_product(stack, admin.id_token, stock={"a": 8})
    sku, wh = product.skus[0], product.warehouses[0]
    ok(shard(stack, admin, sku, wh, 2))
    keep, drop = stack.user(), stack.user()
    for shopper in (keep, drop):
        put_in_cart(stack, shopper.id_token, sku, 3)
    kept = checkout(stack, keep.id_token).json()["order_id"]
    dropped = checkout(stack, drop.id_token).json()["order_id"]
    wait_paid(stack, kept)
    wait_paid(stack, dropped)
    taken = plain(order_item(stack, dropped))["lines"][0]["allocations"]
    before = assert_conserved(stack, sku, wh)

    ok(stack.request("POST", f"/orders/{dropped}/cancel", token=drop.id_token))
    wait_for(lambda: order_view(stack, drop.id_token, dropped)["status"] == "CANCELLED", 30, "the cancellation")
    after = assert_conserved(stack, sku, wh)
    for alloc in taken:
        slot = alloc.get("shard")
        assert after[slot]["available"] == before[slot]["available"] + alloc["quantity"]
        assert after[slot]["reserved"] == before[slot]["reserved"] - alloc["quantity"]

    pick_and_pack(stack, staff.id_token, kept, wh)
    wait_for(lambda: assert_conserved(stack, sku, wh)[None]["on_hand"] == 5, 30, "the stock commit")
    packed = assert_conserved(stack, sku, wh)
    assert sum(s["reserved"] for s in packed.values()) == 0
    assert stock_of(stack, sku)[wh] == {"on_hand": 5, "available": 5, "reserved": 0}

    # a count down to 1 needs 4 units from the shards (the pool holds none): they are gathered first
    counted = ok(stack.request("PUT", f"/admin/inventory/{sku}/{wh}", token=admin.id_token, json={"on_hand": 1}))
    assert (counted["on_hand"], counted["available"]) == (1, 1)
    assert_conserved(stack, sku, wh)
    off = ok(shard(stack, admin, sku, wh, 0))
    assert off.get("shards", 0) == 0 and list(slots(stack, sku, wh)) == [None]
    assert stock_of(stack, sku)[wh] == {"on_hand": 1, "available": 1, "reserved": 0}
