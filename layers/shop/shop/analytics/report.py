"""The daily fulfilment and performance report (pure): figures from one day's facts, and its CSV and HTML.

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
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from shop.analytics.facts import parse_time
from shop.money import Money

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
    amount = int(m["amount"])
    sign = "-" if amount < 0 else ""
    return f"{m['currency']} {sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"


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


def _bars(values: Sequence[int], labels: Sequence[str], title: str, width: int = 720, height: int = 220) -> str:
    """A bar chart as inline SVG (no script, no external asset)."""
    top = max(values) if values and max(values) > 0 else 1
    n = max(1, len(values))
    bw = (width - 40) / n
    bars = []
    for i, (v, label) in enumerate(zip(values, labels, strict=True)):
        h = (height - 50) * v / top
        x = 30 + i * bw
        bars.append(f'<rect x="{x:.1f}" y="{height - 30 - h:.1f}" width="{bw * 0.8:.1f}" height="{h:.1f}" '
                    f'fill="#3b6ea5"><title>{html.escape(label)}: {v}</title></rect>'
                    f'<text x="{x + bw * 0.4:.1f}" y="{height - 14}" font-size="10" text-anchor="middle">'
                    f"{html.escape(label)}</text>")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
            f'aria-label="{html.escape(title)}"><text x="30" y="16" font-size="13">{html.escape(title)}</text>'
            + "".join(bars) + "</svg>")


def to_html(r: Mapping[str, Any]) -> str:
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary_rows(r))
    hours = [int(m["amount"]) for m in r["revenue_by_hour"]]
    chart = _bars(hours, [f"{h:02d}" for h in range(24)], f"Revenue by hour ({r['currency']} minor units)")
    wh = r["warehouses"]
    wh_chart = _bars([w["shipped"] for w in wh], [w["warehouse_id"] for w in wh], "Parcels shipped per warehouse") \
        if wh else ""

    def table(head: Sequence[str], body: Sequence[Sequence[Any]]) -> str:
        if not body:
            return "<p>none</p>"
        th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        trs = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in body)
        return f"<table><tr>{th}</tr>{trs}</table>"

    parts: list[tuple[str, list[str], list[tuple[Any, ...]]]] = [
        ("Top SKUs", ["SKU", "units"], [(s["sku"], s["units"]) for s in r["top_skus"]]),
        ("Top categories", ["category", "revenue"], [(c["category"], _fmt(c["revenue"])) for c in r["top_categories"]]),
        ("Warehouses", ["warehouse", "packed", "shipped", "delivered"],
         [(w["warehouse_id"], w["packed"], w["shipped"], w["delivered"]) for w in wh]),
        ("Stock below the reorder point", ["SKU", "warehouse", "available", "incoming", "reorder point"],
         [(s["sku"], s["warehouse_id"], s["available"], s["incoming"], s["reorder_point"])
          for s in r["below_reorder_point"]]),
        ("Open purchase orders", ["PO", "status", "supplier", "warehouse", "automatic"],
         [(p["po_id"], p["status"], p["supplier_id"], p["warehouse_id"], p["auto"])
          for p in r["open_purchase_orders"]["items"]]),
    ]
    sections = "".join(f"<h2>{html.escape(title)}</h2>{table(head, body)}" for title, head, body in parts)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Daily report {html.escape(r['date'])}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:1.5em}}
th,td{{border:1px solid #ccc;padding:4px 8px;text-align:left}}</style></head><body>
<h1>Fulfilment and performance, {html.escape(r['date'])} ({html.escape(r['time_zone'])})</h1>
<table>{rows}</table>
{chart}
{wh_chart}
{sections}
</body></html>
"""


def email_text(r: Mapping[str, Any], link: str) -> str:
    lines = [f"Daily fulfilment report for {r['date']} ({r['time_zone']})", ""]
    lines += [f"{k}: {v}" for k, v in summary_rows(r)]
    lines += ["", f"Full report (HTML, JSON, CSV): {link}"]
    return "\n".join(lines)
