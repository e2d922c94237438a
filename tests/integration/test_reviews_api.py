"""Product reviews against the deployed stack: only shoppers with a DELIVERED order of the product may review
it, once; input is validated; the product's rating summary (catalog item) follows every review without a
scan; the public list is newest first and paginated with cursors bound to the product."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shoplocal.stack import ROOT
from tests.factories import (
    Product,
    checkout,
    deliver,
    make_product,
    ok,
    order_view,
    put_in_cart,
    uid,
    wait_paid,
)

pytestmark = pytest.mark.integration


def review(rating: int = 4, title: str = "Good beans", body: str = "Tastes as described.") -> dict[str, Any]:
    return {"rating": rating, "title": title, "body": body}


def post(stack: Any, token: str | None, product_id: str, payload: Any) -> Any:
    return stack.request("POST", f"/products/{product_id}/reviews", json=payload, token=token)


def listing(stack: Any, product_id: str, **query: str) -> Any:
    return stack.request("GET", f"/products/{product_id}/reviews", query=query or None)


def error_code(resp: Any) -> str:
    return str(resp.json()["error"]["code"])


def invalid_fields(resp: Any) -> set[str]:
    assert resp.status == 422, (resp.status, resp.body)
    return {f["field"] for f in resp.json()["error"]["details"]["fields"]}


def product_rating(stack: Any, product_id: str) -> dict[str, Any]:
    return dict(ok(stack.request("GET", f"/products/{product_id}"))["rating"])


def paid_order(stack: Any, shopper: Any, product: Product) -> str:
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    order_id = str(ok(checkout(stack, shopper.id_token), 201)["order_id"])
    wait_paid(stack, order_id)
    return order_id


def delivered_order(stack: Any, staff: Any, shopper: Any, product: Product) -> str:
    """A paid order of one unit, picked, packed, labelled and reported delivered by the carrier."""
    order_id = paid_order(stack, shopper, product)
    deliver(stack, staff.id_token, shopper.id_token, order_id, product.warehouses[0])
    return order_id


def verified_buyers(stack: Any, staff: Any, product: Product, n: int) -> list[Any]:
    """n new shoppers, each with a delivered order of the product (fulfilled in parallel)."""
    shoppers = [stack.user() for _ in range(n)]
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(lambda s: delivered_order(stack, staff, s, product), shoppers))
    return shoppers


def end_workflow(stack: Any, order_id: str) -> None:
    """Fail the open warehouse task tokens of an order left waiting, so no execution stays behind."""
    from shop.config import function_environment
    from shop.fulfillment import repository as repo
    from shop.fulfillment.models import TaskKind, TaskStatus
    from shop.fulfillment.split import task_id_for
    from shop.workflow import send_failure

    with function_environment(stack.function_env("WarehouseFunction")):
        for shipment in repo.order_items(order_id)[1]:
            for kind in TaskKind:
                found = repo.get_task(task_id_for(shipment.shipment_id, kind.value))
                if found and found[0].status == TaskStatus.OPEN and found[1]:
                    send_failure(found[1], "TestOver", "test finished")


def stored_items(stack: Any, product_id: str) -> list[dict[str, Any]]:
    return list(stack.client("dynamodb").query(
        TableName=stack.physical_id("ReviewsTable"), ConsistentRead=True, KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": f"PRODUCT#{product_id}"}})["Items"])


# ------------------------------------------------------------------ posting
def test_a_verified_buyer_reviews_once_and_the_rating_summary_follows(stack, admin, staff):
    product = make_product(stack, admin.id_token, stock={"a": 5})
    pid = product.product_id
    assert product_rating(stack, pid) == {"average": None, "count": 0}
    empty = ok(listing(stack, pid))
    assert empty == {"product_id": pid, "summary": {"average": None, "count": 0}, "items": [],
                     "next_cursor": None}
    shopper = stack.user()
    order_id = delivered_order(stack, staff, shopper, product)

    # the same buyer posting three times at once: exactly one review, the others are duplicates
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda _: post(stack, shopper.id_token, pid, review(4, "  Good beans  ")), range(3)))
    assert sorted(a.status for a in answers) == [201, 409, 409], [(a.status, a.body) for a in answers]
    created = next(a for a in answers if a.status == 201).json()
    assert all(error_code(a) == "already_reviewed" for a in answers if a.status == 409)
    assert created["rating"] == 4 and created["title"] == "Good beans" and created["body"] == "Tastes as described."
    assert created["author"] == shopper.email.split("@")[0] and created["verified"] is True
    assert created["product_id"] == pid and created["created_at"]
    assert "customer_id" not in created and "order_id" not in created

    again = post(stack, shopper.id_token, pid, review(1, "Changed my mind"))
    assert again.status == 409 and error_code(again) == "already_reviewed"

    # the catalog's product details and the review list show the one rating
    assert product_rating(stack, pid) == {"average": 4.0, "count": 1}
    listed = ok(listing(stack, pid))
    assert listed["summary"] == {"average": 4.0, "count": 1}
    assert listed["items"] == [created] and listed["next_cursor"] is None

    # stored: the review (recording the delivered order) and the one-per-buyer marker, nothing else
    items = stored_items(stack, pid)
    assert sorted(i["sk"]["S"].split("#")[0] for i in items) == ["BY", "REVIEW"]
    stored = next(i for i in items if i["sk"]["S"].startswith("REVIEW#"))
    assert stored["order_id"]["S"] == order_id and stored["customer_id"]["S"] == shopper.user_id
    assert stored["sk"]["S"] == f"REVIEW#{created['created_at']}#{shopper.user_id}"


def test_only_shoppers_with_a_delivered_order_of_the_product_may_review(stack, admin, staff):
    product = make_product(stack, admin.id_token, stock={"a": 5})
    pid = product.product_id
    paid_only = stack.user()
    order_id = paid_order(stack, paid_only, product)
    try:
        assert order_view(stack, paid_only.id_token, order_id)["status"] in ("PAID", "FULFILLING")
        refused = post(stack, paid_only.id_token, pid, review())
        assert refused.status == 403 and error_code(refused) == "not_a_verified_buyer", refused.body
    finally:
        end_workflow(stack, order_id)

    never_bought = stack.user()
    refused = post(stack, never_bought.id_token, pid, review())
    assert refused.status == 403 and error_code(refused) == "not_a_verified_buyer"
    # refusals leave no trace: no review, no marker, no rating
    assert stored_items(stack, pid) == []
    assert product_rating(stack, pid) == {"average": None, "count": 0}


def test_review_input_is_validated_naming_the_field(stack, admin):
    product = make_product(stack, admin.id_token, stock={"a": 1})
    token = stack.user().id_token
    pid = product.product_id
    assert invalid_fields(post(stack, token, pid, review(rating=0))) == {"body.rating"}
    assert invalid_fields(post(stack, token, pid, review(rating=6))) == {"body.rating"}
    assert invalid_fields(post(stack, token, pid, {**review(), "rating": "5"})) == {"body.rating"}
    assert invalid_fields(post(stack, token, pid, {**review(), "rating": 4.5})) == {"body.rating"}
    assert invalid_fields(post(stack, token, pid, {"rating": 5, "body": "no title"})) == {"body.title"}
    assert invalid_fields(post(stack, token, pid, review(title="   "))) == {"body.title"}
    assert invalid_fields(post(stack, token, pid, review(title="x" * 121))) == {"body.title"}
    assert invalid_fields(post(stack, token, pid, review(body="x" * 4001))) == {"body.body"}
    assert invalid_fields(post(stack, token, pid, {**review(), "stars": 5})) == {"body.stars"}
    bad_json = stack.request("POST", f"/products/{pid}/reviews", body="{not json", token=token)
    assert bad_json.status in (400, 422) and error_code(bad_json) in ("malformed_json", "validation_error")
    # the longest allowed strings pass validation (and then meet the buyer rule)
    longest = post(stack, token, pid, review(title="t" * 120, body="b" * 4000))
    assert longest.status == 403 and error_code(longest) == "not_a_verified_buyer"


def test_unknown_or_inactive_products_and_missing_tokens(stack, admin):
    token = stack.user().id_token
    unknown = f"p-missing-{uid()}"
    for resp in (post(stack, token, unknown, review()), listing(stack, unknown)):
        assert resp.status == 404 and error_code(resp) == "not_found", resp.body

    product = make_product(stack, admin.id_token, stock={"a": 1})
    pid = product.product_id
    assert listing(stack, pid).status == 200
    ok(stack.request("PUT", f"/admin/products/{pid}", json={"active": False}, token=admin.id_token))
    for resp in (post(stack, token, pid, review()), listing(stack, pid)):
        assert resp.status == 404 and error_code(resp) == "not_found", resp.body

    # posting needs a signed-in shopper, whatever the body; reading does not
    for payload in (review(), {"rating": 0}):
        anonymous = post(stack, None, pid, payload)
        assert anonymous.status == 401, anonymous.body
    forged = post(stack, "not-a-token", pid, review())
    assert forged.status == 401


# ------------------------------------------------------------------ listing
def test_reviews_are_listed_newest_first_in_pages_bound_to_the_product(stack, admin, staff):
    product = make_product(stack, admin.id_token, stock={"a": 5})
    pid = product.product_id
    buyers = verified_buyers(stack, staff, product, 3)
    ratings = [5, 2, 4]
    posted = [ok(post(stack, b.id_token, pid, review(r, f"Review {i}")), 201)
              for i, (b, r) in enumerate(zip(buyers, ratings, strict=True))]
    newest_first = sorted(posted, key=lambda v: v["created_at"], reverse=True)
    assert [v["title"] for v in newest_first] == ["Review 2", "Review 1", "Review 0"]

    first = ok(listing(stack, pid, limit="2"))
    assert first["items"] == newest_first[:2] and first["next_cursor"]
    # 11 / 3 = 3.67 -> 3.7 (one decimal)
    assert first["summary"] == {"average": 3.7, "count": 3}
    assert product_rating(stack, pid) == {"average": 3.7, "count": 3}
    second = ok(listing(stack, pid, limit="2", cursor=first["next_cursor"]))
    assert second["items"] == newest_first[2:] and second["next_cursor"] is None
    assert ok(listing(stack, pid))["items"] == newest_first  # default limit 10

    for bad in ("0", "51", "ten"):
        assert invalid_fields(listing(stack, pid, limit=bad)) == {"query.limit"}
    # a cursor is only valid for the product it came from
    other = make_product(stack, admin.id_token, stock={"a": 1})
    foreign = listing(stack, other.product_id, limit="2", cursor=first["next_cursor"])
    assert invalid_fields(foreign) == {"query.cursor"}
    assert invalid_fields(listing(stack, pid, cursor="not-a-cursor")) == {"query.cursor"}

    # a delivered order of one product does not verify a review of another
    refused = post(stack, buyers[0].id_token, other.product_id, review())
    assert refused.status == 403 and error_code(refused) == "not_a_verified_buyer"


# ------------------------------------------------------------------ sample events
def test_review_sample_events_are_answered(stack):
    """events/reviews/*.json are valid `make invoke` inputs: routed and answered without a server error (the
    sample shopper has no delivered order, so the post is refused)."""
    stack.seed_demo()
    folder = ROOT / "events" / "reviews"
    assert sorted(p.stem for p in folder.glob("*.json")) == ["list_reviews", "post_review"]
    expected = {"list_reviews": {200, 404}, "post_review": {403, 404}}
    for name, statuses in expected.items():
        event = json.loads((folder / f"{name}.json").read_text())
        assert event["isBase64Encoded"] is False and "requestContext" in event
        result = stack.invoke("ReviewsFunction", event)
        assert result["statusCode"] in statuses, (name, result)
        body = json.loads(result["body"])
        if result["statusCode"] == 200:
            assert body["product_id"] == "colombia-huila" and set(body["summary"]) == {"average", "count"}
        elif result["statusCode"] == 403:
            assert body["error"]["code"] == "not_a_verified_buyer"
        else:
            assert body["error"]["code"] == "not_found"
