"""Win-back and recommendations on the local stack (issue 16, item 7).

Abandoned-cart reminders (CartReminderFunction, the 5-minute schedule invoked with its sample event): a cart left
unchanged for CART_REMINDER_AFTER_MINUTES is mailed once; never after checkout, never to a shopper who opted out
(PUT /account/marketing) or whose address is suppressed; overlapping sweeps send one mail. "Left unchanged" is
made by moving the cart's ``updated_at`` (the reminder index's sort key) into the past, as test_sweeper moves an
order's expiry.

Recommendations (GET /account/recommendations): from two shoppers' paid orders (the Analytics function counts
them from OrderPaid), never what the shopper bought nor an inactive product; a redelivered OrderPaid counts once.
"""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shoplocal.stack import ROOT
from tests.factories import checkout, emails_to, make_product, ok, put_in_cart, wait_for, wait_paid

pytestmark = [pytest.mark.integration, pytest.mark.audited]  # the invariant audit runs around each test

SCHEDULED = json.loads((ROOT / "events" / "cart_reminders" / "scheduled.json").read_text())
ORDER_PAID = json.loads((ROOT / "events" / "analytics" / "order_paid.json").read_text())
SUBJECT = "left"  # "Serverless Shop: you left 2 item(s) in your cart"


def sweep(stack: Any) -> dict[str, int]:
    return dict(stack.invoke("CartReminderFunction", SCHEDULED))


def reminders_to(stack: Any, email: str) -> list[dict[str, Any]]:
    return [m for m in emails_to(stack, email) if "in your cart" in (m["subject"] or "")]


def cart_item(stack: Any, customer_id: str) -> dict[str, Any]:
    return dict(stack.client("dynamodb").get_item(TableName=stack.physical_id("CartsTable"), ConsistentRead=True,
                                                  Key={"customer_id": {"S": customer_id}}).get("Item") or {})


def backdate(stack: Any, customer_id: str, minutes: int = 120) -> str:
    """The cart as if last changed ``minutes`` ago (longer than the default 60-minute delay)."""
    past = (datetime.now(UTC) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stack.client("dynamodb").update_item(TableName=stack.physical_id("CartsTable"),
                                         Key={"customer_id": {"S": customer_id}},
                                         UpdateExpression="SET updated_at = :t",
                                         ExpressionAttributeValues={":t": {"S": past}})
    return past


@pytest.fixture
def product(stack: Any, admin: Any) -> Any:
    return make_product(stack, admin.id_token, stock={"a": 50}, price=1500)


# ------------------------------------------------------------------ abandoned-cart reminders
def test_a_cart_left_alone_is_reminded_once(stack: Any, product: Any) -> None:
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, product.skus[0], 2)
    sweep(stack)
    assert reminders_to(stack, shopper.email) == []  # changed a moment ago: not due yet
    assert "reminder_pk" in cart_item(stack, shopper.user_id)

    backdate(stack, shopper.user_id)
    assert sweep(stack)["sent"] >= 1
    [mail] = reminders_to(stack, shopper.email)
    assert "Variant 0" in mail["body"] and "2 item(s)" in mail["subject"]
    item = cart_item(stack, shopper.user_id)
    assert "reminded_at" in item and "reminder_pk" not in item  # out of the index: later sweeps never read it

    sweep(stack)
    put_in_cart(stack, shopper.id_token, product.skus[0], 3)  # the same cart changed again: still reminded
    assert "reminder_pk" not in cart_item(stack, shopper.user_id)
    backdate(stack, shopper.user_id)
    sweep(stack)
    assert len(reminders_to(stack, shopper.email)) == 1
    cart = ok(stack.request("GET", "/cart", token=shopper.id_token))
    assert cart["items"][0]["quantity"] == 3  # the claim does not touch the lines


def test_no_reminder_after_checkout(stack: Any, product: Any) -> None:
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    backdate(stack, shopper.user_id)
    before = cart_item(stack, shopper.user_id)
    order_id = ok(checkout(stack, shopper.id_token), 201)["order_id"]
    sweep(stack)
    assert reminders_to(stack, shopper.email) == []
    assert "reminder_pk" not in cart_item(stack, shopper.user_id)

    # a sweep that read the cart before the checkout: its claim is refused inside the write's condition
    from shop.cart import repository
    from shop.config import function_environment

    with function_environment(stack.function_env("CartReminderFunction")):
        claimed = repository.claim_reminder(shopper.user_id, int(before["version"]["N"]), before["updated_at"]["S"],
                                            datetime.now(UTC).isoformat())
    assert claimed is False
    wait_paid(stack, order_id)


def test_no_reminder_for_a_shopper_who_opted_out(stack: Any, product: Any) -> None:
    shopper = stack.user()
    assert ok(stack.request("GET", "/account/marketing", token=shopper.id_token)) == {"cart_reminders": True,
                                                                                     "updated_at": None}
    saved = ok(stack.request("PUT", "/account/marketing", token=shopper.id_token, json={"cart_reminders": False}))
    assert saved["cart_reminders"] is False and saved["updated_at"]
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    backdate(stack, shopper.user_id)
    assert sweep(stack)["opted_out"] >= 1
    assert reminders_to(stack, shopper.email) == []
    assert "reminder_pk" not in cart_item(stack, shopper.user_id)  # dropped: not read again by every sweep

    bad = stack.request("PUT", "/account/marketing", token=shopper.id_token, json={"cart_reminders": "no"})
    assert bad.status == 422
    assert stack.request("PUT", "/account/marketing", json={"cart_reminders": True}).status == 401


def test_no_reminder_to_a_suppressed_address(stack: Any, product: Any) -> None:
    shopper = stack.user()
    stack.client("dynamodb").put_item(TableName=stack.physical_id("NotificationsTable"), Item={
        "pk": {"S": f"SUPPRESSED#{shopper.email.lower()}"}, "sk": {"S": "SUPPRESSION"},
        "email": {"S": shopper.email}, "reason": {"S": "bounce"}, "suppressed_at": {"S": "2026-01-01T00:00:00Z"}})
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    backdate(stack, shopper.user_id)
    assert sweep(stack)["suppressed"] >= 1
    assert reminders_to(stack, shopper.email) == []


@pytest.mark.audited
def test_overlapping_sweeps_send_one_mail(stack: Any, product: Any) -> None:
    shoppers = [stack.user() for _ in range(3)]
    for s in shoppers:
        put_in_cart(stack, s.id_token, product.skus[0], 1)
        backdate(stack, s.user_id)
    barrier = threading.Barrier(4)

    def run(_: int) -> dict[str, int]:
        barrier.wait()
        return sweep(stack)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, range(4)))
    assert all(r["failed"] == 0 for r in results), results
    for s in shoppers:
        assert len(reminders_to(stack, s.email)) == 1, s.email


# ------------------------------------------------------------------ recommendations
def recommendations(stack: Any, token: str, **query: Any) -> dict[str, Any]:
    return dict(ok(stack.request("GET", "/account/recommendations", token=token, query=query or None)))


def buy(stack: Any, token: str, skus: list[str]) -> str:
    for sku in skus:
        put_in_cart(stack, token, sku, 1)
    order_id = str(ok(checkout(stack, token), 201)["order_id"])
    wait_paid(stack, order_id)
    return order_id


def test_recommended_from_what_others_bought_with_it(stack: Any, admin: Any) -> None:
    a, b, c = (make_product(stack, admin.id_token, stock={"a": 20}, price=1000) for _ in range(3))
    first, second, third = stack.user(), stack.user(), stack.user()
    buy(stack, first.id_token, [a.skus[0], b.skus[0]])
    buy(stack, second.id_token, [a.skus[0], c.skus[0]])
    buy(stack, third.id_token, [a.skus[0]])

    def ranked() -> list[str] | None:
        got = recommendations(stack, third.id_token)
        ids = [i["product_id"] for i in got["items"] if i["reason"] == "bought_together"]
        return ids if {b.product_id, c.product_id} <= set(ids) else None

    ids = wait_for(ranked, 30, "recommendations from the paid orders")
    view = recommendations(stack, third.id_token)
    assert view["based_on"] == [a.product_id]
    mine = {i["product_id"]: i for i in view["items"]}
    assert mine[b.product_id]["because_of"] == a.product_id and mine[b.product_id]["score"] == 1
    assert a.product_id not in ids  # already bought
    # the first shopper bought A and B: C (bought with A by the second) is recommended, A and B never
    first_ids = [i["product_id"] for i in recommendations(stack, first.id_token)["items"]]
    assert c.product_id in first_ids and a.product_id not in first_ids and b.product_id not in first_ids

    ok(stack.request("PUT", f"/admin/products/{c.product_id}", token=admin.id_token, json={"active": False}))
    assert c.product_id not in [i["product_id"] for i in recommendations(stack, third.id_token)["items"]]
    assert len(recommendations(stack, third.id_token, limit=1)["items"]) == 1


def test_without_history_the_featured_products_stand_in(stack: Any, admin: Any) -> None:
    p = make_product(stack, admin.id_token, stock={"a": 5})
    ok(stack.request("PUT", f"/admin/products/{p.product_id}", token=admin.id_token,
                     json={"featured": True, "featured_rank": 0}))
    newcomer = stack.user()
    view = recommendations(stack, newcomer.id_token, limit=50)
    assert view["based_on"] == []
    assert view["items"] and {i["reason"] for i in view["items"]} <= {"featured", "new_in_category"}
    assert all(i["because_of"] is None and i["score"] == 0 for i in view["items"])
    # a shopper who bought from the category: its featured product comes first (the category's own fallback)
    buyer = stack.user()
    other = make_product(stack, admin.id_token, stock={"a": 5})
    ok(stack.request("PUT", f"/admin/products/{other.product_id}", token=admin.id_token,
                     json={"category": stack_category(stack, p.product_id)}))
    buy(stack, buyer.id_token, [other.skus[0]])
    first = wait_for(lambda: (recommendations(stack, buyer.id_token)["items"] or [None])[0]
                     if recommendations(stack, buyer.id_token)["based_on"] else None, 30, "the purchase recorded")
    assert first["product_id"] == p.product_id and first["reason"] == "featured"
    assert stack.request("GET", "/account/recommendations").status == 401


def stack_category(stack: Any, product_id: str) -> str:
    return str(ok(stack.request("GET", f"/products/{product_id}"))["category"])


def test_a_redelivered_order_paid_is_counted_once(stack: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    event = json.loads(json.dumps(ORDER_PAID))
    d = event["detail"]
    d["order_id"] = "ord_" + "".join("abcdefghijklmnopqrstuvwxyz234567"[int(ch, 16)] for ch in uuid.uuid4().hex[:20])
    d["customer_id"] = f"cus_{tag}"
    d["dedupe_key"] = f"OrderPaid:{d['order_id']}"
    for i, line in enumerate(d["lines"]):
        line["product_id"] = f"rec-{tag}-{i}"
    for _ in range(2):
        stack.invoke("AnalyticsFunction", event)
    ddb, table = stack.client("dynamodb"), stack.physical_id("AnalyticsTable")
    pair = ddb.get_item(TableName=table, Key={"pk": {"S": f"ALSO#rec-{tag}-0"}, "sk": {"S": f"rec-{tag}-1"}})["Item"]
    assert pair["bought_together"]["N"] == "1"
    bought = ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                       ExpressionAttributeValues={":p": {"S": f"BOUGHT#cus_{tag}"}})["Items"]
    assert sorted((i["sk"]["S"], i["orders"]["N"]) for i in bought) == [(f"rec-{tag}-0", "1"), (f"rec-{tag}-1", "1")]
