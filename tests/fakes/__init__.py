"""In-memory fakes of the order services' ports (shop.orders.ports, shop.checkout.ports, shop.payments.ports,
shop.orderflow.ports), for the fast tier (tests/fast): the business rules in milliseconds, no local stack.

The fakes share one set of tables and enforce the conditions of the DynamoDB writes they stand for (stock
never below zero, one order per idempotency key, coupon limits, refunds never above the capture, status
changes only from the statuses allowed): a fake kinder than DynamoDB would let a broken rule pass.
:func:`install` puts a :class:`FakeShop` behind the ports for the length of a ``with`` block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shop.checkout.ports import ports as checkout_ports
from shop.models import Sku
from shop.money import Money
from shop.orderflow.ports import ports as orderflow_ports
from shop.orders.ports import ports as order_ports
from shop.payments.ports import ports as payment_ports

from tests.fakes.checkout import FakeCheckoutStore
from tests.fakes.events import RecordingPublisher
from tests.fakes.faults import Crash, Faults
from tests.fakes.fulfillment import FakeFulfillment
from tests.fakes.orders import FakeOrderStore
from tests.fakes.payments import FakeGateway
from tests.fakes.tables import Slot, Tables
from tests.fakes.workflow import RecordingWorkflow

__all__ = ["Crash", "FakeShop", "install"]


@dataclass
class FakeShop:
    """Everything the order services talk to, in memory: one set of tables behind the stores."""

    currency: str = "EUR"
    tables: Tables = field(default_factory=Tables)
    gateway: FakeGateway = field(default_factory=FakeGateway)
    events: RecordingPublisher = field(default_factory=RecordingPublisher)
    workflow: RecordingWorkflow = field(default_factory=RecordingWorkflow)

    def __post_init__(self) -> None:
        self.store = FakeOrderStore(self.tables, Faults())
        self.checkout = FakeCheckoutStore(self.tables)
        self.fulfillment = FakeFulfillment(self.tables, self.store, self.workflow)

    # ------------------------------------------------------------------ seeding
    def add_product(self, sku: str, *, price: int = 1000, weight_grams: int = 500, stock: dict[str, int] | None = None,
                    active: bool = True) -> Sku:
        """A SKU (its product id derived from it) with stock per warehouse (warehouses created as needed, in DE)."""
        found = self.tables.add_sku(Sku(sku=sku, product_id=sku.lower(), name=f"Product {sku}",
                                        price=Money(amount=price, currency=self.currency),
                                        weight_grams=weight_grams, active=active))
        for warehouse_id, on_hand in (stock or {}).items():
            if warehouse_id not in self.tables.warehouses:
                self.tables.add_warehouse(warehouse_id)
            self.tables.set_stock(sku, warehouse_id, on_hand)
        return found

    def put_cart(self, customer_id: str, items: dict[str, int], *, coupon: str | None = None) -> None:
        """The shopper's saved cart (shop.cart.repository.save_cart: the version counts up)."""
        previous = self.tables.carts.get(customer_id, {})
        now = datetime.now(UTC)
        self.tables.carts[customer_id] = {
            "customer_id": customer_id, "items": dict(items), "version": int(previous.get("version", 0)) + 1,
            "updated_at": now.isoformat(), "expires_at": int((now + timedelta(days=7)).timestamp()),
            "products": {code: self.tables.skus[code].product_id for code in items if code in self.tables.skus},
            **({"coupon_code": coupon} if coupon else {})}

    def add_coupon(self, code: str, *, percent: int = 10, global_limit: int | None = None,
                   per_customer_limit: int = 1, used: int = 0, active: bool = True) -> None:
        """A coupon as the admin route stores it (shop.promotions.repository.put_coupon), running now."""
        now = datetime.now(UTC)
        self.tables.coupons[code] = {
            "code": code, "percent": percent, "per_customer_limit": per_customer_limit,
            "starts_at": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ends_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), "active": active, "used": used,
            **({"global_limit": global_limit} if global_limit is not None else {})}

    # ------------------------------------------------------------------ reading the state
    def stock(self, sku: str, warehouse_id: str) -> Slot:
        return self.tables.level(sku, warehouse_id)

    def cart_items(self, customer_id: str) -> dict[str, Any]:
        return dict(self.tables.carts.get(customer_id, {}).get("items", {}))

    def coupon_used(self, code: str) -> int:
        return int(self.tables.coupons[code].get("used", 0))


@contextmanager
def install(shop: FakeShop) -> Iterator[FakeShop]:
    """Put ``shop`` behind every port of the order services; the production adapters are back afterwards.
    (Plain assignments to the typed seams: ``mypy tests/fakes`` checks each fake against its Protocol.)"""
    saved = (replace(order_ports), replace(checkout_ports), replace(payment_ports), replace(orderflow_ports))
    try:
        order_ports.store = shop.store
        order_ports.events = shop.events
        order_ports.workflow = shop.workflow
        checkout_ports.store = shop.checkout
        payment_ports.gateway = shop.gateway
        orderflow_ports.fulfillment = shop.fulfillment
        yield shop
    finally:
        order_ports.store, order_ports.events, order_ports.workflow = (saved[0].store, saved[0].events,
                                                                       saved[0].workflow)
        checkout_ports.store = saved[1].store
        payment_ports.gateway = saved[2].gateway
        orderflow_ports.fulfillment = saved[3].fulfillment
