"""Daily facts (pure): what each domain event adds to the day it happened on, in the report's time zone.

The report and the sales trends never scan: every event the Analytics function receives becomes one fact
item in the partition of its day (``DAY#<yyyy-mm-dd>``), written once (keyed on the event's dedupe key), and
adds to that day's running totals in the same transaction. A day's report reads that day's partition only,
so its cost grows with that day's orders, not with the shop's history. Paid orders also add to the
"bought together" counts of every pair of products in them, and to the paying shopper's own purchases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

MAX_PAIR_PRODUCTS = 9  # an order with more distinct products adds pairs among its first 9 (72 counts)

RECORDED = frozenset({"OrderPlaced", "OrderPaid", "ShipmentPacked", "ShipmentShipped", "ShipmentDelivered",
                      "OrderCancelled", "RefundIssued", "StockLow"})


@dataclass(frozen=True)
class Fact:
    day: date
    sk: str
    kind: str
    attributes: dict[str, Any]
    totals: dict[str, int] = field(default_factory=dict)  # ADDed to the day's totals once
    pairs: tuple[tuple[str, str], ...] = ()  # (product, bought with) counted once
    # (customer, products of the order): what the shopper bought, counted once (recommendations exclude and
    # start from it, shop.storefront.recommendations)
    bought: tuple[str, tuple[str, ...]] | None = None


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local_day(value: str, tz: ZoneInfo) -> date:
    return parse_time(value).astimezone(tz).date()


def _when(detail: dict[str, Any], *keys: str) -> str:
    for key in keys:
        if detail.get(key):
            return str(detail[key])
    return str(detail["occurred_at"])


def _units(lines: list[dict[str, Any]]) -> int:
    return sum(int(ln["quantity"]) for ln in lines)


def fact_for(detail_type: str, detail: dict[str, Any], tz: ZoneInfo) -> Fact | None:
    """The fact an event records, or None for events the reports do not use."""
    if detail_type not in RECORDED:
        return None
    order = detail.get("order_id")
    if detail_type == "OrderPlaced":
        at = _when(detail)
        return Fact(local_day(at, tz), f"PLACED#{order}", "placed",
                    {"order_id": order, "at": at, "total": detail["totals"]["total"],
                     "units": _units(detail["lines"])}, totals={"orders_placed": 1})
    if detail_type == "OrderPaid":
        at = _when(detail, "paid_at")
        lines = [{"sku": ln["sku"], "product_id": ln.get("product_id"), "quantity": int(ln["quantity"]),
                  "amount": int(ln["unit_price"]["amount"]) * int(ln["quantity"])} for ln in detail["lines"]]
        products = sorted({ln["product_id"] for ln in lines if ln["product_id"]})[:MAX_PAIR_PRODUCTS]
        total = detail["totals"]["total"]
        return Fact(local_day(at, tz), f"PAID#{order}", "paid",
                    {"order_id": order, "at": at, "total": total, "units": _units(detail["lines"]), "lines": lines},
                    totals={"orders_paid": 1, "revenue": int(total["amount"]), "units": _units(detail["lines"])},
                    pairs=tuple((a, b) for a in products for b in products if a != b),
                    bought=(str(detail["customer_id"]), tuple(products)) if detail.get("customer_id") else None)
    if detail_type == "ShipmentPacked":
        at = _when(detail)
        return Fact(local_day(at, tz), f"PACKED#{order}#{detail['shipment_id']}", "packed",
                    {"order_id": order, "at": at, "shipment_id": detail["shipment_id"],
                     "warehouse_id": detail.get("warehouse_id"), "shipping_cost": detail.get("shipping_cost")},
                    totals={"parcels_packed": 1})
    if detail_type == "ShipmentShipped":
        at = _when(detail, "shipped_at")
        return Fact(local_day(at, tz), f"SHIPPED#{order}#{detail['shipment_id']}", "shipped",
                    {"order_id": order, "at": at, "shipment_id": detail["shipment_id"],
                     "warehouse_id": detail.get("warehouse_id"), "paid_at": detail.get("paid_at"),
                     "units": int(detail.get("units") or 0)}, totals={"parcels_shipped": 1})
    if detail_type == "ShipmentDelivered":
        at = _when(detail, "delivered_at")
        return Fact(local_day(at, tz), f"DELIVERED#{order}#{detail['shipment_id']}", "delivered",
                    {"order_id": order, "at": at, "shipment_id": detail["shipment_id"],
                     "warehouse_id": detail.get("warehouse_id")}, totals={"parcels_delivered": 1})
    if detail_type == "OrderCancelled":
        at = _when(detail)
        return Fact(local_day(at, tz), f"CANCELLED#{order}", "cancelled",
                    {"order_id": order, "at": at, "reason": detail.get("reason")}, totals={"orders_cancelled": 1})
    if detail_type == "RefundIssued":
        at = _when(detail)
        amount = detail["amount"]
        return Fact(local_day(at, tz), f"REFUND#{order}#{detail['refund_id']}", "refund",
                    {"order_id": order, "at": at, "amount": amount}, totals={"refunds": int(amount["amount"])})
    # StockLow: the latest state of the level that day (overwritten, never double counted: no totals)
    at = _when(detail)
    return Fact(local_day(at, tz), f"LOW#{detail['sku']}#{detail['warehouse_id']}", "low",
                {"sku": detail["sku"], "warehouse_id": detail["warehouse_id"], "at": at,
                 "available": int(detail["available"]), "incoming": int(detail.get("incoming", 0)),
                 "reorder_point": int(detail["reorder_point"])})
