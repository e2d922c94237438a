"""Promotions engine (pure): sale events and one coupon, applied to a cart or an order the same way.

Stacking rules:
1. Sale events discount lines. A line gets at most one sale: of the sales running at that moment whose scope
   matches it (every product, its category, or its SKU) the one taking the most off that line. A percentage
   sale takes round_half_up(line total x percent); a fixed sale takes its amount per unit, never more than
   the line's total. Sales never stack with each other.
2. One coupon per order, on top of the sales: it applies to the subtotal after sale discounts, when that
   reaches the coupon's minimum subtotal. A percentage coupon takes that share of it; a fixed coupon its
   amount, never more than the discounted subtotal.
3. The coupon's amount is spread over the lines in proportion to their discounted totals (largest
   remainder, so the shares add up exactly): each line knows what it really cost, for per-line refunds.
Usage limits (global, per customer) are not decided here: checkout counts a coupon's use atomically in its
transaction (shop.promotions.repository).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shop.money import Money, round_half_up

BPS = 10_000


@dataclass(frozen=True)
class Line:
    sku: str
    category: str | None
    quantity: int
    unit_price: Money

    @property
    def total(self) -> Money:
        return self.unit_price.times(self.quantity)


@dataclass(frozen=True)
class Sale:
    sale_id: str
    name: str
    scope: str  # all | category | sku
    target: str | None
    percent_bps: int | None
    amount_off: Money | None  # per unit
    starts_at: datetime
    ends_at: datetime
    active: bool = True

    def running(self, now: datetime) -> bool:
        return self.active and self.starts_at <= now < self.ends_at

    def matches(self, line: Line) -> bool:
        return (self.scope == "all" or (self.scope == "category" and line.category == self.target)
                or (self.scope == "sku" and line.sku == self.target))

    def off(self, line: Line) -> Money:
        if self.percent_bps is not None:
            return Money(amount=round_half_up(line.total.amount * self.percent_bps, BPS), currency=line.total.currency)
        assert self.amount_off is not None
        return self.amount_off.times(line.quantity).min(line.total)


@dataclass(frozen=True)
class Coupon:
    code: str
    percent_bps: int | None
    amount_off: Money | None
    min_subtotal: Money
    starts_at: datetime
    ends_at: datetime
    active: bool = True

    def running(self, now: datetime) -> bool:
        return self.active and self.starts_at <= now < self.ends_at


@dataclass(frozen=True)
class LineDiscount:
    sku: str
    sale_id: str | None
    sale: Money
    coupon: Money

    @property
    def total(self) -> Money:
        return self.sale + self.coupon


@dataclass(frozen=True)
class Result:
    lines: dict[str, LineDiscount]
    sales: dict[str, Money]  # sale name -> amount
    coupon_code: str | None
    coupon_amount: Money
    coupon_problem: str | None = None
    notes: list[str] = field(default_factory=list)

    def total(self, currency: str) -> Money:
        out = Money.zero(currency)
        for d in self.lines.values():
            out = out + d.total
        return out


def _spread(amount: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``amount`` over the keys in proportion to ``weights`` (largest remainder, exact sum)."""
    total = sum(weights.values())
    if amount == 0 or total == 0:
        return dict.fromkeys(weights, 0)
    shares = {k: amount * w // total for k, w in weights.items()}
    rest = amount - sum(shares.values())
    order = sorted(weights, key=lambda k: (-(amount * weights[k] % total), k))
    for k in order[:rest]:
        shares[k] += 1
    return shares


def apply(lines: Sequence[Line], sales: Sequence[Sale], coupon: Coupon | None, now: datetime,
          currency: str) -> Result:
    running = [s for s in sales if s.running(now)]
    per_line: dict[str, tuple[str | None, Money]] = {}
    by_sale: dict[str, Money] = {}
    for line in lines:
        best: tuple[str | None, Money] = (None, Money.zero(currency))
        for sale in sorted(running, key=lambda s: s.sale_id):
            if sale.matches(line):
                off = sale.off(line)
                if off.amount > best[1].amount:
                    best = (sale.sale_id, off)
        per_line[line.sku] = best
        if best[0] is not None:
            name = next(s.name for s in running if s.sale_id == best[0])
            by_sale[name] = by_sale.get(name, Money.zero(currency)) + best[1]
    discounted = {ln.sku: ln.total.amount - per_line[ln.sku][1].amount for ln in lines}
    subtotal_after_sales = sum(discounted.values())
    coupon_amount, problem = 0, None
    if coupon is not None:
        if not coupon.running(now):
            problem = "not_active"
        elif subtotal_after_sales < coupon.min_subtotal.amount:
            problem = "below_minimum"
        elif coupon.percent_bps is not None:
            coupon_amount = round_half_up(subtotal_after_sales * coupon.percent_bps, BPS)
        elif coupon.amount_off is not None:
            coupon_amount = min(coupon.amount_off.amount, subtotal_after_sales)
    shares = _spread(coupon_amount, discounted)
    result_lines = {ln.sku: LineDiscount(sku=ln.sku, sale_id=per_line[ln.sku][0], sale=per_line[ln.sku][1],
                                         coupon=Money(amount=shares[ln.sku], currency=currency)) for ln in lines}
    return Result(lines=result_lines, sales=by_sale, coupon_code=coupon.code if coupon else None,
                  coupon_amount=Money(amount=coupon_amount, currency=currency), coupon_problem=problem)
