"""Catalog use cases: browse/search/details for shoppers, product/SKU/price management for admins.

Writes read the product aggregate, compute the new state with the pure rules of shop.catalog.listing and
commit it in one transaction conditioned on the product's version, retrying a few times on a concurrent
change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shop.catalog import listing, search
from shop.catalog import repository as repo
from shop.catalog.ratings import rating_view
from shop.config import get_settings
from shop.errors import InvalidInput, NotFound, ServiceBusy
from shop.models import Sku
from shop.money import Money

if TYPE_CHECKING:  # the admin input models: the shopper paths (storefront, reviews) never build one
    from shop.catalog.models import CategoryIn, NewSku, PriceIn, ProductCreate, ProductUpdate, SkuIn

WRITE_ATTEMPTS = 5


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _with_retries[T](action: Callable[[], T]) -> T:
    for _ in range(WRITE_ATTEMPTS):
        try:
            return action()
        except repo.StaleProduct:
            continue
    raise ServiceBusy("the product is being changed concurrently, retry shortly")


def _check_currency(price: Money, field: str) -> None:
    currency = get_settings().currency
    if price.currency != currency:
        raise InvalidInput(field, f"must be {currency}, the shop's currency")


# ---------------------------------------------------------------- views

def category_view(item: dict[str, Any]) -> dict[str, Any]:
    return {"category_id": item["category_id"], "name": item["name"], "description": item.get("description", ""),
            "sort_order": int(item.get("sort_order", 100))}


def listing_view(item: dict[str, Any]) -> dict[str, Any]:
    images = item.get("images") or []
    return {
        "product_id": item["product_id"], "name": item["name"], "category": item["category"],
        "brand": item.get("brand"),
        "price_from": {"amount": int(item["min_price_amount"]), "currency": item["currency"]},
        "image": images[0] if images else None, "rating": rating_view(item),
    }


def sku_view(item: dict[str, Any], available: int | None = None) -> dict[str, Any]:
    out = {"sku": item["sku"], "name": item["name"], "options": item.get("options") or {},
           "price": {"amount": int(item["price_amount"]), "currency": item["price_currency"]},
           "weight_grams": int(item["weight_grams"]), "active": bool(item.get("active", True))}
    if available is not None:
        out["available"] = available
        out["in_stock"] = available > 0
    return out


def product_view(product: dict[str, Any], skus: list[dict[str, Any]],
                 available: dict[str, int] | None = None) -> dict[str, Any]:
    min_price = product.get("min_price_amount")
    return {
        "product_id": product["product_id"], "name": product["name"],
        "description": product.get("description", ""), "category": product["category"],
        "brand": product.get("brand"), "attributes": product.get("attributes") or {},
        "images": product.get("images") or [], "active": bool(product.get("active", True)),
        "price_from": ({"amount": int(min_price), "currency": product["currency"]}
                       if min_price is not None else None),
        "rating": rating_view(product), "featured": bool(product.get("featured")),
        **({"featured_rank": int(product["featured_rank"])} if product.get("featured_rank") is not None else {}),
        "skus": [sku_view(s, None if available is None else available.get(s["sku"], 0))
                 for s in sorted(skus, key=lambda s: (int(s["price_amount"]), s["sku"]))],
        "created_at": product["created_at"], "updated_at": product["updated_at"],
    }


# ---------------------------------------------------------------- shopper reads

def list_categories() -> list[dict[str, Any]]:
    items = [category_view(c) for c in repo.list_categories()]
    return sorted(items, key=lambda c: (c["sort_order"], c["name"].casefold(), c["category_id"]))


def list_products(*, category: str | None, q: str | None, min_price: int | None, max_price: int | None,
                  sort: listing.Sort, limit: int, cursor: str | None, brand: str | None = None,
                  facets: bool = False) -> dict[str, Any]:
    """Browse (no search words, no facets): a listing index queried page by page, filters continuing the Query
    until the page is full. Search (words) or facets: the search index (shop.catalog.search)."""
    words = search.query_words(q, listing.MAX_QUERY_TOKENS)
    brand_key = search.brand_key(brand)
    if brand is not None and brand_key is None:
        raise InvalidInput("brand", "must contain a letter or digit")
    listing.price_bounds(min_price, max_price)
    if words or facets:
        filters = search.Filters(category=category, brand=brand_key, min_price=min_price, max_price=max_price)
        return search_page(words, filters, sort=sort, limit=limit, cursor=cursor, with_facets=facets)
    query = listing.build_listing_query(category=category, sort=sort, min_price=min_price, max_price=max_price,
                                        tokens=[], brand=brand_key)
    start = listing.start_key(cursor, query)
    items, next_cursor = repo.query_listing(query, start, limit)
    return {"items": [listing_view(i) for i in items], "next_cursor": next_cursor}


def _matches(words: list[search.Word], budget: repo.IndexBudget) -> dict[str, dict[str, Any]]:
    """product_id -> index entry of the listed products matching every word: a term starting with the word
    (stemmed), or else, for a word of 5+ letters no term starts with, a term one edit away."""
    matched: dict[str, dict[str, Any]] | None = None
    for word in words:
        found = {e["product_id"]: e for e in repo.index_range(search.posting_partition(word.term), word.term, budget)}
        if not found and word.typo_tolerant:
            for term in search.typo_candidates(word, repo.vocabulary(word.term[0], budget)):
                found.update((e["product_id"], e)
                             for e in repo.index_range(search.posting_partition(term), f"{term}#", budget))
        matched = found if matched is None else {pid: e for pid, e in matched.items() if pid in found}
        if not matched:
            return {}
    return matched or {}


def search_page(words: list[search.Word], filters: search.Filters, *, sort: listing.Sort, limit: int,
            cursor: str | None, with_facets: bool) -> dict[str, Any]:
    """The search port (words, filters, sort, cursor -> page and facets): here every match is read from the
    DynamoDB index (within the request's read budget), filtered, sorted and cut into full pages, then one batch
    read of the page's products for their views. An OpenSearch adapter would replace this body (README)."""
    after = search.decode_index_cursor(cursor, sort)
    budget = repo.IndexBudget()
    if words:
        matched = _matches(words, budget)
    else:
        prefix = f"{filters.category}#" if filters.category else ""
        matched = {e["product_id"]: e for e in repo.index_range(search.CATALOGUE_PK, prefix, budget)}
    rows = [e for e in matched.values() if filters.keep(e)]
    chunk, next_after = search.page(rows, sort, after, limit)
    products = repo.products_by_id([str(e["product_id"]) for e in chunk])
    items = [listing_view(products[pid]) for pid in (str(e["product_id"]) for e in chunk)
             if pid in products and search.is_listed(products[pid])]
    out: dict[str, Any] = {"items": items, "next_cursor": search.encode_index_cursor(next_after, sort)}
    if with_facets:
        out["facets"] = search.facets(rows, currency=get_settings().currency, exhaustive=not budget.exhausted)
    return out


def featured_products(category: str, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """A category's featured products (listed ones only), lowest rank first, a page at a time: one Query on the
    sparse featured index."""
    query = listing.featured_query(category)
    items, next_cursor = repo.query_listing(query, listing.start_key(cursor, query), limit)
    return {"items": [listing_view(i) for i in items], "next_cursor": next_cursor}


def listed_products(product_ids: list[str]) -> dict[str, dict[str, Any]]:
    """product_id -> its listing view, for those of ``product_ids`` that are listed now (active, with an active
    priced SKU: the products a shopper can buy); one BatchGetItem per 100, inactive and unknown ones left out."""
    found = repo.products_by_id(product_ids)
    return {pid: listing_view(item) for pid, item in found.items() if item.get("listing_pk")}


# SKU code -> product id, as this container looked them up: put_sku claims a code for one product for good, so a
# found owner never goes stale; a code not found is looked up again after UNKNOWN_SKU_RECHECK_SECONDS.
UNKNOWN_SKU_RECHECK_SECONDS = 60.0
_sku_owners: dict[str, str] = {}
_unknown_skus: dict[str, float] = {}


def skus_of_products(codes: list[str], product_ids: set[str]) -> dict[str, Sku]:
    """The SKUs among ``codes`` that belong to one of ``product_ids`` (the storefront's sale targets on a page):
    one batch read of those SKUs and their products, and one of the SKU lookups for codes this container has not
    resolved yet; nothing when none of them is on the page."""
    now = time.monotonic()
    unresolved = [c for c in codes if c not in _sku_owners
                  and now - _unknown_skus.get(c, -UNKNOWN_SKU_RECHECK_SECONDS - 1) > UNKNOWN_SKU_RECHECK_SECONDS]
    if unresolved:
        found = repo.sku_products(unresolved)
        _sku_owners.update(found)
        _unknown_skus.update({c: now for c in unresolved if c not in found})
    owners = {c: _sku_owners[c] for c in codes if _sku_owners.get(c) in product_ids}
    return repo.skus_by_owner(owners) if owners else {}


def sold_product(product_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The product and its active SKUs, as shoppers may see them (NotFound unless the product is sold). The
    product page around it (stock, "also bought") is composed above the catalogue, in shop.storefront."""
    product, skus = repo.get_product_aggregate(product_id)
    if product is None or not product.get("active", True):
        raise NotFound(f"product '{product_id}' not found")
    return product, [s for s in skus if s.get("active", True)]


# ---------------------------------------------------------------- admin writes

def put_category(category_id: str, body: CategoryIn) -> dict[str, Any]:
    item = repo.put_category(category_id, name=body.name, description=body.description,
                             sort_order=body.sort_order, now=now_iso())
    return category_view(item)


def _derived(product: dict[str, Any], skus: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """Attributes derived from the product and its SKUs (min price, search text, listing keys) to SET, and
    the listing keys to REMOVE when it must not be listed."""
    min_price = listing.min_active_price(skus)
    keys = listing.listing_keys(product_id=product["product_id"], category=product["category"],
                                created_at=product["created_at"], active=bool(product.get("active", True)),
                                min_price=min_price)
    set_attrs: dict[str, Any] = {
        "search_text": listing.search_text(product["name"], product.get("description"), product.get("brand"),
                                           product["category"]),
        **keys,
    }
    remove = [] if keys else list(listing.LISTING_ATTRS)
    featured = listing.featured_sk(product, listed=bool(keys))
    if featured:
        set_attrs[listing.FEATURED_ATTR] = featured
    else:
        remove.append(listing.FEATURED_ATTR)
    brand_key = search.brand_key(product.get("brand"))
    if brand_key:
        set_attrs["brand_key"] = brand_key
    else:
        remove.append("brand_key")
    if min_price is not None:
        set_attrs["min_price_amount"] = min_price
    else:
        remove.append("min_price_amount")
    return set_attrs, remove


def _indexed(before: dict[str, Any], set_attrs: dict[str, Any], remove: list[str]) -> search.IndexChange:
    """The search index change of a write taking ``before`` to ``before`` + set_attrs - remove; records the new
    term set on the product (``search_terms``) in the same write."""
    after = {k: v for k, v in {**before, **set_attrs}.items() if k not in remove}
    change = search.index_change(before, after)
    if change.terms is None:
        set_attrs.pop("search_terms", None)
        remove.append("search_terms")
    else:
        set_attrs["search_terms"] = change.terms
    return change


def _sku_item(product_id: str, code: str, body: SkuIn, now: str) -> dict[str, Any]:
    return {**repo.sku_item_key(product_id, code), "sku": code, "product_id": product_id,
            "name": body.name, "options": dict(body.options), "price_amount": body.price.amount,
            "price_currency": body.price.currency, "weight_grams": body.weight_grams, "active": body.active,
            "updated_at": now}


def create_product(body: ProductCreate) -> dict[str, Any]:
    for i, s in enumerate(body.skus):
        _check_currency(s.price, f"skus.{i}.price.currency")
    now = now_iso()
    pid = body.product_id
    product: dict[str, Any] = {
        **repo.product_item_key(pid), "product_id": pid, "name": body.name,
        "description": body.description, "category": body.category, "brand": body.brand,
        "attributes": dict(body.attributes), "images": list(body.images), "active": True,
        "created_at": now, "updated_at": now, "rating_count": 0, "rating_sum": 0,
        "currency": get_settings().currency, "version": 1,
    }
    skus = [_sku_item(pid, s.sku, s, now) for s in body.skus]
    set_attrs, _ = _derived(product, skus)
    product.update(set_attrs)
    index = search.index_change({}, product)
    if index.terms is not None:
        product["search_terms"] = index.terms
    try:
        repo.create_product(product, skus, index)
    except repo.StaleProduct as exc:
        raise ServiceBusy("create product: concurrent change, retry") from exc
    return product_view(product, skus)


def _load(product_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    product, skus = repo.get_product_aggregate(product_id, consistent=True)
    if product is None:
        raise NotFound(f"product '{product_id}' not found")
    return product, skus


def update_product(product_id: str, body: ProductUpdate) -> dict[str, Any]:
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    if "name" in changes and changes["name"] is None:
        raise InvalidInput("name", "must not be null")
    if "category" in changes and changes["category"] is None:
        raise InvalidInput("category", "must not be null")
    if "active" in changes and changes["active"] is None:
        raise InvalidInput("active", "must not be null")
    if "featured" in changes and changes["featured"] is None:
        raise InvalidInput("featured", "must not be null")

    def attempt() -> dict[str, Any]:
        product, skus = _load(product_id)
        updated = {**product, **changes, "updated_at": now_iso()}
        if updated.get("attributes") is None:
            updated["attributes"] = {}
        if updated.get("images") is None:
            updated["images"] = []
        if updated.get("description") is None:
            updated["description"] = ""
        set_attrs, remove = _derived(updated, skus)
        for k in ("name", "description", "category", "attributes", "images", "active", "updated_at"):
            set_attrs[k] = updated[k]
        for k in ("featured", "featured_rank"):  # the home page's featured products (featured_sk: _derived)
            if k in changes and changes[k] is None:
                remove.append(k)
            elif k in changes:
                set_attrs[k] = changes[k]
        if updated.get("brand") is None:
            remove.append("brand")
        else:
            set_attrs["brand"] = updated["brand"]
        category_changed = updated["category"] != product["category"]
        index = _indexed(product, set_attrs, remove)
        repo.update_product(product_id, int(product.get("version", 0)), set_attrs, remove,
                            check_category=updated["category"] if category_changed else None, index=index)
        result = {k: v for k, v in updated.items() if k not in remove}
        result.update(set_attrs)
        return product_view(result, skus)

    return _with_retries(attempt)


def _history(product_id: str, sku: str, old: dict[str, Any], new: Money, now: str) -> dict[str, Any]:
    return {**repo.price_change_key(product_id, sku, now), "sku": sku, "product_id": product_id,
            "old_price_amount": int(old["price_amount"]), "old_price_currency": old["price_currency"],
            "new_price_amount": new.amount, "new_price_currency": new.currency, "changed_at": now}


def put_sku(product_id: str, code: str, body: SkuIn) -> tuple[dict[str, Any], bool]:
    """Create or replace a SKU of the product; returns (sku view, created)."""
    _check_currency(body.price, "price.currency")

    def attempt() -> tuple[dict[str, Any], bool]:
        product, skus = _load(product_id)
        now = now_iso()
        new_item = _sku_item(product_id, code, body, now)
        old = next((s for s in skus if s["sku"] == code), None)
        others = [s for s in skus if s["sku"] != code]
        set_attrs, remove = _derived(product, [*others, new_item])
        set_attrs["updated_at"] = now
        history = None
        if old is not None and (int(old["price_amount"]), old["price_currency"]) != (
                body.price.amount, body.price.currency):
            history = _history(product_id, code, old, body.price, now)
        index = _indexed(product, set_attrs, remove)
        repo.put_sku(product_id, int(product.get("version", 0)), new_item, set_attrs, remove, history, index)
        return sku_view(new_item), old is None

    return _with_retries(attempt)


def set_price(code: str, body: PriceIn) -> dict[str, Any]:
    _check_currency(body.price, "price.currency")
    product_id = repo.sku_owner(code)
    if product_id is None:
        raise NotFound(f"sku {code} not found")

    def attempt() -> dict[str, Any]:
        product, skus = _load(product_id)
        old = next((s for s in skus if s["sku"] == code), None)
        if old is None:
            raise NotFound(f"sku {code} not found")
        if (int(old["price_amount"]), old["price_currency"]) == (body.price.amount, body.price.currency):
            return {**sku_view(old), "product_id": product_id, "changed": False}
        now = now_iso()
        new_item = {**old, "price_amount": body.price.amount, "price_currency": body.price.currency}
        others = [s for s in skus if s["sku"] != code]
        set_attrs, remove = _derived(product, [*others, new_item])
        set_attrs["updated_at"] = now
        index = _indexed(product, set_attrs, remove)
        repo.set_sku_price(product_id, int(product.get("version", 0)), code, body.price.amount,
                           body.price.currency, set_attrs, remove, _history(product_id, code, old, body.price, now),
                           index)
        return {**sku_view(new_item), "product_id": product_id, "changed": True,
                "old_price": {"amount": int(old["price_amount"]), "currency": old["price_currency"]}}

    return _with_retries(attempt)


# ---------------------------------------------------------------- search index backfill

def reindex_product(product: dict[str, Any]) -> bool:
    """Bring one listed product's index entries (and brand_key) in line with its stored state; True when
    something was written. A concurrent change makes it re-read the product and try again."""
    product_id = str(product["product_id"])
    first = [product]

    def attempt() -> bool:
        current = first.pop() if first else repo.get_product_aggregate(product_id, consistent=True)[0]
        if current is None:
            return False
        change = search.index_change(current, current)
        brand_key = search.brand_key(current.get("brand"))
        if not change.actions and current.get("search_terms") == change.terms and current.get("brand_key") == brand_key:
            return False
        repo.index_product(product_id, int(current.get("version", 0)), change,
                           extra_set={"brand_key": brand_key} if brand_key else None,
                           extra_remove=() if brand_key else ("brand_key",))
        return True

    return _with_retries(attempt)


def reindex_search(page_size: int = 100, start: dict[str, Any] | None = None) -> dict[str, Any]:
    """Backfill: index every listed product (a Query over ByListingNewest, page by page; no Scan), and record
    all their terms in the vocabulary. Idempotent: products already indexed are only read."""
    seen = changed = 0
    while True:
        products, start = repo.listed_products_page(start, page_size)
        terms: list[str] = []
        for product in products:
            seen += 1
            changed += reindex_product(product)
            terms.extend(search.index_terms(product))
        repo.put_vocabulary(terms)
        if not start:
            return {"products": seen, "reindexed": changed}


def __getattr__(name: str) -> Any:
    """``NewSku`` (exported) loads with the admin input models, when first asked for."""
    if name == "NewSku":
        from shop.catalog.models import NewSku

        return NewSku
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["NewSku", "create_product", "featured_products", "list_categories", "list_products", "put_category",
           "put_sku", "reindex_search", "set_price", "skus_of_products", "sold_product", "update_product"]
