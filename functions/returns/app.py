"""Workflow tasks of a customer return (shop.returns.service), by action: approve, issue_label,
open_inspection (lambda:invoke.waitForTaskToken: a warehouse return task), restock, refund."""

from __future__ import annotations

from typing import Any

from shop.observability import observability
from shop.returns import service
from shop.returns.models import ReturnTask

obs = observability("returns")


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = ReturnTask.model_validate(event)
    obs.logger.append_keys(order_id=task.order_id, return_id=task.return_id, action=task.action)
    if task.action == "approve":
        result = service.approve(task.order_id, task.return_id)
        obs.count("ReturnApproved")
    elif task.action == "issue_label":
        result = service.issue_label(task.order_id, task.return_id)
    elif task.action == "open_inspection":
        if not task.task_token:
            raise ValueError("open_inspection needs the workflow's task_token")
        result = service.open_inspection(task.order_id, task.return_id, task.task_token)
    elif task.action == "restock":
        result = service.restock(task.order_id, task.return_id, task.inspected or [])
        obs.count("ReturnRestocked", int(result["units"]))
    else:
        result = service.refund(task.order_id, task.return_id)
        obs.count("ReturnRefunded")
    return result


handler = obs.entrypoint(_handle)
