"""Workflow tasks of a customer return (shop.returns.service), by action: approve, issue_label,
open_inspection (lambda:invoke.waitForTaskToken: a warehouse return task), restock, refund; and an exchange's
(shop.returns.exchanges): release_replacement, settle_difference, ship_replacement, complete_exchange (approve
and restock serve both). Outputs are shop.returns.contracts models (what the state machine reads by JSONPath),
one per action."""

from __future__ import annotations

from typing import Any

from shop.observability import observability
from shop.returns import exchanges, service
from shop.returns.models import ReturnTask
from shop.returns.workflow_contracts import (
    ExchangeCompleted,
    ExchangeSettled,
    InspectionOpened,
    ReplacementParcel,
    ReplacementReleased,
    ReturnApproved,
    ReturnLabelIssued,
    ReturnRefunded,
    ReturnRestocked,
)

obs = observability("returns", needs=("orders_table", "inventory_table", "event_bus_name", "labels_bucket",
                                      "shop_secrets_arn", "stripe_api_base", "stage"),
                    optional=("carrier", "carrier_name", "tracking_url_template", "shipping_rates", "shipping_zones"))


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = ReturnTask.model_validate(event)
    obs.logger.append_keys(order_id=task.order_id, return_id=task.return_id, action=task.action)
    if task.action == "approve":
        result = ReturnApproved.emit(exchanges.approve(task.order_id, task.return_id))
        obs.count("ReturnApproved")
    elif task.action == "issue_label":
        result = ReturnLabelIssued.emit(service.issue_label(task.order_id, task.return_id))
    elif task.action == "open_inspection":
        if not task.task_token:
            raise ValueError("open_inspection needs the workflow's task_token")
        result = InspectionOpened.emit(service.open_inspection(task.order_id, task.return_id, task.task_token))
    elif task.action == "restock":
        result = ReturnRestocked.emit(exchanges.restock(task.order_id, task.return_id, task.inspected or []))
        obs.count("ReturnRestocked", int(result["units"]))
    elif task.action == "release_replacement":
        result = ReplacementReleased.emit(exchanges.release_replacement(task.order_id, task.return_id))
    elif task.action == "settle_difference":
        result = ExchangeSettled.emit(exchanges.settle_difference(task.order_id, task.return_id))
    elif task.action == "ship_replacement":
        result = ReplacementParcel.emit(exchanges.ship_replacement(task.order_id, task.return_id))
    elif task.action == "complete_exchange":
        result = ExchangeCompleted.emit(exchanges.complete_exchange(task.order_id, task.return_id))
        obs.count("ExchangeCompleted")
    else:
        result = ReturnRefunded.emit(service.refund(task.order_id, task.return_id))
        obs.count("ReturnRefunded")
    return result


handler = obs.entrypoint(_handle)
