"""Compensation ReleaseReservation: input {"order_id", "reason": PAYMENT_FAILED | EXPIRED | CANCELLED,
"detail"?}. Releases the order's reserved stock and closes it in one transaction, exactly once: when the order
no longer holds a reservation it returns {"released": false} and changes nothing. A payment failure also
publishes PaymentFailed (the shopper is emailed once)."""

from __future__ import annotations

from typing import Any

from shop.observability import observability
from shop.orders import service
from shop.orders.models import OrderStatus
from shop.orders.tasks import ReleaseTask
from shop.orders.workflow_contracts import ReservationReleased
from shop.payments.errors import AuthenticationFailed, PaymentDeclined

obs = observability("release-reservation", needs=("orders_table", "inventory_table", "promotions_table",
                                                  "event_bus_name"))


# the errors the payment step's token is failed with when the shopper's card or authentication said no
DECLINES = frozenset({PaymentDeclined.__name__, AuthenticationFailed.__name__})


def _failure_reason(state: Any) -> str:
    """Why the payment failed, from the workflow state handed over (detail = the whole state)."""
    if isinstance(state, dict):
        error = state.get("error")
        if isinstance(error, dict):
            if error.get("Error") in DECLINES:
                return "declined"
            return "authentication_timeout" if error.get("Error") == "States.Timeout" else "error"
    return "declined"


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = ReleaseTask.model_validate(event)
    obs.logger.append_keys(order_id=task.order_id, reason=task.reason)
    if task.reason == "PAYMENT_FAILED":
        result = service.fail_payment(task.order_id, _failure_reason(task.detail))
    else:
        note = {"EXPIRED": "reservation expired, stock released", "CANCELLED": "cancelled, stock released"}
        result = service.release(task.order_id, OrderStatus(task.reason), note=note[task.reason])
    if result["released"]:
        obs.count("ReservationReleased")
    return ReservationReleased.emit({"order_id": task.order_id, "released": result["released"],
                                     "status": str(result["status"])})


handler = obs.entrypoint(_handle)
