"""Ranking of "recommended for you" (shop.analytics.recommendations, pure parts) and the abandoned-cart reminder's
mail (shop.cart.reminders.reminder_email): no AWS."""

from __future__ import annotations

import pytest
from shop.analytics import facts
from shop.analytics.recommendations import Ranked, rank, seeds_of
from shop.cart.reminders import reminder_email

pytestmark = pytest.mark.unit


def test_scores_add_up_over_the_seeds_and_ties_go_by_product_id() -> None:
    ranked = rank({"grinder": [("beans", 3), ("scale", 1), ("filter", 1)],
                   "kettle": [("scale", 2), ("beans", 1), ("cups", 3)]}, exclude=[])
    assert ranked == [Ranked("beans", 4, "grinder"), Ranked("cups", 3, "kettle"), Ranked("scale", 3, "kettle"),
                      Ranked("filter", 1, "grinder")]


def test_what_the_shopper_bought_is_never_recommended() -> None:
    ranked = rank({"grinder": [("beans", 5), ("kettle", 4), ("scale", 1)], "kettle": [("grinder", 4)]},
                  exclude=["beans", "grinder", "kettle"])
    assert [r.product_id for r in ranked] == ["scale"]  # beans bought, the seeds themselves excluded


def test_limit_and_non_positive_counts() -> None:
    co = {"a": [(f"p{i:02}", 10 - i) for i in range(12)]}
    ranked = rank(co, exclude=[], limit=5)
    assert [r.product_id for r in ranked] == ["p00", "p01", "p02", "p03", "p04"]
    assert all(r.score > 0 for r in rank(co, exclude=[]))  # p10 (0) and p11 (-1) never show


def test_seeds_are_the_most_recently_bought() -> None:
    bought = [("old", 5, "2026-01-01T00:00:00Z"), ("new", 1, "2026-03-01T00:00:00Z"),
              ("mid", 2, "2026-02-01T00:00:00Z")]
    assert seeds_of(bought, max_seeds=2) == ["new", "mid"]
    assert seeds_of([]) == []


def test_a_paid_order_counts_the_shoppers_products_once_with_bounded_fan_out() -> None:
    from zoneinfo import ZoneInfo

    lines = [{"sku": f"S{i}", "product_id": f"p{i:02}", "quantity": 1, "unit_price": {"amount": 100, "currency": "EUR"}}
             for i in range(12)]
    detail = {"order_id": "o1", "customer_id": "cus_1", "paid_at": "2026-03-10T10:00:00Z", "lines": lines,
              "totals": {"total": {"amount": 1200, "currency": "EUR"}}, "occurred_at": "2026-03-10T10:00:00Z"}
    fact = facts.fact_for("OrderPaid", detail, ZoneInfo("UTC"))
    assert fact is not None and fact.bought is not None
    customer, products = fact.bought
    assert customer == "cus_1" and len(products) == facts.MAX_PAIR_PRODUCTS
    assert len(fact.pairs) == facts.MAX_PAIR_PRODUCTS * (facts.MAX_PAIR_PRODUCTS - 1)
    # one transaction: the fact, the day totals, the pairs and the shopper's products (DynamoDB's limit is 100)
    assert 2 + len(fact.pairs) + len(products) <= 100


def test_the_reminder_lists_the_lines_and_escapes_names() -> None:
    mail = reminder_email({"B-1": 2, "A-1": 1}, {"A-1": "Grinder <C40>", "B-1": None}, 1795500000)
    assert "1 x Grinder <C40>" in mail.text and "2 x B-1" in mail.text
    assert "Grinder &lt;C40&gt;" in mail.html and "<C40>" not in mail.html
    assert "3 item(s)" in mail.subject
    assert "cart_reminders" in mail.text  # how to opt out
