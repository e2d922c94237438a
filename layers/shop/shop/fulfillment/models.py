"""Shipments, warehouse tasks and carrier events (the fulfillment side of an order)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shop.models import Frozen, SkuCode, Slug
from shop.money import Money


class ShipmentStatus(StrEnum):
    PICKING = "PICKING"
    PACKING = "PACKING"
    PACKED = "PACKED"  # stock committed, label bought, waiting for the carrier
    SHIPPED = "SHIPPED"  # the carrier picked it up
    IN_TRANSIT = "IN_TRANSIT"
    EXCEPTION = "EXCEPTION"  # the carrier reported a problem (it may still be delivered)
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


SH = ShipmentStatus
# where each carrier-reported or workflow status may come from (conditional writes use these)
SHIPMENT_FROM: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    SH.PACKING: frozenset({SH.PICKING}),
    SH.PACKED: frozenset({SH.PACKING}),
    SH.SHIPPED: frozenset({SH.PACKED}),
    SH.IN_TRANSIT: frozenset({SH.PACKED, SH.SHIPPED, SH.EXCEPTION}),
    SH.EXCEPTION: frozenset({SH.PACKED, SH.SHIPPED, SH.IN_TRANSIT}),
    SH.DELIVERED: frozenset({SH.PACKED, SH.SHIPPED, SH.IN_TRANSIT, SH.EXCEPTION}),
    SH.CANCELLED: frozenset({SH.PICKING, SH.PACKING}),
}
# a shipment the carrier has (or had): counts as shipped for the order
HANDED_OVER = frozenset({SH.SHIPPED, SH.IN_TRANSIT, SH.EXCEPTION, SH.DELIVERED})


class ShipmentItem(Frozen):
    sku: SkuCode
    name: str
    quantity: int = Field(gt=0)
    weight_grams: int = Field(gt=0, description="per unit")
    bin: str = Field("UNASSIGNED", description="storage location in the warehouse")


class TrackingEvent(Frozen):
    event_id: str
    status: str
    occurred_at: str
    description: str | None = None
    location: str | None = None


class Shipment(Frozen):
    shipment_id: str
    order_id: str
    warehouse_id: Slug
    status: ShipmentStatus
    items: list[ShipmentItem]
    package_weight_grams: int | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    shipping_cost: Money | None = None
    zone: str | None = None
    created_at: str
    updated_at: str
    packed_at: str | None = None
    shipped_at: str | None = None
    delivered_at: str | None = None
    tracking: list[TrackingEvent] = Field(default_factory=list)

    @property
    def items_weight_grams(self) -> int:
        return sum(i.weight_grams * i.quantity for i in self.items)


class TaskKind(StrEnum):
    PICK = "pick"
    PACK = "pack"
    PICKUP = "pickup"
    RETURN = "return"  # receive and inspect a customer return (shipment_id holds the return id)


class TaskStatus(StrEnum):
    OPEN = "OPEN"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


class WarehouseTask(Frozen):
    task_id: str
    kind: TaskKind
    status: TaskStatus
    order_id: str
    shipment_id: str
    warehouse_id: Slug
    checklist: list[ShipmentItem]
    created_at: str
    completed_at: str | None = None
    completed_by: str | None = None
    result: dict[str, object] | None = None
    instructions: str


# ------------------------------------------------------------------ requests
class PickedLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: SkuCode
    quantity: int = Field(gt=0, le=10_000)


class InspectedLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: SkuCode
    sellable: int = Field(ge=0, le=10_000)
    damaged: int = Field(ge=0, le=10_000)


class TaskCompletion(BaseModel):
    """Body of POST /warehouse/tasks/{taskId}/complete. A pick lists what was picked (must match the
    checklist); a pack gives the weighed parcel; a return inspection says per SKU how many units can be sold
    again and how many are damaged."""

    model_config = ConfigDict(extra="forbid")
    inspected: list[InspectedLine] | None = Field(None, max_length=200, description="return tasks")
    picked: list[PickedLine] | None = Field(None, max_length=200, description="pick tasks: the picked lines")
    package_weight_grams: int | None = Field(None, gt=0, le=70_000, description="pack tasks: the parcel's weight")
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


CarrierStatus = Literal["picked_up", "in_transit", "delivered", "exception"]


class CarrierEvent(BaseModel):
    """Body of the carrier's webhook POST /webhooks/carrier."""

    model_config = ConfigDict(extra="ignore")
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    tracking_number: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{8,40}$")]
    status: CarrierStatus
    occurred_at: Annotated[str, StringConstraints(min_length=10, max_length=40)]
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    location: Annotated[str, StringConstraints(max_length=200)] | None = None
