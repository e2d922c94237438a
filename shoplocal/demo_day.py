"""A generated day of orders as the domain events the Analytics function receives (for the report's tests,
the local `python -m shoplocal report` command and the report benchmark), with the figures an independent
count expects. Deterministic for a seed."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo


def uid(n: int = 16) -> str:
    return uuid.uuid4().hex[:n]


def bus_event(detail_type: str, detail: dict[str, Any], source: str = "shop.orders") -> dict[str, Any]:
    return {"version": "0", "id": uid(16), "detail-type": detail_type, "source": source, "account": "123456789012",
            "time": detail.get("occurred_at", "2026-01-01T00:00:00Z"), "region": "us-east-1", "resources": [],
            "detail": {**detail, "dedupe_key": f"{detail_type}:{detail.get('order_id') or detail.get('sku')}:"
                                               f"{detail.get('shipment_id', '')}{detail.get('refund_id', '')}"}}


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(n: int) -> dict[str, Any]:
    return {"amount": n, "currency": "EUR"}


# what the producers send beyond the figures the reports use, so that every event meets its contract
ADDRESS = {"name": "Demo Shopper", "line1": "Hauptstrasse 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}


def totals_of(subtotal: int, total: int) -> dict[str, Any]:
    return {"subtotal": money(subtotal), "discount": money(0), "shipping": money(total - subtotal), "tax": money(0),
            "total": money(total)}


def parcel(sid: str) -> dict[str, Any]:
    return {"carrier": "DHL", "tracking_number": "JJD" + sid[4:22].upper()}


def generate_day(day: date, n: int, seed: int, products: list[tuple[str, str]], tz: ZoneInfo,
                 low: tuple[str, str] = ("LOW-A", "LOW-B")) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Events of ``n`` orders placed on ``day`` (in ``tz``) and what an independent count expects."""
    rng = random.Random(seed)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    events: list[dict[str, Any]] = []
    exp: dict[str, Any] = defaultdict(int)
    hours: list[float] = []
    by_hour = [0] * 24
    sku_units: Counter[str] = Counter()
    cat_rev: Counter[str] = Counter()
    wh_counts: dict[str, Counter[str]] = defaultdict(Counter)
    for i in range(n):
        order = "ord_" + "".join("abcdefghijklmnopqrstuvwxyz234567"[int(c, 16) * 2] for c in f"{seed:06x}{i:08x}")
        placed = start + timedelta(minutes=rng.randrange(0, 24 * 60 - 90))
        lines: list[dict[str, Any]] = []
        for sku, pid in rng.sample(products, rng.randint(1, 3)):
            q, price = rng.randint(1, 3), rng.choice([990, 1990, 2490])
            lines.append({"sku": sku, "product_id": pid, "name": sku, "quantity": q, "unit_price": money(price)})
        subtotal = sum(ln["quantity"] * ln["unit_price"]["amount"] for ln in lines)
        total = subtotal + 490
        base = {"order_id": order, "customer_id": "c", "email": None}
        events.append(bus_event("OrderPlaced", {**base, "occurred_at": iso(placed), "lines": lines,
                                                "totals": totals_of(subtotal, total)}))
        exp["placed"] += 1
        fate = rng.random()
        if fate < 0.1:
            events.append(bus_event("OrderCancelled", {**base, "occurred_at": iso(placed + timedelta(minutes=5)),
                                                       "reason": "customer", "refund": None}))
            exp["cancelled"] += 1
            continue
        paid = placed + timedelta(minutes=1)
        events.append(bus_event("OrderPaid", {**base, "occurred_at": iso(paid), "paid_at": iso(paid),
                                              "lines": lines, "totals": totals_of(subtotal, total),
                                              "payment_intent_id": f"pi_{order[4:]}", "shipping_address": ADDRESS}))
        exp["paid"] += 1
        exp["revenue"] += total
        exp["units"] += sum(ln["quantity"] for ln in lines)
        by_hour[paid.hour] += total
        for ln in lines:
            sku_units[ln["sku"]] += ln["quantity"]
            cat_rev[f"cat-{ln['product_id']}"] += ln["quantity"] * ln["unit_price"]["amount"]
        if fate < 0.2:  # refunded the same day
            events.append(bus_event("RefundIssued", {**base, "occurred_at": iso(paid + timedelta(minutes=30)),
                                                     "refund_id": f"re_{i}", "amount": money(total), "reason": "return",
                                                     "payment_intent_id": f"pi_{order[4:]}"}))
            exp["refunds"] += total
            continue
        wh = rng.choice(["berlin", "paris"])
        ship_after = timedelta(minutes=rng.randrange(20, 80))
        shipped = paid + ship_after
        if shipped.astimezone(tz).date() == day:
            sid = f"shp_{order[4:]}_1"
            events.append(bus_event("ShipmentPacked", {**base, "occurred_at": iso(shipped - timedelta(minutes=5)),
                                                       "shipment_id": sid, "warehouse_id": wh, **parcel(sid),
                                                       "tracking_url": None, "package_weight_grams": 900,
                                                       "shipping_cost": money(490), "items": [
                                                           {k: ln[k] for k in ("sku", "name", "quantity")}
                                                           for ln in lines]}))
            events.append(bus_event("ShipmentShipped", {**base, "occurred_at": iso(shipped), "shipped_at": iso(shipped),
                                                        "paid_at": iso(paid), "shipment_id": sid, "warehouse_id": wh,
                                                        "units": 1, **parcel(sid), "tracking_url": None}))
            hours.append(ship_after.total_seconds() / 3600)
            wh_counts[wh]["packed"] += 1
            wh_counts[wh]["shipped"] += 1
            exp["shipped"] += 1
            delivered = shipped + timedelta(hours=2)
            if rng.random() < 0.3 and delivered.astimezone(tz).date() == day:  # local deliveries arrive same day
                events.append(bus_event("ShipmentDelivered", {**base, "occurred_at": iso(delivered),
                                                              "delivered_at": iso(delivered), "shipment_id": sid,
                                                              "warehouse_id": wh, **parcel(sid)}))
                wh_counts[wh]["delivered"] += 1
                exp["delivered"] += 1
    # orders paid three days earlier, shipped today: later than any promise of 48 hours
    for k in range(max(1, n // 10)):
        order = "ord_" + "".join("abcdefghijklmnopqrstuvwxyz234567"[int(c, 16) * 2] for c in f"{seed:06x}f{k:07x}")
        shipped = start + timedelta(hours=12, minutes=k)
        paid = shipped - timedelta(hours=72)
        sid = f"shp_{order[4:]}_1"
        base = {"order_id": order, "customer_id": "c", "email": None}
        events.append(bus_event("ShipmentShipped", {**base, "occurred_at": iso(shipped), "shipped_at": iso(shipped),
                                                    "paid_at": iso(paid), "shipment_id": sid, "warehouse_id": "berlin",
                                                    "units": 1, **parcel(sid), "tracking_url": None}))
        hours.append(72.0)
        wh_counts["berlin"]["shipped"] += 1
        exp["shipped"] += 1
        exp["late"] += 1
    # two stock levels ran low that day, one of them out
    for sku, available in ((low[0], 0), (low[1], 2)):
        events.append(bus_event("StockLow", {"sku": sku, "warehouse_id": "berlin", "available": available,
                                             "incoming": 0, "reorder_point": 3, "reorder_quantity": 10,
                                             "cause": "demo day",
                                             "occurred_at": iso(start + timedelta(hours=12))}, "shop.inventory"))
    ordered = sorted(hours)
    exp.update(hours=hours, p90=ordered[max(0, -(-len(ordered) * 9 // 10) - 1)] if ordered else None,
               by_hour=by_hour, sku_units=sku_units, cat_rev=cat_rev, wh=wh_counts)
    return events, exp
