"""Workflow task Fulfillment (shop.fulfillment.service), by action:
- confirm_and_split (ConfirmAndSplit): PAYMENT_PROCESSING -> PAID and OrderPaid published (the confirmation email;
  what functions/orders_confirm did), then split as below, in one step (issue 17). An order cancelled meanwhile
  fails it with OrderCancelledMeanwhile, one closed during the split with OrderNotShippable (both caught by the
  state machine); a retry confirms nothing twice. Output {order_id, confirmation: {order_id, status}, shipments}
- split: PAID -> FULFILLING with one shipment per warehouse; output {shipments: [{shipment_id, warehouse_id, items,
  allocations}]}: the order workflow carries each entry to its PickAndPack and AwaitPickup steps (``shipment``).
  Its own step only in executions started before ConfirmAndSplit (kept for those)
- open_task (lambda:invoke.waitForTaskToken): a pick, pack or pickup task holding the workflow's token; opened from
  the carried ``shipment`` with no read (the order's state checked in the task's write), else after reading (an
  older execution's input, the exchanges workflow's: opening the pickup task books a pickup not booked yet).
  A pick with ``then: pack`` (the PickAndPack state, issue 17) is chained: its completion opens the pack task
  with the same token, and the pack's completion resumes the workflow (a retry gives the token to the current
  task of the two).
  A pickup with ``create_label`` (the AwaitPickup and AwaitReplacementPickup states, issue 17) first does what
  create_label does, in the same invocation, then records the token: one state for both. Its errors fail the
  task by their class name, as a plain task's do (the state's Retry and Catch); the label step's retry finds
  the label recorded and buys none
- commit_stock: the packed parcel's stock leaves (reserved -> shipped), shipment PACKED, order DISPATCHING (the
  exchanges workflow; in the order workflow completing the pack task commits, and create_label repeats it if not)
- create_label: label bought through the carrier port (CARRIER), its PDF stored in LabelsBucket and linked on the
  shipment with the carrier's pickup booking, ShipmentPacked published (with package_weight_grams: a parcel not
  yet committed is committed first). Its own step only in executions started before the label step was merged
  into the pickup step (kept for those)
- mark_shipped: the carrier picked it up; the order is SHIPPED once every parcel is (the exchanges workflow; an
  order's own parcel is handed over by the carrier's pickup scan itself)
- cancel: compensation when fulfillment fails for good before any parcel is packed (release + refund)
Outputs are shop.fulfillment.contracts models (what the state machine reads by JSONPath), one per action.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from shop.fulfillment import service
from shop.fulfillment.models import TaskKind
from shop.fulfillment.workflow_contracts import (
    FulfillmentCancelled,
    LabelCreated,
    OrderConfirmedAndSplit,
    OrderSplit,
    ShipmentHandedOver,
    StockCommitted,
    TaskOpened,
)
from shop.observability import observability
from shop.orderflow import cancellation
from shop.orders.fulfillment_tasks import (
    CommitStockTask,
    ConfirmAndSplitTask,
    CreateLabelTask,
    FulfillmentTask,
    MarkShippedTask,
    OpenTaskTask,
    SplitTask,
)

obs = observability("fulfillment", needs=("orders_table", "inventory_table", "promotions_table", "event_bus_name",
                                          "labels_bucket", "shop_secrets_arn", "stripe_api_base", "stage"),
                    optional=("carrier", "carrier_name", "tracking_url_template", "shipping_rates",
                              "shipping_zones"))
TASK: TypeAdapter[Any] = TypeAdapter(FulfillmentTask)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = TASK.validate_python(event)
    obs.logger.append_keys(order_id=task.order_id, action=task.action,
                           shipment_id=getattr(task, "shipment_id", None))
    if isinstance(task, ConfirmAndSplitTask):
        done = service.confirm_and_split(task.order_id, task.payment_intent_id)
        confirmation = done["confirmation"]
        result = OrderConfirmedAndSplit.emit({
            "order_id": done["order_id"], "shipments": done["shipments"],
            "confirmation": {"order_id": confirmation["order_id"], "status": confirmation["status"]}})
        if confirmation["changed"]:
            obs.count("OrderPaid")
        obs.count("OrderSplit")
        obs.count("ShipmentsCreated", len(result["shipments"]))
    elif isinstance(task, SplitTask):
        result = OrderSplit.emit(service.split(task.order_id))
        obs.count("OrderSplit")
        obs.count("ShipmentsCreated", len(result["shipments"]))
    elif isinstance(task, OpenTaskTask):
        if task.create_label:  # the label first (idempotent: a retry finds it recorded and buys none)
            service.create_label(task.order_id, task.shipment_id, task.package_weight_grams)
            obs.count("ShipmentPacked")
        carried = task.shipment.model_dump(mode="json") if task.shipment is not None else None
        result = TaskOpened.emit(service.open_task(task.order_id, task.shipment_id, TaskKind(task.kind),
                                                   task.task_token, carried,
                                                   then=TaskKind(task.then) if task.then else None))
        obs.count("WarehouseTaskOpened")
    elif isinstance(task, CommitStockTask):
        result = StockCommitted.emit(service.commit_stock(task.order_id, task.shipment_id, task.package_weight_grams))
        if result["committed"]:
            obs.count("StockCommitted")
    elif isinstance(task, CreateLabelTask):
        result = LabelCreated.emit(service.create_label(task.order_id, task.shipment_id, task.package_weight_grams))
        obs.count("ShipmentPacked")
    elif isinstance(task, MarkShippedTask):
        result = ShipmentHandedOver.emit(service.mark_shipped(task.order_id, task.shipment_id, task.picked_up_at))
        obs.count("ShipmentShipped")
    else:
        view = cancellation.cancel(task.order_id, reason=task.reason)
        result = FulfillmentCancelled.emit({"order_id": task.order_id, "status": view["status"],
                                           "payment": view["payment"]})
        obs.count("OrderCancelled")
    return result


handler = obs.entrypoint(_handle)
