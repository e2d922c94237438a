"""HTTP answers of the warehouse staff API (functions/fulfillment_warehouse): open pick, pack, pickup and return
tasks and the completion of one. The shapes are those of ``shop.fulfillment.service.task_view``.

A task's ``result`` holds what completed it, by kind: ``picked`` (pick), ``package_weight_grams`` (pack),
``inspected`` (return), ``picked_up_at`` (pickup, by the carrier's scan), and staff's ``note``; only the keys
of its kind are present (``exclude_if``), as stored.
"""


from pydantic import Field

from shop import lazy
from shop.contracts import ResponseModel, absent
from shop.fulfillment.contract_parts import DamagedRefundView, TaskPickedLine
from shop.fulfillment.models import TaskKind, TaskStatus


class TaskChecklistItem(ResponseModel):
    sku: str
    name: str
    quantity: int
    bin: str = Field(description="storage location in the warehouse (UNASSIGNED when none)")
    weight_grams: int = Field(description="per unit")


class TaskInspectedLine(ResponseModel):
    sku: str
    sellable: int = Field(description="units that go back to stock")
    damaged: int
    damaged_refund: DamagedRefundView | None = Field(None, exclude_if=absent,
                                                     description="staff's refund decision for the damaged units")


class WarehouseTaskResult(ResponseModel):
    picked: list[TaskPickedLine] | None = Field(None, exclude_if=absent, description="pick tasks")
    package_weight_grams: int | None = Field(None, exclude_if=absent, description="pack tasks: the weighed parcel")
    inspected: list[TaskInspectedLine] | None = Field(None, exclude_if=absent, description="return tasks")
    picked_up_at: str | None = Field(None, exclude_if=absent, description="pickup tasks: the carrier's scan (UTC)")
    note: str | None = Field(None, exclude_if=absent, description="staff's note, when given")


class WarehouseTaskView(ResponseModel):
    task_id: str
    kind: TaskKind = Field(description="pick, pack, pickup (completed by the carrier's scan) or return (inspection "
                                       "of a customer return; shipment_id holds the return id)")
    status: TaskStatus
    order_id: str
    shipment_id: str
    warehouse_id: str
    instructions: str
    checklist: list[TaskChecklistItem]
    created_at: str
    completed_at: str | None
    completed_by: str | None = Field(description="staff user id, 'carrier' or 'cancellation'")
    result: WarehouseTaskResult | None = Field(description="null until the task is done")


class WarehouseTaskPage(ResponseModel):
    warehouse_id: str
    items: list[WarehouseTaskView] = Field(description="the warehouse's OPEN tasks")
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class WarehouseTaskCompleted(WarehouseTaskView):
    workflow_resumed: bool = Field(description="the order's workflow waiting on this task was resumed by this call "
                                               "(false for a pick task of the order workflow: its completion opens the "
                                               "pack task, whose completion resumes the workflow)")


class ShipmentLabelLink(ResponseModel):
    """GET /warehouse/shipments/{shipmentId}/label: where to fetch the parcel's printable label (PDF)."""

    shipment_id: str
    order_id: str
    warehouse_id: str
    carrier: str | None
    tracking_number: str | None
    content_type: str = Field(description="application/pdf")
    url: str = Field(description="presigned GET of the document; open or print it before it expires")
    expires_in_seconds: int


# the order workflow's fulfillment steps live in shop.fulfillment.workflow_contracts (functions/fulfillment imports
# them from there): the warehouse's routes do not define them at their cold start (issue 17). Importable from
# here as before, loaded on first access.
_WORKFLOW = frozenset({
    "ShipmentItemToPick", "ParcelAllocationData", "ShipmentToFulfil", "OrderSplit", "OrderConfirmedAndSplit",
    "TaskOpened", "PickTaskDone", "PackTaskDone", "PickupTaskDone", "StockCommitted", "LabelCreated",
    "ShipmentHandedOver", "CancelledOrderRefund", "CancelledOrderPayment", "FulfillmentCancelled"})


__getattr__ = lazy.attributes_from(__name__, {"shop.fulfillment.workflow_contracts": _WORKFLOW})

