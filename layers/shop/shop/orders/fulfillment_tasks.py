"""Inputs of the fulfillment steps of the order workflow (functions/fulfillment; validated: a malformed input
fails the task), in a module of their own so that the payment and order steps, which import shop.orders.tasks,
do not define them at their cold start (issue 17). shop.orders.tasks still offers them by name. Their outputs
are shop.fulfillment.contracts models (docs/conventions.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shop.orders.tasks import ConfirmTask, OrderTask

# an order's parcel (numbered) or an exchange's replacement parcel (x + the exchange's id: shop.fulfillment.split)
ShipmentId = Annotated[str, StringConstraints(pattern=r"^shp_[a-z2-7]{10,40}_([0-9]{1,3}|x[a-f0-9]{20})$")]


# ------------------------------------------------------------------ fulfillment
class SplitTask(OrderTask):
    action: Literal["split"]


class ConfirmAndSplitTask(ConfirmTask):
    """ConfirmAndSplit: the order PAID (what ConfirmOrder did), then split (what SplitOrder did), in one step
    (issue 17: a state transition fewer per order)."""

    action: Literal["confirm_and_split"]


class ShipmentTask(OrderTask):
    shipment_id: ShipmentId


class CarriedItem(BaseModel):
    """A parcel's line as the split planned it (shop.fulfillment.models.ShipmentItem): the task's checklist."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    sku: str
    name: str
    quantity: int = Field(gt=0)
    weight_grams: int = Field(gt=0)
    bin: str = "UNASSIGNED"


class CarriedAllocation(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    sku: str
    quantity: int = Field(gt=0)
    shard: int | None = Field(default=None, ge=0)


class CarriedShipment(BaseModel):
    """The split's entry for the parcel (its output, item of the Map FulfilShipments): what opening a pick or
    pack task needs, carried in the execution's state so that the step does not read the shipment again
    (issue 17). ``items`` is absent in executions split before it was carried: the step then reads."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    shipment_id: ShipmentId
    warehouse_id: str = Field(min_length=1)
    items: list[CarriedItem] | None = Field(default=None, min_length=1)
    allocations: list[CarriedAllocation] | None = None


class OpenTaskTask(ShipmentTask):
    action: Literal["open_task"]
    kind: Literal["pick", "pack", "pickup"]
    task_token: str = Field(min_length=1)
    shipment: CarriedShipment | None = None
    # a pickup step that buys the parcel's label first, in the same invocation (issue 17: the label step merged
    # into the pickup step, a state transition fewer); with the pack task's weight in the order workflow
    create_label: bool = False
    package_weight_grams: int | None = Field(default=None, gt=0)
    # the PickAndPack state (issue 17: pick and pack one waiting state, a state transition fewer): the pick task's
    # completion opens the pack task with the same token, whose completion resumes the workflow. Absent (the
    # Pick state of executions started before, the exchanges workflow): the pick's completion resumes it
    then: Literal["pack"] | None = None

    @model_validator(mode="after")
    def _label_only_with_a_pickup(self) -> OpenTaskTask:
        if (self.create_label or self.package_weight_grams is not None) and self.kind != "pickup":
            raise ValueError("create_label and package_weight_grams go with a pickup task only")
        if self.package_weight_grams is not None and not self.create_label:
            raise ValueError("package_weight_grams is the label's: it needs create_label")
        if self.then is not None and self.kind != "pick":
            raise ValueError("then (the task a completion opens) goes with a pick task only")
        return self


class CommitStockTask(ShipmentTask):
    action: Literal["commit_stock"]
    package_weight_grams: int = Field(gt=0)


class CreateLabelTask(ShipmentTask):
    action: Literal["create_label"]
    # the pack task's weight (the order workflow): a parcel whose stock is not committed yet is committed first
    package_weight_grams: int | None = Field(default=None, gt=0)


class MarkShippedTask(ShipmentTask):
    action: Literal["mark_shipped"]
    picked_up_at: str | None = None


class CancelOrderTask(OrderTask):
    action: Literal["cancel"]
    reason: Literal["fulfillment_failed"] = "fulfillment_failed"


FulfillmentTask = Annotated[
    ConfirmAndSplitTask | SplitTask | OpenTaskTask | CommitStockTask | CreateLabelTask | MarkShippedTask
    | CancelOrderTask,
    Field(discriminator="action")]
