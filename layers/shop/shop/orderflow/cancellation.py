"""Cancelling an order before it ships: by the shopper (POST /orders/{orderId}/cancel) or by the workflow's
compensation when fulfillment fails for good.

1. One transaction: the order becomes CANCELLED (only from PENDING_PAYMENT, PAYMENT_PROCESSING, PAID or
   FULFILLING: before any parcel is packed) and every reserved unit goes back to available.
2. Then, idempotently (a repeated cancel, or a retry after a crash, redoes exactly what is missing):
   open shipments and warehouse tasks are cancelled and the workflow tokens waiting on them (or on a 3-D
   Secure outcome) are failed, which ends the workflow; the payment is cancelled if it never completed or
   what is left of it (after staff refunds) refunded if it did (once: keyed on the order), and OrderCancelled
   is published (its refund: what this cancellation refunded, None when nothing was left). A workflow step
   running at that moment finds the order CANCELLED through its own conditional write and ends too.
Once a parcel is packed (DISPATCHING and later) the stock has left the shelf: cancellation is refused with
409 already_shipping (the shopper can return the goods instead). Completing a pack task is that packing: it
moves the order to DISPATCHING in the same transaction as the task's DONE and the stock commit, conditional on
the order being FULFILLING or DISPATCHING, while the release above is conditional on the order being at most
FULFILLING: of a pack completion and a cancellation sent at once, exactly one lands (the pack loses with 409
order_cancelled).
It needs orders, fulfillment and payments, so it lives in shop.orderflow, above all three. Its collaborators are
read at call time from shop.orderflow.ports (fulfillment) and shop.orders.ports (store, bus, workflow).
"""

from __future__ import annotations

from typing import Any

from shop.errors import Conflict, NotFound
from shop.money import Money
from shop.orderflow import views
from shop.orderflow.ports import ports as orderflow_ports
from shop.orders import event_details
from shop.orders.models import OrderStatus
from shop.orders.ports import ports as order_ports
from shop.orders.status import CANCELLABLE, SHIPPING_STARTED
from shop.payments import service as payments

S = OrderStatus


class AlreadyShipping(Conflict):
    code = "already_shipping"


def cancel(order_id: str, *, reason: str, customer_id: str | None = None) -> dict[str, Any]:
    order = order_ports.store.get_order(order_id) if order_id.startswith("ord_") else None
    if order is None or (customer_id is not None and order.customer_id != customer_id):
        raise NotFound(f"order {order_id} not found")
    if order.status in CANCELLABLE:
        order_ports.store.release(order, S.CANCELLED, CANCELLABLE, note=f"cancelled ({reason}), stock released",
                                  set_fields={"cancel_reason": reason})
        order = order_ports.store.require_order(order_id)
    if order.status in SHIPPING_STARTED:
        raise AlreadyShipping(f"order {order_id} is {order.status.value}: a parcel is already packed, so it can no "
                              "longer be cancelled (return the goods after delivery instead)",
                              details={"order_id": order_id, "status": order.status.value})
    if order.status != S.CANCELLED:
        raise Conflict(f"order {order_id} is {order.status.value} and cannot be cancelled",
                       details={"order_id": order_id, "status": order.status.value})
    orderflow_ports.fulfillment.cancel_open_work(order_id)
    token = order_ports.store.auth_token(order_id)
    if token:  # the workflow waits for a 3-D Secure outcome that no longer matters
        order_ports.workflow.send_failure(token, "OrderNotShippable", f"order {order_id} was cancelled")
    refund: Money | None = order.refunded
    if order.refund_id is None:
        # a duplicate of this cancellation refunding at the same moment: the adapter answers with its refund
        done = payments.refund_in_full(order, order.cancel_reason or reason)
        if done is not None:
            refund = Money.model_validate(done["amount"])
    order = order_ports.store.require_order(order_id)
    order_ports.events.publish(event_details.order_cancelled(order, order.cancel_reason or reason, refund))
    return views.order_view(order, orderflow_ports.fulfillment.shipments_of(order_id))
