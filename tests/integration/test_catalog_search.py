"""Search that finds (issue 16 item 6) through the gateway emulation against moto: stemming, prefixes and typos,
the brand filter, full pages, facets, the index kept with the product, the backfill and the read counts."""

from __future__ import annotations

import random
import string
from collections import Counter
from typing import Any

import pytest
from shop.catalog import search
from shop.config import function_environment

from tests.factories import script_report
from tests.integration.test_call_budget import dynamodb_calls
from tests.integration.test_catalog_api import create, listing_ids, make_category, product_body

pytestmark = pytest.mark.integration


def word(n: int = 8) -> str:
    """A made-up word of letters only (so typos apply to it), unique to the test; ending in 'k', the stemmer
    leaves it (and it plus 's') as it is. Without 'z': a query of its first three letters + 'z' must be no
    prefix of it (with a 'z' fourth, one run in 26 failed)."""
    return "q" + "".join(random.choices(string.ascii_lowercase.replace("z", ""), k=n - 2)) + "k"


def page(stack: Any, **query: Any) -> dict[str, Any]:
    r = stack.request("GET", "/products", query={k: str(v) for k, v in query.items()})
    assert r.status == 200, r.body
    return dict(r.json())


def all_pages(stack: Any, **query: Any) -> list[list[str]]:
    pages, cursor = [], None
    for _ in range(50):
        body = page(stack, **query, **({"cursor": cursor} if cursor else {}))
        pages.append([i["product_id"] for i in body["items"]])
        cursor = body["next_cursor"]
        if not cursor:
            return pages
    raise AssertionError("pagination did not end")


def catalogue(stack: Any) -> list[dict[str, Any]]:
    """Every listed product, walked through the browse listing (the listing GSI, not the search index)."""
    out, cursor = [], None
    while True:
        body = page(stack, limit=100, sort="price_asc", **({"cursor": cursor} if cursor else {}))
        out.extend(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return out


def index_items(stack: Any, pk: str, prefix: str) -> list[dict[str, Any]]:
    resp = stack.client("dynamodb").query(
        TableName=stack.physical_id("CatalogTable"), KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues={":pk": {"S": pk}, ":p": {"S": prefix}}, ConsistentRead=True)
    return list(resp["Items"])


def test_plurals_prefixes_and_typos_find_the_grinder(stack: Any, admin: Any) -> None:
    cat = make_category(stack, admin)
    w = word()
    grinder = create(stack, admin, product_body(cat, name=f"Hand burr grinder {w}", brand="Comandante"))["product_id"]
    kettle = create(stack, admin, product_body(cat, name=f"Gooseneck kettles {w}", brand="Fellow"))["product_id"]
    for q in ("grinder", "grinders", "GRINDERS", "grnder", "grinedr", "grind", "burrs", "comandante", "comandnte"):
        assert listing_ids(stack, category=cat, q=q) == [grinder], q
    assert listing_ids(stack, category=cat, q="kettle") == [kettle]
    assert listing_ids(stack, category=cat, q=f"{w} grinder") == [grinder]
    # the made-up word alone, mistyped (one letter dropped, two swapped), stemmed and as a prefix
    assert set(listing_ids(stack, q=w[:3] + w[4:])) == {grinder, kettle}
    assert set(listing_ids(stack, q=w[:2] + w[3] + w[2] + w[4:])) == {grinder, kettle}
    assert set(listing_ids(stack, q=w + "s")) == {grinder, kettle}
    # a prefix in this test's category: over the whole shared catalogue, other tests' words with the same four
    # letters can fill the first page
    assert set(listing_ids(stack, category=cat, q=w[:4])) >= {grinder, kettle}
    # words stay ANDed, a typo needs 5+ letters, and an exact word does not pull in its neighbours
    assert listing_ids(stack, category=cat, q="grinder fellow") == []
    # in this test's category: the whole shared catalogue may hold another test's made-up word with that prefix
    assert listing_ids(stack, category=cat, q=w[:3] + "z") == []
    # the category's words are indexed too
    assert set(listing_ids(stack, q=f"{w} {cat.split('-')[1]}")) == {grinder, kettle}


def test_brand_filter_browse_and_search(stack: Any, admin: Any) -> None:
    cat = make_category(stack, admin)
    w = word()
    acme = [create(stack, admin, product_body(cat, name=f"{w} item {i}", brand="Café Acme",
                                              prices=(1000 + i,)))["product_id"] for i in range(3)]
    other = create(stack, admin, product_body(cat, name=f"{w} other", brand="Bodum"))["product_id"]
    plain = create(stack, admin, product_body(cat, name=f"{w} plain", brand=None))["product_id"]
    assert listing_ids(stack, category=cat, brand="cafe ACME", sort="price_asc") == acme
    assert listing_ids(stack, category=cat, brand="bodum") == [other]
    assert listing_ids(stack, q=w, brand="Café Acme", sort="price_desc") == acme[::-1]
    assert listing_ids(stack, category=cat, brand="nobody") == []
    assert set(listing_ids(stack, category=cat)) == {*acme, other, plain}
    # browse pages with a brand filter are full too (the Query continues past products of other brands)
    assert all_pages(stack, category=cat, brand="café acme", limit=2, sort="newest") == [acme[::-1][:2], acme[:1]]
    r = stack.request("GET", "/products", query={"brand": "!!"})
    assert r.status == 422 and "query.brand" in str(r.body)
    # a brand change moves the product between brands
    r = stack.request("PUT", f"/admin/products/{other}", json={"brand": "Acme Café"}, token=admin.id_token)
    assert r.status == 200, r.body
    assert other in listing_ids(stack, category=cat, brand="acme cafe")
    assert listing_ids(stack, q=w, brand="acme cafe") == [other]


@pytest.mark.parametrize("sort", ["price_asc", "price_desc", "newest"])
def test_search_pages_are_full_without_duplicates_or_gaps(stack: Any, admin: Any, sort: str) -> None:
    cat = make_category(stack, admin)
    w = word()
    matching = set()
    for i in range(16):
        name = f"{w} thing {i}" if i % 4 else f"unrelated thing {i}"  # 12 match, 4 do not
        pid = create(stack, admin, product_body(cat, name=name, prices=(1000 + 100 * (i // 3),)))["product_id"]
        if i % 4:
            matching.add(pid)
    pages = all_pages(stack, q=w, sort=sort, limit=5)
    assert [len(p) for p in pages] == [5, 5, 2]
    flat = [pid for p in pages for pid in p]
    assert len(flat) == len(set(flat)) and set(flat) == matching
    assert flat == listing_ids(stack, q=w, sort=sort, limit=100)
    # the same with facets (browse through the index): full pages over the category
    pages = all_pages(stack, category=cat, sort=sort, limit=5, facets="true")
    assert [len(p) for p in pages] == [5, 5, 5, 1]
    # a browse cursor is not a search cursor, nor one of another sort
    cursor = page(stack, q=w, sort=sort, limit=5)["next_cursor"]
    for other in ({"q": w, "sort": "price_asc" if sort != "price_asc" else "newest"}, {"category": cat}):
        r = stack.request("GET", "/products", query={**other, "cursor": cursor})
        assert r.status == 422 and "query.cursor" in str(r.body)


def _expected_facets(products: list[dict[str, Any]]) -> tuple[Counter[str], Counter[str], list[int]]:
    bands = [0] * len(search.PRICE_BANDS)
    for p in products:
        amount = p["price_from"]["amount"]
        bands[max(i for i, low in enumerate(search.PRICE_BANDS) if amount >= low)] += 1
    return (Counter(p["category"] for p in products), Counter(p["brand"] for p in products if p["brand"]), bands)


def test_facets_equal_a_count_over_the_whole_catalogue(stack: Any, admin: Any) -> None:
    cats = [make_category(stack, admin) for _ in range(2)]
    w = word()
    specs = [(cats[0], "Acme", 500), (cats[0], "Acme", 2500), (cats[0], "Bodum", 12000), (cats[1], "Acme", 999),
             (cats[1], None, 30000), (cats[1], "Hario", 1000)]
    for i, (cat, brand, price) in enumerate(specs):
        create(stack, admin, product_body(cat, name=f"{w} facet {i}", brand=brand, prices=(price,)))
    create(stack, admin, product_body(cats[0], name="not this one", brand="Acme", prices=(700,)))

    everything = catalogue(stack)  # independent of the search index: the listing GSI, filtered here
    for query, keep in [
        ({"q": w}, lambda p: w in p["name"]),
        ({"q": w, "brand": "acme"}, lambda p: w in p["name"] and p["brand"] == "Acme"),
        ({"q": w, "min_price": 999, "max_price": 12000}, lambda p: w in p["name"] and
         999 <= p["price_from"]["amount"] <= 12000),
        ({"category": cats[0]}, lambda p: p["category"] == cats[0]),
    ]:
        body = page(stack, **query, facets="true", limit=1)
        facets = body["facets"]
        matches = [p for p in everything if keep(p)]
        categories, brands, bands = _expected_facets(matches)
        assert facets["total"] == len(matches) and facets["exhaustive"] is True, query
        assert {f["value"]: f["count"] for f in facets["categories"]} == categories, query
        assert {f["value"]: f["count"] for f in facets["brands"]} == brands, query
        assert [b["count"] for b in facets["price_bands"]] == bands, query
        assert len(body["items"]) == 1
    # without facets=true the answer keeps its old shape
    assert set(page(stack, q=w)) == {"items", "next_cursor"}


def test_a_renamed_product_drops_its_old_tokens(stack: Any, admin: Any) -> None:
    cat = make_category(stack, admin)
    old, new = word(), word()
    pid = create(stack, admin, product_body(cat, name=f"Walrus {old} lamp"))["product_id"]
    assert listing_ids(stack, q=old) == [pid]
    assert len(index_items(stack, f"TOKEN#{old[0]}", f"{old}#{pid}")) == 1
    r = stack.request("PUT", f"/admin/products/{pid}", json={"name": f"Walrus {new} lamp"}, token=admin.id_token)
    assert r.status == 200, r.body
    assert listing_ids(stack, q=old) == []
    assert listing_ids(stack, q=new) == [pid]
    assert index_items(stack, f"TOKEN#{old[0]}", f"{old}#{pid}") == []
    assert len(index_items(stack, f"TOKEN#{new[0]}", f"{new}#{pid}")) == 1
    # deactivated: no index entries at all; reactivated: back
    r = stack.request("PUT", f"/admin/products/{pid}", json={"active": False}, token=admin.id_token)
    assert r.status == 200
    assert listing_ids(stack, q=new) == [] and index_items(stack, f"TOKEN#{new[0]}", f"{new}#{pid}") == []
    assert index_items(stack, "CATALOGUE", f"{cat}#{pid}") == []
    assert stack.request("PUT", f"/admin/products/{pid}", json={"active": True}, token=admin.id_token).status == 200
    assert listing_ids(stack, q=f"{new} walrus") == [pid]
    # a price change is in the index too (price filters and sorting read it there)
    sku = stack.request("GET", f"/products/{pid}").json()["skus"][0]["sku"]
    assert stack.request("PUT", f"/admin/skus/{sku}/price", json={"price": {"amount": 77777, "currency": "EUR"}},
                         token=admin.id_token).status == 200
    assert listing_ids(stack, q=new, min_price=77777) == [pid]
    assert listing_ids(stack, q=new, max_price=77776) == []


def test_a_product_with_many_skus_is_indexed_in_a_second_step(stack: Any, admin: Any) -> None:
    cat = make_category(stack, admin)
    w = word()
    body = product_body(cat, name=f"{w} many", prices=tuple(1000 + i for i in range(49)))
    pid = create(stack, admin, body)["product_id"]
    assert listing_ids(stack, q=w) == [pid]


def test_backfill_indexes_products_stored_before_the_index(stack: Any, admin: Any) -> None:
    from shop.catalog import service

    cat = make_category(stack, admin)
    w = word()
    pids = [create(stack, admin, product_body(cat, name=f"{w} legacy {i}", brand="Acme"))["product_id"]
            for i in range(3)]
    # make them look like products written before the search index: no entries, no search_terms, no brand_key
    ddb, table = stack.client("dynamodb"), stack.physical_id("CatalogTable")
    for pid in pids:
        key = {"pk": {"S": f"PRODUCT#{pid}"}, "sk": {"S": "PRODUCT"}}
        terms = [t["S"] for t in ddb.get_item(TableName=table, Key=key)["Item"]["search_terms"]["L"]]
        assert "legaci" in terms  # 'legacy', stemmed
        for k in [search.posting_key(t, pid) for t in terms] + [search.catalogue_key(cat, pid)]:
            ddb.delete_item(TableName=table, Key={"pk": {"S": k["pk"]}, "sk": {"S": k["sk"]}})
        ddb.update_item(TableName=table, Key={"pk": {"S": f"PRODUCT#{pid}"}, "sk": {"S": "PRODUCT"}},
                        UpdateExpression="REMOVE search_terms, brand_key")
    # scoped to the test's category: over the shared catalogue another test's random q-word can be one edit away
    assert listing_ids(stack, category=cat, q=w) == []
    assert listing_ids(stack, category=cat, brand="acme") == []

    with function_environment(stack.function_env("CatalogFunction")):
        first = service.reindex_search()
        again = service.reindex_search()
    assert first["reindexed"] >= 3 and again["reindexed"] == 0 and again["products"] == first["products"]
    assert set(listing_ids(stack, category=cat, q=w)) == set(pids)
    assert set(listing_ids(stack, category=cat, q=w[:3] + w[4:])) == set(pids)  # the vocabulary was filled too
    assert set(listing_ids(stack, category=cat, brand="acme")) == set(pids)


def test_read_counts_of_browse_and_search(stack: Any, admin: Any) -> None:
    """Browse keeps its one Query; a one-word search is one Query of the index and one batch read of the page;
    a mistyped word adds the vocabulary read and one Query per candidate term."""
    cat = make_category(stack, admin)
    w = word()
    for i in range(3):
        create(stack, admin, product_body(cat, name=f"{w} counted {i}"))
    # the storefront prices pages with its container's copy of the sales, read again once it is older than
    # shop.promotions.repository.SALES_MAX_AGE_SECONDS (30 s): counted below with a fresh copy, as most pages are
    listing_ids(stack, category=cat, limit=2)
    with dynamodb_calls("CatalogFunction", stack) as browse:
        assert len(listing_ids(stack, category=cat, limit=2)) == 2
    assert dict(browse) == {"query": 1}
    with dynamodb_calls("CatalogFunction", stack) as searched:
        assert len(listing_ids(stack, q=w, limit=2)) == 2
    assert dict(searched) == {"query": 1, "batch_get_item": 1}
    with dynamodb_calls("CatalogFunction", stack) as typo:
        assert len(listing_ids(stack, q=w[:3] + w[4:], limit=2, facets="true")) == 2
    assert dict(typo) == {"query": 3, "batch_get_item": 1}
    with dynamodb_calls("CatalogFunction", stack) as two_words:
        assert len(listing_ids(stack, q=f"{w} counted", category=cat)) == 3
    assert dict(two_words) == {"query": 2, "batch_get_item": 1}


def test_the_demo_seed_is_searchable(stack: Any) -> None:
    stack.seed_demo()
    assert "burr-grinder-c40" in listing_ids(stack, q="grinders")
    assert "burr-grinder-c40" in listing_ids(stack, q="grnder")
    assert listing_ids(stack, q="kettles", category="brewing") == ["gooseneck-kettle"]
    assert set(listing_ids(stack, brand="hario", category="brewing")) == {"pour-over-v60"}
    body = page(stack, category="brewing", facets="true")
    assert {f["value"] for f in body["facets"]["brands"]} >= {"Comandante", "Fellow", "Hario", "Bodum"}


def test_search_bad_input(stack: Any) -> None:
    r = stack.request("GET", "/products", query={"q": "a b c d e f g h i"})
    assert r.status == 422 and "query.q" in str(r.body)
    r = stack.request("GET", "/products", query={"q": "grinder", "min_price": "5", "max_price": "4"})
    assert r.status == 422 and "query.min_price" in str(r.body)
    r = stack.request("GET", "/products", query={"facets": "maybe"})
    assert r.status == 422 and "query.facets" in str(r.body)


def test_the_backfill_script_runs_against_a_stack(stack: Any, admin: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "reindex_search.py"
    spec = importlib.util.spec_from_file_location("reindex_search", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    create(stack, admin, product_body(make_category(stack, admin), name=f"{word()} scripted"))
    env = stack.function_env("CatalogFunction")
    args = ["--table", env["CATALOG_TABLE"], "--endpoint-url", stack.endpoint_url,
            "--region", env.get("AWS_REGION", "us-east-1")]
    assert script.main(args) == 0
    first = script_report(capsys.readouterr().out, "reindexed")
    assert script.main(args) == 0
    again = script_report(capsys.readouterr().out, "reindexed")
    assert first["products"] >= 1 and again == {"products": first["products"], "reindexed": 0}
