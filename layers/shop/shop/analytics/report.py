"""The daily fulfillment and performance report (pure): figures from one day's facts, and its CSV and HTML.

Figures, for the day in the report's time zone:
- orders placed, paid, cancelled; parcels packed, shipped and delivered, and orders with a parcel shipped or
  delivered that day;
- revenue (totals of orders paid that day), refunds issued that day, net = revenue - refunds; units paid;
- time from payment to shipment over the parcels shipped that day: average and 90th percentile (nearest
  rank) in hours, and the parcels shipped later than the promise (``promised_ship_hours`` after payment);
- stock-outs (levels whose last StockLow that day had nothing available) and the levels at or below their
  reorder point; open purchase orders (draft, submitted, partially received) at report time;
- top SKUs by units paid, top categories by revenue; per warehouse: parcels packed, shipped, delivered;
- revenue by hour of the day (the chart).

The HTML page and the e-mail text are Jinja2 templates in ``templates/`` beside this module (report.html.j2,
report_email.txt.j2; shop.rendering); money is shown by shop.money.format_money everywhere ("EUR -123.45").
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from shop import rendering
from shop.analytics.facts import parse_time
from shop.money import Money, format_money

if TYPE_CHECKING:
    from jinja2 import Environment

TOP = 5


def p90(values: Sequence[float]) -> float | None:
    """90th percentile, nearest-rank method (the value at rank ceil(0.9 n))."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def compute(day: date, facts: Sequence[dict[str, Any]], open_pos: Sequence[dict[str, Any]],
            categories: Mapping[str, str], *, currency: str, tz: ZoneInfo, promised_ship_hours: int) -> dict[str, Any]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fact in facts:
        by_kind[str(fact["kind"])].append(fact)
    paid, refunds = by_kind["paid"], by_kind["refund"]
    revenue = sum(int(f["total"]["amount"]) for f in paid)
    refunded = sum(int(f["amount"]["amount"]) for f in refunds)
    hours = []
    late = 0
    for f in by_kind["shipped"]:
        if f.get("paid_at"):
            h = (parse_time(f["at"]) - parse_time(f["paid_at"])).total_seconds() / 3600
            hours.append(h)
            late += h > promised_ship_hours
    sku_units: Counter[str] = Counter()
    category_revenue: Counter[str] = Counter()
    by_hour = [0] * 24
    for f in paid:
        by_hour[parse_time(f["at"]).astimezone(tz).hour] += int(f["total"]["amount"])
        for ln in f["lines"]:
            sku_units[ln["sku"]] += int(ln["quantity"])
            category_revenue[categories.get(ln.get("product_id") or "", "uncategorised")] += int(ln["amount"])
    warehouses: dict[str, Counter[str]] = defaultdict(Counter)
    for kind in ("packed", "shipped", "delivered"):
        for f in by_kind[kind]:
            warehouses[f.get("warehouse_id") or "unknown"][kind] += 1
    low = sorted(by_kind["low"], key=lambda f: (f["sku"], f["warehouse_id"]))
    money = lambda n: Money(amount=n, currency=currency).model_dump()  # noqa: E731
    avg = sum(hours) / len(hours) if hours else None
    return {
        "date": day.isoformat(), "time_zone": str(tz), "currency": currency,
        "orders": {"placed": len(by_kind["placed"]), "paid": len(paid), "cancelled": len(by_kind["cancelled"]),
                   "shipped": len({f["order_id"] for f in by_kind["shipped"]}),
                   "delivered": len({f["order_id"] for f in by_kind["delivered"]})},
        "parcels": {"packed": len(by_kind["packed"]), "shipped": len(by_kind["shipped"]),
                    "delivered": len(by_kind["delivered"])},
        "revenue": money(revenue), "refunds": money(refunded), "net": money(revenue - refunded),
        "units": sum(int(f["units"]) for f in paid),
        "payment_to_shipment_hours": {"average": None if avg is None else round(avg, 2),
                                      "p90": None if not hours else round(p90(hours) or 0, 2),
                                      "parcels": len(hours)},
        "shipped_late": {"promised_hours": promised_ship_hours, "parcels": late},
        "stock_outs": [{"sku": f["sku"], "warehouse_id": f["warehouse_id"]} for f in low if f["available"] == 0],
        "below_reorder_point": [{"sku": f["sku"], "warehouse_id": f["warehouse_id"], "available": f["available"],
                                 "incoming": f["incoming"], "reorder_point": f["reorder_point"]} for f in low],
        "open_purchase_orders": {"count": len(open_pos), "items": [
            {"po_id": p["po_id"], "status": p["status"], "supplier_id": p["supplier_id"],
             "warehouse_id": p["warehouse_id"], "auto": p.get("auto", False)} for p in open_pos]},
        "top_skus": [{"sku": s, "units": n} for s, n in
                     sorted(sku_units.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]],
        "top_categories": [{"category": c, "revenue": money(n)} for c, n in
                           sorted(category_revenue.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]],
        "warehouses": [{"warehouse_id": w, "packed": c["packed"], "shipped": c["shipped"],
                        "delivered": c["delivered"]} for w, c in sorted(warehouses.items())],
        "revenue_by_hour": [money(v) for v in by_hour],
    }


def _fmt(m: Mapping[str, Any]) -> str:
    return format_money(int(m["amount"]), m["currency"])


def summary_rows(r: Mapping[str, Any]) -> list[tuple[str, str]]:
    t = r["payment_to_shipment_hours"]
    return [
        ("Orders placed", str(r["orders"]["placed"])), ("Orders paid", str(r["orders"]["paid"])),
        ("Orders shipped", str(r["orders"]["shipped"])), ("Orders delivered", str(r["orders"]["delivered"])),
        ("Orders cancelled", str(r["orders"]["cancelled"])),
        ("Revenue", _fmt(r["revenue"])), ("Refunds", _fmt(r["refunds"])), ("Net", _fmt(r["net"])),
        ("Units sold", str(r["units"])),
        ("Payment to shipment, average h", "-" if t["average"] is None else f"{t['average']:.2f}"),
        ("Payment to shipment, p90 h", "-" if t["p90"] is None else f"{t['p90']:.2f}"),
        (f"Parcels shipped later than {r['shipped_late']['promised_hours']} h", str(r["shipped_late"]["parcels"])),
        ("Stock-outs", str(len(r["stock_outs"]))),
        ("Levels at or below reorder point", str(len(r["below_reorder_point"]))),
        ("Open purchase orders", str(r["open_purchase_orders"]["count"])),
    ]


def to_csv(r: Mapping[str, Any]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "key", "value"])
    for name, val in summary_rows(r):
        w.writerow(["summary", name, val])
    for s in r["top_skus"]:
        w.writerow(["top_sku", s["sku"], s["units"]])
    for c in r["top_categories"]:
        w.writerow(["top_category", c["category"], _fmt(c["revenue"])])
    for wh in r["warehouses"]:
        w.writerow(["warehouse", wh["warehouse_id"], f"packed={wh['packed']} shipped={wh['shipped']} "
                                                     f"delivered={wh['delivered']}"])
    for hour, m in enumerate(r["revenue_by_hour"]):
        w.writerow(["revenue_by_hour", f"{hour:02d}", m["amount"]])
    return out.getvalue()


@cache
def _env() -> Environment:
    return rendering.new_environment(__file__)


def to_html(r: Mapping[str, Any]) -> str:
    return _env().get_template("report.html.j2").render(r=r, summary=summary_rows(r),
                                                         hour_labels=[f"{h:02d}" for h in range(24)])


def email_text(r: Mapping[str, Any], link: str) -> str:
    return _env().get_template("report_email.txt.j2").render(r=r, summary=summary_rows(r), link=link)
