"""Allocation policy: fewest warehouses for the whole order, then nearest to the destination, then priority;
split only when needed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shop.inventory.allocation import Shortage, allocate
from shop.models import StockLevel, Warehouse

pytestmark = pytest.mark.unit


def wh(wid: str, priority: int) -> Warehouse:
    return Warehouse(warehouse_id=wid, name=wid, country="DE", zone="domestic", priority=priority)


def lvl(sku: str, wid: str, available: int) -> StockLevel:
    return StockLevel(sku=sku, warehouse_id=wid, on_hand=available + 3, available=available, reserved=3)


WHS = {"berlin": wh("berlin", 10), "hamburg": wh("hamburg", 20), "munich": wh("munich", 30)}


def as_plain(result: dict) -> dict:
    return {sku: [(a.warehouse_id, a.quantity) for a in allocs] for sku, allocs in result.items()}


def test_single_warehouse_with_everything_is_preferred_over_a_higher_priority_partial_one() -> None:
    stock = {"A-1": [lvl("A-1", "berlin", 5), lvl("A-1", "munich", 5)],
             "B-1": [lvl("B-1", "munich", 2)]}
    assert as_plain(allocate({"A-1": 2, "B-1": 1}, stock, WHS)) == {"A-1": [("munich", 2)], "B-1": [("munich", 1)]}


def test_priority_decides_between_equally_small_sets() -> None:
    stock = {"A-1": [lvl("A-1", "hamburg", 5), lvl("A-1", "berlin", 5), lvl("A-1", "munich", 5)]}
    assert as_plain(allocate({"A-1": 4}, stock, WHS)) == {"A-1": [("berlin", 4)]}


def test_line_is_split_when_no_single_warehouse_has_enough() -> None:
    stock = {"A-1": [lvl("A-1", "hamburg", 3), lvl("A-1", "berlin", 2), lvl("A-1", "munich", 1)]}
    assert as_plain(allocate({"A-1": 5}, stock, WHS)) == {"A-1": [("berlin", 2), ("hamburg", 3)]}


def test_shortage_names_every_short_sku_with_requested_and_available() -> None:
    stock = {"A-1": [lvl("A-1", "berlin", 1), lvl("A-1", "hamburg", 1)], "B-1": [], "C-1": [lvl("C-1", "berlin", 9)]}
    with pytest.raises(Shortage) as err:
        allocate({"A-1": 3, "B-1": 1, "C-1": 2}, stock, WHS)
    assert [(s.sku, s.requested, s.available) for s in err.value.short] == [("A-1", 3, 2), ("B-1", 1, 0)]


def test_stock_in_unknown_warehouses_is_not_used() -> None:
    stock = {"A-1": [lvl("A-1", "ghost", 50), lvl("A-1", "berlin", 1)]}
    with pytest.raises(Shortage):
        allocate({"A-1": 2}, stock, WHS)


warehouse_ids = [f"w{i}" for i in range(6)]
many = {w: wh(w, p) for w, p in zip(warehouse_ids, [5, 1, 9, 1, 3, 7], strict=True)}


@st.composite
def scenario(draw: st.DrawFn) -> tuple[dict[str, int], dict[str, list[StockLevel]]]:
    skus = draw(st.lists(st.sampled_from(["A-1", "B-1", "C-1", "D-1"]), min_size=1, max_size=4, unique=True))
    stock = {s: [lvl(s, w, draw(st.integers(0, 8))) for w in draw(st.lists(st.sampled_from(warehouse_ids),
                                                                              unique=True, max_size=6))]
             for s in skus}
    requested = {s: draw(st.integers(1, 12)) for s in skus}
    return requested, stock


@given(scenario())
def test_allocations_are_within_stock_and_sum_to_quantity(case: tuple[dict[str, int], dict[str, list]]) -> None:
    requested, stock = case
    totals = {s: sum(lv.available for lv in stock[s]) for s in requested}
    try:
        result = allocate(requested, stock, many)
    except Shortage as exc:
        assert {s.sku for s in exc.short} == {s for s, q in requested.items() if totals[s] < q}
        assert exc.short
        return
    assert all(totals[s] >= q for s, q in requested.items())
    for sku, qty in requested.items():
        allocs = result[sku]
        assert sum(a.quantity for a in allocs) == qty
        assert len({a.warehouse_id for a in allocs}) == len(allocs)  # one allocation per warehouse
        available = {lv.warehouse_id: lv.available for lv in stock[sku]}
        for a in allocs:
            assert 0 < a.quantity <= available[a.warehouse_id]


@given(scenario())
def test_prefers_one_warehouse_when_one_can_ship_everything(case: tuple[dict[str, int], dict[str, list]]) -> None:
    requested, stock = case
    single = [w for w in warehouse_ids
              if all(sum(lv.available for lv in stock[s] if lv.warehouse_id == w) >= q for s, q in requested.items())]
    if not single:
        return
    result = allocate(requested, stock, many)
    used = {a.warehouse_id for allocs in result.values() for a in allocs}
    assert len(used) == 1
    best = min(single, key=lambda w: (many[w].priority, w))
    assert used == {best}


def test_among_equally_few_warehouses_the_nearest_to_the_destination_wins() -> None:
    from shop.inventory.allocation import ShipTo

    whs = {"berlin": Warehouse(warehouse_id="berlin", name="b", country="DE", zone="domestic", priority=10),
           "paris": Warehouse(warehouse_id="paris", name="p", country="FR", zone="eu", priority=20),
           "vienna": Warehouse(warehouse_id="vienna", name="v", country="AT", zone="eu", priority=30)}
    stock = {"A-1": [lvl("A-1", w, 5) for w in whs]}
    assert as_plain(allocate({"A-1": 2}, stock, whs)) == {"A-1": [("berlin", 2)]}  # no destination: priority
    assert as_plain(allocate({"A-1": 2}, stock, whs, ShipTo("DE", "domestic"))) == {"A-1": [("berlin", 2)]}
    assert as_plain(allocate({"A-1": 2}, stock, whs, ShipTo("FR", "eu"))) == {"A-1": [("paris", 2)]}
    # same zone beats priority; same country beats same zone
    assert as_plain(allocate({"A-1": 2}, stock, whs, ShipTo("NL", "eu"))) == {"A-1": [("paris", 2)]}
    assert as_plain(allocate({"A-1": 2}, stock, whs, ShipTo("AT", "eu"))) == {"A-1": [("vienna", 2)]}
    # fewest parcels still comes first: a single far warehouse beats two near ones
    split_stock = {"A-1": [lvl("A-1", "paris", 1), lvl("A-1", "vienna", 1), lvl("A-1", "berlin", 2)]}
    assert as_plain(allocate({"A-1": 2}, split_stock, whs, ShipTo("FR", "eu"))) == {"A-1": [("berlin", 2)]}
    # a line split across warehouses takes from the nearest first
    assert as_plain(allocate({"A-1": 7}, stock, whs, ShipTo("AT", "eu"))) == {"A-1": [("vienna", 5), ("paris", 2)]}
