"""Workflow task ConfirmOrder: PAYMENT_PROCESSING -> PAID and OrderPaid published (conditional; a retry finding
PAID is fine; an order cancelled meanwhile fails the task with OrderCancelledMeanwhile, which the state machine
catches to end the workflow)."""

from __future__ import annotations

from typing import Any

from shop.observability import observability
from shop.orders import service
from shop.orders.tasks import ConfirmTask
from shop.orders.workflow_contracts import OrderConfirmed

obs = observability("confirm-order", needs=("orders_table", "event_bus_name"))


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = ConfirmTask.model_validate(event)
    obs.logger.append_keys(order_id=task.order_id)
    result = service.confirm_paid_step(task.order_id, task.payment_intent_id)
    if result["changed"]:
        obs.count("OrderPaid")
    return OrderConfirmed.emit({"order_id": task.order_id, "status": str(result["status"])})


handler = obs.entrypoint(_handle)
