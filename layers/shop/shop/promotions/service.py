"""Promotions: admin sale events and coupons, and the discounts of a cart or checkout (engine.py rules)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shop import lazy
from shop.errors import Conflict, InvalidInput, NotFound
from shop.money import Money
from shop.promotions import engine
from shop.promotions import repository as repo

if TYPE_CHECKING:  # the admin input models: the cart, checkout and storefront pricing paths never build them
    from shop.models import Sku  # the promotions function defines none of the shop's entities (issue 17)
    from shop.pricing import AppliedDiscount
    from shop.promotions.models import CouponIn, SaleIn

    # typed for the callers of the names __getattr__ loads (below)
    from shop.promotions.sale_prices import SalePrice, Unit, best_sale, sale_prices  # noqa: F401

PROBLEMS = {"not_found": "does not exist", "not_active": "is not active now",
            "below_minimum": "needs a higher subtotal", "exhausted": "has been used up",
            "already_used": "was already used by you as often as allowed",
            "unusable": "cannot be used in this shop"}


class CouponNotApplicable(Conflict):
    code = "coupon_not_applicable"


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ admin
def _same_currency(body: SaleIn | CouponIn, currency: str) -> None:
    """Every amount of a promotion is in the shop currency (else 422 naming the field)."""
    for name, money in body.money_fields().items():
        if money.currency != currency:
            raise InvalidInput(f"{name}.currency", f"the shop sells in {currency}, not {money.currency}")


def put_sale(sale_id: str, body: SaleIn, currency: str) -> dict[str, Any]:
    _same_currency(body, currency)
    record = {"name": body.name, "scope": body.scope, "target": body.target, "percent": body.percent,
              "amount_off": body.amount_off.model_dump() if body.amount_off else None,
              "starts_at": _iso(body.starts_at), "ends_at": _iso(body.ends_at), "active": body.active}
    repo.put_sale(sale_id, {k: v for k, v in record.items() if v is not None})
    return {"sale_id": sale_id, **record}


def list_sales(currency: str) -> dict[str, Any]:
    """Every sale; ``running`` is whether it applies now, and ``problem`` says why one never can (a stored
    record in another currency or unreadable: the carts skip it)."""
    now = datetime.now(UTC)
    records = sorted(repo.sale_records(), key=lambda r: r["sk"])
    sales = {s.sale_id: s for s in map(repo.sale_from, records)}  # one query, not one per sale
    items = []
    for r in records:
        sale = sales[r["sk"]]
        problem = sale.unusable(currency)
        items.append({"sale_id": r["sk"], **{k: v for k, v in r.items() if k != "sk"},
                      "running": problem is None and sale.running(now), **({"problem": problem} if problem else {})})
    return {"items": items}


def put_coupon(code: str, body: CouponIn, currency: str) -> dict[str, Any]:
    _same_currency(body, currency)
    record = {"code": code, "percent": body.percent,
              "amount_off": body.amount_off.model_dump() if body.amount_off else None,
              "min_subtotal": body.min_subtotal.model_dump() if body.min_subtotal else None,
              "global_limit": body.global_limit, "per_customer_limit": body.per_customer_limit,
              "starts_at": _iso(body.starts_at), "ends_at": _iso(body.ends_at), "active": body.active}
    repo.put_coupon(code, {k: v for k, v in record.items() if v is not None})
    return get_coupon(code)


def get_coupon(code: str) -> dict[str, Any]:
    record = repo.coupon_record(code)
    if record is None:
        raise NotFound(f"coupon {code} not found")
    return {**record, "used": int(record.get("used", 0))}


# ------------------------------------------------------------------ pricing
@dataclass(frozen=True)
class Priced:
    """The discounts of a cart or checkout: the engine's result, the applied discounts, the coupon record
    when it applies, and why the coupon does not when it does not."""

    result: engine.Result
    applied: tuple[AppliedDiscount, ...]
    coupon: dict[str, Any] | None  # the coupon record when it applies
    problem: str | None


def discounts_from(items: Sequence[tuple[Sku, int]], categories: Mapping[str, str | None], sales: Sequence[engine.Sale],
                   coupon_code: str | None, record: dict[str, Any] | None, customer_uses: int, currency: str,
                   now: datetime | None = None) -> Priced:
    """Pure: sales per line, then the coupon (engine rules). A coupon that cannot apply is reported in
    ``problem`` (and not applied)."""
    from shop.pricing import AppliedDiscount  # the cart and checkout price with it; the promotions admin never

    now = now or datetime.now(UTC)
    lines = [engine.Line(sku=sku.sku, category=categories.get(sku.product_id), quantity=qty, unit_price=sku.price)
             for sku, qty in items]
    problem = "not_found" if coupon_code and record is None else None
    if record is not None:
        try:  # limits as checkout counts them (a record without a per-customer limit: 1, as the admin default)
            record = {**record, "per_customer_limit": int(record.get("per_customer_limit") or 1)}
            if record.get("global_limit") is not None and int(record.get("used", 0)) >= int(record["global_limit"]):
                problem = "exhausted"
            elif customer_uses >= record["per_customer_limit"]:
                problem = "already_used"
        except (TypeError, ValueError):
            problem = "unusable"
    coupon = repo.coupon_from(record, currency) if record is not None and problem is None else None
    result = engine.apply(lines, sales, coupon, now, currency)
    problem = problem or result.coupon_problem
    applied = [AppliedDiscount(code=f"SALE:{name}", description=f"sale: {name}", amount=amount)
               for name, amount in sorted(result.sales.items())]
    if result.coupon_amount.amount > 0 and problem is None:
        applied.append(AppliedDiscount(code=str(result.coupon_code), description=f"coupon {result.coupon_code}",
                                       amount=result.coupon_amount))
    return Priced(result=result, applied=tuple(applied), coupon=record if problem is None and coupon else None,
                  problem=problem)


def problem_message(code: str, problem: str) -> str:
    return f"coupon {code} {PROBLEMS.get(problem, problem)}"


def line_discount(priced: Priced, sku: str, currency: str) -> Money:
    found = priced.result.lines.get(sku)
    return found.total if found else Money.zero(currency)


# ------------------------------------------------------------------ what shoppers see (storefront)
def storefront_sales(currency: str) -> list[engine.Sale]:
    """The sales that can apply in this shop (usable records), from this container's copy of the sales (at most
    repository.SALES_MAX_AGE_SECONDS old); whether each runs is decided at each use."""
    return [s for s in map(repo.sale_from, repo.sale_records(max_age=repo.SALES_MAX_AGE_SECONDS))
            if s.unusable(currency) is None]


SKU_SCOPE = "sku"
ACTIVE_MAX_AGE_SECONDS = 60  # the longest a storefront may cache GET /promotions/active


def sku_targets(sales: Sequence[engine.Sale], now: datetime | None = None) -> list[str]:
    """The SKU codes running SKU sales target (a listing reads those SKUs' prices only)."""
    now = now or datetime.now(UTC)
    return sorted({str(s.target) for s in sales if s.scope == SKU_SCOPE and s.target and s.running(now)})


def active_promotions(currency: str, now: datetime | None = None) -> tuple[dict[str, Any], int]:
    """The running sales (soonest ending first) and how long the answer stays true: (body, max-age seconds).
    The max-age never reaches past the next start or end of a sale, so a cached answer never shows a sale that
    has ended or hides one that has started (an admin's change may still take SALES_MAX_AGE_SECONDS more)."""
    now = now or datetime.now(UTC)
    sales = storefront_sales(currency)
    running = sorted((s for s in sales if s.running(now)), key=lambda s: (s.ends_at, s.sale_id))
    changes = [t for s in sales if s.active for t in (s.starts_at, s.ends_at) if t > now]
    next_change = min(changes, default=None)
    max_age = ACTIVE_MAX_AGE_SECONDS
    if next_change is not None:
        max_age = max(0, min(max_age, int((next_change - now).total_seconds())))
    items = [{"sale_id": s.sale_id, "name": s.name, "scope": s.scope, "target": s.target,
              "percent": s.percent_bps // 100 if s.percent_bps is not None else None,
              "amount_off": s.amount_off.model_dump() if s.amount_off is not None else None,
              "starts_at": _iso(s.starts_at), "ends_at": _iso(s.ends_at)} for s in running]
    return {"sales": items, "next_change_at": _iso(next_change) if next_change else None,
            "generated_at": _iso(now)}, max_age


# what one unit costs while a sale runs (the storefront's prices) lives in shop.promotions.sale_prices: the cart,
# checkout and promotions functions do not define it at their cold start (issue 17). Importable from here as before,
# loaded on first access.
_SALE_PRICES = frozenset({"Unit", "SalePrice", "sale_prices", "best_sale"})


__getattr__ = lazy.attributes_from(__name__, {"shop.promotions.sale_prices": _SALE_PRICES})

