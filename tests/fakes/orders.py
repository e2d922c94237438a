"""In-memory order store: the OrderStore port (shop.orders.ports) over :class:`tests.fakes.tables.Tables`.

Every method mirrors the function of shop.orders.repository with the same name, condition for condition (the
ConditionExpression is quoted above each check), and raises the same domain errors. Records are kept as the
repository stores them (the order's JSON attributes, None attributes left out, bookkeeping such as the auth
token and the refund counters beside them) and read back as the repository does (model fields only).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel
from shop.errors import Conflict, NotFound
from shop.money import Money
from shop.orders.models import Order, OrderStatus
from shop.orders.repository import (
    PENDING,
    REFUND_MARK_PREFIX,
    REFUNDED_AMOUNT,
    REST_ATTEMPTS,
    RefundContended,
    RefundLimitExceeded,
    StatusConflict,
)

from tests.fakes.faults import Faults
from tests.fakes.tables import CONDITION_FAILED, Tables, Write, now_iso


def plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def order_record(order: Order) -> dict[str, Any]:
    """shop.orders.repository.to_record: the JSON attributes (None left out), pending_pk while unpaid."""
    record = {k: v for k, v in order.model_dump(mode="json").items() if v is not None}
    if order.status == OrderStatus.PENDING_PAYMENT:
        record["pending_pk"] = PENDING
    return record


def order_from(record: dict[str, Any]) -> Order:
    """shop.dynamo.model_from_item: the model's fields only."""
    return Order.model_validate({k: v for k, v in record.items() if k in Order.model_fields})


def condition_failed(operation: str) -> ClientError:
    """What boto3 raises for a failed condition of a single write that the repository does not handle."""
    return ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "The conditional request "
                                  "failed"}}, operation)


class FakeOrderStore:
    def __init__(self, tables: Tables, faults: Faults | None = None) -> None:
        self.tables = tables
        self.faults = faults or Faults()

    # ------------------------------------------------------------------ reads
    def get_order(self, order_id: str, *, consistent: bool = True) -> Order | None:
        record = self.tables.orders.get(order_id)
        return order_from(record) if record is not None else None

    def require_order(self, order_id: str) -> Order:
        order = self.get_order(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        return order

    def list_for_customer(self, customer_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        mine = sorted((order_from(r) for r in self.tables.orders.values() if r["customer_id"] == customer_id),
                      key=lambda o: o.created_at, reverse=True)
        start = int(cursor or 0)
        page = mine[start:start + limit]
        return page, str(start + limit) if start + limit < len(mine) else None

    def expired_pending(self, now_epoch: int, limit: int = 100,
                        start: dict[str, Any] | None = None) -> tuple[list[str], dict[str, Any] | None]:
        # the sparse index PendingByExpiry: pending_pk = PENDING AND reservation_expires_at < :now
        due = sorted((r["reservation_expires_at"], r["order_id"]) for r in self.tables.orders.values()
                     if r.get("pending_pk") == PENDING and r["reservation_expires_at"] < now_epoch)
        ids = [order_id for _, order_id in due]
        if start is not None:
            ids = ids[ids.index(start["order_id"]) + 1:] if start["order_id"] in ids else []
        page = ids[:limit]
        return page, {"order_id": page[-1]} if len(ids) > limit else None

    def auth_token(self, order_id: str) -> str | None:
        record = self.tables.orders.get(order_id)
        return record.get("auth_task_token") if record is not None else None

    # ------------------------------------------------------------------ status changes
    def status_write(self, order_id: str, allowed_from: frozenset[OrderStatus] | set[OrderStatus], to: OrderStatus,
                     note: str | None = None, set_fields: dict[str, Any] | None = None,
                     expired_before: int | None = None) -> Write:
        """shop.dynamo.status_update (+ the release's expiry condition)."""
        allowed = {s.value for s in allowed_from}

        def check() -> bool:
            # attribute_exists(pk) AND #s IN (:from...) [AND reservation_expires_at < :expiry]
            record = self.tables.orders.get(order_id)
            if record is None or record["status"] not in allowed:
                return False
            return expired_before is None or record["reservation_expires_at"] < expired_before

        def apply() -> None:
            record = self.tables.orders[order_id]
            now = now_iso()
            record.update({"status": to.value, "updated_at": now})
            record.update({k: plain(v) for k, v in (set_fields or {}).items()})
            record["timeline"] = [*record.get("timeline", []),
                                  {"at": now, "status": to.value, **({"note": note} if note else {})}]
            record.pop("pending_pk", None)

        return Write(("order", order_id), check, apply)

    def transition(self, order_id: str, allowed_from: frozenset[OrderStatus] | set[OrderStatus], to: OrderStatus,
                   note: str | None = None, set_fields: dict[str, Any] | None = None) -> Order:
        self.faults.check("transition", "before")
        if self.tables.transact([self.status_write(order_id, allowed_from, to, note, set_fields)]) is not None:
            current = self.get_order(order_id)
            if current is None:
                raise NotFound(f"order {order_id} not found")
            raise StatusConflict(order_id, current.status.value, to.value)
        self.faults.check("transition", "after")
        return self.require_order(order_id)

    def set_payment_intent(self, order_id: str, payment_intent_id: str) -> str:
        self.faults.check("set_payment_intent", "before")

        def check() -> bool:
            # attribute_exists(pk) AND attribute_not_exists(payment_intent_id) AND #s = :processing
            record = self.tables.orders.get(order_id)
            return (record is not None and "payment_intent_id" not in record
                    and record["status"] == OrderStatus.PAYMENT_PROCESSING.value)

        def apply() -> None:
            self.tables.orders[order_id].update({"payment_intent_id": payment_intent_id, "updated_at": now_iso()})

        if self.tables.transact([Write(("order", order_id), check, apply)]) is None:
            self.faults.check("set_payment_intent", "after")
            return payment_intent_id
        order = self.require_order(order_id)
        if order.payment_intent_id is None:
            raise StatusConflict(order_id, order.status.value, "charged")
        return order.payment_intent_id

    def release(self, order: Order, to: OrderStatus, sources: frozenset[OrderStatus], note: str | None = None,
                expired_before: int | None = None, set_fields: dict[str, Any] | None = None) -> bool:
        """One transaction: the order's status (from ``sources``), each slot's reservation back (reserved >= q),
        the coupon's use back (the redemption must exist). False when the order condition fails."""
        self.faults.check("release", "before")
        if order.status not in sources:
            return False
        writes = [self.status_write(order.order_id, sources, to, note, set_fields, expired_before)]
        for line in order.lines:
            for alloc in line.allocations:
                writes.append(self._release_stock(line.sku, alloc.warehouse_id, alloc.quantity, alloc.shard))
        if order.coupon_code:
            writes.extend(self._release_coupon(order.coupon_code, order.customer_id, order.order_id))
        codes = self.tables.transact(writes)
        if codes is not None:
            if codes[0] == CONDITION_FAILED:
                return False
            raise Conflict(f"releasing order {order.order_id} failed: {codes}")
        self.faults.check("release", "after")
        return True

    def _release_stock(self, sku: str, warehouse_id: str, quantity: int, shard: int | None) -> Write:
        key = (sku, warehouse_id, shard)

        def check() -> bool:  # reserved >= :q (false on a missing item)
            slot = self.tables.stock.get(key)
            return slot is not None and slot.reserved >= quantity

        def apply() -> None:  # SET available = available + :q, reserved = reserved - :q
            slot = self.tables.stock[key]
            slot.available += quantity
            slot.reserved -= quantity

        return Write(("stock", *key), check, apply)

    def _release_coupon(self, code: str, customer_id: str, order_id: str) -> list[Write]:
        """shop.promotions.repository.release_actions."""
        tables = self.tables

        def uncount() -> None:  # ADD used :m (creates the item when missing, as DynamoDB's ADD does)
            record = tables.coupons.setdefault(code, {})
            record["used"] = int(record.get("used", 0)) - 1

        def uncount_customer() -> None:
            tables.coupon_customers[(code, customer_id)] = tables.coupon_customers.get((code, customer_id), 0) - 1

        def delete_redemption() -> None:
            del tables.redemptions[(code, order_id)]

        return [
            # Delete, attribute_exists(pk): the order's redemption goes once
            Write(("redemption", code, order_id), lambda: (code, order_id) in tables.redemptions, delete_redemption),
            Write(("coupon", code), lambda: True, uncount),
            Write(("coupon_customer", code, customer_id), lambda: True, uncount_customer),
        ]

    # ------------------------------------------------------------------ payment bookkeeping
    def set_auth_token(self, order_id: str, token: str) -> bool:
        def check() -> bool:  # attribute_exists(pk) AND #s = :processing
            record = self.tables.orders.get(order_id)
            return record is not None and record["status"] == OrderStatus.PAYMENT_PROCESSING.value

        return self.tables.transact([Write(("order", order_id), check,
                                           lambda: self.tables.orders[order_id].update(auth_task_token=token))]) is None

    def record_refund(self, order_id: str, refund_id: str, amount: Money, note: str) -> bool:
        self.faults.check("record_refund", "before")

        def check() -> bool:  # attribute_exists(pk) AND attribute_not_exists(refund_id)
            record = self.tables.orders.get(order_id)
            return record is not None and "refund_id" not in record

        def apply() -> None:
            record = self.tables.orders[order_id]
            now = now_iso()
            record.update({"refund_id": refund_id, "refunded": amount.model_dump(), "updated_at": now})
            record["timeline"] = [*record.get("timeline", []), {"at": now, "status": "REFUNDED", "note": note}]

        done = self.tables.transact([Write(("order", order_id), check, apply)]) is None
        self.faults.check("record_refund", "after")
        return done

    def reserve_refund(self, order_id: str, key: str, amount: int, captured: int) -> bool:
        if amount <= 0 or amount > captured:
            raise RefundLimitExceeded(f"a refund of {amount} on order {order_id} exceeds the {captured} captured",
                                      details={"order_id": order_id, "amount": amount, "captured": captured})
        mark = f"{REFUND_MARK_PREFIX}{key}"

        def check() -> bool:
            # attribute_exists(pk) AND attribute_not_exists(#m) AND (attribute_not_exists(#t) OR #t <= :room)
            record = self.tables.orders.get(order_id)
            return (record is not None and mark not in record
                    and (REFUNDED_AMOUNT not in record or record[REFUNDED_AMOUNT] <= captured - amount))

        def apply() -> None:
            record = self.tables.orders[order_id]
            record.update({REFUNDED_AMOUNT: record.get(REFUNDED_AMOUNT, 0) + amount, mark: amount,
                           "updated_at": now_iso()})

        if self.tables.transact([Write(("order", order_id), check, apply)]) is None:
            return True
        record = self.tables.orders.get(order_id)
        if record is None:
            raise NotFound(f"order {order_id} not found")
        if mark in record:
            return False
        refunded = record.get(REFUNDED_AMOUNT, 0)
        raise RefundLimitExceeded(
            f"order {order_id}: a refund of {amount} on top of {refunded} refunded exceeds the {captured} "
            "captured", details={"order_id": order_id, "amount": amount, "refunded": refunded, "captured": captured})

    def reserve_rest(self, order_id: str, key: str, captured: int) -> int:
        self.faults.check("reserve_rest", "before")
        mark = f"{REFUND_MARK_PREFIX}{key}"
        for _ in range(REST_ATTEMPTS):
            record = self.tables.orders.get(order_id)  # a consistent read of the counter and the key's marker
            if record is None:
                raise NotFound(f"order {order_id} not found")
            if mark in record:
                return int(record[mark])
            had = REFUNDED_AMOUNT in record
            refunded = int(record.get(REFUNDED_AMOUNT, 0))
            rest = captured - refunded
            if rest <= 0:
                return 0

            def check(had: bool = had, refunded: int = refunded) -> bool:
                # attribute_exists(pk) AND attribute_not_exists(#m) AND (#t = :was | attribute_not_exists(#t))
                current = self.tables.orders.get(order_id)
                if current is None or mark in current:
                    return False
                return current.get(REFUNDED_AMOUNT) == refunded if had else REFUNDED_AMOUNT not in current

            def apply(rest: int = rest) -> None:
                self.tables.orders[order_id].update({REFUNDED_AMOUNT: captured, mark: rest, "updated_at": now_iso()})

            if self.tables.transact([Write(("order", order_id), check, apply)]) is None:
                return rest
        raise RefundContended(f"order {order_id}: its refunds kept changing while the rest was being refunded; "
                              "try again", details={"order_id": order_id})

    def set_attributes(self, order_id: str, attrs: dict[str, Any]) -> None:
        self.faults.check("set_attributes", "before")

        def apply() -> None:
            record = self.tables.orders[order_id]
            record.update({k: plain(v) for k, v in attrs.items()})  # SET keeps a None as a NULL attribute
            record["updated_at"] = now_iso()

        # attribute_exists(pk); a failure is not handled by the repository: boto3's error reaches the caller
        if self.tables.transact([Write(("order", order_id), lambda: order_id in self.tables.orders, apply)]):
            raise condition_failed("UpdateItem")
        self.faults.check("set_attributes", "after")

    # ------------------------------------------------------------------ reading the money (tests)
    def refunded_amount(self, order_id: str) -> int:
        return int(self.tables.orders[order_id].get(REFUNDED_AMOUNT, 0))
