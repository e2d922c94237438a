"""Stock allocation policy (pure): which warehouses ship how much of each order line.

Policy, in order:
1. Only warehouses known to the shop (in the warehouse list) with available stock count. If any SKU's total
   available stock is below the requested quantity, nothing is allocated: :class:`Shortage` names every
   short SKU with the requested and available quantities.
2. Fewest warehouses for the whole order: the smallest set of warehouses that can together cover every line
   is chosen (one parcel is cheaper than two). Among sets of the same size, the one whose warehouses come
   first in preference order wins: nearest to the destination first (same country, then same shipping
   zone, then the rest), then priority ascending, then warehouse id (so the result is deterministic).
3. Within the chosen set each line takes stock from the warehouses in that order, so a line is split
   across warehouses only when no single warehouse of the set has enough.
For very many candidate warehouses the exhaustive search is bounded (sets of up to MAX_SET_SEARCH
warehouses); beyond that, lines are filled greedily in priority order over all warehouses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from shop.models import Allocation, StockLevel, Warehouse

MAX_SET_SEARCH = 4
MAX_EXHAUSTIVE_CANDIDATES = 16


@dataclass(frozen=True)
class ShortSku:
    sku: str
    requested: int
    available: int


class Shortage(Exception):
    def __init__(self, short: list[ShortSku]):
        super().__init__(", ".join(f"{s.sku} ({s.available} of {s.requested})" for s in short))
        self.short = short


def available_by_warehouse(levels: Sequence[StockLevel], warehouses: Mapping[str, Warehouse]) -> dict[str, int]:
    return {lv.warehouse_id: lv.available for lv in levels if lv.warehouse_id in warehouses and lv.available > 0}


def total_available(levels: Sequence[StockLevel], warehouses: Mapping[str, Warehouse]) -> int:
    return sum(available_by_warehouse(levels, warehouses).values())


def _fill(quantity: int, stock: Mapping[str, int], order: Sequence[str]) -> list[Allocation] | None:
    out: list[Allocation] = []
    left = quantity
    for wid in order:
        if left == 0:
            break
        take = min(left, stock.get(wid, 0))
        if take > 0:
            out.append(Allocation(warehouse_id=wid, quantity=take))
            left -= take
    return out if left == 0 else None


@dataclass(frozen=True)
class ShipTo:
    country: str
    zone: str


def nearness(warehouse: Warehouse, destination: ShipTo | None) -> int:
    """0 ships within the destination country, 1 within its shipping zone, 2 from farther away."""
    if destination is None:
        return 0
    if warehouse.country == destination.country:
        return 0
    return 1 if warehouse.zone == destination.zone else 2


def allocate(requested: Mapping[str, int], stock: Mapping[str, Sequence[StockLevel]],
             warehouses: Mapping[str, Warehouse], destination: ShipTo | None = None) -> dict[str, list[Allocation]]:
    """Allocation per SKU (quantities > 0); raises Shortage naming every SKU that cannot be covered."""
    avail = {sku: available_by_warehouse(stock.get(sku, ()), warehouses) for sku in requested}
    short = [ShortSku(sku, qty, sum(avail[sku].values())) for sku, qty in sorted(requested.items())
             if sum(avail[sku].values()) < qty]
    if short:
        raise Shortage(short)
    wanted = {sku: qty for sku, qty in requested.items() if qty > 0}
    if not wanted:
        return {}
    candidates = sorted({wid for sku in wanted for wid in avail[sku]},
                        key=lambda w: (nearness(warehouses[w], destination), warehouses[w].priority, w))
    max_size = len(candidates) if len(candidates) <= MAX_EXHAUSTIVE_CANDIDATES else MAX_SET_SEARCH
    for size in range(1, max_size + 1):
        for chosen in combinations(candidates, size):
            if all(sum(avail[sku].get(w, 0) for w in chosen) >= qty for sku, qty in wanted.items()):
                result: dict[str, list[Allocation]] = {}
                for sku, qty in wanted.items():
                    filled = _fill(qty, avail[sku], chosen)
                    assert filled is not None
                    result[sku] = filled
                return result
    # many warehouses and no small covering set: greedy over all of them in priority order
    result = {}
    for sku, qty in wanted.items():
        filled = _fill(qty, avail[sku], candidates)
        assert filled is not None  # totals were checked above
        result[sku] = filled
    return result
