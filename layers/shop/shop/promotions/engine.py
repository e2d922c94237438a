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
4. A promotion that cannot apply (an amount in another currency than the shop's, a time without a zone, or
   a stored record that could not be read: ``problem``) never breaks the cart or the checkout: a sale is
   skipped, a coupon gets the problem ``unusable``; each is noted in ``Result.notes`` and logged as a warning.
Usage limits (global, per customer) are not decided here: checkout counts a coupon's use atomically in its
transaction (shop.promotions.repository).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aws_lambda_powertools import Logger

from shop.money import Money, round_half_up

BPS = 10_000
log = Logger(child=True)


def _unusable(problem: str | None, amounts: Sequence[Money | None], times: Sequence[datetime],
              currency: str) -> str | None:
    """Why a promotion cannot apply in a shop selling in ``currency`` (None when it can)."""
    if problem:
        return problem
    for money in amounts:
        if money is not None and money.currency != currency:
            return f"its amount is in {money.currency}, the shop sells in {currency}"
    if any(t.tzinfo is None or t.utcoffset() is None for t in times):
        return "its times have no time zone"
    return None


@dataclass(frozen=True)
class Line:
    """One line a promotion may discount: SKU, its product's category, quantity and unit price."""

    sku: str
    category: str | None
    quantity: int
    unit_price: Money

    @property
    def total(self) -> Money:
        return self.unit_price.times(self.quantity)


@dataclass(frozen=True)
class Sale:
    """A sale event: percentage or fixed amount off, for every product, a category or a SKU, in a time
    window."""

    sale_id: str
    name: str
    scope: str  # all | category | sku
    target: str | None
    percent_bps: int | None
    amount_off: Money | None  # per unit
    starts_at: datetime
    ends_at: datetime
    active: bool = True
    problem: str | None = None  # set by the reader when the stored record could not be read

    def unusable(self, currency: str) -> str | None:
        return _unusable(self.problem, [self.amount_off], [self.starts_at, self.ends_at], currency)

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
    """A coupon: percentage or fixed amount off the subtotal from a minimum subtotal, in a time window."""

    code: str
    percent_bps: int | None
    amount_off: Money | None
    min_subtotal: Money
    starts_at: datetime
    ends_at: datetime
    active: bool = True
    problem: str | None = None  # set by the reader when the stored record could not be read

    def unusable(self, currency: str) -> str | None:
        return _unusable(self.problem, [self.amount_off, self.min_subtotal], [self.starts_at, self.ends_at],
                         currency)

    def running(self, now: datetime) -> bool:
        return self.active and self.starts_at <= now < self.ends_at


@dataclass(frozen=True)
class LineDiscount:
    """What one line gets off: its sale's discount (and which sale) and its share of the coupon."""

    sku: str
    sale_id: str | None
    sale: Money
    coupon: Money

    @property
    def total(self) -> Money:
        return self.sale + self.coupon


@dataclass(frozen=True)
class Result:
    """The promotions applied to a cart or order: per line, per sale, the coupon's amount or problem."""

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
    notes: list[str] = []
    usable = []
    for sale in sales:
        if (reason := sale.unusable(currency)) is not None:  # rule 4
            notes.append(f"sale {sale.sale_id} skipped: {reason}")
            log.warning("sale skipped: it cannot apply", extra={"sale_id": sale.sale_id, "reason": reason})
        else:
            usable.append(sale)
    running = [s for s in usable if s.running(now)]
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
        if (reason := coupon.unusable(currency)) is not None:  # rule 4
            problem = "unusable"
            notes.append(f"coupon {coupon.code} not applied: {reason}")
            log.warning("coupon not applied: it cannot apply", extra={"coupon": coupon.code, "reason": reason})
        elif not coupon.running(now):
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
                  coupon_amount=Money(amount=coupon_amount, currency=currency), coupon_problem=problem,
                  notes=notes)
