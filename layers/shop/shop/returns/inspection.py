"""The warehouse API's hook into a return inspection (shop.fulfillment.service.complete_task's ``check``):
staff's refund decisions checked against the return before the task is completed. Apart from
shop.returns.service (the returns workflow's steps), so the warehouse's routes import the return's repository
and decisions only (issue 17, cold imports)."""

from __future__ import annotations

from shop.errors import NotFound
from shop.fulfillment.models import TaskCompletion, TaskKind, WarehouseTask
from shop.returns import decisions
from shop.returns import repository as repo


def check_inspection(task: WarehouseTask, body: TaskCompletion) -> None:
    """Staff's refund decisions, checked against the return before the inspection task is completed (the
    warehouse API's hook into shop.fulfillment.service.complete_task): a partial amount above the paid share of
    the damaged units, or in another currency, is a 422 naming the field, and nothing is written."""
    if task.kind != TaskKind.RETURN or not body.inspected:
        return
    ret = repo.get(task.order_id, task.shipment_id)
    if ret is None:
        raise NotFound(f"return {task.shipment_id} not found")
    decisions.decide(ret, [ln.model_dump(mode="json", exclude_none=True) for ln in body.inspected])
