"""Sales visible where shoppers look, and the home page (issue 16 item 5), through the gateway against moto: the
running sale's price next to the regular one on the product list, search and product page, equal to what the cart
and checkout charge; an ended or inactive sale shown nowhere; a sale ending before checkout charged at the regular
price; the public GET /promotions/active with its cache lifetime; featured products per category; read counts."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from shop.promotions import repository as promotions_repo

from shoplocal.stack import ROOT
from tests.factories import ADDRESS, checkout, eur, make_product, ok, put_in_cart, uid
from tests.factories import PROMO_WINDOW as WINDOW
from tests.integration.test_call_budget import dynamodb_calls
from tests.integration.test_catalog_api import create, make_category, product_body

pytestmark = pytest.mark.integration


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def put_sale(stack: Any, admin: Any, **terms: Any) -> str:
    sale_id = terms.pop("sale_id", f"s-{uid()}")
    ok(stack.request("PUT", f"/admin/sales/{sale_id}", token=admin.id_token,
                     json={**WINDOW, "name": f"Sale {sale_id}", **terms}))
    return sale_id


def listed(stack: Any, product_id: str, **query: Any) -> dict[str, Any]:
    body = ok(stack.request("GET", "/products", query={k: str(v) for k, v in query.items()}))
    return next(i for i in body["items"] if i["product_id"] == product_id)


def offer(price: int, regular: int, sale_id: str, ends_at: str = WINDOW["ends_at"]) -> dict[str, Any]:
    return {"price": eur(price), "regular_price": eur(regular), "ends_at": ends_at, "sale_id": sale_id,
            "name": f"Sale {sale_id}"}


def line_price(item: dict[str, Any]) -> int:
    """What a cart line or order line costs after its sale (no coupon here)."""
    total = item["line_total"]["amount"] if "line_total" in item else item["unit_price"]["amount"] * item["quantity"]
    return int(total) - int((item.get("discount") or eur(0))["amount"])


def test_the_price_shown_is_the_price_the_cart_and_checkout_charge(stack, admin):
    product = make_product(stack, admin.id_token, stock={"a": 10}, price=2999, n_skus=2)
    cheap, dear = product.skus
    ok(stack.request("PUT", f"/admin/skus/{dear}/price", token=admin.id_token, json={"price": eur(4999)}))
    category = ok(stack.request("GET", f"/products/{product.product_id}"))["category"]
    sale = put_sale(stack, admin, scope="category", target=category, percent=15)
    shown = offer(2999 - 450, 2999, sale)  # 15 % of 29.99 is 4.4985, rounded half up: 4.50

    item = listed(stack, product.product_id, category=category)
    assert item["sale"] == shown and item["price_from"] == eur(2999)  # the regular price stays where it was
    tag = product.product_id.removeprefix("p-")
    assert listed(stack, product.product_id, q=tag)["sale"] == shown  # search results too
    page = ok(stack.request("GET", f"/products/{product.product_id}"))
    assert page["sale"] == shown
    assert {s["sku"]: s["sale"] for s in page["skus"]} == {cheap: shown, dear: offer(4999 - 750, 4999, sale)}

    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, cheap, 1)
    cart = ok(stack.request("GET", "/cart", token=shopper.id_token))
    assert line_price(cart["items"][0]) == shown["price"]["amount"]
    order = ok(checkout(stack, shopper.id_token), 201)
    assert line_price(order["lines"][0]) == shown["price"]["amount"]
    assert order["totals"]["subtotal"]["amount"] - order["totals"]["discount"]["amount"] == shown["price"]["amount"]


def test_an_ended_or_inactive_sale_is_shown_nowhere_and_a_sku_sale_shows_on_its_product(stack, admin):
    category = make_category(stack, admin)
    body = product_body(category, prices=(1000, 3000))
    create(stack, admin, body)
    pid, (cheap, dear) = body["product_id"], [s["sku"] for s in body["skus"]]
    now = datetime.now(UTC)
    put_sale(stack, admin, scope="category", target=category, percent=50,
             starts_at=iso(now - timedelta(hours=2)), ends_at=iso(now - timedelta(hours=1)))  # over
    put_sale(stack, admin, scope="category", target=category, percent=60, active=False)  # switched off
    put_sale(stack, admin, scope="category", target=category, percent=70,
             starts_at=iso(now + timedelta(days=1)), ends_at=iso(now + timedelta(days=2)))  # not yet
    assert "sale" not in listed(stack, pid, category=category)
    page = ok(stack.request("GET", f"/products/{pid}"))
    assert "sale" not in page and not any("sale" in s for s in page["skus"])

    # a SKU sale on the dearer SKU: the list shows that SKU's sale price next to its regular price
    sale = put_sale(stack, admin, scope="sku", target=dear, amount_off=eur(500))
    item = listed(stack, pid, category=category)
    assert item["sale"] == offer(2500, 3000, sale) and item["price_from"] == eur(1000)
    page = ok(stack.request("GET", f"/products/{pid}"))
    assert {s["sku"]: s.get("sale") for s in page["skus"]} == {cheap: None, dear: offer(2500, 3000, sale)}

    # reads: the list's Query, and while a SKU sale runs for a product on the page one batch read of that SKU;
    # the sales come from the container's copy (a fresh container reads them once: one GetItem)
    promotions_repo.forget_sales()
    with dynamodb_calls("CatalogFunction", stack) as cold:
        listed(stack, pid, category=category)
    with dynamodb_calls("CatalogFunction", stack) as warm:
        listed(stack, pid, category=category)
    assert dict(warm) == {"query": 1, "batch_get_item": 1}, dict(warm)
    assert dict(cold) == {"query": 1, "batch_get_item": 1, "get_item": 1}, dict(cold)
    with dynamodb_calls("CatalogFunction", stack) as detail:
        ok(stack.request("GET", f"/products/{pid}"))
    assert "get_item" not in detail, dict(detail)  # the product page adds no read of its own
    ok(stack.request("PUT", f"/admin/sales/{sale}", token=admin.id_token,
                     json={**WINDOW, "name": f"Sale {sale}", "scope": "sku", "target": dear, "amount_off": eur(500),
                           "active": False}))
    assert "sale" not in listed(stack, pid, category=category)


def test_a_sale_that_ends_before_checkout_is_charged_at_the_regular_price(stack, admin):
    product = make_product(stack, admin.id_token, stock={"a": 5}, price=2000)
    sku = product.skus[0]
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
    sale = put_sale(stack, admin, scope="sku", target=sku, percent=10, ends_at=iso(ends))
    assert listed(stack, product.product_id, category=product_category(stack, product.product_id))["sale"] == \
        offer(1800, 2000, sale, iso(ends))
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, sku, 1)
    shown_total = ok(stack.request("GET", "/cart", token=shopper.id_token))["totals"]["total"]
    time.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.5)

    assert "sale" not in ok(stack.request("GET", f"/products/{product.product_id}"))["skus"][0]
    cart = ok(stack.request("GET", "/cart", token=shopper.id_token))
    assert line_price(cart["items"][0]) == 2000 and cart["discounts"] == []
    # a shopper who checks out expecting the sale's total is told the price changed ...
    stale = stack.request("POST", "/checkout", token=shopper.id_token, headers={"Idempotency-Key": f"k-{uid(12)}"},
                          json={"shipping_address": ADDRESS, "payment_method_id": "pm_card_visa",
                                "expected_total": shown_total})
    assert stale.status == 409 and stale.json()["error"]["code"] == "price_changed", stale.body
    # ... and without an expected total is charged the regular price
    order = ok(checkout(stack, shopper.id_token), 201)
    assert line_price(order["lines"][0]) == 2000 and order["totals"]["discount"] == eur(0)


def product_category(stack: Any, product_id: str) -> str:
    return str(ok(stack.request("GET", f"/products/{product_id}"))["category"])


def test_active_promotions_are_public_and_cached_until_the_next_change(stack, admin):
    product = make_product(stack, admin.id_token, stock={"a": 1}, price=1500)
    now = datetime.now(UTC)
    running = put_sale(stack, admin, scope="sku", target=product.skus[0], percent=20)
    ended = put_sale(stack, admin, scope="sku", target=product.skus[0], percent=30,
                     starts_at=iso(now - timedelta(hours=2)), ends_at=iso(now - timedelta(hours=1)))
    soon = now.replace(microsecond=0) + timedelta(seconds=40)
    upcoming = put_sale(stack, admin, scope="sku", target=product.skus[0], percent=40,
                        starts_at=iso(soon), ends_at=iso(soon + timedelta(days=1)))
    try:
        resp = stack.request("GET", "/promotions/active")  # no token: public
        assert resp.status == 200, resp.body
        body = resp.json()
        ids = [s["sale_id"] for s in body["sales"]]
        assert running in ids and ended not in ids and upcoming not in ids
        assert next(s for s in body["sales"] if s["sale_id"] == running) == {
            "sale_id": running, "name": f"Sale {running}", "scope": "sku", "target": product.skus[0], "percent": 20,
            "amount_off": None, **WINDOW}
        ends = [s["ends_at"] for s in body["sales"]]
        assert ends == sorted(ends)  # soonest ending first
        assert body["next_change_at"] is not None and body["next_change_at"] <= iso(soon)
        cache = resp.header("Cache-Control")
        assert cache is not None and cache.startswith("public, max-age="), cache
        assert 0 <= int(cache.rsplit("=", 1)[1]) <= 40  # never past the upcoming sale's start
    finally:
        put_sale(stack, admin, sale_id=upcoming, scope="sku", target=product.skus[0], percent=40, active=False,
                 starts_at=iso(soon), ends_at=iso(soon + timedelta(days=1)))


def feature(stack: Any, token: str, pid: str, **fields: Any) -> Any:
    return stack.request("PUT", f"/admin/products/{pid}", token=token, json=fields)


def featured_page(stack: Any, category: str, **query: Any) -> dict[str, Any]:
    return dict(ok(stack.request("GET", f"/categories/{category}/featured",
                                 query={k: str(v) for k, v in query.items()})))


def test_featured_products_per_category_are_ordered_paged_and_only_admins_mark_them(stack, admin):
    category, other = make_category(stack, admin), make_category(stack, admin)
    pids = []
    for i in range(4):
        body = product_body(category, prices=(1000 + i,))
        create(stack, admin, body)
        pids.append(body["product_id"])
    elsewhere = product_body(other)
    create(stack, admin, elsewhere)
    a, b, c, plain = pids
    answer = ok(feature(stack, admin.id_token, a, featured=True, featured_rank=20))
    assert answer["featured"] is True and answer["featured_rank"] == 20
    ok(feature(stack, admin.id_token, b, featured=True, featured_rank=10))
    ok(feature(stack, admin.id_token, c, featured=True))  # the default rank, 100
    ok(feature(stack, admin.id_token, elsewhere["product_id"], featured=True, featured_rank=1))
    assert ok(stack.request("GET", f"/products/{plain}"))["featured"] is False

    first = featured_page(stack, category, limit=2)
    assert [i["product_id"] for i in first["items"]] == [b, a] and first["next_cursor"]
    second = featured_page(stack, category, limit=2, cursor=first["next_cursor"])
    assert [i["product_id"] for i in second["items"]] == [c] and second["next_cursor"] is None
    assert featured_page(stack, f"cat-{uid()}")["items"] == []
    browse = ok(stack.request("GET", "/products", query={"category": category, "limit": "1"}))["next_cursor"]
    assert stack.request("GET", f"/categories/{category}/featured", query={"cursor": browse}).status == 422

    # only an admin marks a product featured
    shopper = stack.user()
    assert feature(stack, shopper.id_token, plain, featured=True).status == 403
    assert feature(stack, None, plain, featured=True).status == 401
    assert feature(stack, admin.id_token, plain, featured=None).status == 422

    # a deactivated product leaves the home page and comes back with the listing; unfeatured, it is gone
    ok(feature(stack, admin.id_token, b, active=False))
    assert [i["product_id"] for i in featured_page(stack, category)["items"]] == [a, c]
    ok(feature(stack, admin.id_token, b, active=True))
    ok(feature(stack, admin.id_token, a, featured=False))
    ok(feature(stack, admin.id_token, c, featured_rank=5))
    assert [i["product_id"] for i in featured_page(stack, category)["items"]] == [c, b]
    back = ok(feature(stack, admin.id_token, c, featured_rank=None))
    assert "featured_rank" not in back
    assert [i["product_id"] for i in featured_page(stack, category)["items"]] == [b, c]

    # featured products carry the running sale's price like every list
    sale = put_sale(stack, admin, scope="category", target=category, percent=10)
    items = featured_page(stack, category)["items"]
    assert items[0]["sale"] == offer(1001 - 100, 1001, sale)

    with dynamodb_calls("CatalogFunction", stack) as calls:
        featured_page(stack, category)
    assert dict(calls) == {"query": 1}, dict(calls)  # one Query of the featured index (the sales: the copy)


def test_the_sample_events_are_answered(stack):
    stack.seed_demo()
    for function, path in (("CatalogFunction", "catalog/feature_product.json"),
                           ("CatalogFunction", "catalog/featured_products.json"),
                           ("PromotionsFunction", "promotions/active_promotions.json")):
        event = json.loads((ROOT / "events" / path).read_text())
        result = stack.invoke(function, event)
        assert result["statusCode"] == 200, (path, result)
        json.loads(result["body"])
    featured = json.loads(stack.invoke("CatalogFunction", json.loads(
        (ROOT / "events" / "catalog" / "featured_products.json").read_text()))["body"])
    assert "burr-grinder-c40" in [i["product_id"] for i in featured["items"]]
