"""Sharded stock rules (pure): spreading reservations over the slots and spreading units over the shards."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shop.inventory.shards import assign_slots, distribute, expand
from shop.models import Allocation, StockLevel, StockSlot

pytestmark = pytest.mark.unit


def level(pool: int, *shards: int) -> StockLevel:
    slots = [StockSlot(shard=None, available=pool)] + [StockSlot(shard=i, available=a) for i, a in enumerate(shards)]
    total = sum(s.available for s in slots)
    return StockLevel(sku="HOT-1", warehouse_id="wh", on_hand=total, available=total, reserved=0,
                      shards=len(shards), slots=slots)


def test_an_unsharded_level_is_reserved_from_the_level_itself():
    plain = StockLevel(sku="HOT-1", warehouse_id="wh", on_hand=5, available=5, reserved=0)
    assert assign_slots(plain, 3) == [Allocation(warehouse_id="wh", quantity=3)]


def test_one_shard_that_holds_enough_is_picked_at_random_so_checkouts_spread():
    hot = level(0, 5, 5, 5, 5)
    picks = {assign_slots(hot, 2, random.Random(seed))[0].shard for seed in range(200)}
    assert picks == {0, 1, 2, 3}
    only = level(0, 0, 1, 7, 0)
    assert assign_slots(only, 3, random.Random(1)) == [Allocation(warehouse_id="wh", quantity=3, shard=2)]


def test_the_pool_serves_when_no_shard_holds_enough_then_several_slots_together():
    assert assign_slots(level(4, 1, 1), 3) == [Allocation(warehouse_id="wh", quantity=3)]
    spread = assign_slots(level(1, 2, 2), 5, random.Random(3))
    assert sum(a.quantity for a in spread) == 5
    assert len({a.shard for a in spread}) == len(spread) == 3  # each slot once: one action per item
    with pytest.raises(ValueError):
        assign_slots(level(1, 1, 1), 4)


@given(st.lists(st.integers(0, 20), min_size=1, max_size=8), st.integers(0, 5), st.data())
def test_slot_allocations_never_take_more_than_a_slot_holds(shards, pool, data):
    hot = level(pool, *shards)
    if hot.available == 0:
        return
    quantity = data.draw(st.integers(1, hot.available))
    taken = assign_slots(hot, quantity, random.Random(data.draw(st.integers(0, 10**6))))
    holds = {slot.shard: slot.available for slot in hot.slots}
    assert sum(a.quantity for a in taken) == quantity
    assert len({a.shard for a in taken}) == len(taken)
    assert all(0 < a.quantity <= holds[a.shard] for a in taken)


@given(st.integers(0, 10_000), st.integers(0, 32), st.integers(0, 100))
def test_distribute_keeps_every_unit_and_is_even(movable, shards, pool_min):
    pool, each = distribute(movable, shards, pool_min)
    assert pool + sum(each) == movable and len(each) == shards
    if shards:
        assert pool == min(movable, pool_min)
        assert max(each) - min(each) <= 1
    else:
        assert pool == movable


def test_expand_turns_warehouse_allocations_into_slot_allocations():
    hot = level(0, 3, 3)
    cold = StockLevel(sku="COLD-1", warehouse_id="wh", on_hand=2, available=2, reserved=0)
    out = expand({"HOT-1": [Allocation(warehouse_id="wh", quantity=2)],
                  "COLD-1": [Allocation(warehouse_id="wh", quantity=2)]}, {"HOT-1": [hot], "COLD-1": [cold]},
                 random.Random(0))
    assert out["COLD-1"] == [Allocation(warehouse_id="wh", quantity=2)]
    assert len(out["HOT-1"]) == 1 and out["HOT-1"][0].shard in (0, 1) and out["HOT-1"][0].quantity == 2
