"""Sharded stock for hot SKUs (pure rules; the writes are in shop.inventory.repository).

One DynamoDB item takes about 1,000 writes per second, so a flash sale on one SKU in one warehouse is capped by
its stock level item. A level can be split (opt-in, per SKU and warehouse) into ``shards`` items
``SKU#<sku> / WH#<wh>#S<i>``, each holding a slice of the level's ``available`` units and the ``reserved``
units taken from it. The level item keeps ``on_hand`` (and the ledger), and its own ``available`` and
``reserved`` are one more slot, the pool: receipts, returns and adjustments add to it.

Invariants, the same as unsharded: ``on_hand == pool.available + pool.reserved + sum(shard.available +
shard.reserved)``, and nothing is ever reserved that a slot does not hold, because every reservation is an
update of ONE slot under ``available >= q`` inside the checkout transaction. An order's allocation names its
slot, so its release and its stock commit go back to the same item.

- Spreading: a checkout reserves a line from one random shard that holds enough (so concurrent checkouts
  hit different items), else from the pool, else from several slots (random order) in the same transaction.
- Rebalancing moves available units between the slots (one transaction, each slot conditioned on the value
  read, so a racing reservation makes it retry); it never touches reserved units or on_hand.
"""

from __future__ import annotations

import random

from shop.models import Allocation, StockLevel

MAX_SHARDS = 32


def assign_slots(level: StockLevel, quantity: int, rng: random.Random | None = None) -> list[Allocation]:
    """The slot allocations that take ``quantity`` units of ``level`` (already known to be available in sum)."""
    if level.shards == 0 or not level.slots:
        return [Allocation(warehouse_id=level.warehouse_id, quantity=quantity)]
    rng = rng or random.Random()
    shards = [slot for slot in level.slots if slot.shard is not None]
    whole = [slot for slot in shards if slot.available >= quantity]
    if whole:
        pick = rng.choice(whole)
        return [Allocation(warehouse_id=level.warehouse_id, quantity=quantity, shard=pick.shard)]
    pool = next((slot for slot in level.slots if slot.shard is None), None)
    if pool is not None and pool.available >= quantity:
        return [Allocation(warehouse_id=level.warehouse_id, quantity=quantity)]
    order = shards[:]
    rng.shuffle(order)
    if pool is not None:
        order.append(pool)
    out: list[Allocation] = []
    left = quantity
    for slot in order:
        take = min(left, slot.available)
        if take > 0:
            out.append(Allocation(warehouse_id=level.warehouse_id, quantity=take, shard=slot.shard))
            left -= take
        if left == 0:
            return out
    raise ValueError(f"{level.sku} in {level.warehouse_id} holds fewer than {quantity} available units")


def distribute(movable: int, shards: int, pool_min: int = 0) -> tuple[int, list[int]]:
    """How ``movable`` available units are spread: (pool, per shard). The pool keeps ``pool_min`` (or all when
    there are no shards); the rest is split evenly, the first shards taking the remainder."""
    if shards == 0:
        return movable, []
    pool = min(movable, pool_min)
    each, extra = divmod(movable - pool, shards)
    return pool, [each + (1 if i < extra else 0) for i in range(shards)]


def expand(allocation: dict[str, list[Allocation]], levels: dict[str, list[StockLevel]],
           rng: random.Random | None = None) -> dict[str, list[Allocation]]:
    """Per line, the warehouse allocations turned into slot allocations (unchanged for unsharded levels)."""
    out: dict[str, list[Allocation]] = {}
    for sku, allocs in allocation.items():
        by_warehouse = {lv.warehouse_id: lv for lv in levels.get(sku, [])}
        out[sku] = [slot for a in allocs
                    for slot in (assign_slots(by_warehouse[a.warehouse_id], a.quantity, rng)
                                 if a.warehouse_id in by_warehouse else [a])]
    return out
