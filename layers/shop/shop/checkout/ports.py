"""The store port of shop.checkout.service: its reads (the cart with the order a replay would find, the basket's
one batch read, stock re-reads) and its one write (the reservation transaction).

Production is :class:`DynamoCheckoutStore`, which calls the existing functions (shop.checkout.repository,
shop.cart.basket) at call time. The service reads ``ports.store`` at call time, so a fast test tier swaps in an
in-memory store (tests/fakes). The workflow start goes through shop.orders.ports.

The coupon's use is handed to the store as a :class:`CouponUse` rather than as DynamoDB actions, so that a fake
store enforces the same limits without parsing expressions; the production store builds the actions
(shop.promotions.repository.redemption_actions) exactly as the service did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shop.cart import basket
from shop.cart.basket import Basket
from shop.cart.repository import CartRecord
from shop.checkout import repository
from shop.checkout.repository import Outcome
from shop.config import Settings
from shop.models import StockLevel, Warehouse
from shop.orders.models import Order
from shop.promotions import repository as promotion_repo


@dataclass(frozen=True)
class CouponUse:
    """One use of a coupon by an order, counted in the reservation transaction: under the coupon's global limit
    (None: unlimited) and the customer's limit, once per order, and only while the coupon exists and is active."""

    code: str
    customer_id: str
    order_id: str
    global_limit: int | None
    per_customer_limit: int
    at: str


class CheckoutStore(Protocol):
    def read_cart_and_order(self, customer_id: str, order_id: str, now_epoch: int) -> tuple[CartRecord, Order | None]:
        ...

    def owners_of(self, codes: list[str], known: dict[str, str]) -> dict[str, str]: ...

    def read_basket(self, owners: dict[str, str], settings: Settings, *, customer_id: str | None = None,
                    coupon_code: str | None = None) -> Basket: ...

    def read_stock(self, codes: list[str], warehouse_ids: list[str],
                   settings: Settings) -> dict[str, list[StockLevel]]: ...

    def fresh_stock(self, codes: list[str],
                    settings: Settings) -> tuple[dict[str, list[StockLevel]], dict[str, Warehouse]]: ...

    def reserve_and_place(self, order: Order, cart_customer_id: str, cart_version: int, now: str,
                          coupon: CouponUse | None = None) -> Outcome:
        """All or nothing: every allocation reserved (available >= q), the order put (not existing yet), the
        cart emptied (still at cart_version), the coupon's use counted (within its limits). The Outcome names
        the first failing part, in that order of precedence (see shop.checkout.repository)."""
        ...


class DynamoCheckoutStore:
    """Production: DynamoDB through shop.checkout.repository and shop.cart.basket."""

    def read_cart_and_order(self, customer_id: str, order_id: str, now_epoch: int) -> tuple[CartRecord, Order | None]:
        return repository.read_cart_and_order(customer_id, order_id, now_epoch)

    def owners_of(self, codes: list[str], known: dict[str, str]) -> dict[str, str]:
        return basket.owners_of(codes, known)

    def read_basket(self, owners: dict[str, str], settings: Settings, *, customer_id: str | None = None,
                    coupon_code: str | None = None) -> Basket:
        return basket.read(owners, settings, customer_id=customer_id, coupon_code=coupon_code)

    def read_stock(self, codes: list[str], warehouse_ids: list[str],
                   settings: Settings) -> dict[str, list[StockLevel]]:
        return basket.read_stock(codes, warehouse_ids, settings)

    def fresh_stock(self, codes: list[str],
                    settings: Settings) -> tuple[dict[str, list[StockLevel]], dict[str, Warehouse]]:
        return basket.fresh_stock(codes, settings)

    def reserve_and_place(self, order: Order, cart_customer_id: str, cart_version: int, now: str,
                          coupon: CouponUse | None = None) -> Outcome:
        actions = promotion_repo.redemption_actions(coupon.code, coupon.customer_id, coupon.order_id,
                                                    coupon.global_limit, coupon.per_customer_limit,
                                                    coupon.at) if coupon else None
        return repository.reserve_and_place(order, cart_customer_id, cart_version, now, actions)


@dataclass
class CheckoutPorts:
    """The checkout service's store (production: DynamoCheckoutStore; a test tier installs a fake)."""

    store: CheckoutStore


ports = CheckoutPorts(store=DynamoCheckoutStore())
