"""One scenario of conditional writes, run through the store ports, that the fakes and the real DynamoDB stores
must answer alike: the fast tier runs it against the fakes (tests/fast/test_fast_contract.py), the integration
tier against both and compares (tests/integration/test_fake_contract.py). The answer is a transcript of what
each step returned or raised and what the stock and the order looked like."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from shop.checkout.ports import CheckoutStore
from shop.config import get_settings
from shop.models import Address, Allocation, Totals
from shop.money import Money
from shop.orders.models import Order, OrderLine, OrderStatus, TimelineEntry
from shop.orders.ports import OrderStore
from shop.orders.status import CANCELLABLE

from tests.fakes.tables import now_iso

S = OrderStatus
WAREHOUSE = "contract-wh"


def new_ids() -> tuple[str, str, str]:
    """(sku, customer, order id prefix), unique per run: the real stack is shared by a whole session."""
    tag = secrets.token_hex(4).upper()
    suffix = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(16))
    return f"CT-{tag}", f"cust-contract-{tag.lower()}", f"ord_{suffix}"


def order(order_id: str, customer_id: str, sku: str, quantity: int, total: int = 1000) -> Order:
    eur = Money(amount=0, currency="EUR")
    now = now_iso()
    return Order(
        order_id=order_id, customer_id=customer_id, status=S.PENDING_PAYMENT,
        lines=[OrderLine(sku=sku, product_id="contract", name="Contract", quantity=quantity,
                         unit_price=Money(amount=total // quantity, currency="EUR"), weight_grams=100,
                         allocations=[Allocation(warehouse_id=WAREHOUSE, quantity=quantity)])],
        totals=Totals(subtotal=eur, discount=eur, shipping=eur, tax=eur, total=Money(amount=total, currency="EUR")),
        shipping_address=Address(name="A", line1="B", city="C", postal_code="1", country="DE"),
        payment_method_id="pm_card_visa", created_at=now, updated_at=now, reservation_expires_at=2_000_000_000,
        timeline=[TimelineEntry(at=now, status=S.PENDING_PAYMENT, note="stock reserved")])


def attempt(step: Callable[[], Any]) -> Any:
    """What a step answered: its value, or the class of its domain error (with the status it names)."""
    try:
        found = step()
    except Exception as exc:  # the transcript records the error instead
        current = getattr(exc, "current", None)
        return (type(exc).__name__, current) if current is not None else type(exc).__name__
    return str(found) if hasattr(found, "value") else found


def scenario(checkout: CheckoutStore, store: OrderStore, seed_stock: Callable[[str, str, int], None]) -> list[Any]:
    sku, customer, prefix = new_ids()
    seed_stock(sku, WAREHOUSE, 3)
    settings = get_settings()
    first, second, third = (order(f"{prefix}{n}", customer, sku, q) for n, q in (("a", 2), ("b", 2), ("c", 1)))
    now = now_iso()

    def stock() -> tuple[int, int, int]:
        [level] = checkout.read_stock([sku], [WAREHOUSE], settings)[sku]
        return level.available, level.reserved, level.on_hand

    def status() -> str:
        return store.require_order(first.order_id).status.value

    t: list[Any] = []
    t.append(attempt(lambda: checkout.reserve_and_place(first, customer, 0, now)))  # placed, the cart emptied
    t.append(stock())
    t.append(attempt(lambda: checkout.reserve_and_place(first, customer, 1, now)))  # the same order again
    t.append(attempt(lambda: checkout.reserve_and_place(second, customer, 1, now)))  # 2 wanted, 1 available
    t.append(attempt(lambda: checkout.reserve_and_place(third, customer, 0, now)))  # a stale cart version
    t.append(stock())
    t.append(attempt(lambda: store.transition(first.order_id, {S.PENDING_PAYMENT}, S.PAYMENT_PROCESSING).status))
    t.append(attempt(lambda: store.transition(first.order_id, {S.PENDING_PAYMENT}, S.PAYMENT_PROCESSING)))
    t.append(attempt(lambda: store.set_payment_intent(first.order_id, "pi_contract_1")))
    t.append(attempt(lambda: store.set_payment_intent(first.order_id, "pi_contract_2")))
    t.append(attempt(lambda: store.set_auth_token(first.order_id, "token-1")))
    t.append(store.auth_token(first.order_id))
    t.append(attempt(lambda: store.reserve_refund(first.order_id, "k1", 600, 1000)))
    t.append(attempt(lambda: store.reserve_refund(first.order_id, "k1", 600, 1000)))  # a retry: counted once
    t.append(attempt(lambda: store.reserve_refund(first.order_id, "k2", 401, 1000)))  # above the capture
    t.append(attempt(lambda: store.record_refund(first.order_id, "re_1", Money(amount=600, currency="EUR"), "n")))
    t.append(attempt(lambda: store.record_refund(first.order_id, "re_2", Money(amount=1, currency="EUR"), "n")))
    current = store.require_order(first.order_id)
    t.append((current.payment_intent_id, current.refund_id, current.refunded))
    t.append(attempt(lambda: store.release(current, S.CANCELLED, CANCELLABLE, note="contract")))
    t.append(attempt(lambda: store.release(current, S.CANCELLED, CANCELLABLE, note="contract")))  # once only
    t.append((status(), stock()))
    t.append(attempt(lambda: store.set_auth_token(first.order_id, "token-2")))  # no longer being paid
    t.append(attempt(lambda: store.transition(f"{prefix}zz", {S.PENDING_PAYMENT}, S.PAID)))  # no such order
    t.append([s["status"] for s in store.require_order(first.order_id).model_dump(mode="json")["timeline"]])
    return t


# What both stores answer (the fast tier checks the fakes against it; the integration tier checks DynamoDB).
EXPECTED: list[Any] = [
    "placed", (1, 2, 3), "order_exists", "stock_changed", "cart_changed", (1, 2, 3),
    "PAYMENT_PROCESSING", ("StatusConflict", "PAYMENT_PROCESSING"), "pi_contract_1", "pi_contract_1", True, "token-1",
    True, False, "RefundLimitExceeded", True, False,
    ("pi_contract_1", "re_1", Money(amount=600, currency="EUR")), True, False,
    ("CANCELLED", (3, 0, 3)), False, "NotFound",
    ["PENDING_PAYMENT", "PAYMENT_PROCESSING", "REFUNDED", "CANCELLED"],
]
