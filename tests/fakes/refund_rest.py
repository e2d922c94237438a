"""The store contract of OrderStore.reserve_rest (what a cancellation refunds after partial refunds), run through
the store port against the fakes (tests/fast/test_fast_refund_rest.py) and against DynamoDB on the local stack
(tests/integration/test_refund_rest.py), which must give the same transcript."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shop.checkout.ports import CheckoutStore
from shop.orders.ports import OrderStore

from tests.fakes.contract import WAREHOUSE, attempt, new_ids, order
from tests.fakes.tables import now_iso


def rest_scenario(checkout: CheckoutStore, store: OrderStore, seed_stock: Callable[[str, str, int], None],
                  counter: Callable[[str], int]) -> list[Any]:
    sku, customer, prefix = new_ids()
    seed_stock(sku, WAREHOUSE, 2)
    first, second = order(f"{prefix}a", customer, sku, 1), order(f"{prefix}b", customer, sku, 1)
    t: list[Any] = [attempt(lambda: checkout.reserve_and_place(first, customer, 0, now_iso())),
                    attempt(lambda: checkout.reserve_and_place(second, customer, 1, now_iso()))]
    a, b = first.order_id, second.order_id
    t.append(attempt(lambda: store.reserve_refund(a, "staff1", 300, 1000)))
    t.append(attempt(lambda: store.reserve_rest(a, "full", 1000)))  # the rest: 700
    t.append(attempt(lambda: store.reserve_rest(a, "full", 1000)))  # a replay: the same 700
    t.append(attempt(lambda: store.reserve_rest(a, "other", 1000)))  # nothing left: 0, nothing written
    t.append(attempt(lambda: store.reserve_refund(a, "staff2", 1, 1000)))  # no room for a staff refund
    t.append(counter(a))
    t.append(attempt(lambda: store.reserve_rest(b, "full", 1000)))  # no counter yet: all of it
    t.append(attempt(lambda: store.reserve_rest(b, "full", 1000)))
    t.append(attempt(lambda: store.reserve_refund(b, "staff1", 1, 1000)))
    t.append(counter(b))
    t.append(attempt(lambda: store.reserve_rest(f"{prefix}zz", "full", 1000)))  # no such order
    return t


REST_EXPECTED: list[Any] = ["placed", "placed", True, 700, 700, 0, "RefundLimitExceeded", 1000,
                            1000, 1000, "RefundLimitExceeded", 1000, "NotFound"]
