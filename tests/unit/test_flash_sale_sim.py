"""scripts/flash_sale_sim.py (make bench, part 5): the simulated flash sale sells exactly the stock, never more,
because each reservation is a conditional decrement of one slot; without the condition the same sale oversells
(so the 0 is the condition's doing, not the model's). Throughput follows the per-item write limit."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("flash_sale_sim", ROOT / "scripts" / "flash_sale_sim.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["flash_sale_sim"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("shards", [0, 4])
def test_a_sell_out_sells_the_stock_exactly_and_without_the_condition_it_oversells(sim: ModuleType,
                                                                                   shards: int) -> None:
    ceiling = max(1, shards) * sim.WCU_PER_ITEM / sim.TRANSACTION_FACTOR
    stock = 400
    sale = sim.simulate(shards, int(2 * ceiling), 2 * stock / ceiling + 1, stock=stock)
    assert sale.units_sold == stock and sale.left == 0
    assert sale.oversell == 0 and sale.negative_slots == 0
    assert sale.cancelled > 0  # stale reads did race: the condition refused them

    naive = sim.simulate(shards, int(2 * ceiling), 2 * stock / ceiling + 1, stock=stock, conditional=False)
    assert naive.oversell > 0 and naive.left < 0


def test_checkouts_per_second_follow_the_per_item_limit(sim: ModuleType) -> None:
    one = sim.simulate(0, 3000, 0.5, stock=10**9)
    four = sim.simulate(4, 3000, 0.5, stock=10**9)
    assert one.ceiling == 500 and four.ceiling == 2000
    assert 0.9 * one.ceiling <= one.per_second <= 1.02 * one.ceiling
    assert 0.9 * four.ceiling <= four.per_second <= 1.02 * four.ceiling
    assert one.throttled > 0 and one.oversell == 0 and four.oversell == 0


def test_a_sale_below_the_ceiling_is_not_throttled(sim: ModuleType) -> None:
    calm = sim.simulate(4, 1000, 0.5, stock=10**9)
    assert calm.throttled == 0 and calm.sold == calm.offered
