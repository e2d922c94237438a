"""Compensation ReleaseReservation: input {"order_id", "reason": PAYMENT_FAILED | EXPIRED | CANCELLED}.
Releases the order's reserved stock and closes it in one transaction, exactly once: when the order no longer
holds a reservation it returns {"released": false} and changes nothing."""

from __future__ import annotations

from typing import Any

from shop.models import OrderStatus
from shop.observability import observability
from shop.orders import service
from shop.orders.tasks import ReleaseTask

obs = observability("release-reservation")


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = ReleaseTask.model_validate(event)
    obs.logger.append_keys(order_id=task.order_id, reason=task.reason)
    note = {"PAYMENT_FAILED": "payment failed, stock released", "EXPIRED": "reservation expired, stock released",
            "CANCELLED": "cancelled, stock released"}[task.reason]
    result = service.release(task.order_id, OrderStatus(task.reason), note=note)
    if result["released"]:
        obs.count("ReservationReleased")
    return {"order_id": task.order_id, "released": result["released"], "status": str(result["status"])}


handler = obs.entrypoint(_handle)
