"""Pure rules of the catalog listing: search tokens, listing index keys, price range key conditions, cursors.

The listing indexes are sparse: only an active product with at least one active SKU carries the keys
(category_pk, listing_pk, price_sk, created_sk). Sort keys embed the product id so they are unique and a
cursor built from the last returned item resumes exactly after it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shop.dynamo import decode_cursor, encode_cursor, key_schema
from shop.errors import InvalidInput

LISTING_PK = "PRODUCTS"
LISTING_ATTRS = ("category_pk", "listing_pk", "price_sk", "created_sk")
PRICE_DIGITS = 12
MAX_PRICE = 10**PRICE_DIGITS - 1
MAX_QUERY_TOKENS = 8
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


class Sort(StrEnum):
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NEWEST = "newest"


def _fold(text: str) -> str:
    """Lower-case and strip accents so 'Café' matches 'cafe'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokenize(*texts: str | None) -> list[str]:
    """Distinct search tokens of the texts, in first-seen order (letters and digits; everything else splits)."""
    seen: dict[str, None] = {}
    for text in texts:
        if text:
            for tok in _TOKEN.findall(_fold(text)):
                seen.setdefault(tok, None)
    return list(seen)


def search_text(name: str, description: str | None, brand: str | None, category: str | None,
                extra: Iterable[str] = ()) -> str:
    """The stored search_text: tokens separated by single spaces with a leading and trailing space, so a
    query token matches the start of a word with ``contains(search_text, " <token>")``."""
    tokens = tokenize(name, description, brand, category.replace("-", " ") if category else None, *extra)
    return " " + " ".join(tokens) + " " if tokens else " "


def query_tokens(q: str | None) -> list[str]:
    if q is None:
        return []
    tokens = tokenize(q)
    if len(tokens) > MAX_QUERY_TOKENS:
        raise InvalidInput("q", f"at most {MAX_QUERY_TOKENS} search words")
    return tokens


def price_sk(min_price: int, product_id: str) -> str:
    if not 0 <= min_price <= MAX_PRICE:
        raise ValueError("price out of range for the listing key")
    return f"{min_price:0{PRICE_DIGITS}d}#{product_id}"


def created_sk(created_at: str, product_id: str) -> str:
    return f"{created_at}#{product_id}"


def category_pk(category: str) -> str:
    return f"CAT#{category}"


def listing_keys(*, product_id: str, category: str, created_at: str, active: bool,
                 min_price: int | None) -> dict[str, str]:
    """The four listing attributes a product carries, or {} when it must not be listed (inactive or no
    active SKU)."""
    if not active or min_price is None:
        return {}
    return {
        "category_pk": category_pk(category),
        "listing_pk": LISTING_PK,
        "price_sk": price_sk(min_price, product_id),
        "created_sk": created_sk(created_at, product_id),
    }


# Featured products of a category (the home page): a listed product an admin marked ``featured`` carries
# ``featured_sk`` (its rank, then its id), so the sparse index ByCategoryFeatured (category_pk, featured_sk) holds
# exactly the featured products that are listed, in the order a storefront shows them.
FEATURED_INDEX = "ByCategoryFeatured"
FEATURED_ATTR = "featured_sk"
FEATURED_RANK_DIGITS = 7
DEFAULT_FEATURED_RANK = 100


def featured_sk(product: Mapping[str, Any], listed: bool) -> str | None:
    """The featured sort key of a product, or None when it must not be in the featured index (not featured, or
    not listed: a deactivated product leaves the home page with the listing and comes back with it)."""
    if not listed or not product.get("featured"):
        return None
    rank = product.get("featured_rank")
    rank = DEFAULT_FEATURED_RANK if rank is None else int(rank)
    return f"{rank:0{FEATURED_RANK_DIGITS}d}#{product['product_id']}"


def featured_query(category: str) -> ListingQuery:
    """The Query of a category's featured products, lowest rank first (a Query on the sparse index, no Scan)."""
    return ListingQuery(index=FEATURED_INDEX, hash_attr="category_pk", hash_value=category_pk(category),
                        range_attr=FEATURED_ATTR, forward=True, key_condition="#h = :h",
                        values={":h": {"S": category_pk(category)}}, names={"#h": "category_pk"}, filters=[])


def min_active_price(skus: Iterable[Mapping[str, Any]]) -> int | None:
    prices = [int(s["price_amount"]) for s in skus if s.get("active", True)]
    return min(prices) if prices else None


@dataclass(frozen=True)
class ListingQuery:
    """Which index to query and how; built from validated request parameters."""

    index: str
    hash_attr: str
    hash_value: str
    range_attr: str
    forward: bool
    key_condition: str
    values: dict[str, Any]
    names: dict[str, str]
    filters: list[str]

    def key_attrs(self) -> tuple[str, ...]:
        return ("pk", "sk", self.hash_attr, self.range_attr)


def price_bounds(min_price: int | None, max_price: int | None) -> tuple[str | None, str | None]:
    """Inclusive price_sk bounds for a price range: every product id sorts between '#' and '#~'."""
    if min_price is not None and max_price is not None and min_price > max_price:
        raise InvalidInput("min_price", "must not be greater than max_price")
    low = f"{min_price:0{PRICE_DIGITS}d}#" if min_price is not None else None
    high = f"{max_price:0{PRICE_DIGITS}d}#~" if max_price is not None else None
    return low, high


def build_listing_query(*, category: str | None, sort: Sort, min_price: int | None, max_price: int | None,
                        tokens: list[str], brand: str | None = None) -> ListingQuery:
    """The browse query on a listing index. ``brand`` (a folded brand key, shop.catalog.search.brand_key) is a
    filter on the product's ``brand_key``; searches with words go to the search index instead of ``tokens``."""
    by_price = sort in (Sort.PRICE_ASC, Sort.PRICE_DESC)
    if category:
        hash_attr, hash_value = "category_pk", category_pk(category)
        index = "ByCategoryPrice" if by_price else "ByCategoryNewest"
    else:
        hash_attr, hash_value = "listing_pk", LISTING_PK
        index = "ByListingPrice" if by_price else "ByListingNewest"
    range_attr = "price_sk" if by_price else "created_sk"
    names = {"#h": hash_attr}
    values: dict[str, Any] = {":h": {"S": hash_value}}
    key_condition = "#h = :h"
    filters: list[str] = []
    low, high = price_bounds(min_price, max_price)
    if by_price:
        if low or high:
            names["#r"] = "price_sk"
        if low and high:
            key_condition += " AND #r BETWEEN :lo AND :hi"
            values[":lo"], values[":hi"] = {"S": low}, {"S": high}
        elif low:
            key_condition += " AND #r >= :lo"
            values[":lo"] = {"S": low}
        elif high:
            key_condition += " AND #r <= :hi"
            values[":hi"] = {"S": high}
    else:
        # newest first: the price range can only be a filter on this index
        if min_price is not None:
            names["#mp"] = "min_price_amount"
            filters.append("#mp >= :minp")
            values[":minp"] = {"N": str(min_price)}
        if max_price is not None:
            names["#mp"] = "min_price_amount"
            filters.append("#mp <= :maxp")
            values[":maxp"] = {"N": str(max_price)}
    if brand:
        names["#bk"] = "brand_key"
        filters.append("#bk = :bk")
        values[":bk"] = {"S": brand}
    if tokens:
        names["#st"] = "search_text"
        for i, tok in enumerate(tokens):
            filters.append(f"contains(#st, :q{i})")
            values[f":q{i}"] = {"S": " " + tok}
    return ListingQuery(index=index, hash_attr=hash_attr, hash_value=hash_value, range_attr=range_attr,
                        forward=sort not in (Sort.PRICE_DESC, Sort.NEWEST), key_condition=key_condition,
                        values=values, names=names, filters=filters)


def cursor_for(raw_item: Mapping[str, Any], query: ListingQuery) -> str | None:
    """Opaque cursor (base64 JSON of the item's table and index keys) resuming right after raw_item."""
    return encode_cursor({k: raw_item[k] for k in query.key_attrs()})


def start_key(cursor: str | None, query: ListingQuery) -> dict[str, Any] | None:
    """Decode a cursor and check it belongs to this listing (same index and partition), else 422."""
    # the one cursor codec: exactly the index's key attributes, each a valid key value (shop.dynamo)
    key = decode_cursor(cursor, "cursor", key_schema(query.index))
    if key is None:
        return None
    if set(key) != set(query.key_attrs()) or key[query.hash_attr]["S"] != query.hash_value:
        raise InvalidInput("cursor", "not a cursor of this listing")
    return key
