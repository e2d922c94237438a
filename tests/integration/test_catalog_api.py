"""Catalog API through the gateway emulation (routes + Cognito authorizer + handler) against moto."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import uid

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def shopper(stack: Any) -> Any:
    return stack.user()


def fields(resp: Any) -> set[str]:
    body = resp.json()
    return {f["field"] for f in body["error"].get("details", {}).get("fields", [])}


def make_category(stack: Any, admin: Any, name: str = "Test category") -> str:
    cid = f"cat-{uid()}"
    r = stack.request("PUT", f"/admin/categories/{cid}", json={"name": name, "description": "d"},
                      token=admin.id_token)
    assert r.status == 200, r.body
    return cid


def product_body(category: str, *, pid: str | None = None, name: str = "Test product",
                 prices: tuple[int, ...] = (1000,), description: str = "",
                 brand: str | None = "Acme") -> dict[str, Any]:
    pid = pid or f"p-{uid()}"
    code = pid.upper()[:30]
    body: dict[str, Any] = {
        "product_id": pid, "name": name, "description": description, "category": category,
        "images": ["/img/x.jpg"], "attributes": {"material": "steel"},
        "skus": [{"sku": f"{code}-{i}", "name": f"variant {i}", "options": {"size": str(i)},
                  "price": {"amount": p, "currency": "EUR"}, "weight_grams": 250} for i, p in enumerate(prices)],
    }
    if brand:
        body["brand"] = brand
    return body


def create(stack: Any, admin: Any, body: dict[str, Any]) -> dict[str, Any]:
    r = stack.request("POST", "/admin/products", json=body, token=admin.id_token)
    assert r.status == 201, r.body
    return dict(r.json())


def listing_ids(stack: Any, **query: Any) -> list[str]:
    r = stack.request("GET", "/products", query={k: str(v) for k, v in query.items()})
    assert r.status == 200, r.body
    return [i["product_id"] for i in r.json()["items"]]


# ---------------------------------------------------------------- authorization

@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/admin/products", {}),
    ("PUT", "/admin/categories/x", {"name": "x"}),
    ("PUT", "/admin/products/x", {"name": "x"}),
    ("PUT", "/admin/products/x/skus/X-1", {}),
    ("PUT", "/admin/skus/X-1/price", {"price": {"amount": 1, "currency": "EUR"}}),
])
def test_admin_routes_need_admin(stack: Any, shopper: Any, method: str, path: str, body: dict[str, Any]) -> None:
    assert stack.request(method, path, json=body).status == 401
    r = stack.request(method, path, json=body, token=shopper.id_token)
    assert r.status == 403
    assert r.json()["error"]["code"] == "forbidden"


# ---------------------------------------------------------------- categories

def test_categories_are_listed_in_sort_order(stack: Any, admin: Any) -> None:
    a, b = f"cat-{uid()}", f"cat-{uid()}"
    assert stack.request("PUT", f"/admin/categories/{a}", json={"name": "Zeta", "sort_order": 1},
                         token=admin.id_token).status == 200
    assert stack.request("PUT", f"/admin/categories/{b}", json={"name": "Alpha", "sort_order": 0},
                         token=admin.id_token).status == 200
    items = stack.request("GET", "/categories").json()["items"]
    ids = [c["category_id"] for c in items]
    assert ids.index(b) < ids.index(a)
    assert {"category_id": a, "name": "Zeta", "description": "", "sort_order": 1} in items
    # PUT is an idempotent replace
    assert stack.request("PUT", f"/admin/categories/{a}", json={"name": "Zeta 2", "sort_order": 1},
                         token=admin.id_token).json()["name"] == "Zeta 2"


def test_category_bad_input(stack: Any, admin: Any) -> None:
    r = stack.request("PUT", "/admin/categories/Bad Id", json={"name": ""}, token=admin.id_token)
    assert r.status == 422
    assert {"path.categoryId", "body.name"} <= fields(r)


# ---------------------------------------------------------------- create + browse

def test_create_product_then_browse(stack: Any, admin: Any) -> None:
    cat = make_category(stack, admin)
    word = f"zq{uid()}"
    cheap = create(stack, admin, product_body(cat, name=f"Cheap {word} kettle", prices=(1500, 900)))
    dear = create(stack, admin, product_body(cat, name="Dear kettle", prices=(5000,), description=f"{word} Extra"))
    other = create(stack, admin, product_body(cat, name="Mid grinder", prices=(3000,)))
    assert cheap["price_from"] == {"amount": 900, "currency": "EUR"}
    assert [s["price"]["amount"] for s in cheap["skus"]] == [900, 1500]

    assert listing_ids(stack, category=cat, sort="price_asc") == [cheap["product_id"], other["product_id"],
                                                                  dear["product_id"]]
    assert listing_ids(stack, category=cat, sort="price_desc") == [dear["product_id"], other["product_id"],
                                                                   cheap["product_id"]]
    assert listing_ids(stack, category=cat, sort="newest") == [other["product_id"], dear["product_id"],
                                                               cheap["product_id"]]
    # search: case-insensitive AND of words, prefix of a word, across name and description
    assert listing_ids(stack, category=cat, q=word.upper()) == [dear["product_id"], cheap["product_id"]]
    assert listing_ids(stack, q=f"{word} KETT", sort="price_asc") == [cheap["product_id"], dear["product_id"]]
    assert listing_ids(stack, q=f"{word} grinder") == []
    # price range as key conditions (inclusive), also without category and with newest sort (filter)
    assert listing_ids(stack, category=cat, min_price=900, max_price=3000, sort="price_asc") == [
        cheap["product_id"], other["product_id"]]
    assert listing_ids(stack, category=cat, min_price=901, sort="price_asc") == [other["product_id"],
                                                                                 dear["product_id"]]
    assert listing_ids(stack, category=cat, max_price=2999, sort="price_desc") == [cheap["product_id"]]
    assert listing_ids(stack, category=cat, min_price=3000, sort="newest") == [other["product_id"],
                                                                               dear["product_id"]]
    assert listing_ids(stack, q=word, min_price=1000, max_price=5000, sort="price_asc") == [dear["product_id"]]

    item = stack.request("GET", "/products", query={"category": cat, "sort": "price_asc", "limit": "1"}).json()
    assert item["items"][0] == {"product_id": cheap["product_id"], "name": f"Cheap {word} kettle", "category": cat,
                                "brand": "Acme", "price_from": {"amount": 900, "currency": "EUR"},
                                "image": "/img/x.jpg", "rating": {"average": None, "count": 0}}
    assert item["next_cursor"]


def _pages(stack: Any, query: dict[str, str]) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    for _ in range(20):  # bounded: never loops forever on a broken cursor
        q = dict(query)
        if cursor:
            q["cursor"] = cursor
        r = stack.request("GET", "/products", query=q)
        assert r.status == 200, r.body
        body = r.json()
        pages.append([i["product_id"] for i in body["items"]])
        cursor = body["next_cursor"]
        if not cursor:
            return pages
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("sort", ["price_asc", "price_desc", "newest"])
def test_pagination_has_no_duplicates_or_gaps(stack: Any, admin: Any, sort: str) -> None:
    cat = make_category(stack, admin)
    word = f"pg{uid()}"
    made = []
    for i in range(7):
        # equal prices for some products: ties are ordered by product id, still no skips
        name = f"{word} item {i}" if i % 2 == 0 else f"other item {i}"
        made.append(create(stack, admin, product_body(cat, name=name, prices=(1000 + 100 * (i // 2),))))
    all_ids = {p["product_id"] for p in made}
    pages = _pages(stack, {"category": cat, "sort": sort, "limit": "3"})
    assert [len(p) for p in pages] == [3, 3, 1]
    flat = [pid for page in pages for pid in page]
    assert len(flat) == len(set(flat)) and set(flat) == all_ids
    assert flat == listing_ids(stack, category=cat, sort=sort, limit=100)
    # with a search filter (Limit applies before the filter): exactly the matching products, in order
    matching = {p["product_id"] for p in made if p["name"].startswith(word)}
    pages = _pages(stack, {"category": cat, "sort": sort, "limit": "2", "q": word})
    flat = [pid for page in pages for pid in page]
    assert all(len(p) <= 2 for p in pages)
    assert len(flat) == len(set(flat)) and set(flat) == matching


def test_listing_bad_input(stack: Any) -> None:
    for query, field in [({"limit": "0"}, "query.limit"), ({"limit": "101"}, "query.limit"),
                         ({"limit": "ten"}, "query.limit"), ({"sort": "cheapest"}, "query.sort"),
                         ({"min_price": "-1"}, "query.min_price"), ({"min_price": "5", "max_price": "4"},
                                                                     "query.min_price"),
                         ({"cursor": "not-a-cursor"}, "query.cursor"), ({"category": "Bad Cat"}, "query.category")]:
        r = stack.request("GET", "/products", query=query)
        assert r.status == 422, (query, r.body)
        assert field in fields(r), (query, r.body)


def test_cursor_from_another_listing_is_422(stack: Any, admin: Any) -> None:
    cat = make_category(stack, admin)
    for _ in range(2):
        create(stack, admin, product_body(cat))
    cursor = stack.request("GET", "/products", query={"category": cat, "limit": "1"}).json()["next_cursor"]
    r = stack.request("GET", "/products", query={"category": cat, "limit": "1", "sort": "price_asc",
                                                 "cursor": cursor})
    assert r.status == 422 and "query.cursor" in fields(r)


# ---------------------------------------------------------------- create conflicts and validation

def test_create_conflicts_and_validation(stack: Any, admin: Any) -> None:
    cat = make_category(stack, admin)
    first = product_body(cat)
    create(stack, admin, first)
    again = stack.request("POST", "/admin/products", json=first, token=admin.id_token)
    assert again.status == 409 and first["product_id"] in again.json()["error"]["message"]

    taken_sku = first["skus"][0]["sku"]
    second = product_body(cat)
    second["skus"].append({**first["skus"][0]})
    r = stack.request("POST", "/admin/products", json=second, token=admin.id_token)
    assert r.status == 409
    assert taken_sku in r.json()["error"]["message"]
    # nothing of the rejected product was written
    assert stack.request("GET", f"/products/{second['product_id']}").status == 404
    assert second["product_id"] not in listing_ids(stack, category=cat, limit=100)

    r = stack.request("POST", "/admin/products", json=product_body(f"nope-{uid()}"), token=admin.id_token)
    assert r.status == 422 and fields(r) == {"body.category"}

    usd = product_body(cat)
    usd["skus"][0]["price"]["currency"] = "USD"
    r = stack.request("POST", "/admin/products", json=usd, token=admin.id_token)
    assert r.status == 422 and fields(r) == {"body.skus.0.price.currency"}

    bad = product_body(cat)
    bad["skus"][0]["price"]["amount"] = 0
    bad["skus"][0]["weight_grams"] = -3
    r = stack.request("POST", "/admin/products", json=bad, token=admin.id_token)
    assert r.status == 422
    assert {"body.skus.0.price.amount", "body.skus.0.weight_grams"} <= fields(r)

    r = stack.request("POST", "/admin/products", body="{not json", token=admin.id_token)
    assert r.status in (400, 422)


# ---------------------------------------------------------------- details with stock

def test_details_sum_availability_over_warehouses(stack: Any, admin: Any) -> None:
    cat = make_category(stack, admin)
    p = create(stack, admin, product_body(cat, prices=(1200, 1800)))
    in_stock, sold_out = p["skus"][0]["sku"], p["skus"][1]["sku"]
    for wh, qty in ((f"wh-a-{uid()}", 4), (f"wh-b-{uid()}", 6)):
        assert stack.request("PUT", f"/admin/warehouses/{wh}", json={"name": wh, "country": "DE",
                                                                      "zone": "domestic"},
                             token=admin.id_token).status == 200
        r = stack.request("PUT", f"/admin/inventory/{in_stock}/{wh}", json={"on_hand": qty}, token=admin.id_token)
        assert r.status == 200, r.body
    r = stack.request("GET", f"/products/{p['product_id']}")
    assert r.status == 200
    body = r.json()
    by_code = {s["sku"]: s for s in body["skus"]}
    assert by_code[in_stock]["available"] == 10 and by_code[in_stock]["in_stock"] is True
    assert by_code[sold_out]["available"] == 0 and by_code[sold_out]["in_stock"] is False
    assert body["rating"] == {"average": None, "count": 0}
    assert body["attributes"] == {"material": "steel"} and body["images"] == ["/img/x.jpg"]
    assert by_code[in_stock]["options"] == {"size": "0"} and by_code[in_stock]["weight_grams"] == 250

    assert stack.request("GET", f"/products/nope-{uid()}").status == 404


# ---------------------------------------------------------------- updates

def test_deactivate_and_recategorise(stack: Any, admin: Any) -> None:
    cat, cat2 = make_category(stack, admin), make_category(stack, admin)
    p = create(stack, admin, product_body(cat, name="Original"))
    pid = p["product_id"]
    r = stack.request("PUT", f"/admin/products/{pid}", json={"active": False}, token=admin.id_token)
    assert r.status == 200 and r.json()["active"] is False
    assert pid not in listing_ids(stack, category=cat)
    assert stack.request("GET", f"/products/{pid}").status == 404

    r = stack.request("PUT", f"/admin/products/{pid}", json={"active": True, "category": cat2, "name": "Renamed Lamp"},
                      token=admin.id_token)
    assert r.status == 200, r.body
    assert pid not in listing_ids(stack, category=cat)
    assert listing_ids(stack, category=cat2) == [pid]
    assert listing_ids(stack, category=cat2, q="lamp") == [pid]
    assert listing_ids(stack, category=cat2, q="original") == []
    assert stack.request("GET", f"/products/{pid}").json()["name"] == "Renamed Lamp"

    r = stack.request("PUT", f"/admin/products/{pid}", json={"category": f"nope-{uid()}"}, token=admin.id_token)
    assert r.status == 422 and fields(r) == {"body.category"}
    assert listing_ids(stack, category=cat2) == [pid]  # unchanged
    r = stack.request("PUT", f"/admin/products/{pid}", json={}, token=admin.id_token)
    assert r.status == 422
    assert stack.request("PUT", f"/admin/products/nope-{uid()}", json={"name": "x"},
                         token=admin.id_token).status == 404


def test_put_sku_creates_replaces_and_guards_codes(stack: Any, admin: Any) -> None:
    cat = make_category(stack, admin)
    a = create(stack, admin, product_body(cat, prices=(2000,)))
    b = create(stack, admin, product_body(cat, prices=(3000,)))
    code = f"NEW-{uid().upper()}"
    sku = {"name": "Mini", "options": {"size": "S"}, "price": {"amount": 500, "currency": "EUR"}, "weight_grams": 90}
    r = stack.request("PUT", f"/admin/products/{a['product_id']}/skus/{code}", json=sku, token=admin.id_token)
    assert r.status == 201, r.body
    assert listing_ids(stack, category=cat, sort="price_asc") == [a["product_id"], b["product_id"]]
    details = stack.request("GET", f"/products/{a['product_id']}").json()
    assert details["price_from"]["amount"] == 500 and code in {s["sku"] for s in details["skus"]}

    # replace: deactivating the cheap SKU moves the product back to its other price
    r = stack.request("PUT", f"/admin/products/{a['product_id']}/skus/{code}", json={**sku, "active": False},
                      token=admin.id_token)
    assert r.status == 200
    assert stack.request("GET", f"/products/{a['product_id']}").json()["price_from"]["amount"] == 2000

    # the code belongs to product a: product b cannot take it
    r = stack.request("PUT", f"/admin/products/{b['product_id']}/skus/{code}", json=sku, token=admin.id_token)
    assert r.status == 409 and code in r.json()["error"]["message"]
    assert stack.request("PUT", f"/admin/products/nope-{uid()}/skus/{code}", json=sku,
                         token=admin.id_token).status == 404
    r = stack.request("PUT", f"/admin/products/{a['product_id']}/skus/bad code", json={**sku, "weight_grams": 0},
                      token=admin.id_token)
    assert r.status == 422 and {"path.sku", "body.weight_grams"} <= fields(r)


def test_price_change_reorders_listing_and_records_history(stack: Any, admin: Any) -> None:
    cat = make_category(stack, admin)
    a = create(stack, admin, product_body(cat, prices=(1000, 4000)))
    b = create(stack, admin, product_body(cat, prices=(2000,)))
    assert listing_ids(stack, category=cat, sort="price_asc") == [a["product_id"], b["product_id"]]
    cheap_sku = a["skus"][0]["sku"]
    r = stack.request("PUT", f"/admin/skus/{cheap_sku}/price", json={"price": {"amount": 2500, "currency": "EUR"}},
                      token=admin.id_token)
    assert r.status == 200, r.body
    assert r.json()["old_price"] == {"amount": 1000, "currency": "EUR"}
    assert listing_ids(stack, category=cat, sort="price_asc") == [b["product_id"], a["product_id"]]
    assert listing_ids(stack, category=cat, max_price=2000, sort="price_asc") == [b["product_id"]]
    listed = stack.request("GET", "/products", query={"category": cat, "sort": "price_asc"}).json()["items"]
    assert listed[1]["price_from"]["amount"] == 2500
    # same price again: no-op, no second history item
    r = stack.request("PUT", f"/admin/skus/{cheap_sku}/price", json={"price": {"amount": 2500, "currency": "EUR"}},
                      token=admin.id_token)
    assert r.status == 200 and r.json()["changed"] is False

    ddb = stack.client("dynamodb")
    hist = ddb.query(TableName=stack.physical_id("CatalogTable"),
                     KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
                     ExpressionAttributeValues={":pk": {"S": f"PRODUCT#{a['product_id']}"},
                                                ":p": {"S": f"PRICE#{cheap_sku}#"}})["Items"]
    assert len(hist) == 1
    assert hist[0]["old_price_amount"] == {"N": "1000"} and hist[0]["new_price_amount"] == {"N": "2500"}

    r = stack.request("PUT", f"/admin/skus/NOPE-{uid().upper()}/price",
                      json={"price": {"amount": 100, "currency": "EUR"}}, token=admin.id_token)
    assert r.status == 404
    r = stack.request("PUT", f"/admin/skus/{cheap_sku}/price", json={"price": {"amount": 100, "currency": "GBP"}},
                      token=admin.id_token)
    assert r.status == 422 and fields(r) == {"body.price.currency"}
    r = stack.request("PUT", f"/admin/skus/{cheap_sku}/price", json={"price": {"amount": 0, "currency": "EUR"}},
                      token=admin.id_token)
    assert r.status == 422 and fields(r) == {"body.price.amount"}
    r = stack.request("PUT", f"/admin/skus/{cheap_sku}/price", json={"price": 12.5}, token=admin.id_token)
    assert r.status == 422 and "body.price" in fields(r)


def test_get_skus_contract_still_holds(stack: Any, admin: Any) -> None:
    """cart/checkout read SKUs through shop.catalog.repository.get_skus: it must see admin writes."""
    from shop.catalog.repository import get_skus
    from shop.config import function_environment

    cat = make_category(stack, admin)
    p = create(stack, admin, product_body(cat, prices=(700,)))
    code = p["skus"][0]["sku"]
    stack.request("PUT", f"/admin/skus/{code}/price", json={"price": {"amount": 750, "currency": "EUR"}},
                  token=admin.id_token)
    with function_environment(stack.function_env("CatalogFunction")):
        found = get_skus([code, "UNKNOWN-SKU"])
    assert set(found) == {code}
    assert found[code].price.amount == 750 and found[code].product_id == p["product_id"]


def test_concurrent_price_changes_keep_listing_keys_consistent(stack: Any, admin: Any) -> None:
    """Writers race on one product: every change lands (version-conditioned transactions retry) and the
    product's min price / price_sk match its SKUs afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    from shop.catalog import service
    from shop.catalog.models import PriceIn
    from shop.config import function_environment

    cat = make_category(stack, admin)
    p = create(stack, admin, product_body(cat, prices=(5000, 6000)))
    codes = [s["sku"] for s in p["skus"]]
    env = stack.function_env("CatalogFunction")
    plans = {codes[0]: [4100, 4200, 4300], codes[1]: [3900, 3800, 4400]}

    def run(code: str) -> None:
        with function_environment(env):
            for amount in plans[code]:
                service.set_price(code, PriceIn.model_validate({"price": {"amount": amount, "currency": "EUR"}}))

    with ThreadPoolExecutor(max_workers=2) as pool:
        for f in [pool.submit(run, c) for c in codes]:
            f.result(timeout=60)

    details = stack.request("GET", f"/products/{p['product_id']}").json()
    assert {s["sku"]: s["price"]["amount"] for s in details["skus"]} == {codes[0]: 4300, codes[1]: 4400}
    assert details["price_from"]["amount"] == 4300
    assert listing_ids(stack, category=cat, min_price=4300, max_price=4300, sort="price_asc") == [p["product_id"]]
    ddb = stack.client("dynamodb")
    hist = ddb.query(TableName=stack.physical_id("CatalogTable"),
                     KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
                     ExpressionAttributeValues={":pk": {"S": f"PRODUCT#{p['product_id']}"},
                                                ":p": {"S": "PRICE#"}})["Items"]
    assert len(hist) == 6
