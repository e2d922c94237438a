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
- revenue by hour of the day (the chart);
- ``comparison`` (when the day totals of the week before are given): the previous day and the average of the
  7 days before the report's day (days without sales count as zeros), from the same running day totals the
  sales trend reads, so management sees whether the day was a good one.

What management reads first (:func:`attention`): the promise to ship within ``promised_ship_hours`` broken, or
a level out of stock, as a short "needs attention" list at the top of the page and the e-mail, "all good"
otherwise. Then :func:`headline`, each figure next to the previous day and the 7-day average.

The HTML page and the e-mail text are Jinja2 templates in ``templates/`` beside this module (report.html.j2,
report_email.txt.j2; shop.rendering); money is shown in major units with its currency by
shop.money.format_money everywhere ("EUR -123.45"): tables, chart axes and bar values, CSV. The JSON figures
keep integer minor units (the stored contract, shop.analytics.contracts.ReportFigures). The charts are inline
SVG whose geometry (:func:`bar_chart`: axis ticks at round values, bar and value positions) is computed here and
drawn by the template, so e-mail clients and the console's sandboxed frame show them without scripts.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from shop import rendering
from shop.analytics.facts import parse_time
from shop.money import Money, currency_exponent, format_money, round_half_up

if TYPE_CHECKING:
    from jinja2 import Environment

TOP = 5
AVERAGE_DAYS = 7
# the day totals compared (shop.analytics.facts: what each new fact ADDs to its day's TOTALS item)
COUNT_TOTALS = ("orders_placed", "orders_paid", "orders_cancelled", "units", "parcels_packed", "parcels_shipped",
                "parcels_delivered")
MONEY_TOTALS = ("revenue", "refunds", "net")
ATTENTION_LISTED = 10  # stock-outs named in the attention block; the rest are counted
CHAR_WIDTH = 6.2  # px per character of a chart's 10px sans-serif text, to tell whether a value fits its bar


def p90(values: Sequence[float]) -> float | None:
    """90th percentile, nearest-rank method (the value at rank ceil(0.9 n))."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def compute(day: date, facts: Sequence[dict[str, Any]], open_pos: Sequence[dict[str, Any]],
            categories: Mapping[str, str], *, currency: str, tz: ZoneInfo, promised_ship_hours: int,
            history: Mapping[str, Mapping[str, int]] | None = None) -> dict[str, Any]:
    """The figures of ``day``. ``history``: the day totals (by YYYY-MM-DD) of the 7 days before, for the
    comparison (shop.analytics.repository.day_totals); without it the figures have no ``comparison``."""
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
    figures = {
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
    if history is not None:
        figures["comparison"] = comparison(day, history, currency)
    return figures


def comparison(day: date, history: Mapping[str, Mapping[str, int]], currency: str) -> dict[str, Any]:
    """The 7 days before ``day`` from their day totals (a day with no totals item had no sales: zeros), the
    previous one, and their average: counts to 2 decimals, money rounded half-up to the minor unit."""
    def money(n: int) -> dict[str, Any]:
        return Money(amount=n, currency=currency).model_dump()

    days: list[dict[str, Any]] = []
    for back in range(AVERAGE_DAYS, 0, -1):
        d = (day - timedelta(days=back)).isoformat()
        t = history.get(d, {})
        revenue, refunds = int(t.get("revenue", 0)), int(t.get("refunds", 0))
        days.append({"date": d, **{k: int(t.get(k, 0)) for k in COUNT_TOTALS},
                     "revenue": money(revenue), "refunds": money(refunds), "net": money(revenue - refunds)})
    average: dict[str, Any] = {"from": days[0]["date"], "to": days[-1]["date"], "days": len(days)}
    average.update({k: round(sum(d[k] for d in days) / len(days), 2) for k in COUNT_TOTALS})
    average.update({k: money(round_half_up(sum(int(d[k]["amount"]) for d in days), len(days))) for k in MONEY_TOTALS})
    return {"previous_day": days[-1], "seven_day_average": average, "days": days}


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


# ------------------------------------------------------------------ what management reads first
def attention(r: Mapping[str, Any]) -> list[str]:
    """The day's breaches, one sentence each: parcels shipped later than the promise, levels out of stock.
    Empty: all good."""
    out = []
    late, promised = r["shipped_late"]["parcels"], r["shipped_late"]["promised_hours"]
    if late:
        shipped = r["payment_to_shipment_hours"]["parcels"]
        out.append(f"Shipping promise broken: {late} of {shipped} parcel{'s' if shipped != 1 else ''} shipped "
                   f"later than {promised} h after payment")
    outs = r["stock_outs"]
    if outs:
        named = ", ".join(f"{s['sku']} ({s['warehouse_id']})" for s in outs[:ATTENTION_LISTED])
        more = f" and {len(outs) - ATTENTION_LISTED} more" if len(outs) > ATTENTION_LISTED else ""
        out.append(f"Out of stock: {len(outs)} level{'s' if len(outs) != 1 else ''}: {named}{more}")
    return out


def all_good(r: Mapping[str, Any]) -> str:
    return (f"All good: every parcel shipped within the promised {r['shipped_late']['promised_hours']} h "
            "and nothing ran out of stock.")


# (key in the day totals, label, the day's own figure, True when more is better)
HEADLINE: tuple[tuple[str, str, Callable[[Mapping[str, Any]], Any], bool], ...] = (
    ("revenue", "Revenue", lambda r: r["revenue"], True),
    ("net", "Net", lambda r: r["net"], True),
    ("refunds", "Refunds", lambda r: r["refunds"], False),
    ("orders_placed", "Orders placed", lambda r: r["orders"]["placed"], True),
    ("orders_paid", "Orders paid", lambda r: r["orders"]["paid"], True),
    ("orders_cancelled", "Orders cancelled", lambda r: r["orders"]["cancelled"], False),
    ("units", "Units sold", lambda r: r["units"], True),
    ("parcels_shipped", "Parcels shipped", lambda r: r["parcels"]["shipped"], True),
    ("parcels_delivered", "Parcels delivered", lambda r: r["parcels"]["delivered"], True),
)


def _number(value: Any) -> float:
    return float(value["amount"]) if isinstance(value, Mapping) else float(value)


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        return _fmt(value)
    return f"{value:.2f}" if isinstance(value, float) and not value.is_integer() else str(int(value))


def change(day: float, average: float, more_is_better: bool) -> tuple[str, str]:
    """The day against the average, as text ("+12%", "-5%", "0%", "new" when the average is 0) and its tone:
    "good", "bad" or "flat" (within 5%)."""
    if average == 0:
        return ("0%", "flat") if day == 0 else ("new", "good" if more_is_better else "bad")
    pct = (day - average) / abs(average) * 100
    text = f"{pct:+.0f}%" if abs(pct) >= 0.5 else "0%"
    if abs(pct) < 5:
        return text, "flat"
    return text, "good" if (pct > 0) == more_is_better else "bad"


def headline(r: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each headline figure of the day with the previous day, the 7-day average and the change against it
    (text); without a comparison (a report stored before it existed) the day's figure alone."""
    cmp = r.get("comparison")
    rows = []
    for key, label, of_day, more_is_better in HEADLINE:
        value = of_day(r)
        row: dict[str, Any] = {"key": key, "label": label, "day": _text(value), "previous": None, "average": None,
                               "change": None, "tone": "flat"}
        if cmp:
            prev, avg = cmp["previous_day"][key], cmp["seven_day_average"][key]
            row.update(previous=_text(prev), average=_text(avg))
            row["change"], row["tone"] = change(_number(value), _number(avg), more_is_better)
        rows.append(row)
    return rows


# ------------------------------------------------------------------ charts
def nice_step(top: float, ticks: int = 4, smallest: int = 1) -> int:
    """An axis step of 1, 2 or 5 times a power of ten (at least ``smallest``) giving about ``ticks`` steps
    up to ``top``."""
    raw = max(top / ticks, smallest)
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * magnitude >= raw:
            return max(int(m * magnitude), smallest)
    return int(10 * magnitude)  # pragma: no cover - the loop ends at 10


def bar_chart(title: str, x_title: str, y_title: str, labels: Sequence[str], values: Sequence[int],
              fmt: Callable[[int], str], *, smallest_step: int = 1, highlight: int | None = None,
              reference: tuple[int, str] | None = None, width: int = 760, height: int = 280) -> dict[str, Any]:
    """One bar chart's geometry for the template: each bar with its value written on it (above it, or upwards
    when the bars are too narrow for the text; zeros left unwritten on charts of more than 12 bars), the y axis
    with ticks at round values (``fmt`` writes them and the bar values: money in major units with its
    currency), the axis titles, an optional highlighted bar and an optional dashed reference line (value, label),
    e.g. the 7-day average."""
    left, right, top_pad, bottom = 96, 16, 34, 56
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    peak = max([*values, reference[0] if reference else 0, 0])
    step = nice_step(peak, smallest=smallest_step) if peak > 0 else smallest_step
    axis_top = max(step, math.ceil(peak / step) * step)

    def y_of(v: float) -> float:
        return top_pad + plot_h - plot_h * v / axis_top

    slot = plot_w / max(1, len(values))
    bar_w = min(slot * 0.7, 64)
    texts = [fmt(v) for v in values]
    rotate = any(len(t) * CHAR_WIDTH > slot for t in texts)
    bars = []
    for i, (label, value, text) in enumerate(zip(labels, values, texts, strict=True)):
        x = left + i * slot + (slot - bar_w) / 2
        y = y_of(value)
        h = top_pad + plot_h - y
        cx = x + bar_w / 2
        if not rotate:  # above the bar
            at, anchor, fill = f"translate({cx:.1f},{y - 4:.1f})", "middle", "#222"
        elif h > len(text) * CHAR_WIDTH + 8:  # narrow bars: written upwards, inside a bar tall enough
            at, anchor, fill = f"translate({cx + 3:.1f},{y + 6:.1f}) rotate(-90)", "end", "#fff"
        else:  # or upwards above it
            at, anchor, fill = f"translate({cx + 3:.1f},{y - 4:.1f}) rotate(-90)", "start", "#222"
        bars.append({"x": round(x, 1), "y": round(y, 1), "w": round(bar_w, 1), "h": round(h, 1), "cx": round(cx, 1),
                     "label": label, "value": text, "show_value": value != 0 or len(values) <= 12,
                     "value_at": at, "value_anchor": anchor, "value_fill": fill, "highlight": i == highlight})
    ticks = [{"y": round(y_of(v), 1), "text": fmt(v)} for v in range(0, axis_top + 1, step)]
    ref = None
    if reference is not None:
        # its label is a legend at the top right, clear of the bars' values
        ref = {"y": round(y_of(reference[0]), 1), "text": reference[1],
               "key_x": round(width - right - len(reference[1]) * CHAR_WIDTH - 6, 1)}
    return {"title": title, "x_title": x_title, "y_title": y_title, "width": width, "height": height,
            "left": left, "right": width - right, "top": top_pad, "bottom": top_pad + plot_h,
            "mid_x": round(left + plot_w / 2, 1), "mid_y": round(top_pad + plot_h / 2, 1),
            "bars": bars, "ticks": ticks, "rotate": rotate, "reference": ref}


def charts(r: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The report's charts: revenue by hour; revenue of the report's day against the 7 days before (with their
    average) when there is a comparison; parcels shipped per warehouse when any shipped."""
    currency = r["currency"]

    def money(v: int) -> str:
        return format_money(v, currency)

    major = 10 ** currency_exponent(currency)  # money axes step in whole major units at least
    out = [bar_chart("Revenue by hour", f"Hour of the day ({r['time_zone']})", f"Revenue ({currency})",
                     [f"{h:02d}" for h in range(24)], [int(m["amount"]) for m in r["revenue_by_hour"]], money,
                     smallest_step=major)]
    cmp = r.get("comparison")
    if cmp:
        days = [*cmp["days"], {"date": r["date"], "revenue": r["revenue"]}]
        avg = cmp["seven_day_average"]["revenue"]
        out.append(bar_chart(f"Revenue, {r['date']} against the {len(cmp['days'])} days before", "Day",
                             f"Revenue ({currency})", [d["date"][5:] for d in days],
                             [int(d["revenue"]["amount"]) for d in days], money, smallest_step=major,
                             highlight=len(days) - 1,
                             reference=(int(avg["amount"]), f"7-day average {_fmt(avg)}")))
    if r["warehouses"]:
        out.append(bar_chart("Parcels shipped per warehouse", "Warehouse", "Parcels shipped",
                             [w["warehouse_id"] for w in r["warehouses"]], [int(w["shipped"]) for w in r["warehouses"]],
                             str))
    return out


# ------------------------------------------------------------------ outputs
def to_csv(r: Mapping[str, Any]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "key", "value"])
    for name, val in summary_rows(r):
        w.writerow(["summary", name, val])
    for row in headline(r):
        if row["previous"] is not None:
            w.writerow(["previous_day", row["label"], row["previous"]])
            w.writerow(["seven_day_average", row["label"], row["average"]])
    for s in r["top_skus"]:
        w.writerow(["top_sku", s["sku"], s["units"]])
    for c in r["top_categories"]:
        w.writerow(["top_category", c["category"], _fmt(c["revenue"])])
    for wh in r["warehouses"]:
        w.writerow(["warehouse", wh["warehouse_id"], f"packed={wh['packed']} shipped={wh['shipped']} "
                                                     f"delivered={wh['delivered']}"])
    for hour, m in enumerate(r["revenue_by_hour"]):
        w.writerow(["revenue_by_hour", f"{hour:02d}", _fmt(m)])
    return out.getvalue()


@cache
def _env() -> Environment:
    return rendering.new_environment(__file__)


def _context(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"r": r, "summary": summary_rows(r), "attention": attention(r), "all_good": all_good(r),
            "headline": headline(r), "has_comparison": bool(r.get("comparison"))}


def to_html(r: Mapping[str, Any], link: str | None = None) -> str:
    """The report as one HTML page; ``link`` (the e-mail's) is shown under the title as "Full report"."""
    return _env().get_template("report.html.j2").render(**_context(r), charts=charts(r), link=link)


def email_text(r: Mapping[str, Any], link: str) -> str:
    return _env().get_template("report_email.txt.j2").render(**_context(r), link=link)
