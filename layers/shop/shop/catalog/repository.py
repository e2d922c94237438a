"""Catalog data access (CatalogTable). The only catalog code that talks to boto3."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shop import aws
from shop.config import get_settings
from shop.dynamo import batch_get, encode_cursor, from_item, money_from, to_item, value
from shop.errors import Conflict, InvalidInput, NotFound, ServiceBusy
from shop.models import Sku

if TYPE_CHECKING:  # the listing and search modules are imported where used: the SKU readers need neither
    from shop.catalog.listing import ListingQuery
    from shop.catalog.search import IndexChange

# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): the CatalogTable's keys (these
# prefixes; the listing index keys with shop.catalog.listing, KEY_MODULES), its name and its item codecs are
# built here only; other contexts use the names in PUBLIC.
TABLE = "catalog_table"
KEY_PREFIXES = ("PRODUCT#", "SKU#", "CAT#", "PRICE#", "CATEGORY", "TOKEN#", "TERMS#", "CATALOGUE")
KEY_MODULES = ("shop.catalog.listing", "shop.catalog.search")
PUBLIC = frozenset({"get_skus", "sku_products", "sku_reads", "skus_from_found", "product_summaries",
                    "rating_summary", "add_rating_action", "sku_product_reads", "sku_products_from_found"})


def _table() -> str:
    return get_settings().require("catalog_table")


def sku_from_item(data: dict[str, Any]) -> Sku:
    return Sku(
        sku=data["sku"], product_id=data["product_id"], name=data["name"], options=data.get("options") or {},
        price=money_from(data, "price"), weight_grams=int(data["weight_grams"]), active=bool(data.get("active", True)),
    )


def get_skus(codes: list[str]) -> dict[str, Sku]:
    """The SKUs with these codes (unknown codes are simply absent). Two batch reads for any number of codes.

    A SKU is sellable only while its product is: the SKUs of a deactivated product come back inactive.
    """
    if not codes:
        return {}
    owners = sku_products(codes)
    with aws.translate_common_errors("catalog lookup"):
        rows = batch_get(aws.client("dynamodb"), _table(), sku_read_keys(owners))
    return skus_from_rows(rows)[0]


def sku_products(codes: list[str]) -> dict[str, str]:
    """sku -> product id, from the SKU lookup items (one batch read; unknown codes are absent)."""
    if not codes:
        return {}
    with aws.translate_common_errors("catalog lookup"):
        lookups = batch_get(aws.client("dynamodb"), _table(),
                            [sku_lookup_key(c) for c in sorted(set(codes))])
    found = [from_item(raw) for raw in lookups]
    return {item["pk"].removeprefix("SKU#"): str(item["product_id"]) for item in found}


def sku_product_reads(codes: list[str]) -> dict[str, list[dict[str, Any]]]:
    """:func:`sku_products` as a read (table -> keys) for a caller composing one batch read with its own
    (shop.dynamo.merge_reads: the cart reads itself and a line's product together); decoded by
    :func:`sku_products_from_found`."""
    return {_table(): [sku_lookup_key(c) for c in sorted(set(codes))]} if codes else {}


def sku_products_from_found(found: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """sku -> product id from the SKU lookup items among a composed batch read's CatalogTable items."""
    rows = [from_item(raw) for raw in found.get(_table(), []) if raw.get("sk", {}).get("S") == "SKU"]
    return {r["pk"].removeprefix("SKU#"): str(r["product_id"]) for r in rows if str(r["pk"]).startswith("SKU#")}


def skus_by_owner(owners: dict[str, str]) -> dict[str, Sku]:
    """The SKUs of ``owners`` (sku -> product id, as :func:`sku_products` found them; inactive when their product
    is): one batch read."""
    if not owners:
        return {}
    with aws.translate_common_errors("catalog lookup"):
        rows = batch_get(aws.client("dynamodb"), _table(), sku_read_keys(owners))
    return skus_from_rows(rows)[0]


def sku_read_keys(owners: dict[str, str]) -> list[dict[str, Any]]:
    """The keys that give the SKUs of ``owners`` (sku -> product id): each SKU item and each product item once
    (the product says whether it is sold, and its category)."""
    keys = [sku_key(pid, code) for code, pid in sorted(owners.items())]
    keys.extend(product_key(pid) for pid in sorted(set(owners.values())))
    return keys


def sku_reads(owners: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """:func:`sku_read_keys` as a read (table -> keys) for a caller composing one batch read with other contexts'
    reads (shop.dynamo.merge_reads); :func:`skus_from_found` decodes what it found."""
    keys = sku_read_keys(owners)
    return {_table(): keys} if keys else {}


def skus_from_found(found: dict[str, list[dict[str, Any]]]) -> tuple[dict[str, Sku], dict[str, str | None]]:
    """:func:`skus_from_rows` over the CatalogTable's items of a composed batch read (table -> raw items)."""
    return skus_from_rows(found.get(_table(), []))


def skus_from_rows(raws: list[dict[str, Any]]) -> tuple[dict[str, Sku], dict[str, str | None]]:
    """SKUs (inactive when their product is) and product id -> category, from the items of :func:`sku_read_keys`.
    A SKU whose item or product is missing (deleted, or a stale product id) is absent."""
    rows = [from_item(raw) for raw in raws]
    products = {r["pk"].removeprefix("PRODUCT#"): r for r in rows if r["sk"] == PRODUCT_SK}
    skus = [sku_from_item(r) for r in rows if r["sk"].startswith("SKU#")]
    found = {s.sku: (s if products[s.product_id].get("active", True) else s.model_copy(update={"active": False}))
             for s in skus if s.product_id in products}
    return found, {pid: p.get("category") for pid, p in products.items()}


# ---------------------------------------------------------------------------------------------- writes & reads
# Every write to a product aggregate (product item, its SKU items, SKU lookups, price history) is one
# TransactWriteItems conditioned on the product's `version`, which each such write increments; so concurrent
# admin edits serialise and the listing keys (derived from the product and its SKUs) never go stale.

CATEGORY_PK = "CATEGORY"
PRODUCT_SK = "PRODUCT"


class StaleProduct(Exception):
    """The product changed since it was read (version condition failed): re-read and retry."""


def product_key(product_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PRODUCT#{product_id}"}, "sk": {"S": PRODUCT_SK}}


def sku_key(product_id: str, sku: str) -> dict[str, Any]:
    return {"pk": {"S": f"PRODUCT#{product_id}"}, "sk": {"S": f"SKU#{sku}"}}


def sku_lookup_key(sku: str) -> dict[str, Any]:
    return {"pk": {"S": f"SKU#{sku}"}, "sk": {"S": "SKU"}}


def product_item_key(product_id: str) -> dict[str, str]:
    """pk/sk of a product item the catalog service builds (plain values, before to_item)."""
    return {"pk": f"PRODUCT#{product_id}", "sk": PRODUCT_SK}


def sku_item_key(product_id: str, sku: str) -> dict[str, str]:
    """pk/sk of a SKU item the catalog service builds (plain values)."""
    return {"pk": f"PRODUCT#{product_id}", "sk": f"SKU#{sku}"}


def price_change_key(product_id: str, sku: str, at: str) -> dict[str, str]:
    """pk/sk of a price history item (plain values): the product's partition, by SKU then time."""
    return {"pk": f"PRODUCT#{product_id}", "sk": f"PRICE#{sku}#{at}"}


def category_key(category_id: str) -> dict[str, Any]:
    return {"pk": {"S": CATEGORY_PK}, "sk": {"S": f"CAT#{category_id}"}}


# ---------------------------------------------------------------- categories

def put_category(category_id: str, *, name: str, description: str | None, sort_order: int, now: str) -> dict[str, Any]:
    item = {"pk": CATEGORY_PK, "sk": f"CAT#{category_id}", "category_id": category_id, "name": name,
            "description": description or "", "sort_order": sort_order, "updated_at": now}
    with aws.translate_common_errors("save category"):
        aws.client("dynamodb").put_item(TableName=_table(), Item=to_item(item))
    return item


def get_category(category_id: str) -> dict[str, Any] | None:
    with aws.translate_common_errors("read category"):
        resp = aws.client("dynamodb").get_item(TableName=_table(), Key=category_key(category_id), ConsistentRead=True)
    return from_item(resp["Item"]) if "Item" in resp else None


def list_categories() -> list[dict[str, Any]]:
    ddb = aws.client("dynamodb")
    kwargs: dict[str, Any] = {"TableName": _table(), "KeyConditionExpression": "pk = :pk",
                              "ExpressionAttributeValues": {":pk": {"S": CATEGORY_PK}}}
    out: list[dict[str, Any]] = []
    with aws.translate_common_errors("list categories"):
        while True:
            resp = ddb.query(**kwargs)
            out.extend(from_item(i) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return out


# ---------------------------------------------------------------- products

def get_product_aggregate(product_id: str, *, consistent: bool = False) -> tuple[dict[str, Any] | None,
                                                                                 list[dict[str, Any]]]:
    """The product item and its SKU items in one query (sk >= "PRODUCT" covers PRODUCT and SKU#...,
    leaving out the PRICE#... history)."""
    ddb = aws.client("dynamodb")
    kwargs: dict[str, Any] = {
        "TableName": _table(), "ConsistentRead": consistent,
        "KeyConditionExpression": "pk = :pk AND sk >= :sk",
        "ExpressionAttributeValues": {":pk": {"S": f"PRODUCT#{product_id}"}, ":sk": {"S": PRODUCT_SK}},
    }
    product: dict[str, Any] | None = None
    skus: list[dict[str, Any]] = []
    with aws.translate_common_errors("read product"):
        while True:
            resp = ddb.query(**kwargs)
            for raw in resp.get("Items", []):
                item = from_item(raw)
                if item["sk"] == PRODUCT_SK:
                    product = item
                elif item["sk"].startswith("SKU#"):
                    skus.append(item)
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return product, skus


def sku_owner(sku: str) -> str | None:
    """The product id a SKU code belongs to (one GetItem on the lookup item)."""
    with aws.translate_common_errors("sku lookup"):
        resp = aws.client("dynamodb").get_item(TableName=_table(), Key=sku_lookup_key(sku), ConsistentRead=True)
    return str(from_item(resp["Item"])["product_id"]) if "Item" in resp else None


def price_history(product_id: str, sku: str | None = None) -> list[dict[str, Any]]:
    prefix = f"PRICE#{sku}#" if sku else "PRICE#"
    with aws.translate_common_errors("price history"):
        resp = aws.client("dynamodb").query(
            TableName=_table(), KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues={":pk": {"S": f"PRODUCT#{product_id}"}, ":p": {"S": prefix}})
    return [from_item(i) for i in resp.get("Items", [])]


def _transact(actions: list[dict[str, Any]], what: str) -> list[str] | None:
    """Run a transaction; None on success, else the per-action cancellation codes."""
    from botocore.exceptions import ClientError

    try:
        with aws.translate_common_errors(what):
            aws.client("dynamodb").transact_write_items(TransactItems=actions)
    except ClientError as exc:
        if aws.error_code(exc) == "TransactionCanceledException":
            codes = aws.cancellation_codes_or_parse(exc)
            if any(c in aws.THROTTLING_CODES or c == "TransactionConflict" for c in codes):
                raise StaleProduct(what) from exc
            return codes or ["Unknown"]
        raise
    return None


def _failed(codes: list[str], index: int) -> bool:
    return index < len(codes) and codes[index] == "ConditionalCheckFailed"


def create_product(product: dict[str, Any], skus: list[dict[str, Any]], index: IndexChange | None = None) -> None:
    """Category check + product + SKU items + SKU lookups + search index entries in one transaction; 409 naming
    what exists. A product with so many SKUs that its index entries do not fit (100 actions) is stored first
    without ``search_terms`` and indexed by a second transaction conditioned on its version: until then (or
    if that one is lost) it is listed but not found by search, and the backfill or its next write indexes it."""
    table = _table()
    pid = product["product_id"]
    split = index is not None and 2 + 2 * len(skus) + index.actions > MAX_TRANSACTION_ACTIONS
    stored = {k: v for k, v in product.items() if k != "search_terms"} if split else product
    actions: list[dict[str, Any]] = [
        {"ConditionCheck": {"TableName": table, "Key": category_key(product["category"]),
                            "ConditionExpression": "attribute_exists(pk)"}},
        {"Put": {"TableName": table, "Item": to_item(stored), "ConditionExpression": "attribute_not_exists(pk)"}},
    ]
    for sku in skus:
        actions.append({"Put": {"TableName": table, "Item": to_item(sku),
                                "ConditionExpression": "attribute_not_exists(pk)"}})
        actions.append({"Put": {"TableName": table,
                                "Item": to_item({"pk": f"SKU#{sku['sku']}", "sk": "SKU", "sku": sku["sku"],
                                                 "product_id": pid}),
                                "ConditionExpression": "attribute_not_exists(pk)"}})
    if index is not None and not split:
        actions.extend(_index_actions(index))
    codes = _transact(actions, "create product")
    if codes is None:
        if index is not None and split:
            try:
                index_product(pid, int(product["version"]), index)
            except StaleProduct:
                pass  # changed meanwhile: that write indexed it (it saw no search_terms)
            except ServiceBusy:  # the product is created: not an error for the admin; the backfill indexes it
                _log.warning("product %s created but not indexed yet (run scripts/reindex_search.py)", pid)
        elif index is not None:
            put_vocabulary(index.new_terms)
        return
    if _failed(codes, 0):
        raise InvalidInput("category", f"unknown category '{product['category']}'")
    if _failed(codes, 1):
        raise Conflict(f"product '{pid}' already exists", details={"product_id": pid})
    taken = [skus[(i - 2) // 2]["sku"] for i in range(2, len(codes)) if _failed(codes, i)]
    if taken:
        raise Conflict(f"sku {', '.join(sorted(set(taken)))} already exists",
                       details={"skus": sorted(set(taken))})
    raise ServiceBusy("create product: transaction cancelled, retry")


def _product_update(product_id: str, version: int, set_attrs: dict[str, Any], remove: list[str]) -> dict[str, Any]:
    names: dict[str, str] = {"#v": "version"}
    values: dict[str, Any] = {":v": {"N": str(version)}, ":one": {"N": "1"}}
    sets = ["#v = #v + :one"]
    for i, (k, v) in enumerate(sorted(set_attrs.items())):
        names[f"#s{i}"] = k
        values[f":s{i}"] = value(v)
        sets.append(f"#s{i} = :s{i}")
    expr = "SET " + ", ".join(sets)
    removes = [a for a in remove if a not in set_attrs]
    if removes:
        for i, k in enumerate(removes):
            names[f"#r{i}"] = k
        expr += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
    return {"Update": {"TableName": _table(), "Key": product_key(product_id), "UpdateExpression": expr,
                       "ConditionExpression": "#v = :v", "ExpressionAttributeNames": names,
                       "ExpressionAttributeValues": values}}


def update_product(product_id: str, version: int, set_attrs: dict[str, Any], remove: list[str],
                   *, check_category: str | None = None, index: IndexChange | None = None) -> None:
    actions = [_product_update(product_id, version, set_attrs, remove)]
    if check_category:
        actions.append({"ConditionCheck": {"TableName": _table(), "Key": category_key(check_category),
                                           "ConditionExpression": "attribute_exists(pk)"}})
    if index is not None:
        actions.extend(_index_actions(index))
    codes = _transact(actions, "update product")
    if codes is None:
        if index is not None:
            put_vocabulary(index.new_terms)
        return
    if _failed(codes, 1):
        raise InvalidInput("category", f"unknown category '{check_category}'")
    if _failed(codes, 0):
        raise StaleProduct(product_id)
    raise ServiceBusy("update product: transaction cancelled, retry")


def put_sku(product_id: str, version: int, sku_item: dict[str, Any], product_set: dict[str, Any],
            product_remove: list[str], history: dict[str, Any] | None, index: IndexChange | None = None) -> None:
    """Create or replace a SKU of a product, claim its code (409 if another product owns it), refresh the
    product's min price, listing keys and search index entries, and record a price change, all in one
    transaction."""
    table = _table()
    code = sku_item["sku"]
    actions: list[dict[str, Any]] = [
        _product_update(product_id, version, product_set, product_remove),
        {"Put": {"TableName": table,
                 "Item": to_item({"pk": f"SKU#{code}", "sk": "SKU", "sku": code, "product_id": product_id}),
                 "ConditionExpression": "attribute_not_exists(pk) OR product_id = :pid",
                 "ExpressionAttributeValues": {":pid": {"S": product_id}}}},
        {"Put": {"TableName": table, "Item": to_item(sku_item)}},
    ]
    if history:
        actions.append({"Put": {"TableName": table, "Item": to_item(history),
                                "ConditionExpression": "attribute_not_exists(pk)"}})
    if index is not None:
        actions.extend(_index_actions(index))
    codes = _transact(actions, "save sku")
    if codes is None:
        if index is not None:
            put_vocabulary(index.new_terms)
        return
    if _failed(codes, 1):
        raise Conflict(f"sku {code} belongs to another product", details={"sku": code})
    if _failed(codes, 0) or _failed(codes, 3):
        raise StaleProduct(product_id)
    raise ServiceBusy("save sku: transaction cancelled, retry")


def set_sku_price(product_id: str, version: int, sku: str, price_amount: int, price_currency: str,
                  product_set: dict[str, Any], product_remove: list[str], history: dict[str, Any],
                  index: IndexChange | None = None) -> None:
    """New price on the SKU (conditioned on it existing), a price history item, and the product's
    recomputed min price / price_sk and search index entries, in one transaction."""
    table = _table()
    actions: list[dict[str, Any]] = [
        _product_update(product_id, version, product_set, product_remove),
        {"Update": {"TableName": table, "Key": sku_key(product_id, sku),
                    "UpdateExpression": "SET price_amount = :a, price_currency = :c, updated_at = :t",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":a": {"N": str(price_amount)}, ":c": {"S": price_currency},
                                                  ":t": {"S": history["changed_at"]}}}},
        {"Put": {"TableName": table, "Item": to_item(history), "ConditionExpression": "attribute_not_exists(pk)"}},
    ]
    if index is not None:
        actions.extend(_index_actions(index))
    codes = _transact(actions, "set price")
    if codes is None:
        if index is not None:
            put_vocabulary(index.new_terms)
        return
    if _failed(codes, 1):
        raise NotFound(f"sku {sku} not found")
    if _failed(codes, 0) or _failed(codes, 2):
        raise StaleProduct(product_id)
    raise ServiceBusy("set price: transaction cancelled, retry")


# ---------------------------------------------------------------- listing

MAX_LISTING_ROUNDS = 20


def query_listing(query: ListingQuery, start: dict[str, Any] | None, limit: int) -> tuple[list[dict[str, Any]],
                                                                                          str | None]:
    """Up to `limit` listed products in index order, and a cursor resuming right after the last one (None at
    the end). The filter (search words, price on the newest index) applies after DynamoDB's Limit, so pages
    are fetched until `limit` matches or the end; the cursor is built from the last returned item."""
    from botocore.exceptions import ClientError

    from shop.catalog.listing import cursor_for  # listing only (not the SKU readers other contexts import)

    ddb = aws.client("dynamodb")
    page_size = limit + 1 if not query.filters else min(max(limit * 3, 50), 300)
    kwargs: dict[str, Any] = {
        "TableName": _table(), "IndexName": query.index, "KeyConditionExpression": query.key_condition,
        "ExpressionAttributeNames": query.names, "ExpressionAttributeValues": query.values,
        "ScanIndexForward": query.forward, "Limit": page_size,
    }
    if query.filters:
        kwargs["FilterExpression"] = " AND ".join(query.filters)
    if start:
        kwargs["ExclusiveStartKey"] = start
    out: list[dict[str, Any]] = []
    for _ in range(MAX_LISTING_ROUNDS):
        try:
            with aws.translate_common_errors("list products"):
                resp = ddb.query(**kwargs)
        except ClientError as exc:
            if aws.error_code(exc) == "ValidationException" and "ExclusiveStartKey" in kwargs:
                raise InvalidInput("cursor", "not a cursor of this listing") from exc
            raise
        for raw in resp.get("Items", []):
            if len(out) == limit:
                return [from_item(i) for i in out], cursor_for(out[-1], query)
            out.append(raw)
        last = resp.get("LastEvaluatedKey")
        if not last:
            return [from_item(i) for i in out], None
        if len(out) == limit:
            return [from_item(i) for i in out], cursor_for(out[-1], query)
        kwargs["ExclusiveStartKey"] = last
    # read budget spent on a very selective filter: resume where the scan stopped
    return [from_item(i) for i in out], encode_cursor(kwargs["ExclusiveStartKey"])


def rating_summary(product_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    """The product's active flag and rating totals (one GetItem on the product item); None when unknown."""
    with aws.translate_common_errors("read product rating"):
        raw = aws.client("dynamodb").get_item(
            TableName=_table(), Key=product_key(product_id), ConsistentRead=consistent,
            ProjectionExpression="pk, active, rating_count, rating_sum").get("Item")
    return from_item(raw) if raw else None


def add_rating_action(product_id: str, rating: int) -> dict[str, Any]:
    """An Update (for the reviews' transaction) that counts one rating on the product's summary, only while the
    product exists and is sold."""
    return {"Update": {
        "TableName": _table(), "Key": product_key(product_id),
        "UpdateExpression": "ADD rating_count :one, rating_sum :rating",
        "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(active) OR active = :true)",
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":rating": {"N": str(rating)},
                                      ":true": {"BOOL": True}},
    }}


def product_summaries(product_ids: list[str]) -> dict[str, dict[str, Any]]:
    """product_id -> {name, category} for the given products (one BatchGetItem per 100; missing ones left out)."""
    keys = [product_key(pid) for pid in sorted(set(product_ids))]
    if not keys:
        return {}
    with aws.translate_common_errors("product lookup"):
        raws = batch_get(aws.client("dynamodb"), _table(), keys)
    out = {}
    for raw in raws:
        data = from_item(raw)
        out[str(data["product_id"])] = {"name": data.get("name"), "category": data.get("category")}
    return out


# ---------------------------------------------------------------- search index (shop.catalog.search)
# Index entries are written in the product's own transactions (above), appended after the actions whose
# cancellation codes those functions read; the vocabulary (typo candidates only) right after the commit.

MAX_TRANSACTION_ACTIONS = 100
# Read budget of one search request: at most this many index items (postings, catalogue entries, vocabulary
# terms; about 150 bytes each) in at most this many Query calls, then one BatchGetItem for the page's products.
INDEX_READ_ITEMS = 5000
INDEX_READ_CALLS = 25
INDEX_QUERY_LIMIT = 1000
_log = logging.getLogger(__name__)


@dataclass
class IndexBudget:
    """What a search request may still read; ``exhausted`` once a range was cut short."""

    items: int = INDEX_READ_ITEMS
    calls: int = INDEX_READ_CALLS
    exhausted: bool = False
    used_calls: int = 0


def _index_actions(change: IndexChange) -> list[dict[str, Any]]:
    table = _table()
    actions: list[dict[str, Any]] = [{"Put": {"TableName": table, "Item": to_item(item)}} for item in change.put]
    actions.extend({"Delete": {"TableName": table, "Key": to_item(key)}} for key in change.delete)
    return actions


def put_vocabulary(terms: list[str]) -> None:
    """Record index terms in the vocabulary (idempotent puts, never deleted: a stale term only costs a lookup
    that finds nothing). Best effort after the product's commit: a lost term only narrows typo matching until
    the backfill runs, so a failure is logged, not raised to a caller whose write succeeded."""
    if not terms:
        return
    from shop.catalog.search import vocabulary_key  # search indexing only

    ddb = aws.client("dynamodb")
    table = _table()
    requests = [{"PutRequest": {"Item": to_item({**vocabulary_key(t), "term": t})}} for t in sorted(set(terms))]
    try:
        for i in range(0, len(requests), 25):
            pending: dict[str, Any] = {table: requests[i:i + 25]}
            for _ in range(5):
                resp = ddb.batch_write_item(RequestItems=pending)
                pending = resp.get("UnprocessedItems") or {}
                if not pending:
                    break
            if pending:
                _log.warning("search vocabulary: %d terms not written", len(pending.get(table, [])))
    except Exception:  # the product is committed; see the docstring
        _log.exception("search vocabulary write failed")


def index_product(product_id: str, version: int, change: IndexChange, *, extra_set: dict[str, Any] | None = None,
                  extra_remove: tuple[str, ...] = ()) -> None:
    """Bring one product's index entries up to date in a transaction conditioned on its version (the backfill,
    and the second step of a large create). StaleProduct when it changed meanwhile."""
    set_attrs: dict[str, Any] = dict(extra_set or {})
    remove: list[str] = list(extra_remove)
    if change.terms is None:
        remove.append("search_terms")
    else:
        set_attrs["search_terms"] = change.terms
    actions = [_product_update(product_id, version, set_attrs, remove), *_index_actions(change)]
    codes = _transact(actions, "index product")
    if codes is None:
        put_vocabulary(change.new_terms)
        return
    if _failed(codes, 0):
        raise StaleProduct(product_id)
    raise ServiceBusy("index product: transaction cancelled, retry")


def index_range(pk: str, prefix: str, budget: IndexBudget) -> list[dict[str, Any]]:
    """The index items of partition ``pk`` whose sort key starts with ``prefix`` ('' = all), in key order, as
    far as the budget allows (``budget.exhausted`` says a range was cut short)."""
    from shop.catalog.search import ENTRY_ATTRS  # search only

    ddb = aws.client("dynamodb")
    names = {f"#a{i}": a for i, a in enumerate(("sk", *ENTRY_ATTRS))}
    kwargs: dict[str, Any] = {"TableName": _table(), "KeyConditionExpression": "pk = :pk",
                              "ExpressionAttributeValues": {":pk": {"S": pk}},
                              "ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
    if prefix:
        kwargs["KeyConditionExpression"] += " AND begins_with(sk, :p)"
        kwargs["ExpressionAttributeValues"][":p"] = {"S": prefix}
    out: list[dict[str, Any]] = []
    with aws.translate_common_errors("search"):
        while True:
            if budget.items <= 0 or budget.calls <= 0:
                budget.exhausted = True
                return out
            resp = ddb.query(**kwargs, Limit=min(INDEX_QUERY_LIMIT, budget.items))
            budget.calls -= 1
            budget.used_calls += 1
            items = resp.get("Items", [])
            budget.items -= len(items)
            out.extend(from_item(i) for i in items)
            if "LastEvaluatedKey" not in resp:
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def vocabulary(first: str, budget: IndexBudget) -> list[str]:
    """Every term of the vocabulary starting with the character ``first``."""
    from shop.catalog.search import vocabulary_key  # search only

    return [str(i["sk"]) for i in index_range(vocabulary_key(first)["pk"], "", budget)]


def products_by_id(product_ids: list[str]) -> dict[str, dict[str, Any]]:
    """product_id -> product item (one BatchGetItem per 100; missing ones left out)."""
    keys = [product_key(pid) for pid in sorted(set(product_ids))]
    if not keys:
        return {}
    with aws.translate_common_errors("product lookup"):
        raws = batch_get(aws.client("dynamodb"), _table(), keys)
    return {str(item["product_id"]): item for item in (from_item(raw) for raw in raws)}


def listed_products_page(start: dict[str, Any] | None, limit: int) -> tuple[list[dict[str, Any]],
                                                                             dict[str, Any] | None]:
    """One page of every listed product (ByListingNewest; a Query, never a Scan) and the key to continue from.
    Products that are not listed have no index entries to keep."""
    from shop.catalog.listing import LISTING_PK  # the index backfill only

    kwargs: dict[str, Any] = {"TableName": _table(), "IndexName": "ByListingNewest",
                              "KeyConditionExpression": "listing_pk = :h",
                              "ExpressionAttributeValues": {":h": {"S": LISTING_PK}}, "Limit": limit}
    if start:
        kwargs["ExclusiveStartKey"] = start
    with aws.translate_common_errors("list products"):
        resp = aws.client("dynamodb").query(**kwargs)
    return [from_item(i) for i in resp.get("Items", [])], resp.get("LastEvaluatedKey")
