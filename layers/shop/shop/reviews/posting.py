"""Posting a review (verified buyers only, one per shopper per product): the POST route's use case, a module of
its own so that reading reviews (shop.reviews.service) loads none of the orders context (issue 17).

A shopper is a verified buyer of a product when one of their orders is DELIVERED and has a line of that
product; the review records that order. The one-per-shopper rule and the rating summary on the catalog's
product item are enforced and updated by the same transaction that writes the review (see the repository),
so concurrent posts can neither duplicate a review nor lose a rating.
"""

from __future__ import annotations

from typing import Any

from shop.errors import Conflict, Forbidden, ServiceBusy
from shop.orders import repository as orders
from shop.orders.models import Order, OrderStatus
from shop.reviews import repository as repo
from shop.reviews.models import Review, ReviewIn, author_name
from shop.reviews.service import _active_product, _not_found, now_iso

ORDER_PAGE = 50
WRITE_ATTEMPTS = 5


class NotAVerifiedBuyer(Forbidden):
    code = "not_a_verified_buyer"


class AlreadyReviewed(Conflict):
    code = "already_reviewed"


def delivered_with(order: Order, product_id: str) -> bool:
    """The order proves a purchase of the product: delivered, with a line of it."""
    return order.status == OrderStatus.DELIVERED and any(line.product_id == product_id for line in order.lines)


def verifying_order(customer_id: str, product_id: str) -> str | None:
    """The newest delivered order of the customer containing the product (their orders, newest first)."""
    cursor: str | None = None
    while True:
        page, cursor = orders.list_for_customer(customer_id, ORDER_PAGE, cursor)
        found = next((o for o in page if delivered_with(o, product_id)), None)
        if found is not None:
            return found.order_id
        if cursor is None:
            return None


def _already_reviewed(product_id: str) -> AlreadyReviewed:
    return AlreadyReviewed(f"you have already reviewed product '{product_id}'", details={"product_id": product_id})


def post_review(product_id: str, customer_id: str, email: str | None, body: ReviewIn) -> dict[str, Any]:
    _active_product(product_id)
    if repo.has_reviewed(product_id, customer_id):
        raise _already_reviewed(product_id)
    order_id = verifying_order(customer_id, product_id)
    if order_id is None:
        raise NotAVerifiedBuyer(f"only shoppers with a delivered order of product '{product_id}' can review it",
                                details={"product_id": product_id})
    review = Review(product_id=product_id, customer_id=customer_id, order_id=order_id, rating=body.rating,
                    title=body.title, body=body.body, author=author_name(email), created_at=now_iso())
    for _ in range(WRITE_ATTEMPTS):
        try:
            repo.add_review(review)
            return review.view()
        except repo.ReviewRefused as exc:
            if exc.reason == "already_reviewed":
                raise _already_reviewed(product_id) from exc
            if exc.reason == "product_gone":
                raise _not_found(product_id) from exc
            # another review of the product was written at the same moment: the transaction retries
    raise ServiceBusy("the product is being reviewed concurrently, retry shortly")
