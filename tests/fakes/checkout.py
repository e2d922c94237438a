"""In-memory checkout store: the CheckoutStore port (shop.checkout.ports) over :class:`tests.fakes.tables.Tables`.

The reads answer what shop.cart.basket's batch read would find; the reservation is one transaction with the
conditions of shop.checkout.repository.reserve_and_place (stock slot exists and holds ``available >= q``,
order not there yet, cart still at the version read) and shop.promotions.repository.redemption_actions
(coupon exists, active and under its global limit; the customer under theirs; one redemption per order). Its
Outcome names the failing part with the repository's precedence.

Races are staged, not hoped for: ``interleave`` holds writes of "another request" that run just before the
next transaction (after this request's reads), ``lose_answer`` commits a transaction but answers UNKNOWN (the
answer timed out), ``contend`` cancels one as contention.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from shop.cart.basket import Basket
from shop.cart.repository import CartRecord, cart_from_item
from shop.checkout.ports import CouponUse
from shop.checkout.repository import MAX_TRANSACTION_ITEMS, Outcome
from shop.config import Settings
from shop.dynamo import to_item
from shop.models import StockLevel, Warehouse
from shop.orders.models import Order
from shop.promotions.repository import sale_from

from tests.fakes.orders import order_from, order_record
from tests.fakes.tables import CONDITION_FAILED, Tables, Write


class FakeCheckoutStore:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.interleave: list[Callable[[], Any]] = []
        self.lose_answer = 0
        self.contend = 0
        self.calls: Counter[str] = Counter()

    # ------------------------------------------------------------------ reads
    def read_cart_and_order(self, customer_id: str, order_id: str, now_epoch: int) -> tuple[CartRecord, Order | None]:
        self.calls["read_cart_and_order"] += 1
        raw = self.tables.carts.get(customer_id)
        cart = cart_from_item(customer_id, to_item(raw) if raw is not None else None, now_epoch)
        record = self.tables.orders.get(order_id)
        return cart, order_from(record) if record is not None else None

    def owners_of(self, codes: list[str], known: dict[str, str]) -> dict[str, str]:
        owners = {code: known[code] for code in codes if code in known}
        owners.update({code: self.tables.skus[code].product_id for code in codes
                       if code not in owners and code in self.tables.skus})
        return owners

    def read_basket(self, owners: dict[str, str], settings: Settings, *, customer_id: str | None = None,
                    coupon_code: str | None = None) -> Basket:
        self.calls["read_basket"] += 1
        codes = sorted(owners)
        # read by key (product, sku): a SKU read under another product id is not found
        skus = {code: sku for code, pid in owners.items()
                if (sku := self.tables.skus.get(code)) is not None and sku.product_id == pid}
        categories = {sku.product_id: self.tables.categories.get(sku.product_id) for sku in skus.values()}
        known = dict(self.tables.warehouses)
        sales, coupon, uses = None, None, 0
        if settings.promotions_table:  # as the real read: no promotions table, no promotions
            sales = [sale_from(dict(r)) for r in self.tables.sales]
            if coupon_code and coupon_code in self.tables.coupons:
                coupon = dict(self.tables.coupons[coupon_code])
            if coupon_code and customer_id:
                uses = self.tables.coupon_customers.get((coupon_code, customer_id), 0)
        return Basket(skus=skus, categories=categories, stock=self.levels(codes, list(known)), warehouses=known,
                      sales=sales, coupon=coupon, coupon_uses=uses, owners=dict(owners), coupon_code=coupon_code)

    def read_stock(self, codes: list[str], warehouse_ids: list[str],
                   settings: Settings) -> dict[str, list[StockLevel]]:
        self.calls["read_stock"] += 1
        return self.levels(codes, warehouse_ids)

    def fresh_stock(self, codes: list[str],
                    settings: Settings) -> tuple[dict[str, list[StockLevel]], dict[str, Warehouse]]:
        self.calls["fresh_stock"] += 1
        known = dict(self.tables.warehouses)
        return self.levels(codes, list(known)), known

    def levels(self, codes: list[str], warehouse_ids: list[str]) -> dict[str, list[StockLevel]]:
        out: dict[str, list[StockLevel]] = {code: [] for code in codes}
        for code in codes:
            for wid in sorted(warehouse_ids):
                slot = self.tables.stock.get((code, wid, None))
                if slot is not None and slot.on_hand is not None:
                    out[code].append(StockLevel(sku=code, warehouse_id=wid, on_hand=slot.on_hand,
                                                available=slot.available, reserved=slot.reserved))
        return out

    # ------------------------------------------------------------------ the reservation transaction
    def reserve_and_place(self, order: Order, cart_customer_id: str, cart_version: int, now: str,
                          coupon: CouponUse | None = None) -> Outcome:
        self.calls["reserve_and_place"] += 1
        while self.interleave:  # the other request's writes land between our reads and our transaction
            self.interleave.pop(0)()
        writes = [self._reserve(line.sku, a.warehouse_id, a.quantity, a.shard, now)
                  for line in order.lines for a in line.allocations]
        order_index = len(writes)
        writes.append(self._put_order(order))
        writes.append(self._empty_cart(cart_customer_id, cart_version, now))
        coupon_index = len(writes)
        if coupon is not None:
            writes.extend(self._count_coupon(coupon))
        if len(writes) > MAX_TRANSACTION_ITEMS:
            raise ValueError("transaction too large")
        if self.contend:
            self.contend -= 1
            return Outcome.CONTENDED
        codes = self.tables.transact(writes)
        if self.lose_answer:
            self.lose_answer -= 1
            return Outcome.UNKNOWN
        if codes is None:
            return Outcome.PLACED
        failed = [c == CONDITION_FAILED for c in codes]
        if failed[order_index]:
            return Outcome.ORDER_EXISTS
        if any(failed[:order_index]):
            return Outcome.STOCK_CHANGED
        if failed[order_index + 1]:
            return Outcome.CART_CHANGED
        if any(failed[coupon_index:]):
            return Outcome.COUPON_EXHAUSTED
        return Outcome.CONTENDED

    def _reserve(self, sku: str, warehouse_id: str, quantity: int, shard: int | None, now: str) -> Write:
        key = (sku, warehouse_id, shard)

        def check() -> bool:  # attribute_exists(pk) AND available >= :q
            slot = self.tables.stock.get(key)
            return slot is not None and slot.available >= quantity

        def apply() -> None:  # SET available = available - :q, reserved = reserved + :q
            slot = self.tables.stock[key]
            slot.available -= quantity
            slot.reserved += quantity

        return Write(("stock", *key), check, apply)

    def _put_order(self, order: Order) -> Write:
        def apply() -> None:
            self.tables.orders[order.order_id] = order_record(order)

        # attribute_not_exists(pk)
        return Write(("order", order.order_id), lambda: order.order_id not in self.tables.orders, apply)

    def _empty_cart(self, customer_id: str, expected_version: int, now: str) -> Write:
        """shop.cart.repository.empty_cart_action."""
        carts = self.tables.carts

        def check() -> bool:
            cart = carts.get(customer_id)
            if expected_version == 0:  # attribute_not_exists(customer_id) OR version = :v
                return cart is None or int(cart.get("version", -1)) == 0
            return cart is not None and int(cart.get("version", -1)) == expected_version  # version = :v

        def apply() -> None:
            # SET items = {}, version = if_not_exists(version, 0) + 1, updated_at = :now REMOVE coupon_code, products
            cart = carts.setdefault(customer_id, {"customer_id": customer_id})
            cart.update({"items": {}, "version": int(cart.get("version", 0)) + 1, "updated_at": now})
            cart.pop("coupon_code", None)
            cart.pop("products", None)

        return Write(("cart", customer_id), check, apply)

    def _count_coupon(self, use: CouponUse) -> list[Write]:
        """shop.promotions.repository.redemption_actions."""
        tables = self.tables

        def global_ok() -> bool:  # attribute_exists(pk) AND active = :yes [AND used < :limit]
            record = tables.coupons.get(use.code)
            if record is None or record.get("active") is not True:
                return False
            return use.global_limit is None or ("used" in record and int(record["used"]) < use.global_limit)

        def count() -> None:  # ADD used :one
            record = tables.coupons[use.code]
            record["used"] = int(record.get("used", 0)) + 1

        def customer_ok() -> bool:  # attribute_not_exists(used) OR used < :limit
            uses = tables.coupon_customers.get((use.code, use.customer_id))
            return uses is None or uses < use.per_customer_limit

        def count_customer() -> None:
            key = (use.code, use.customer_id)
            tables.coupon_customers[key] = tables.coupon_customers.get(key, 0) + 1

        def redeem() -> None:
            tables.redemptions[(use.code, use.order_id)] = {"customer_id": use.customer_id, "at": use.at}

        return [
            Write(("coupon", use.code), global_ok, count),
            Write(("coupon_customer", use.code, use.customer_id), customer_ok, count_customer),
            # Put, attribute_not_exists(pk): one redemption per order
            Write(("redemption", use.code, use.order_id), lambda: (use.code, use.order_id) not in tables.redemptions,
                  redeem),
        ]
