"""Pure search rules: the tokenizer and stemmer (one for index and query), typo matching, a product's index
entries and their changes, facets and in-memory pages."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shop.catalog import search
from shop.catalog.listing import Sort
from shop.errors import InvalidInput

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("word", "stemmed"), [
    ("grinders", "grinder"), ("grinder", "grinder"), ("kettles", "kettle"), ("caresses", "caress"),
    ("ponies", "poni"), ("cats", "cat"), ("glass", "glass"), ("agreed", "agree"), ("feed", "feed"),
    ("plastered", "plaster"), ("motoring", "motor"), ("sing", "sing"), ("conflated", "conflate"),
    ("troubled", "trouble"), ("sized", "size"), ("hopping", "hop"), ("falling", "fall"), ("hissing", "hiss"),
    ("filing", "file"), ("happy", "happi"), ("berries", "berri"), ("sky", "sky"), ("brewing", "brew"),
    # short words, words with digits and non-ASCII words stay as they are
    ("is", "is"), ("v60", "v60"), ("250g", "250g"), ("größe", "größe"),
])
def test_stemmer_is_porter_step_one(word: str, stemmed: str) -> None:
    assert search.stem(word) == stemmed


def test_terms_fold_stem_and_dedupe_in_first_seen_order() -> None:
    assert search.terms_of("Hand Burr GRINDERS", None, "grinder Café") == ["hand", "burr", "grinder", "cafe"]


def test_index_terms_put_name_brand_category_first_and_are_capped() -> None:
    product = {"name": "Burr Grinder", "brand": "Comandante", "category": "brewing-gear",
               "description": " ".join(f"word{i}" for i in range(100))}
    terms = search.index_terms(product)
    assert terms[:5] == ["burr", "grinder", "comandante", "brew", "gear"]
    assert len(terms) == search.MAX_INDEX_TERMS


def test_query_words_use_the_same_tokenizer() -> None:
    words = search.query_words("  Burr GRINDERS grinder ", 8)
    assert [(w.raw, w.term) for w in words] == [("burr", "burr"), ("grinders", "grinder")]
    assert search.query_words(None, 8) == [] and search.query_words("!!!", 8) == []
    with pytest.raises(InvalidInput) as err:
        search.query_words("a b c", 2)
    assert err.value.field == "q"


@pytest.mark.parametrize(("a", "b", "close"), [
    ("grnder", "grinder", True),    # insertion
    ("grinderr", "grinder", True),  # deletion
    ("grinker", "grinder", True),   # substitution
    ("grinedr", "grinder", True),   # neighbours swapped
    ("grinder", "grinder", True),
    ("grndr", "grinder", False), ("gnirder", "grinder", False), ("rgindre", "grinder", False),
    ("abc", "abcde", False),
])
def test_within_one_edit(a: str, b: str, close: bool) -> None:
    assert search.within_one_edit(a, b) is close
    assert search.within_one_edit(b, a) is close


@given(st.text("abcde", min_size=1, max_size=8), st.text("abcde", min_size=1, max_size=8))
def test_within_one_edit_agrees_with_a_reference(a: str, b: str) -> None:
    def distance(x: str, y: str) -> int:  # optimal string alignment distance
        d = [[i + j if i * j == 0 else 0 for j in range(len(y) + 1)] for i in range(len(x) + 1)]
        for i in range(1, len(x) + 1):
            for j in range(1, len(y) + 1):
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (x[i - 1] != y[j - 1]))
                if i > 1 and j > 1 and x[i - 1] == y[j - 2] and x[i - 2] == y[j - 1]:
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
        return d[len(x)][len(y)]

    assert search.within_one_edit(a, b) == (distance(a, b) <= 1)


def test_typo_candidates_only_for_long_words() -> None:
    vocabulary = ["grind", "grinder", "green", "grip"]
    assert search.typo_candidates(search.query_words("grnder", 8)[0], vocabulary) == ["grinder"]
    assert search.typo_candidates(search.query_words("grnders", 8)[0], vocabulary) == ["grinder"]
    assert search.typo_candidates(search.query_words("grp", 8)[0], vocabulary) == []  # under 5 letters
    assert search.typo_candidates(search.query_words("gxip", 8)[0], vocabulary) == []


def test_brand_key_folds_case_accents_and_spacing() -> None:
    assert search.brand_key("  Café  NOIR ") == "cafe noir" == search.brand_key("cafe-noir")
    assert search.brand_key(None) is None and search.brand_key("!!") is None


def product(**over: Any) -> dict[str, Any]:
    base = {"product_id": "p1", "name": "Burr Grinder", "brand": "Acme", "category": "brewing",
            "description": "", "currency": "EUR", "min_price_amount": 1500, "listing_pk": "PRODUCTS",
            "created_at": "2026-01-01T00:00:00.000000Z", "active": True}
    return {**base, **over}


def test_a_listed_product_owns_postings_and_a_catalogue_entry() -> None:
    change = search.index_change({}, product())
    assert change.terms == ["burr", "grinder", "acme", "brew"]
    keys = {(i["pk"], i["sk"]) for i in change.put}
    assert keys == {("TOKEN#b", "burr#p1"), ("TOKEN#g", "grinder#p1"), ("TOKEN#a", "acme#p1"),
                    ("TOKEN#b", "brew#p1"), ("CATALOGUE", "brewing#p1")}
    posting = next(i for i in change.put if i["sk"] == "grinder#p1")
    assert posting["order_price"] == "000000001500#p1" and posting["brand_key"] == "acme"
    # never a listing index key on an index entry: it would show up in the listing GSIs
    assert all(not set(i) & {"category_pk", "listing_pk", "price_sk", "created_sk"} for i in change.put)
    assert change.delete == [] and change.new_terms == change.terms


def test_renaming_drops_old_terms_and_keeps_unchanged_entries() -> None:
    before = {**product(), "search_terms": ["burr", "grinder", "acme", "brew"]}
    change = search.index_change(before, product(name="Burr Mill"))
    assert {(d["pk"], d["sk"]) for d in change.delete} == {("TOKEN#g", "grinder#p1")}
    assert [(i["pk"], i["sk"]) for i in change.put] == [("TOKEN#m", "mill#p1")]
    assert change.new_terms == ["mill"]


def test_a_price_change_rewrites_every_entry_and_unlisting_deletes_them() -> None:
    before = {**product(), "search_terms": ["burr", "grinder", "acme", "brew"]}
    assert len(search.index_change(before, product(min_price_amount=900)).put) == 5
    gone = search.index_change(before, {k: v for k, v in product(active=False).items() if k != "listing_pk"})
    assert gone.terms is None and gone.put == [] and len(gone.delete) == 5
    # a product stored before the index existed owns nothing yet: everything is put
    assert len(search.index_change(product(), product()).put) == 5


def entry(pid: str, price: int, category: str = "c", brand: str | None = "Acme",
          created: str = "2026") -> dict[str, Any]:
    out = {"product_id": pid, "category": category, "min_price_amount": price,
           "order_price": f"{price:012d}#{pid}", "order_newest": f"{created}#{pid}"}
    if brand:
        out.update(brand=brand, brand_key=search.brand_key(brand))
    return out


def test_facets_count_every_match() -> None:
    rows = [entry("a", 500), entry("b", 999, "d", "ACME"), entry("c", 1000, "d", None), entry("e", 30000, "d")]
    f = search.facets(rows, currency="EUR", exhaustive=True)
    assert f["total"] == 4 and f["exhaustive"] is True
    assert f["categories"] == [{"value": "d", "count": 3}, {"value": "c", "count": 1}]
    assert f["brands"] == [{"value": "Acme", "count": 3}]
    assert [b["count"] for b in f["price_bands"]] == [2, 1, 0, 0, 0, 1]
    assert f["price_bands"][0] == {"min_price": 0, "max_price": 999, "currency": "EUR", "count": 2}
    assert f["price_bands"][-1]["max_price"] is None


@pytest.mark.parametrize("sort", list(Sort))
def test_pages_are_full_and_resume_exactly(sort: Sort) -> None:
    rows = [entry(f"p{i:02d}", 1000 + 100 * (i // 3), created=f"2026-{i % 4}") for i in range(12)]
    pages, after = [], None
    while True:
        chunk, after = search.page(rows, sort, after, 5)
        pages.append([e["product_id"] for e in chunk])
        if after is None:
            break
        assert search.decode_index_cursor(search.encode_index_cursor(after, sort), sort) == after
    assert [len(p) for p in pages] == [5, 5, 2]
    flat = [pid for p in pages for pid in p]
    assert sorted(flat) == sorted(e["product_id"] for e in rows)


def test_a_search_cursor_of_another_sort_is_rejected() -> None:
    cursor = search.encode_index_cursor("000000001000#p1", Sort.PRICE_ASC)
    with pytest.raises(InvalidInput):
        search.decode_index_cursor(cursor, Sort.NEWEST)
    assert search.decode_index_cursor(None, Sort.NEWEST) is None


def test_filters() -> None:
    f = search.Filters(category="d", brand="acme", min_price=500, max_price=1000)
    assert f.keep(entry("a", 500, "d")) and not f.keep(entry("a", 1001, "d"))
    assert not f.keep(entry("a", 600, "c")) and not f.keep(entry("a", 600, "d", "Other"))
