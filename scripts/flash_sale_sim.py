"""A flash sale on one hot SKU, simulated against DynamoDB's per-item write limit (issue 17): how many checkouts
per second a stock level holds with 1 item (unsharded) and with 4, 16 or 32 shard items, and that none oversells.

    .venv/bin/python scripts/flash_sale_sim.py [--rate 24000] [--seconds 1] [--stock 3000]

Pure Python, no AWS. What is modelled (shop.inventory.shards and the checkout transaction):

- Each slot (the level item; or, sharded, each shard item plus the pool on the level item) takes at most
  ``WCU_PER_ITEM`` write units a second (DynamoDB's per-partition, and so per-item, limit), refilled each
  millisecond; a checkout's reservation is a TransactWriteItems, so each slot it updates costs 2 units
  (transactional writes count twice, items under 1 KB).
- A checkout reads the level as it was ``--read-lag-ms`` ago (the checkout's read comes before its write),
  picks its slots with the shop's own rule (``shop.inventory.shards.assign_slots``: a random shard that holds
  enough, else the pool, else several slots), then writes: a slot without the units left is throttled (the
  write is refused whole, nothing spent, and retried after an exponential back-off with jitter, up to
  ``MAX_ATTEMPTS``); otherwise the units are spent and the condition ``available >= q`` is evaluated on each
  slot's CURRENT value: all hold -> every slot is decremented (one sale), one fails -> the whole transaction
  is cancelled and the checkout reads again (it gives up as sold out when the level holds too few).
- ``conditional=False`` drops the condition (decrement whatever was read): the contrast that shows the
  condition, not luck, is what keeps the oversell at 0.

Two runs per shard count: a long sale (stock never runs out: the sustained checkouts per second) and a
sell-out (``--stock`` units, far fewer than offered: the oversell, which must be 0, and the units left).
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "shop")]

from shop.inventory.shards import assign_slots  # noqa: E402  (the shop's own slot choice)
from shop.models import StockLevel, StockSlot  # noqa: E402

WCU_PER_ITEM = 1000  # write units per second one item takes
TRANSACTION_FACTOR = 2  # a transactional write costs twice the units
MAX_ATTEMPTS = 8  # botocore's standard mode with the shop's max_attempts=4, and the client's own retry once
BASE_BACKOFF_MS = 25
SHARD_COUNTS = (0, 4, 16, 32)  # 0: the level item alone ("1 shard")
SKU, WAREHOUSE = "HOT-1", "berlin"


@dataclass
class Outcome:
    shards: int
    items: int
    offered: int
    sold: int  # checkouts that reserved their units
    units_sold: int
    stock: int
    left: int  # available units left over all slots
    throttled: int  # write attempts refused by the per-item limit
    cancelled: int  # transactions cancelled by a failed condition
    gave_up: int  # checkouts that ran out of attempts (503 to the shopper)
    sold_out: int  # checkouts told the SKU is sold out
    seconds: float  # the time the sale ran (until sold out, or the whole run)
    negative_slots: int  # slots below zero at the end (only without the condition)

    @property
    def oversell(self) -> int:
        """Units sold beyond the stock (a slot below zero is an oversold unit, whatever the total says)."""
        return max(0, self.units_sold - self.stock)

    @property
    def per_second(self) -> float:
        return self.sold / self.seconds if self.seconds else 0.0

    @property
    def ceiling(self) -> float:
        """Checkouts per second the stock allows on paper: each item holding units (the shards; the pool is
        empty after resharding) takes WCU_PER_ITEM / TRANSACTION_FACTOR reservations a second."""
        return max(1, self.shards) * WCU_PER_ITEM / TRANSACTION_FACTOR


def _level(slots: Sequence[int], shards: int) -> StockLevel:
    """The level as a checkout reads it (negative counts, possible only without the condition, read as 0)."""
    seen = [max(0, a) for a in slots]
    total = sum(seen)
    return StockLevel(sku=SKU, warehouse_id=WAREHOUSE, on_hand=total, available=total, reserved=0, shards=shards,
                      slots=[StockSlot(shard=None if i == 0 else i - 1, available=a) for i, a in enumerate(seen)]
                      if shards else [])


def simulate(shards: int, rate: int, seconds: float, stock: int, *, quantity: int = 1, read_lag_ms: int = 5,
             conditional: bool = True, seed: int = 17) -> Outcome:
    """One sale, millisecond by millisecond. Slot 0 is the level item (the pool when sharded), 1.. the shards."""
    rng = random.Random(seed)
    items = shards + 1 if shards else 1
    if shards:  # the shop's resharding spreads the available units evenly and leaves the pool empty
        per, extra = divmod(stock, shards)
        slots = [0] + [per + (1 if i < extra else 0) for i in range(shards)]
    else:
        slots = [stock]
    per_ms = WCU_PER_ITEM / 1000
    burst = WCU_PER_ITEM * 0.01 + per_ms  # at most 10 ms of unused units carried over; idle items start full
    tokens = [burst] * len(slots)
    history: list[list[int]] = []  # the slots as they were at the end of each millisecond
    levels: dict[int, StockLevel] = {}
    queue: list[tuple[int, int, int, int]] = []  # (due ms, sequence, attempt, read ms) of pending writes
    seq = 0
    out = Outcome(shards, items, 0, 0, 0, stock, 0, 0, 0, 0, 0, seconds, 0)
    total_ms = int(seconds * 1000)
    arrivals_per_ms = rate / 1000
    owed = 0.0
    ended_at: int | None = None
    for now in range(total_ms):
        tokens = [min(t + per_ms, burst) for t in tokens]
        owed += arrivals_per_ms
        while owed >= 1:
            owed -= 1
            out.offered += 1
            heapq.heappush(queue, (now, seq, 1, now))
            seq += 1
        while queue and queue[0][0] <= now:
            _, _, attempt, read_at = heapq.heappop(queue)
            seen_at = max(0, min(read_at - read_lag_ms, len(history) - 1))
            if seen_at not in levels:  # one read model per millisecond of history
                levels[seen_at] = _level(history[seen_at] if history else slots, shards)
            level = levels[seen_at]
            if level.available < quantity:
                out.sold_out += 1
                continue
            allocations = assign_slots(level, quantity, rng)
            chosen = [0 if a.shard is None else a.shard + 1 for a in allocations]
            takes = [a.quantity for a in allocations]
            cost = TRANSACTION_FACTOR  # per slot updated (items under 1 KB)
            if any(tokens[i] < cost for i in chosen):
                out.throttled += 1
                if attempt >= MAX_ATTEMPTS:
                    out.gave_up += 1
                    continue
                backoff = rng.uniform(0, BASE_BACKOFF_MS * 2 ** (attempt - 1))
                heapq.heappush(queue, (now + 1 + int(backoff), seq, attempt + 1, now + 1 + int(backoff)))
                seq += 1
                continue
            for i in chosen:
                tokens[i] -= cost
            if conditional and any(slots[i] < q for i, q in zip(chosen, takes, strict=True)):
                out.cancelled += 1  # the condition failed on the current value: read again at once
                heapq.heappush(queue, (now + 1, seq, attempt, now + 1))
                seq += 1
                continue
            for i, q in zip(chosen, takes, strict=True):
                slots[i] -= q
            out.sold += 1
            out.units_sold += sum(takes)
        history.append(list(slots))
        levels.pop(now - read_lag_ms - 1, None)
        if ended_at is None and sum(max(0, a) for a in slots) < quantity:
            ended_at = now + 1
        if ended_at is not None and now >= ended_at + read_lag_ms:  # every read now says sold out
            out.sold_out += len(queue)
            break
    out.seconds = (ended_at or total_ms) / 1000
    out.left = sum(slots)
    out.negative_slots = sum(1 for a in slots if a < 0)
    return out


def table(rate: int, seconds: float, stock: int, say: Callable[[str], None] = print,
          shard_counts: Sequence[int] = SHARD_COUNTS) -> list[tuple[Outcome, Outcome, Outcome]]:
    """Per shard count: (long sale, sell-out, sell-out without the condition), printed."""
    say(f"5. flash sale on one SKU (simulated: {WCU_PER_ITEM:,} WCU/s per item, transactional writes x"
        f"{TRANSACTION_FACTOR}, {rate:,} checkouts/s offered for {seconds:g} s; sell-out: {stock:,} units offered "
        "at twice the ceiling)")
    say(f"   {'items':<22} {'ceiling/s':>9} {'checkouts/s':>11} {'throttled':>9} {'gave up':>7}   "
        f"{'sell-out: sold':>14} {'left':>5} {'oversell':>8}   {'without condition: oversell':>27}")
    rows = []
    for shards in shard_counts:
        long = simulate(shards, rate, seconds, stock=10**9)
        # offered at twice the ceiling (saturated, and quicker to simulate), for twice the time the stock
        # lasts at the ceiling: it sells out
        until, offered = 2 * stock / long.ceiling + 1, int(min(rate, 2 * long.ceiling))
        sale = simulate(shards, offered, until, stock=stock)
        naive = simulate(shards, offered, until, stock=stock, conditional=False)
        name = "1 (level item)" if shards == 0 else f"{shards} shards (+ pool)"
        say(f"   {name:<22} {long.ceiling:9,.0f} {long.per_second:11,.0f} {long.throttled:9,} {long.gave_up:7,}   "
            f"{sale.units_sold:>14,} {sale.left:5,} {sale.oversell:8,}   {naive.oversell:27,}")
        rows.append((long, sale, naive))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=24000, help="checkouts offered per second (default 24,000)")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of the long sale (default 1)")
    parser.add_argument("--stock", type=int, default=3000, help="units in the sell-out run (default 3,000)")
    args = parser.parse_args()
    rows = table(args.rate, args.seconds, args.stock)
    return 0 if all(sale.oversell == 0 and sale.negative_slots == 0 for _, sale, _ in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
