"""Cart API through the gateway emulation (routes + Cognito authorizer + handler) against moto."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[2] / "events" / "cart"


def uid() -> str:
    return uuid.uuid4().hex[:10]


def fields(resp: Any) -> set[str]:
    return {f["field"] for f in resp.json()["error"].get("details", {}).get("fields", [])}


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


@pytest.fixture
def shopper(stack: Any) -> Any:
    return stack.user()


@pytest.fixture(scope="module")
def category(stack: Any, admin: Any) -> str:
    cat = f"cart-{uid()}"
    r = stack.request("PUT", f"/admin/categories/{cat}", json={"name": "Cart tests"}, token=admin.id_token)
    assert r.status == 200, r.body
    return cat


@pytest.fixture(scope="module")
def warehouses(stack: Any, admin: Any) -> tuple[str, str]:
    ids = []
    for country, zone in (("DE", "domestic"), ("FR", "eu")):
        wid = f"wh-{uid()}"
        r = stack.request("PUT", f"/admin/warehouses/{wid}", json={"name": wid, "country": country, "zone": zone},
                          token=admin.id_token)
        assert r.status == 200, r.body
        ids.append(wid)
    return ids[0], ids[1]


class Catalog:
    def __init__(self, stack: Any, admin: Any, category: str, warehouses: tuple[str, str]):
        self.stack, self.admin, self.category, self.warehouses = stack, admin, category, warehouses
        self.product_ids: dict[str, str] = {}
        self.prices: dict[str, int] = {}
        self.weights: dict[str, int] = {}

    def product(self, *, price: int = 1000, weight: int = 250, stock: tuple[int, ...] = (10,)) -> str:
        """A new product with one SKU; stock is split over the warehouses (one number per warehouse)."""
        pid = f"cart-{uid()}"
        code = f"CART-{uid().upper()}"
        r = self.stack.request("POST", "/admin/products", token=self.admin.id_token, json={
            "product_id": pid, "name": f"Thing {code}", "category": self.category,
            "skus": [{"sku": code, "name": "Standard", "options": {"size": "M"}, "price": eur(price),
                      "weight_grams": weight}]})
        assert r.status == 201, r.body
        for wid, on_hand in zip(self.warehouses, stock, strict=False):
            r = self.stack.request("PUT", f"/admin/inventory/{code}/{wid}", json={"on_hand": on_hand},
                                   token=self.admin.id_token)
            assert r.status == 200, r.body
        self.product_ids[code], self.prices[code], self.weights[code] = pid, price, weight
        return code

    def deactivate(self, code: str) -> None:
        r = self.stack.request("PUT", f"/admin/products/{self.product_ids[code]}/skus/{code}",
                               token=self.admin.id_token,
                               json={"name": "Standard", "options": {"size": "M"}, "price": eur(self.prices[code]),
                                     "weight_grams": self.weights[code], "active": False})
        assert r.status == 200, r.body


@pytest.fixture(scope="module")
def catalog(stack: Any, admin: Any, category: str, warehouses: tuple[str, str]) -> Catalog:
    return Catalog(stack, admin, category, warehouses)


def put(stack: Any, user: Any, sku: str, quantity: Any, **query: str) -> Any:
    return stack.request("PUT", f"/cart/items/{sku}", json={"quantity": quantity}, token=user.id_token,
                         query=query or None)


def get(stack: Any, user: Any, **query: str) -> Any:
    return stack.request("GET", "/cart", token=user.id_token, query=query or None)


def lines(resp: Any) -> dict[str, int]:
    return {i["sku"]: i["quantity"] for i in resp.json()["items"]}


# ---------------------------------------------------------------- auth and ownership

@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/cart", None),
    ("PUT", "/cart/items/X-1", {"quantity": 1}),
    ("PUT", "/cart/items/X-1", {"quantity": "not a number"}),
    ("DELETE", "/cart/items/X-1", None),
])
def test_routes_need_a_signed_in_shopper(stack: Any, method: str, path: str, body: Any) -> None:
    r = stack.request(method, path, json=body)
    assert r.status == 401
    event = json.loads((EVENTS / "get_cart.json").read_text())
    event["requestContext"]["authorizer"] = None
    direct = stack.invoke("CartFunction", event)
    assert direct["statusCode"] == 401
    assert json.loads(direct["body"])["error"]["code"] == "unauthorized"


def test_new_cart_is_empty(stack: Any, shopper: Any) -> None:
    r = get(stack, shopper)
    assert r.status == 200, r.body
    assert r.json() == {
        "items": [], "totals": {k: eur(0) for k in ("subtotal", "discount", "shipping", "tax", "total")},
        "discounts": [], "destination": {"country": "DE", "region": None}, "currency": "EUR", "expires_at": None,
        "version": 0, "warnings": [], "coupon": None,
    }


def test_put_get_delete_roundtrip(stack: Any, shopper: Any, catalog: Catalog) -> None:
    a = catalog.product(price=1250, weight=300, stock=(2, 3))
    b = catalog.product(price=990, weight=100)
    before = int(time.time())
    r = put(stack, shopper, a, 5)  # needs both warehouses
    assert r.status == 200, r.body
    cart = r.json()
    assert cart["version"] == 1
    assert cart["items"] == [{"sku": a, "product_id": catalog.product_ids[a], "name": "Standard",
                              "options": {"size": "M"}, "quantity": 5, "unit_price": eur(1250),
                              "line_total": eur(6250), "weight_grams": 300, "available": 5}]
    ttl = int(stack.function_env("CartFunction").get("CART_TTL_SECONDS", 7 * 24 * 3600))
    assert before + ttl <= cart["expires_at"] <= int(time.time()) + ttl

    assert put(stack, shopper, b, 1).status == 200
    assert lines(put(stack, shopper, a, 2)) == {a: 2, b: 1}
    r = get(stack, shopper)
    assert r.status == 200
    assert lines(r) == {a: 2, b: 1}
    assert r.json()["version"] == 3
    assert r.json()["totals"]["subtotal"] == eur(2 * 1250 + 990)

    r = stack.request("DELETE", f"/cart/items/{a}", token=shopper.id_token)
    assert r.status == 200, r.body
    assert lines(r) == {b: 1} and r.json()["version"] == 4
    # deleting an absent line is a no-op (no write, same version)
    r = stack.request("DELETE", f"/cart/items/{a}", token=shopper.id_token)
    assert r.status == 200 and lines(r) == {b: 1} and r.json()["version"] == 4
    # quantity 0 removes
    r = put(stack, shopper, b, 0)
    assert r.status == 200 and r.json()["items"] == [] and r.json()["version"] == 5
    assert r.json()["totals"]["total"] == eur(0)


def test_carts_are_per_user(stack: Any, catalog: Catalog) -> None:
    alice, bob = stack.user(), stack.user()
    sku = catalog.product()
    assert put(stack, alice, sku, 3).status == 200
    assert lines(get(stack, bob)) == {}
    assert lines(put(stack, bob, sku, 1)) == {sku: 1}
    assert lines(get(stack, alice)) == {sku: 3}
    ddb = stack.client("dynamodb")
    table = stack.function_env("CartFunction")["CARTS_TABLE"]
    stored = ddb.get_item(TableName=table, Key={"customer_id": {"S": alice.user_id}}, ConsistentRead=True)["Item"]
    assert stored["items"]["M"] == {sku: {"N": "3"}}


# ---------------------------------------------------------------- validation and business rules

def test_unknown_and_inactive_sku_404(stack: Any, shopper: Any, catalog: Catalog) -> None:
    r = put(stack, shopper, "NO-SUCH-SKU-1", 1)
    assert r.status == 404
    assert r.json()["error"]["code"] == "not_found" and "NO-SUCH-SKU-1" in r.json()["error"]["message"]
    sku = catalog.product()
    catalog.deactivate(sku)
    r = put(stack, shopper, sku, 1)
    assert r.status == 404 and sku in r.json()["error"]["message"]


def test_over_stock_is_409_with_details(stack: Any, shopper: Any, catalog: Catalog) -> None:
    sku = catalog.product(stock=(2, 1))
    r = put(stack, shopper, sku, 4)
    assert r.status == 409
    err = r.json()["error"]
    assert err["code"] == "out_of_stock"
    assert err["details"] == {"skus": [{"sku": sku, "requested": 4, "available": 3}]}
    assert put(stack, shopper, sku, 3).status == 200


@pytest.mark.parametrize("quantity", [-1, 1.5, "2", None, True, 10**9])
def test_bad_quantity_422(stack: Any, shopper: Any, catalog: Catalog, quantity: Any) -> None:
    r = stack.request("PUT", "/cart/items/ANY-SKU", json={"quantity": quantity}, token=shopper.id_token)
    assert r.status == 422, r.body
    assert "body.quantity" in fields(r)


def test_quantity_above_line_limit_422(stack: Any, shopper: Any, catalog: Catalog) -> None:
    limit = int(stack.function_env("CartFunction").get("MAX_LINE_QUANTITY", 100))
    sku = catalog.product(stock=(limit + 5,))
    r = put(stack, shopper, sku, limit + 1)
    assert r.status == 422 and fields(r) == {"body.quantity"}
    assert put(stack, shopper, sku, limit).status == 200


def test_missing_body_and_bad_sku_422(stack: Any, shopper: Any) -> None:
    r = stack.request("PUT", "/cart/items/X-1", json={}, token=shopper.id_token)
    assert r.status == 422 and "body.quantity" in fields(r)
    r = stack.request("PUT", "/cart/items/x_lower", json={"quantity": 1}, token=shopper.id_token)
    assert r.status == 422 and "path.sku" in fields(r)
    r = stack.request("DELETE", "/cart/items/x_lower", token=shopper.id_token)
    assert r.status == 422 and "path.sku" in fields(r)


@pytest.mark.parametrize(("query", "field"), [({"country": "de"}, "query.country"),
                                              ({"country": "DEU"}, "query.country"),
                                              ({"country": "JP"}, "query.country"),
                                              ({"country": "US", "region": "california"}, "query.region")])
def test_bad_destination_422(stack: Any, shopper: Any, query: dict[str, str], field: str) -> None:
    r = get(stack, shopper, **query)
    assert r.status == 422, r.body
    assert field in fields(r)


def test_unshippable_destination_is_checked_before_writing(stack: Any, shopper: Any, catalog: Catalog) -> None:
    sku = catalog.product()
    r = put(stack, shopper, sku, 1, country="JP")
    assert r.status == 422 and fields(r) == {"query.country"}
    assert lines(get(stack, shopper)) == {}


def test_max_cart_lines(stack: Any, shopper: Any, catalog: Catalog) -> None:
    limit = int(stack.function_env("CartFunction").get("MAX_CART_LINES", 50))
    skus = [catalog.product(stock=(5,)) for _ in range(limit + 1)]
    for code in skus[:limit]:
        assert put(stack, shopper, code, 1).status == 200
    r = put(stack, shopper, skus[limit], 1)
    assert r.status == 422
    assert fields(r) == {"path.sku"}
    # changing an existing line is still fine at the limit
    assert put(stack, shopper, skus[0], 2).status == 200


# ---------------------------------------------------------------- totals

def _rules(stack: Any) -> tuple[dict[str, int], dict[str, str], dict[str, dict[str, int]], bool]:
    # the rules the cart function runs with: its environment over the code defaults (shop/config.py)
    from shop.config import Settings

    s = Settings.model_validate(stack.function_env("CartFunction"))
    return (dict(s.tax_rates_bps), dict(s.shipping_zones),
            {zone: rate.model_dump() for zone, rate in s.shipping_rates.items()}, s.tax_shipping)


def _expected(stack: Any, subtotal: int, weight_grams: int, country: str, region: str | None) -> dict[str, Any]:
    taxes, zones, rates, tax_shipping = _rules(stack)
    rate = rates[zones[country]]
    kilos = (weight_grams + 999) // 1000
    shipping = rate["base"] + rate["per_kg"] * kilos
    bps = taxes.get(f"{country}-{region}", taxes[country]) if region else taxes[country]
    taxable = subtotal + (shipping if tax_shipping else 0)
    tax = (taxable * bps + 5000) // 10_000  # half-up on non-negative amounts
    return {"subtotal": eur(subtotal), "discount": eur(0), "shipping": eur(shipping), "tax": eur(tax),
            "total": eur(subtotal + shipping + tax)}


def test_totals_by_destination(stack: Any, shopper: Any, catalog: Catalog) -> None:
    a = catalog.product(price=1999, weight=1200)
    b = catalog.product(price=349, weight=150)
    put(stack, shopper, a, 2)
    put(stack, shopper, b, 3)
    subtotal, weight = 2 * 1999 + 3 * 349, 2 * 1200 + 3 * 150  # 2.85 kg -> 3 started kg

    de = get(stack, shopper)  # default destination
    assert de.status == 200
    assert de.json()["destination"] == {"country": "DE", "region": None}
    assert de.json()["totals"] == _expected(stack, subtotal, weight, "DE", None)
    assert de.json()["discounts"] == []

    ca = get(stack, shopper, country="US", region="CA")
    assert ca.status == 200
    assert ca.json()["destination"] == {"country": "US", "region": "CA"}
    assert ca.json()["totals"] == _expected(stack, subtotal, weight, "US", "CA")
    assert ca.json()["totals"] != de.json()["totals"]
    # a region without its own rate falls back to the country's
    tx = get(stack, shopper, country="US", region="TX")
    assert tx.json()["totals"] == _expected(stack, subtotal, weight, "US", None)
    # PUT answers with the estimate for the destination it is given
    r = put(stack, shopper, b, 3, country="US", region="CA")
    assert r.json()["totals"] == ca.json()["totals"]


def test_unavailable_lines_are_shown_not_dropped(stack: Any, shopper: Any, catalog: Catalog) -> None:
    keep = catalog.product(price=500, weight=100)
    gone = catalog.product(price=700, weight=100)
    put(stack, shopper, keep, 1)
    put(stack, shopper, gone, 2)
    catalog.deactivate(gone)
    r = get(stack, shopper)
    assert r.status == 200
    body = r.json()
    by_sku = {i["sku"]: i for i in body["items"]}
    assert by_sku[gone]["available"] == 0 and by_sku[gone]["quantity"] == 2
    assert [(w["code"], w["sku"]) for w in body["warnings"]] == [("sku_unavailable", gone)]
    assert body["totals"] == _expected(stack, 500, 100, "DE", None)
    # the shopper can still remove it
    r = stack.request("DELETE", f"/cart/items/{gone}", token=shopper.id_token)
    assert r.status == 200 and lines(r) == {keep: 1} and r.json()["warnings"] == []


def test_vanished_sku_is_shown_with_a_warning(stack: Any, shopper: Any, catalog: Catalog) -> None:
    keep = catalog.product(price=500, weight=100)
    put(stack, shopper, keep, 1)
    ghost = f"GONE-{uid().upper()}"  # a line whose SKU no longer exists in the catalogue at all
    stack.client("dynamodb").update_item(
        TableName=stack.function_env("CartFunction")["CARTS_TABLE"], Key={"customer_id": {"S": shopper.user_id}},
        UpdateExpression="SET #items.#ghost = :two", ExpressionAttributeNames={"#items": "items", "#ghost": ghost},
        ExpressionAttributeValues={":two": {"N": "2"}})
    body = get(stack, shopper).json()
    assert {"sku": ghost, "product_id": None, "name": None, "options": {}, "quantity": 2, "unit_price": None,
            "line_total": None, "weight_grams": None, "available": 0} in body["items"]
    assert [(w["code"], w["sku"]) for w in body["warnings"]] == [("sku_unavailable", ghost)]
    assert body["totals"]["subtotal"] == eur(500)
    r = stack.request("DELETE", f"/cart/items/{ghost}", token=shopper.id_token)
    assert r.status == 200 and lines(r) == {keep: 1}


def test_line_above_current_stock_is_flagged(stack: Any, admin: Any, shopper: Any, catalog: Catalog) -> None:
    sku = catalog.product(stock=(5,))
    put(stack, shopper, sku, 4)
    r = stack.request("PUT", f"/admin/inventory/{sku}/{catalog.warehouses[0]}", json={"on_hand": 2},
                      token=admin.id_token)
    assert r.status == 200, r.body
    body = get(stack, shopper).json()
    assert body["items"][0]["available"] == 2
    assert body["warnings"] == [{"code": "insufficient_stock", "sku": sku, "requested": 4, "available": 2,
                                 "message": f"only 2 of {sku} in stock"}]


# ---------------------------------------------------------------- expiry and concurrency

def test_expired_cart_reads_empty_and_restarts(stack: Any, shopper: Any, catalog: Catalog) -> None:
    a, b = catalog.product(), catalog.product()
    put(stack, shopper, a, 1)
    version = put(stack, shopper, a, 2).json()["version"]
    ddb = stack.client("dynamodb")
    table = stack.function_env("CartFunction")["CARTS_TABLE"]
    ddb.update_item(TableName=table, Key={"customer_id": {"S": shopper.user_id}},
                    UpdateExpression="SET expires_at = :past",
                    ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}})
    r = get(stack, shopper)
    assert r.status == 200 and r.json()["items"] == [] and r.json()["expires_at"] is None
    # the next write starts from an empty cart, and the version keeps counting
    r = put(stack, shopper, b, 1)
    assert lines(r) == {b: 1} and r.json()["version"] == version + 1
    assert r.json()["expires_at"] > time.time()


def test_concurrent_updates_keep_every_line(stack: Any, shopper: Any, catalog: Catalog) -> None:
    skus = [catalog.product() for _ in range(4)]
    barrier = threading.Barrier(len(skus))
    statuses: dict[str, int] = {}

    def worker(code: str) -> None:
        barrier.wait(timeout=30)
        statuses[code] = put(stack, shopper, code, 2).status

    threads = [threading.Thread(target=worker, args=(code,)) for code in skus]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert statuses == dict.fromkeys(skus, 200)
    r = get(stack, shopper)
    assert lines(r) == dict.fromkeys(skus, 2)
    assert r.json()["version"] == len(skus)


# ---------------------------------------------------------------- sample events

@pytest.mark.parametrize("name", ["get_cart.json", "put_item.json", "delete_item.json", "put_coupon.json",
                                  "delete_coupon.json"])
def test_sample_events_are_valid(stack: Any, name: str) -> None:
    event = json.loads((EVENTS / name).read_text())
    event["requestContext"]["authorizer"]["claims"]["sub"] = f"sample-{uid()}"
    resp = stack.invoke("CartFunction", event)
    # the sample SKU and coupon come from the demo seed and a sample admin event, which these tests do not
    # load: 404 is a valid answer there
    assert resp["statusCode"] in ((200, 404) if name in ("put_item.json", "put_coupon.json") else (200,)), \
        resp["body"]


def test_write_gives_up_with_409_after_bounded_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sustained contention: every conditional write loses; the service stops after WRITE_ATTEMPTS."""
    from shop.cart import repository as repo
    from shop.cart import service
    from shop.config import Settings
    from shop.errors import Conflict

    reads, writes, sleeps = [], [], []

    def stale_save(*args: Any, **kwargs: Any) -> Any:
        writes.append(args)
        raise repo.StaleCart("c")

    monkeypatch.setattr(repo, "get_cart", lambda cid, now: reads.append(now) or repo.CartRecord(cid, {}, 3))
    monkeypatch.setattr(repo, "save_cart", stale_save)
    with pytest.raises(Conflict):
        service.write_with_retry("c", lambda items: {**items, "A-1": 1}, Settings(), sleep=sleeps.append)
    assert len(reads) == len(writes) == service.WRITE_ATTEMPTS
    assert len(sleeps) == service.WRITE_ATTEMPTS - 1
    assert all(writes[i][2] == 3 for i in range(len(writes)))  # always conditioned on the version read


def test_skus_of_a_deactivated_product_cannot_be_added_or_bought(stack):
    from tests.factories import checkout, make_product
    from tests.factories import put_in_cart as put

    admin = stack.user(groups=("admin",))
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 5})
    sku = product.skus[0]
    put(stack, shopper.id_token, sku, 1)
    resp = stack.request("PUT", f"/admin/products/{product.product_id}", json={"active": False}, token=admin.id_token)
    assert resp.status == 200, resp.body
    refused = stack.request("PUT", f"/cart/items/{sku}", json={"quantity": 2}, token=shopper.id_token)
    assert refused.status == 404, refused.body
    cart = stack.request("GET", "/cart", token=shopper.id_token).json()
    assert cart["totals"]["subtotal"]["amount"] == 0
    assert [w["sku"] for w in cart["warnings"]] == [sku]
    order = checkout(stack, shopper.id_token)
    assert order.status == 409, order.body
    assert sku in order.body
