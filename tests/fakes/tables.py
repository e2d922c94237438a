"""The in-memory tables behind every fake store, and TransactWriteItems over them.

The fakes (orders, checkout, fulfillment) share one :class:`Tables`, as the real stores share DynamoDB: the
checkout transaction writes stock, the order, the cart and the coupon together, the order's release gives them
back together. :meth:`Tables.transact` runs a list of :class:`Write`\\ s the way DynamoDB runs a transaction:
every condition is evaluated against the state before any write, one failing condition cancels them all
(the per-action codes are returned, "None" or "ConditionalCheckFailed", as DynamoDB reports them), and two
actions on one item are refused outright. The conditions of each write are the ConditionExpressions of the
repositories, written out in Python next to the expression they mirror.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shop.models import Sku, Warehouse

CONDITION_FAILED = "ConditionalCheckFailed"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Write:
    """One action of a transaction: ``item`` names the item (for the one-action-per-item rule), ``check`` is
    its ConditionExpression (True: holds), ``apply`` its update."""

    item: tuple[Any, ...]
    check: Callable[[], bool]
    apply: Callable[[], None]


class TransactionConflict(Exception):
    """DynamoDB's ValidationException for a transaction naming one item twice (a bug in the caller)."""


@dataclass
class Slot:
    """A stock level item (``on_hand`` set) of one SKU in one warehouse. Invariant the conditions keep:
    available >= 0, reserved >= 0, on_hand == available + reserved."""

    available: int
    reserved: int = 0
    on_hand: int | None = None
    shipped: int = 0


@dataclass
class Tables:
    # catalog
    skus: dict[str, Sku] = field(default_factory=dict)
    categories: dict[str, str | None] = field(default_factory=dict)  # product id -> category
    # inventory: (sku, warehouse id, shard) -> slot (shard None: the level item)
    warehouses: dict[str, Warehouse] = field(default_factory=dict)
    stock: dict[tuple[str, str, int | None], Slot] = field(default_factory=dict)
    # carts: customer id -> the stored record (as shop.cart.repository writes it)
    carts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # orders: order id -> the stored record (JSON attributes, as shop.orders.repository.to_record writes them)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    # promotions: coupon code -> record (with ``used``); (code, customer) -> uses; (code, order) -> redemption
    sales: list[dict[str, Any]] = field(default_factory=list)
    coupons: dict[str, dict[str, Any]] = field(default_factory=dict)
    coupon_customers: dict[tuple[str, str], int] = field(default_factory=dict)
    redemptions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    transactions: int = 0  # committed transactions (a test can assert that a refusal wrote nothing)

    def transact(self, writes: list[Write]) -> list[str] | None:
        """All or nothing: None when committed, else the per-action cancellation codes (nothing written)."""
        items = [w.item for w in writes]
        if len(set(items)) != len(items):
            raise TransactionConflict(f"transaction names an item twice: {items}")
        with self.lock:
            codes = ["None" if w.check() else CONDITION_FAILED for w in writes]
            if CONDITION_FAILED in codes:
                return codes
            for w in writes:
                w.apply()
            self.transactions += 1
            return None

    # ------------------------------------------------------------------ seeding and reading (tests)
    def add_warehouse(self, warehouse_id: str, country: str = "DE", zone: str = "domestic",
                      priority: int = 100) -> Warehouse:
        found = Warehouse(warehouse_id=warehouse_id, name=warehouse_id.title(), country=country, zone=zone,
                          priority=priority)
        self.warehouses[warehouse_id] = found
        return found

    def add_sku(self, sku: Sku, category: str | None = None) -> Sku:
        self.skus[sku.sku] = sku
        self.categories[sku.product_id] = category
        return sku

    def set_stock(self, sku: str, warehouse_id: str, on_hand: int) -> None:
        """A counted stock level with nothing reserved (shop.inventory.repository.create_stock)."""
        self.stock[(sku, warehouse_id, None)] = Slot(available=on_hand, on_hand=on_hand)

    def level(self, sku: str, warehouse_id: str) -> Slot:
        return self.stock[(sku, warehouse_id, None)]
