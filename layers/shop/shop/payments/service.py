"""Workflow step TakePayment: move the order into PAYMENT_PROCESSING and charge it exactly once.

1. PENDING_PAYMENT -> PAYMENT_PROCESSING (a closed order is skipped, a PAID one reports success);
2. create the PaymentIntent unconfirmed unless one is already recorded, and record it conditionally (an
   attempt that loses the race cancels its own intent);
3. confirm the recorded intent (or read its outcome when it is past confirmation) and record the result;
   an intent left waiting for authentication (3-D Secure, not offered in v1) is cancelled, since the
   workflow then releases the stock.
Every step can be retried after a crash at any point without charging twice.
"""

from __future__ import annotations

from typing import Any

from shop.models import OrderStatus
from shop.orders import repository as orders_repo
from shop.orders import service as orders
from shop.payments import stripe_adapter


def take_payment(order_id: str) -> dict[str, Any]:
    order = orders.start_payment(order_id)
    if order is None:
        return {"order_id": order_id, "status": "skipped", "payment_intent_id": None, "decline_code": None}
    if order.status == OrderStatus.PAID:
        return {"order_id": order_id, "status": "succeeded", "payment_intent_id": order.payment_intent_id,
                "decline_code": None}
    intent_id = order.payment_intent_id
    if intent_id is None:
        created = stripe_adapter.create_intent(order_id, order.totals.total, order.payment_method_id)
        if isinstance(created, stripe_adapter.ChargeResult):  # refused outright: nothing was charged
            orders.record_payment(order_id, payment_status=created.status, decline_code=created.decline_code)
            return {"order_id": order_id, "status": created.status, "payment_intent_id": None,
                    "decline_code": created.decline_code}
        intent_id = orders_repo.set_payment_intent(order_id, created)
        if intent_id != created:
            stripe_adapter.cancel_intent(created)
    result = stripe_adapter.confirm_intent(intent_id)
    if result.status == "requires_action":
        # v1 has no 3-D Secure flow: the workflow releases the stock, so the pending intent is cancelled
        # first (the shopper could otherwise still authenticate it and pay for a closed order)
        after = stripe_adapter.abandon_intent(intent_id)
        if after.status == "succeeded":
            result = after
    orders.record_payment(order_id, payment_status=result.status, decline_code=result.decline_code)
    return {"order_id": order_id, "status": result.status, "payment_intent_id": intent_id,
            "decline_code": result.decline_code}
