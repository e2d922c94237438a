"""Catalog use cases: browse/search/details for shoppers, product/SKU/price management for admins.

Writes read the product aggregate, compute the new state with the pure rules of shop.catalog.listing and
commit it in one transaction conditioned on the product's version, retrying a few times on a concurrent
change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shop.catalog import listing
from shop.catalog import repository as repo
from shop.catalog.models import CategoryIn, NewSku, PriceIn, ProductCreate, ProductUpdate, SkuIn
from shop.config import get_settings
from shop.errors import InvalidInput, NotFound, ServiceBusy
from shop.money import Money, round_half_up

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

def rating_view(product: dict[str, Any]) -> dict[str, Any]:
    count = int(product.get("rating_count", 0))
    total = int(product.get("rating_sum", 0))
    average = round_half_up(total * 10, count) / 10 if count else None
    return {"average": average, "count": count}


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
        "rating": rating_view(product),
        "skus": [sku_view(s, None if available is None else available.get(s["sku"], 0))
                 for s in sorted(skus, key=lambda s: (int(s["price_amount"]), s["sku"]))],
        "created_at": product["created_at"], "updated_at": product["updated_at"],
    }


# ---------------------------------------------------------------- shopper reads

def list_categories() -> list[dict[str, Any]]:
    items = [category_view(c) for c in repo.list_categories()]
    return sorted(items, key=lambda c: (c["sort_order"], c["name"].casefold(), c["category_id"]))


def list_products(*, category: str | None, q: str | None, min_price: int | None, max_price: int | None,
                  sort: listing.Sort, limit: int, cursor: str | None) -> dict[str, Any]:
    query = listing.build_listing_query(category=category, sort=sort, min_price=min_price, max_price=max_price,
                                        tokens=listing.query_tokens(q))
    start = listing.start_key(cursor, query)
    items, next_cursor = repo.query_listing(query, start, limit)
    return {"items": [listing_view(i) for i in items], "next_cursor": next_cursor}


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
    if min_price is not None:
        set_attrs["min_price_amount"] = min_price
    else:
        remove.append("min_price_amount")
    return set_attrs, remove


def _sku_item(product_id: str, code: str, body: SkuIn, now: str) -> dict[str, Any]:
    return {"pk": f"PRODUCT#{product_id}", "sk": f"SKU#{code}", "sku": code, "product_id": product_id,
            "name": body.name, "options": dict(body.options), "price_amount": body.price.amount,
            "price_currency": body.price.currency, "weight_grams": body.weight_grams, "active": body.active,
            "updated_at": now}


def create_product(body: ProductCreate) -> dict[str, Any]:
    for i, s in enumerate(body.skus):
        _check_currency(s.price, f"skus.{i}.price.currency")
    now = now_iso()
    pid = body.product_id
    product: dict[str, Any] = {
        "pk": f"PRODUCT#{pid}", "sk": repo.PRODUCT_SK, "product_id": pid, "name": body.name,
        "description": body.description, "category": body.category, "brand": body.brand,
        "attributes": dict(body.attributes), "images": list(body.images), "active": True,
        "created_at": now, "updated_at": now, "rating_count": 0, "rating_sum": 0,
        "currency": get_settings().currency, "version": 1,
    }
    skus = [_sku_item(pid, s.sku, s, now) for s in body.skus]
    set_attrs, _ = _derived(product, skus)
    product.update(set_attrs)
    try:
        repo.create_product(product, skus)
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
        if updated.get("brand") is None:
            remove.append("brand")
        else:
            set_attrs["brand"] = updated["brand"]
        category_changed = updated["category"] != product["category"]
        repo.update_product(product_id, int(product.get("version", 0)), set_attrs, remove,
                            check_category=updated["category"] if category_changed else None)
        result = {k: v for k, v in updated.items() if k not in remove}
        result.update(set_attrs)
        return product_view(result, skus)

    return _with_retries(attempt)


def _history(product_id: str, sku: str, old: dict[str, Any], new: Money, now: str) -> dict[str, Any]:
    return {"pk": f"PRODUCT#{product_id}", "sk": f"PRICE#{sku}#{now}", "sku": sku, "product_id": product_id,
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
        repo.put_sku(product_id, int(product.get("version", 0)), new_item, set_attrs, remove, history)
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
        repo.set_sku_price(product_id, int(product.get("version", 0)), code, body.price.amount,
                           body.price.currency, set_attrs, remove, _history(product_id, code, old, body.price, now))
        return {**sku_view(new_item), "product_id": product_id, "changed": True,
                "old_price": {"amount": int(old["price_amount"]), "currency": old["price_currency"]}}

    return _with_retries(attempt)


__all__ = ["NewSku", "create_product", "list_categories", "list_products", "put_category", "put_sku",
           "set_price", "sold_product", "update_product"]
