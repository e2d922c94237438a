"""Promotions data access (PromotionsTable).

Items (pk, sk):
- sales           SALES, ALL                  every sale event, one attribute `S#<sale_id>` each: sales are
                                              few, and one item is one key a hot path's batch read can include
- coupon          COUPON#<code>, COUPON       definition and `used` (global count)
- customer uses   COUPON#<code>, CUSTOMER#<customer_id>   `used` by that customer
- redemption      COUPON#<code>, ORDER#<order_id>         the order that used it (released exactly once)
Checkout adds the three coupon actions to its one transaction; a release (payment failed, expired,
cancelled) removes them in the release transaction. So a limit of N is never exceeded, however many
checkouts race, and a failed order gives its use back once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from shop import aws
from shop.config import get_settings
from shop.dynamo import from_item, to_item
from shop.money import Money
from shop.timeutil import read_utc

if TYPE_CHECKING:
    from shop.promotions.engine import Coupon, Sale

# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): the PromotionsTable's keys (these
# prefixes), its name and its record codecs are built here only; other contexts use the names in PUBLIC.
TABLE = "promotions_table"
KEY_PREFIXES = ("COUPON#", "CUSTOMER#", "ORDER#", "SALES")
PUBLIC = frozenset({"Offers", "offer_reads", "offers_from_found", "sale_from", "coupon_from",
                    "redemption_actions", "release_actions"})

log = Logger(child=True)
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # the window of a record that could not be read
UNREADABLE = (KeyError, TypeError, ValueError, ValidationError)


def table() -> str:
    return get_settings().require("promotions_table")


def coupon_key(code: str, sk: str = "COUPON") -> dict[str, Any]:
    return {"pk": {"S": f"COUPON#{code}"}, "sk": {"S": sk}}


def _uses_sk(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}"


def _t(value: str) -> datetime:
    """Stored times; older records may have none and are read as UTC."""
    return read_utc(value)


def _percent_bps(record: dict[str, Any]) -> int | None:
    return int(record["percent"]) * 100 if record.get("percent") else None


def _money(data: dict[str, Any] | None) -> Money | None:
    return Money.model_validate(data) if data else None


SALES_KEY = {"pk": {"S": "SALES"}, "sk": {"S": "ALL"}}
SALE_PREFIX = "S#"


@dataclass(frozen=True)
class Offers:
    """What a cart's batch read found of the promotions: every sale, the cart's coupon record (None when it
    has none or it does not exist) and this customer's uses of it."""

    sales: list[Sale]
    coupon: dict[str, Any] | None
    coupon_uses: int


def offer_reads(coupon_code: str | None, customer_id: str | None) -> dict[str, list[dict[str, Any]]]:
    """The sales item, and the coupon with this customer's uses of it, as a read (table -> keys) for a caller
    composing one batch read with other contexts' reads (shop.dynamo.merge_reads); {} when the shop runs
    without promotions. :func:`offers_from_found` decodes what it found."""
    promotions_table = get_settings().promotions_table
    if not promotions_table:
        return {}
    keys = [SALES_KEY]
    if coupon_code:
        keys.append(coupon_key(coupon_code))
        if customer_id:
            keys.append(coupon_key(coupon_code, _uses_sk(customer_id)))
    return {promotions_table: keys}


def offers_from_found(found: dict[str, list[dict[str, Any]]], coupon_code: str | None,
                      customer_id: str | None) -> Offers | None:
    """The offers of :func:`offer_reads` among the items of a composed batch read; None when the shop runs
    without promotions."""
    promotions_table = get_settings().promotions_table
    if not promotions_table:
        return None
    raws = found.get(promotions_table, [])
    sales_item = next((raw for raw in raws if raw["pk"]["S"] == SALES_KEY["pk"]["S"]), None)
    sales = [sale_from(r) for r in sale_records_from(sales_item)]
    coupon, uses = None, 0
    for row in (from_item(raw) for raw in raws):
        if row["pk"] == f"COUPON#{coupon_code}" and row["sk"] == "COUPON":
            coupon = {k: v for k, v in row.items() if k not in ("pk", "sk")}
        elif row["pk"] == f"COUPON#{coupon_code}" and row["sk"] == _uses_sk(str(customer_id)):
            uses = int(row.get("used", 0))
    return Offers(sales=sales, coupon=coupon, coupon_uses=uses)


def put_sale(sale_id: str, record: dict[str, Any]) -> None:
    """Create or replace one sale: one attribute of the sales item (an update of one attribute, so concurrent
    edits of different sales never overwrite each other)."""
    with aws.translate_common_errors("save sale"):
        aws.client("dynamodb").update_item(TableName=table(), Key=SALES_KEY, UpdateExpression="SET #s = :r",
                                           ExpressionAttributeNames={"#s": SALE_PREFIX + sale_id},
                                           ExpressionAttributeValues={":r": {"M": to_item(record)}})
    forget_sales()


def sale_records_from(raw: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The sales item (raw, or None when no sale was ever created) as records with ``sk`` = sale id."""
    data = from_item(raw) if raw else {}
    return [{"sk": name.removeprefix(SALE_PREFIX), **record} for name, record in sorted(data.items())
            if name.startswith(SALE_PREFIX)]


# The sales as last read by this container (monotonic time of the read, records): the storefront's reads (product
# list and page, GET /promotions/active) may use a copy at most SALES_MAX_AGE_SECONDS old, so a listing costs no
# read for them most of the time. Whether a sale runs is decided on every request from the copy's start and end
# times, so a sale starts and ends on time; only an admin's change (new sale, new times, deactivation) reaches a
# storefront up to that late. Carts and checkout never use the copy: they read the sales item with the cart.
SALES_MAX_AGE_SECONDS = 30.0
_sales_seen: tuple[float, list[dict[str, Any]]] | None = None


def sale_records(*, max_age: float = 0.0) -> list[dict[str, Any]]:
    """Every stored sale; with ``max_age`` > 0 this container's copy read at most that many seconds ago may be
    returned."""
    global _sales_seen
    seen = _sales_seen
    if max_age > 0 and seen is not None and time.monotonic() - seen[0] <= max_age:
        return [dict(r) for r in seen[1]]
    with aws.translate_common_errors("list sales"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=SALES_KEY, ConsistentRead=True).get("Item")
    records = sale_records_from(raw)
    _sales_seen = (time.monotonic(), records)
    return [dict(r) for r in records]


def forget_sales() -> None:
    """Drop this container's copy of the sales (after it saved one: its own next read sees the change)."""
    global _sales_seen
    _sales_seen = None


def sale_from(r: dict[str, Any]) -> Sale:
    """A stored sale. A record that cannot be read (old or hand-written data) becomes an inert sale with
    ``problem`` set, which the engine skips and logs: it never breaks a cart."""
    # the engine is imported here, not with the module: shop.orders.repository imports this module for
    # release_actions alone, and every function that reads orders would load the engine with it (issue 17)
    from shop.promotions.engine import Sale
    try:
        sale = Sale(sale_id=r["sk"], name=str(r["name"]), scope=r["scope"], target=r.get("target"),
                    percent_bps=_percent_bps(r), amount_off=_money(r.get("amount_off")),
                    starts_at=_t(r["starts_at"]), ends_at=_t(r["ends_at"]), active=bool(r.get("active", True)))
        if (sale.percent_bps is None) == (sale.amount_off is None) or sale.scope not in ("all", "category", "sku"):
            raise ValueError("needs exactly one of percent or amount_off and a known scope")
        return sale
    except UNREADABLE as exc:
        log.warning("unreadable sale record", extra={"sale_id": r.get("sk"), "error": str(exc)})
        return Sale(sale_id=str(r.get("sk")), name=str(r.get("name", r.get("sk"))), scope="sku", target=None,
                    percent_bps=None, amount_off=None, starts_at=NEVER, ends_at=NEVER, active=False,
                    problem=f"the stored record cannot be read ({type(exc).__name__}: {exc})")


def put_coupon(code: str, record: dict[str, Any]) -> None:
    """Create or change a coupon's terms; its use count is kept."""
    names = {f"#a{i}": k for i, k in enumerate(record)}
    values = {f":a{i}": to_item({"v": v})["v"] for i, v in enumerate(record.values())}
    values[":zero"] = {"N": "0"}
    sets = [f"#a{i} = :a{i}" for i in range(len(record))] + ["used = if_not_exists(used, :zero)"]
    removes = [k for k in ("global_limit", "min_subtotal") if k not in record]
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    with aws.translate_common_errors("save coupon"):
        aws.client("dynamodb").update_item(TableName=table(), Key=coupon_key(code), UpdateExpression=expression,
                                           ExpressionAttributeNames=names, ExpressionAttributeValues=values)


def coupon_record(code: str) -> dict[str, Any] | None:
    with aws.translate_common_errors("read coupon"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=coupon_key(code), ConsistentRead=True).get("Item")
    return {k: v for k, v in from_item(raw).items() if k not in ("pk", "sk")} if raw else None


def coupon_from(record: dict[str, Any], currency: str) -> Coupon:
    """A stored coupon. One that cannot be read becomes an inactive coupon with ``problem`` set (the engine
    reports it as ``unusable``)."""
    from shop.promotions.engine import Coupon  # here, as in sale_from
    try:
        coupon = Coupon(code=str(record["code"]), percent_bps=_percent_bps(record),
                        amount_off=_money(record.get("amount_off")),
                        min_subtotal=_money(record.get("min_subtotal")) or Money.zero(currency),
                        starts_at=_t(record["starts_at"]), ends_at=_t(record["ends_at"]),
                        active=bool(record.get("active")))
        if (coupon.percent_bps is None) == (coupon.amount_off is None):
            raise ValueError("needs exactly one of percent or amount_off")
        return coupon
    except UNREADABLE as exc:
        log.warning("unreadable coupon record", extra={"coupon": record.get("code"), "error": str(exc)})
        return Coupon(code=str(record.get("code")), percent_bps=None, amount_off=None,
                      min_subtotal=Money.zero(currency), starts_at=NEVER, ends_at=NEVER, active=False,
                      problem=f"the stored record cannot be read ({type(exc).__name__}: {exc})")


def redemption_actions(code: str, customer_id: str, order_id: str, global_limit: int | None,
                       per_customer_limit: int, now: str) -> list[dict[str, Any]]:
    """Count one use of the coupon: globally (under its limit), for the customer (under theirs), and the
    order's redemption (once per order). Conditions make the transaction fail rather than exceed a limit."""
    t = table()
    global_condition = "attribute_exists(pk) AND active = :yes"
    values: dict[str, Any] = {":one": {"N": "1"}, ":yes": {"BOOL": True}}
    if global_limit is not None:
        global_condition += " AND used < :limit"
        values[":limit"] = {"N": str(global_limit)}
    return [
        {"Update": {"TableName": t, "Key": coupon_key(code), "UpdateExpression": "ADD used :one",
                    "ConditionExpression": global_condition, "ExpressionAttributeValues": values}},
        {"Update": {"TableName": t, "Key": coupon_key(code, _uses_sk(customer_id)),
                    "UpdateExpression": "ADD used :one",
                    "ConditionExpression": "attribute_not_exists(used) OR used < :limit",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": str(per_customer_limit)}}}},
        {"Put": {"TableName": t, "Item": {**coupon_key(code, f"ORDER#{order_id}"), "customer_id": {"S": customer_id},
                                          "at": {"S": now}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
    ]


def release_actions(code: str, customer_id: str, order_id: str) -> list[dict[str, Any]]:
    """Give the order's use back (part of the order's release transaction, so it happens once)."""
    t = table()
    minus = {":m": {"N": "-1"}}
    return [
        {"Delete": {"TableName": t, "Key": coupon_key(code, f"ORDER#{order_id}"),
                    "ConditionExpression": "attribute_exists(pk)"}},
        {"Update": {"TableName": t, "Key": coupon_key(code), "UpdateExpression": "ADD used :m",
                    "ExpressionAttributeValues": minus}},
        {"Update": {"TableName": t, "Key": coupon_key(code, _uses_sk(customer_id)),
                    "UpdateExpression": "ADD used :m", "ExpressionAttributeValues": minus}},
    ]
