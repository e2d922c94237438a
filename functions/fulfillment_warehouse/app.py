"""Warehouse staff (Cognito group `warehouse`): the open pick, pack and pickup tasks of a warehouse, and
completing a pick (picked lines) or pack (parcel weight) task, which resumes the order's workflow. Completing a
pack task commits the parcel (stock out, shipment PACKED, order DISPATCHING) in the same transaction as the
task's DONE, conditional on the order not being cancelled: 409 order_cancelled when the cancellation won.
A return task is completed with the inspected units; damaged ones may carry staff's refund decision (full,
partial or none, with a reason: shop.returns.decisions), checked against the return before the task is done.
A packed parcel's label document (PDF, bought through the carrier port) is fetched by shipment id: the answer is a
presigned URL valid for a few minutes (README "Carriers and labels")."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from shop.api import Guard, http_handler, make_resolver, require_group
from shop.fulfillment import service
from shop.fulfillment.contracts import ShipmentLabelLink, WarehouseTaskCompleted, WarehouseTaskPage
from shop.fulfillment.models import TaskCompletion
from shop.observability import observability

obs = observability("warehouse", needs=("orders_table", "inventory_table", "event_bus_name", "labels_bucket"))
app = make_resolver(obs.logger)
tasks = Router()
GROUP = "warehouse"


@tasks.get("/warehouse/<warehouseId>/tasks")
def list_tasks(warehouseId: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")],
               limit: Annotated[int, Query(ge=1, le=100)] = 50,
               cursor: Annotated[str | None, Query(max_length=2000)] = None) -> WarehouseTaskPage:
    require_group(app, GROUP)
    return service.list_open_tasks(warehouseId, limit, cursor)


@tasks.post("/warehouse/tasks/<taskId>/complete")
def complete_task(taskId: Annotated[str, Path(min_length=1, max_length=120)],
                  body: TaskCompletion) -> WarehouseTaskCompleted:
    # returns' inspection check (and the returns' models and repository it loads) is imported by this route only:
    # the task list and the label link do not load it (issue 17)
    from shop.returns import inspection

    who = require_group(app, GROUP)
    obs.logger.append_keys(task_id=taskId, staff_id=who.user_id)
    # a return inspection's refund decisions are checked against the return before anything is written
    result = service.complete_task(taskId, body, who.user_id, check=inspection.check_inspection)
    obs.logger.append_keys(order_id=result["order_id"])
    obs.count(f"WarehouseTaskCompleted_{result['kind']}")
    return result


@tasks.get("/warehouse/shipments/<shipmentId>/label")
def shipment_label(shipmentId: Annotated[str, Path(min_length=1, max_length=120)]) -> ShipmentLabelLink:
    who = require_group(app, GROUP)
    obs.logger.append_keys(shipment_id=shipmentId, staff_id=who.user_id)
    result = service.label_link(shipmentId)
    obs.count("ShipmentLabelLinked")
    return result


app.include_router(tasks)


handler = http_handler(app, obs, Guard("/warehouse", GROUP))
