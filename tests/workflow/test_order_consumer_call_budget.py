"""DynamoDB calls of one order outside the order workflow's own functions, counted (issue 17: one order at most
45 requests end to end): the cart and the checkout the shopper waits on, and the consumers of the order's events
(notifications, analytics). tests/workflow/test_order_call_budget.py counts the workflow's functions.

The figures are budgets (at most), measured when the redundant requests were removed: lower is fine, higher is a
regression. What stays is one request per guarantee: the cart's and checkout's chains of dependent reads and their
one write, per mail the claim of its once-only record (checked in the same transaction: not suppressed, no
channel choice) and its completion (a redelivery replays the message id), per analytics event its one transaction.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.factories import calls_by_function, checkout, deliver, make_product, ok, put_in_cart, wait_paid

pytestmark = [pytest.mark.workflow, pytest.mark.audited]  # the invariant audit runs around each test

# the order workflow's own functions: tests/workflow/test_order_call_budget.py
FLOW = ("PaymentFunction", "FulfillmentFunction", "WarehouseFunction", "WebhooksFunction")


def _tables(kwargs: dict[str, Any]) -> list[str]:
    if kwargs.get("TableName"):
        return [str(kwargs["TableName"])]
    if kwargs.get("RequestItems"):
        return list(kwargs["RequestItems"])
    names: list[str] = []
    for action in kwargs.get("TransactItems") or ():
        names.extend(str(body["TableName"]) for body in action.values())
    return names


def consumer_calls(stack: Any) -> Any:
    """Every DynamoDB call made while inside by a function outside the order workflow (and by the Stripe
    webhook, which localstripe posts when it likes): (function, operation, logical ids of the tables named).
    The test's own polling (GET requests) is left out."""
    logical = {stack.physical_id(t): t for t in ("OrdersTable", "InventoryTable", "AnalyticsTable", "CatalogTable",
                                                   "CartsTable", "IdempotencyTable", "NotificationsTable",
                                                   "PromotionsTable")}

    def label(logical_id: str, request: dict[str, Any]) -> str | None:
        stripe = str(request.get("path", "")).endswith("/webhooks/stripe")
        polling = "httpMethod" in request and request["httpMethod"] != "POST" and request["httpMethod"] != "PUT"
        counted = (logical_id not in FLOW or stripe) and not polling
        return ("StripeWebhook" if stripe else logical_id) if counted else None

    def describe(_: str, kwargs: dict[str, Any]) -> tuple[str, ...]:
        return tuple(sorted({logical.get(t, t) for t in _tables(kwargs)}))

    return calls_by_function(stack, label, describe)


def test_one_order_outside_the_workflow(stack, admin, staff):
    from shop.checkout.service import order_id_for

    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 5})
    key = f"consumer-budget-{product.product_id}"
    order_id = order_id_for(shopper.user_id, key)
    # another shopper's cart first: the functions' copy of the warehouse list (read at most once a minute, shop.
    # inventory.repository.warehouses) then names the product's new warehouses, as a running shop's does
    put_in_cart(stack, stack.user().id_token, product.skus[0], 1)
    stack.drain_async()
    with consumer_calls(stack) as calls:
        put_in_cart(stack, shopper.id_token, product.skus[0], 2)  # a line new to a new cart
        ok(checkout(stack, shopper.id_token, key), 201)
        wait_paid(stack, order_id)
        deliver(stack, staff.id_token, shopper.id_token, order_id, product.warehouses[0])
        stack.drain_async()
    per_function = Counter(fn for fn, _, _ in calls)
    # the guarantees the fewer requests keep: the three mails of the order, each sent once
    subjects = [m["subject"] for m in stack.sent_emails() if shopper.email in m["destinations"]]
    assert len(subjects) == 3 and len(set(subjects)) == 3, subjects
    # the cart: the cart with the new line's product (one batch), the priced read (one batch), the write
    assert per_function["CartFunction"] <= 3, calls
    # checkout: the cart with the order (a replay check), the priced read, the one transaction
    assert per_function["CheckoutFunction"] <= 3, calls
    # notifications: per mail (confirmation, packed, delivered) its claim in one transaction with the checks
    # that the address is not suppressed and the shopper chose no channels, and the claim's completion: no read
    notifications = [(op, tables) for fn, op, tables in calls if fn == "NotificationsFunction"]
    assert Counter(notifications) == Counter({
        ("transact_write_items", ("IdempotencyTable", "NotificationsTable")): 3,
        ("update_item", ("IdempotencyTable",)): 3}), notifications
    # analytics: one transaction per event it records (placed, paid, packed, shipped, delivered)
    assert per_function["AnalyticsFunction"] <= 5, calls
    # the Stripe webhook (payment_intent.succeeded after the card was charged at once): its idempotency record
    # (claim, completion) and one read of the order, whose recorded outcome says no token is parked on it
    assert per_function["StripeWebhook"] <= 3, calls
    # measured before (issue 17): cart 4, checkout 3, notifications 10, analytics 5, Stripe webhook 4 (26)
    assert sum(per_function.values()) <= 20, per_function
