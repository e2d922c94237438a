"""The order workflow's fulfillment steps (statemachines/order.asl.json, the exchanges' too): the outputs of
functions/fulfillment by action and what the warehouse task tokens are resumed with. A module of its own, so that
the fulfillment function does not define the warehouse's HTTP answers (shop.fulfillment.contracts, which
offers these by name too) at its cold start (issue 17)."""

from typing import Literal

from pydantic import Field

from shop.contracts import WorkflowData, absent, example
from shop.fulfillment.contract_parts import TaskPickedLine
from shop.fulfillment.models import ShipmentStatus
from shop.money import Money
from shop.orders.models import OrderStatus
from shop.orders.workflow_contracts import OrderConfirmed

# ------------------------------------------------------------------ the order workflow's fulfillment steps
# functions/fulfillment, by action (inputs: shop.orders.tasks.FulfillmentTask), and what the warehouse task
# tokens are resumed with (``shop.fulfillment.service.task_output``). docs/conventions.md lists them per state.
_ORDER = "ord_sampleorderaaaaaaaaaaaaaaa"
_SHIPMENT = "shp_sampleorderaaaaaaaaaaaaaaa_1"
_DONE = {"completed_at": "2026-11-25T10:00:00Z", "completed_by": "usr_staff0001"}


class ShipmentItemToPick(WorkflowData):
    sku: str
    name: str
    quantity: int
    weight_grams: int = Field(description="per unit")
    bin: str = Field(description="storage location in the warehouse (UNASSIGNED when none)")


class ParcelAllocationData(WorkflowData):
    sku: str
    quantity: int
    shard: int | None = Field(None, exclude_if=absent, description="sharded stock levels only")


class ShipmentToFulfil(WorkflowData):
    """One Map item, passed whole to the PickAndPack step (the Pick and Pack steps in executions started before
    it) (``shipment``): opening its tasks needs the lines and the warehouse, which the split knows, so the steps
    do not read the shipment again (issue 17)."""

    shipment_id: str
    warehouse_id: str
    items: list[ShipmentItemToPick] = Field(description="the parcel's lines: the pick and pack checklists")
    allocations: list[ParcelAllocationData] = Field(
        description="the order's reservations of the parcel's SKUs in its warehouse: the pack's stock commit")


_SHIPMENTS = [{
    "shipment_id": _SHIPMENT, "warehouse_id": "berlin", "items": [
        {"sku": "MUG-BLUE-350", "name": "Blue mug 350 ml", "quantity": 2, "weight_grams": 400, "bin": "A-01-3"}],
    "allocations": [{"sku": "MUG-BLUE-350", "quantity": 2}]}]


class OrderSplit(WorkflowData):
    """split (SplitOrder, at ``$.split``, in executions started before ConfirmAndSplit): the Map FulfilShipments
    runs once per shipment."""

    model_config = example({"order_id": _ORDER, "shipments": _SHIPMENTS})

    order_id: str
    shipments: list[ShipmentToFulfil] = Field(description="one per warehouse the reservation was allocated to")


class OrderConfirmedAndSplit(WorkflowData):
    """confirm_and_split (ConfirmAndSplit, at ``$.split``): the order confirmed (``confirmation``: what the
    ConfirmOrder step answered at ``$.confirmation``), then split (``shipments``: the Map FulfilShipments runs
    once per shipment), in one step (issue 17)."""

    model_config = example({"order_id": _ORDER, "confirmation": {"order_id": _ORDER, "status": "PAID"},
                            "shipments": _SHIPMENTS})

    order_id: str
    confirmation: OrderConfirmed = Field(description="PAID, or a later status (a retried step)")
    shipments: list[ShipmentToFulfil] = Field(description="one per warehouse the reservation was allocated to")


class TaskOpened(WorkflowData):
    """open_task's return to Lambda (discarded: the state waits for its token, resumed with PickTaskDone,
    PackTaskDone or PickupTaskDone; failed with OrderNotShippable when the order was cancelled)."""

    model_config = example({"task_id": "tsk_sampleorderaaaaaaaaaaaaaaa_1_pick", "waiting": True})

    task_id: str | None = Field(description="null when the order was closed (the token was failed)")
    waiting: bool = Field(description="false when the task was done already (the token was resumed at once)")


class PickTaskDone(WorkflowData):
    """Pick (at ``$.pick``; executions started before PickAndPack, the exchanges' PickReplacement): the token
    resumed by staff completing the pick task. (A PickAndPack pick's completion resumes nothing: it opens the pack
    task with the token, which is resumed with PackTaskDone.)"""

    model_config = example({"task_id": "tsk_sampleorderaaaaaaaaaaaaaaa_1_pick", "kind": "pick", **_DONE,
                            "picked": [{"sku": "MUG-BLUE-350", "quantity": 2}]})

    task_id: str
    kind: Literal["pick"]
    completed_at: str | None
    completed_by: str | None
    picked: list[TaskPickedLine]
    note: str | None = Field(None, exclude_if=absent)


class PackTaskDone(WorkflowData):
    """PickAndPack and Pack (at ``$.pack``): AwaitPickup (CommitReplacementStock in the exchanges workflow) reads
    ``package_weight_grams``."""

    model_config = example({"task_id": "tsk_sampleorderaaaaaaaaaaaaaaa_1_pack", "kind": "pack", **_DONE,
                            "package_weight_grams": 950, "note": "double box"})

    task_id: str
    kind: Literal["pack"]
    completed_at: str | None
    completed_by: str | None
    package_weight_grams: int
    note: str | None = Field(None, exclude_if=absent)


class PickupTaskDone(WorkflowData):
    """AwaitPickup (at ``$.pickup``): the carrier's picked_up scan, which also hands an order's parcel over
    (the order workflow ends there); the exchanges workflow's MarkReplacementShipped reads ``picked_up_at``."""

    model_config = example({"task_id": "tsk_sampleorderaaaaaaaaaaaaaaa_1_pickup", "kind": "pickup",
                            "completed_at": "2026-11-26T08:00:00Z", "completed_by": "carrier",
                            "picked_up_at": "2026-11-26T07:58:12Z"})

    task_id: str
    kind: Literal["pickup"]
    completed_at: str | None
    completed_by: str | None
    picked_up_at: str


class StockCommitted(WorkflowData):
    """commit_stock (the exchanges workflow's CommitReplacementStock, at ``$.commit``): ``committed`` false when
    completing the pack task did it."""

    model_config = example({"order_id": _ORDER, "shipment_id": _SHIPMENT, "committed": False})

    order_id: str
    shipment_id: str
    committed: bool


class LabelCreated(WorkflowData):
    """create_label (CreateLabel, at ``$.label``)."""

    model_config = example({"order_id": _ORDER, "shipment_id": _SHIPMENT, "carrier": "DHL",
                            "tracking_number": "JJD0001234567890",
                            "shipping_cost": {"amount": 490, "currency": "EUR"}})

    order_id: str
    shipment_id: str
    carrier: str | None
    tracking_number: str | None
    shipping_cost: Money | None = Field(description="what the label cost")


class ShipmentHandedOver(WorkflowData):
    """mark_shipped (the exchanges workflow's MarkReplacementShipped, at ``$.shipped``)."""

    model_config = example({"order_id": _ORDER, "shipment_id": _SHIPMENT, "status": "SHIPPED"})

    order_id: str
    shipment_id: str
    status: ShipmentStatus


class CancelledOrderRefund(WorkflowData):
    refund_id: str
    amount: Money | None


class CancelledOrderPayment(WorkflowData):
    """The order's payment as shoppers see it (``shop.orders.service.order_view``)."""

    status: str
    payment_intent_id: str | None
    decline_code: str | None
    client_secret: str | None = Field(None, exclude_if=absent)
    next_action: str | None = Field(None, exclude_if=absent)
    refund: CancelledOrderRefund | None = Field(None, exclude_if=absent)


class FulfillmentCancelled(WorkflowData):
    """cancel (CancelAfterFailure, at ``$.cancellation``): the compensation released, refunded and cancelled."""

    model_config = example({"order_id": _ORDER, "status": "CANCELLED", "payment": {
        "status": "refunded", "payment_intent_id": "pi_sample000000", "decline_code": None,
        "refund": {"refund_id": "re_sample000000", "amount": {"amount": 5232, "currency": "EUR"}}}})

    order_id: str
    status: OrderStatus
    payment: CancelledOrderPayment
