"""Where each SKU is stocked, learned from reads (shop.inventory.repository.stock_read): a SKU's levels are read
by key only in the warehouses known to hold it, once a read covered every warehouse; never for longer than
HOLDERS_MAX_AGE_SECONDS, and not after a write that creates a level of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from shop.dynamo import to_item
from shop.inventory import repository as inv

pytestmark = pytest.mark.unit

WAREHOUSES = ["wh-1", "wh-2", "wh-3", "wh-4"]


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    inv._holders.clear()
    yield
    inv._holders.clear()


def level(sku: str, wid: str, n: int = 5) -> dict[str, Any]:
    return to_item({"pk": f"SKU#{sku}", "sk": f"WH#{wid}", "sku": sku, "warehouse_id": wid, "on_hand": n,
                    "available": n, "reserved": 0})


def pairs(read: inv.StockRead) -> set[tuple[str, str]]:
    return {(k["pk"]["S"].removeprefix("SKU#"), k["sk"]["S"].removeprefix("WH#")) for k in read.keys}


def test_a_first_read_covers_every_warehouse_and_the_next_only_those_holding_the_sku():
    first = inv.stock_read(["SKU-A", "SKU-B"], WAREHOUSES)
    assert pairs(first) == {(s, w) for s in ("SKU-A", "SKU-B") for w in WAREHOUSES}
    assert first.everywhere == {"SKU-A", "SKU-B"}
    stock = inv.stock_from_rows(["SKU-A", "SKU-B"], [level("SKU-A", "wh-2"), level("SKU-A", "wh-4")], first)
    assert [lv.warehouse_id for lv in stock["SKU-A"]] == ["wh-2", "wh-4"] and stock["SKU-B"] == []

    again = inv.stock_read(["SKU-A", "SKU-B", "SKU-C"], WAREHOUSES)
    # SKU-B is stocked nowhere: no keys at all
    assert pairs(again) == {("SKU-A", "wh-2"), ("SKU-A", "wh-4")} | {("SKU-C", w) for w in WAREHOUSES}
    assert again.everywhere == {"SKU-C"}


def test_everywhere_reads_every_warehouse_and_relearns():
    inv.stock_from_rows(["SKU-A"], [level("SKU-A", "wh-1")], inv.stock_read(["SKU-A"], WAREHOUSES))
    full = inv.stock_read(["SKU-A"], WAREHOUSES, everywhere=True)
    assert pairs(full) == {("SKU-A", w) for w in WAREHOUSES}
    inv.stock_from_rows(["SKU-A"], [level("SKU-A", "wh-1"), level("SKU-A", "wh-3")], full)
    assert pairs(inv.stock_read(["SKU-A"], WAREHOUSES)) == {("SKU-A", "wh-1"), ("SKU-A", "wh-3")}


def test_a_narrowed_read_teaches_nothing_and_a_read_without_plan_neither():
    inv.stock_from_rows(["SKU-A"], [level("SKU-A", "wh-1")], inv.stock_read(["SKU-A"], WAREHOUSES))
    narrowed = inv.stock_read(["SKU-A"], WAREHOUSES)
    inv.stock_from_rows(["SKU-A"], [], narrowed)  # nothing found where it was: still known to be in wh-1
    assert pairs(inv.stock_read(["SKU-A"], WAREHOUSES)) == {("SKU-A", "wh-1")}
    inv.stock_from_rows(["SKU-B"], [level("SKU-B", "wh-2")])
    assert pairs(inv.stock_read(["SKU-B"], WAREHOUSES)) == {("SKU-B", w) for w in WAREHOUSES}


def test_only_warehouses_still_listed_are_read():
    inv.stock_from_rows(["SKU-A"], [level("SKU-A", "wh-1"), level("SKU-A", "wh-2")],
                        inv.stock_read(["SKU-A"], WAREHOUSES))
    assert pairs(inv.stock_read(["SKU-A"], ["wh-2", "wh-3"])) == {("SKU-A", "wh-2")}


def test_the_knowledge_expires_and_a_level_created_forgets_it(monkeypatch: pytest.MonkeyPatch):
    inv.stock_from_rows(["SKU-A", "SKU-B"], [level("SKU-A", "wh-1"), level("SKU-B", "wh-1")],
                        inv.stock_read(["SKU-A", "SKU-B"], WAREHOUSES))
    inv.forget_holders("SKU-A")
    assert pairs(inv.stock_read(["SKU-A"], WAREHOUSES)) == {("SKU-A", w) for w in WAREHOUSES}
    assert pairs(inv.stock_read(["SKU-B"], WAREHOUSES)) == {("SKU-B", "wh-1")}
    later = inv.time.monotonic() + inv.HOLDERS_MAX_AGE_SECONDS + 1
    monkeypatch.setattr(inv.time, "monotonic", lambda: later)
    assert pairs(inv.stock_read(["SKU-B"], WAREHOUSES)) == {("SKU-B", w) for w in WAREHOUSES}


def test_shard_items_of_known_sharded_levels_are_read_with_their_level():
    raws = [to_item({"pk": "SKU#SKU-A", "sk": "WH#wh-1", "sku": "SKU-A", "warehouse_id": "wh-1", "on_hand": 4,
                     "available": 0, "reserved": 0, "shards": 2}),
            *(to_item({"pk": "SKU#SKU-A", "sk": f"WH#wh-1#S{i}", "sku": "SKU-A", "warehouse_id": "wh-1", "shard": i,
                       "available": 2, "reserved": 0}) for i in range(2))]
    stock = inv.stock_from_rows(["SKU-A"], raws, inv.stock_read(["SKU-A"], WAREHOUSES))
    assert stock["SKU-A"][0].available == 4
    assert sorted(k["sk"]["S"] for k in inv.stock_read(["SKU-A"], WAREHOUSES).keys) == ["WH#wh-1", "WH#wh-1#S0",
                                                                                    "WH#wh-1#S1"]
