"""Shipments, warehouse tasks and carrier events (the fulfillment side of an order)."""

from enum import StrEnum
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

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


class LeftAt(StrEnum):
    """Where the carrier left a delivered parcel. Only ``handed_to_recipient`` means the shopper (or whoever
    signed at the address) took it in person: an order that asks for a signature wants exactly that."""

    HANDED_TO_RECIPIENT = "handed_to_recipient"
    DOOR = "door"  # at the front door, unattended
    NEIGHBOUR = "neighbour"
    PARCEL_SHOP = "parcel_shop"  # a pickup point: the shopper collects it there
    PARCEL_LOCKER = "parcel_locker"
    MAILBOX = "mailbox"
    RECEPTION = "reception"  # a front desk, concierge or mail room
    SAFE_PLACE = "safe_place"  # a place the shopper named to the carrier


def https_url(text: str) -> str:
    """A proof-of-delivery link is shown to staff and shoppers: https only (no plain http, no other schemes, no
    credentials in it), with a host."""
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc or any(c.isspace() for c in text):
        raise ValueError("must be an https URL (https://host/...)")
    return text


ProofUrl = Annotated[str, StringConstraints(max_length=2000), AfterValidator(https_url)]
SignedBy = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class DeliveryProof(Frozen):
    """What the carrier reported with the delivery: who signed, where the parcel was left, and a photo or
    signature image. ``signature_missing`` is the shop's finding: the order asked for a signature and the
    delivery did not give one (staff see the order as needing attention)."""

    signed_by: str | None = Field(None, description="the name the recipient signed with; null: nobody signed")
    left_at: LeftAt | None = Field(None, description="null: the carrier did not say")
    proof_url: str | None = Field(None, description="photo or signature image at the carrier (https)")
    signature_required: bool = Field(False, description="the order asked for a signature (its value)")
    signature_missing: bool = Field(False, description="a signature was required and the delivery lacks it: "
                                                       "nobody signed, or it was not handed to the recipient")


class TrackingEvent(Frozen):
    event_id: str
    status: str
    occurred_at: str
    description: str | None = None
    location: str | None = None


class PickupBooking(Frozen):
    """The carrier's pickup booked for a packed parcel (shop.fulfillment.carrier.Carrier.book_pickup)."""

    confirmation: str
    window_start: str
    window_end: str


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
    label_key: str | None = Field(None, description="the label document (PDF) in LABELS_BUCKET")
    pickup: PickupBooking | None = None
    created_at: str
    updated_at: str
    packed_at: str | None = None
    shipped_at: str | None = None
    delivered_at: str | None = None
    delivery_proof: DeliveryProof | None = None
    tracking: list[TrackingEvent] = Field(default_factory=list)
    # a replacement parcel of an exchange (shop.returns.exchanges): its stock was reserved from the level itself
    # (not the order's allocations), and it ships after the order was delivered, without moving the order's status
    exchange_id: str | None = None

    @property
    def items_weight_grams(self) -> int:
        return sum(i.weight_grams * i.quantity for i in self.items)

    def proof_fields(self) -> dict[str, Any]:
        """The proof of delivery as ShipmentDelivered and OrderDelivered carry it (schema version 1, additive):
        null members where the carrier gave none; a parcel delivered before proofs were recorded has all null
        and asked for nothing."""
        p = self.delivery_proof
        return {"signed_by": p.signed_by if p else None, "left_at": p.left_at.value if p and p.left_at else None,
                "proof_url": p.proof_url if p else None,
                "signature_required": p.signature_required if p else False,
                "signature_missing": p.signature_missing if p else False}

    def delivery_fields(self) -> dict[str, Any]:
        """One parcel of OrderDelivered's ``deliveries``."""
        return {"shipment_id": self.shipment_id, "delivered_at": self.delivered_at, **self.proof_fields()}


class TaskKind(StrEnum):
    PICK = "pick"
    PACK = "pack"
    PICKUP = "pickup"
    RETURN = "return"  # receive and inspect a customer return (shipment_id holds the return id)


class TaskStatus(StrEnum):
    OPEN = "OPEN"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


class ParcelAllocation(Frozen):
    """Where the order reserved a parcel's SKU in its warehouse (the level, or one shard of it): what the pack's
    stock commit gives back, carried on the pack task so that completing it does not read the order."""

    sku: SkuCode
    quantity: int = Field(gt=0)
    shard: int | None = Field(None, ge=0)


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
    # a pack task opened from the workflow's carried split (issue 17): the order's allocations of its SKUs in
    # the warehouse (None: opened by an older execution or for an exchange; the completion reads the order); a
    # pick task with ``then`` carries them for the pack task its completion opens
    allocations: list[ParcelAllocation] | None = None
    # a pick task of the PickAndPack state (issue 17: one waiting state for pick and pack): the task its completion
    # opens with the same workflow token, instead of resuming the workflow (None: the workflow resumes)
    then: TaskKind | None = None


# ------------------------------------------------------------------ requests
# the models below are built when first used (issue 17, cold imports): the warehouse's completion bodies
# and the carrier's events, which most importers of this module never parse
class PickedLine(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    sku: SkuCode
    quantity: int = Field(gt=0, le=10_000)


RefundDecision = Literal["full", "partial", "none"]


class DamagedRefund(BaseModel):
    """What a line's damaged units give back, decided by staff at inspection (sellable units always give back
    their full price share): ``full``, ``none``, or ``partial`` with either ``amount_per_unit`` (each damaged
    unit) or ``amount`` (the line's damaged units together), never above their paid share (checked against the
    return when the task is completed). Always with a reason: the shopper and the console show it."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    decision: RefundDecision
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    amount_per_unit: Money | None = Field(None, description="partial: what each damaged unit gives back")
    amount: Money | None = Field(None, description="partial: what the line's damaged units give back together")

    @model_validator(mode="after")
    def _amounts(self) -> Self:
        given = [a for a in (self.amount_per_unit, self.amount) if a is not None]
        if self.decision == "partial":
            if len(given) != 1:
                raise ValueError("a partial refund takes exactly one of amount_per_unit and amount")
            if given[0].amount <= 0:
                raise ValueError("a partial refund is more than 0 (decide none instead)")
        elif given:
            raise ValueError(f"a {self.decision} refund takes no amount")
        return self


class InspectedLine(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    sku: SkuCode
    sellable: int = Field(ge=0, le=10_000)
    damaged: int = Field(ge=0, le=10_000)
    damaged_refund: DamagedRefund | None = Field(
        None, description="what the damaged units give back (only with damaged units); without it they are "
                          "refunded in full")


class TaskCompletion(BaseModel):
    """Body of POST /warehouse/tasks/{taskId}/complete. A pick lists what was picked (must match the
    checklist); a pack gives the weighed parcel; a return inspection says per SKU how many units can be sold
    again and how many are damaged."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    inspected: list[InspectedLine] | None = Field(None, max_length=200, description="return tasks")
    picked: list[PickedLine] | None = Field(None, max_length=200, description="pick tasks: the picked lines")
    package_weight_grams: int | None = Field(None, gt=0, le=70_000, description="pack tasks: the parcel's weight")
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


CarrierStatus = Literal["picked_up", "in_transit", "delivered", "exception"]


class CarrierEvent(BaseModel):
    """Body of the carrier's webhook POST /webhooks/carrier."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    tracking_number: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{8,40}$")]
    status: CarrierStatus
    occurred_at: Annotated[str, StringConstraints(min_length=10, max_length=40)]
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    location: Annotated[str, StringConstraints(max_length=200)] | None = None
    # proof of delivery: only a ``delivered`` event carries them
    signed_by: SignedBy | None = Field(None, description="delivered: the name the recipient signed with")
    left_at: LeftAt | None = Field(None, description="delivered: where the parcel was left")
    proof_url: ProofUrl | None = Field(None, description="delivered: photo or signature image (https)")

    @field_validator("signed_by", "left_at", "proof_url")
    @classmethod
    def _only_when_delivered(cls, value: object, info: ValidationInfo) -> object:
        if value is not None and info.data.get("status") not in (None, "delivered"):
            raise ValueError("only a delivered event carries a proof of delivery")
        return value
