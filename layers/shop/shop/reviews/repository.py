"""Reviews data access (ReviewsTable), and the rating summary on the product item (CatalogTable).

Items of ReviewsTable (pk, sk):
- review        PRODUCT#<product_id>, REVIEW#<created_at>#<customer_id>   (newest first by sk, descending)
- one-per-buyer PRODUCT#<product_id>, BY#<customer_id>                    (written with attribute_not_exists)
A review, its one-per-buyer marker and ``ADD rating_count :1, rating_sum :rating`` on the catalog's product
item are ONE transaction: the summary always equals the reviews written, and is read with one GetItem.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from shop import aws
from shop.catalog import repository as catalog
from shop.config import get_settings
from shop.dynamo import encode_cursor, model_from_item, page_query, to_item
from shop.errors import InvalidInput
from shop.reviews.models import Review

# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): the ReviewsTable's keys (these
# prefixes), its name and the review codec are here only. The rating summary on the product item is the
# catalog's (shop.catalog.repository.rating_summary / add_rating_action). No other context uses this repository.
TABLE = "reviews_table"
KEY_PREFIXES = ("PRODUCT#", "REVIEW#", "BY#")
PUBLIC: frozenset[str] = frozenset()

REVIEW_PREFIX = "REVIEW#"
CURSOR_FIELD = "cursor"


class ReviewRefused(Exception):
    """The review transaction was cancelled; ``reason`` is "already_reviewed", "product_gone" or "contention"."""

    def __init__(self, reason: str, codes: list[str]):
        super().__init__(f"review refused ({reason}): {codes}")
        self.reason = reason
        self.codes = codes


def table() -> str:
    return get_settings().require("reviews_table")


def partition(product_id: str) -> str:
    return f"PRODUCT#{product_id}"


def review_sk(created_at: str, customer_id: str) -> str:
    return f"{REVIEW_PREFIX}{created_at}#{customer_id}"


def _marker_key(product_id: str, customer_id: str) -> dict[str, Any]:
    return {"pk": {"S": partition(product_id)}, "sk": {"S": f"BY#{customer_id}"}}


def _review(raw: dict[str, Any]) -> Review:
    return model_from_item(Review, raw)


# ------------------------------------------------------------------ reads
def product_summary(product_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    """The product's active flag and rating totals (one GetItem on the catalog item); None when unknown."""
    return catalog.rating_summary(product_id, consistent=consistent)


def has_reviewed(product_id: str, customer_id: str) -> bool:
    with aws.translate_common_errors("read review marker"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=_marker_key(product_id, customer_id),
                                              ConsistentRead=True, ProjectionExpression="pk").get("Item")
    return raw is not None


def list_reviews(product_id: str, limit: int, cursor: str | None) -> tuple[list[Review], str | None]:
    """A page of the product's reviews, newest first, and the cursor of the next page (None at the end).
    A cursor must come from this product's list (its partition) and point at a review."""
    pk = partition(product_id)
    args = page_query({
        "TableName": table(), "Limit": limit, "ScanIndexForward": False,
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :r)",
        "ExpressionAttributeValues": {":p": {"S": pk}, ":r": {"S": REVIEW_PREFIX}},
    }, cursor, ("pk", pk), CURSOR_FIELD)
    start = args.get("ExclusiveStartKey")
    if start is not None and (set(start) != {"pk", "sk"}
                              or not str(start["sk"].get("S", "")).startswith(REVIEW_PREFIX)):
        raise InvalidInput(CURSOR_FIELD, "not a cursor returned by this API")
    try:
        with aws.translate_common_errors("list reviews"):
            resp = aws.client("dynamodb").query(**args)
    except ClientError as exc:
        if aws.error_code(exc) == "ValidationException" and start is not None:
            raise InvalidInput(CURSOR_FIELD, "not a cursor returned by this API") from exc
        raise
    return [_review(i) for i in resp.get("Items", [])], encode_cursor(resp.get("LastEvaluatedKey"))


# ------------------------------------------------------------------ writes
def add_review(review: Review) -> None:
    """Review + one-per-buyer marker + rating summary in one transaction (ReviewRefused when cancelled).
    The product must still exist and be active when the transaction runs."""
    pk = partition(review.product_id)
    item = to_item({"pk": pk, "sk": review_sk(review.created_at, review.customer_id),
                    **review.model_dump(mode="json")})
    marker = to_item({"pk": pk, "sk": f"BY#{review.customer_id}", "customer_id": review.customer_id,
                      "review_sk": review_sk(review.created_at, review.customer_id),
                      "created_at": review.created_at})
    actions: list[dict[str, Any]] = [
        {"Put": {"TableName": table(), "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Put": {"TableName": table(), "Item": marker, "ConditionExpression": "attribute_not_exists(pk)"}},
        catalog.add_rating_action(review.product_id, review.rating),
    ]
    try:
        with aws.translate_common_errors("post review"):
            aws.client("dynamodb").transact_write_items(TransactItems=actions)
    except ClientError as exc:
        if aws.error_code(exc) != "TransactionCanceledException":
            raise
        codes = aws.cancellation_codes_or_parse(exc)
        failed = [i for i, c in enumerate(codes) if c == "ConditionalCheckFailed"]
        if 0 in failed or 1 in failed:
            raise ReviewRefused("already_reviewed", codes) from exc
        if 2 in failed:
            raise ReviewRefused("product_gone", codes) from exc
        raise ReviewRefused("contention", codes) from exc
