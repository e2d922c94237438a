"""Pure listing rules: search tokens, listing keys, price bounds, query building, cursors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shop.catalog import listing
from shop.catalog.listing import Sort
from shop.dynamo import encode_cursor
from shop.errors import InvalidInput

pytestmark = pytest.mark.unit


def test_tokenize_lowercases_strips_accents_and_dedupes() -> None:
    assert listing.tokenize("Café CRÈME, café", None, "Crème-brûlée 2x") == ["cafe", "creme", "brulee", "2x"]


def test_search_text_is_space_delimited_for_prefix_match() -> None:
    text = listing.search_text("Hand Burr Grinder", "Steel burrs", "Comandante", "brewing-gear")
    assert text == " hand burr grinder steel burrs comandante brewing gear "
    assert listing.search_text("", None, None, None) == " "


def test_query_tokens_limit_and_empty() -> None:
    assert listing.query_tokens(None) == []
    assert listing.query_tokens("  Burr  GRINDER ") == ["burr", "grinder"]
    with pytest.raises(InvalidInput) as err:
        listing.query_tokens(" ".join(f"w{i}" for i in range(listing.MAX_QUERY_TOKENS + 1)))
    assert err.value.field == "q"


def test_price_sk_sorts_numerically() -> None:
    keys = [listing.price_sk(p, "x") for p in (10, 9, 1000, 0, 99)]
    assert sorted(keys) == [listing.price_sk(p, "x") for p in (0, 9, 10, 99, 1000)]
    assert listing.price_sk(1290, "coffee-a") == "000000001290#coffee-a"
    with pytest.raises(ValueError):
        listing.price_sk(-1, "x")


def test_listing_keys_for_active_product() -> None:
    keys = listing.listing_keys(product_id="p1", category="tea", created_at="2026-01-01T00:00:00.000000Z",
                                active=True, min_price=990)
    assert keys == {"category_pk": "CAT#tea", "listing_pk": "PRODUCTS", "price_sk": "000000000990#p1",
                    "created_sk": "2026-01-01T00:00:00.000000Z#p1"}


@pytest.mark.parametrize(("active", "min_price"), [(False, 990), (True, None)])
def test_unlisted_products_have_no_listing_keys(active: bool, min_price: int | None) -> None:
    assert listing.listing_keys(product_id="p1", category="tea", created_at="t", active=active,
                                min_price=min_price) == {}


def test_min_active_price_ignores_inactive_skus() -> None:
    skus = [{"price_amount": 500, "active": False}, {"price_amount": 700}, {"price_amount": 650, "active": True}]
    assert listing.min_active_price(skus) == 650
    assert listing.min_active_price([{"price_amount": 5, "active": False}]) is None


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9),
       st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True))
def test_price_bounds_include_exactly_the_range(lo: int, hi: int, price: int, pid: str) -> None:
    if lo > hi:
        lo, hi = hi, lo
    low, high = listing.price_bounds(lo, hi)
    assert low is not None and high is not None
    key = listing.price_sk(price, pid)
    assert (low <= key <= high) == (lo <= price <= hi)


def test_min_above_max_is_rejected() -> None:
    with pytest.raises(InvalidInput) as err:
        listing.price_bounds(500, 100)
    assert err.value.field == "min_price"


def test_query_by_category_price_range_and_words() -> None:
    q = listing.build_listing_query(category="coffee", sort=Sort.PRICE_DESC, min_price=100, max_price=2000,
                                    tokens=["dark", "roast"])
    assert q.index == "ByCategoryPrice" and q.forward is False
    assert q.key_condition == "#h = :h AND #r BETWEEN :lo AND :hi"
    assert q.values[":h"] == {"S": "CAT#coffee"}
    assert q.values[":lo"] == {"S": "000000000100#"} and q.values[":hi"] == {"S": "000000002000#~"}
    assert q.filters == ["contains(#st, :q0)", "contains(#st, :q1)"]
    assert q.values[":q0"] == {"S": " dark"}


def test_query_newest_uses_price_filter_and_listing_index() -> None:
    q = listing.build_listing_query(category=None, sort=Sort.NEWEST, min_price=None, max_price=500, tokens=[])
    assert q.index == "ByListingNewest" and q.forward is False and q.range_attr == "created_sk"
    assert q.key_condition == "#h = :h"
    assert q.filters == ["#mp <= :maxp"]
    # every placeholder name is used (DynamoDB rejects unused names)
    expr = " ".join([q.key_condition, *q.filters])
    assert all(name in expr for name in q.names)


def test_price_asc_without_bounds_has_no_unused_names() -> None:
    q = listing.build_listing_query(category=None, sort=Sort.PRICE_ASC, min_price=None, max_price=None, tokens=[])
    assert q.index == "ByListingPrice" and q.forward is True
    assert q.names == {"#h": "listing_pk"}


def _raw(pid: str, price: int) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"PRODUCT#{pid}"}, "sk": {"S": "PRODUCT"}, "category_pk": {"S": "CAT#tea"},
            "price_sk": {"S": listing.price_sk(price, pid)}, "name": {"S": "ignored"}}


def test_cursor_round_trip_keeps_only_keys() -> None:
    q = listing.build_listing_query(category="tea", sort=Sort.PRICE_ASC, min_price=None, max_price=None, tokens=[])
    cursor = listing.cursor_for(_raw("p1", 990), q)
    assert cursor is not None
    assert listing.start_key(cursor, q) == {k: v for k, v in _raw("p1", 990).items() if k != "name"}


def test_cursor_of_another_listing_is_rejected() -> None:
    tea = listing.build_listing_query(category="tea", sort=Sort.PRICE_ASC, min_price=None, max_price=None, tokens=[])
    coffee = listing.build_listing_query(category="coffee", sort=Sort.PRICE_ASC, min_price=None, max_price=None,
                                         tokens=[])
    newest = listing.build_listing_query(category="tea", sort=Sort.NEWEST, min_price=None, max_price=None, tokens=[])
    cursor = listing.cursor_for(_raw("p1", 990), tea)
    for other in (coffee, newest):
        with pytest.raises(InvalidInput) as err:
            listing.start_key(cursor, other)
        assert err.value.field == "cursor"


@pytest.mark.parametrize("bad", ["!!!", "bm90LWpzb24", encode_cursor({"pk": {"N": "1"}}) or "", "e30"])
def test_garbage_cursor_is_422(bad: str) -> None:
    q = listing.build_listing_query(category=None, sort=Sort.NEWEST, min_price=None, max_price=None, tokens=[])
    with pytest.raises(InvalidInput) as err:
        listing.start_key(bad, q)
    assert err.value.field == "cursor"


def test_no_cursor_means_start() -> None:
    q = listing.build_listing_query(category=None, sort=Sort.NEWEST, min_price=None, max_price=None, tokens=[])
    assert listing.start_key(None, q) is None
