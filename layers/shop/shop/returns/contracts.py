"""HTTP answers of the shopper's return routes (served by functions/orders): a return authorisation.

The shape is ``shop.returns.service.view``: the stored return without its null fields, so every key filled in
later by the returns workflow (``label``, ``inspection``, ``refund_id``, ``refunded``) and the optional ones
(``email``, ``note``, a timeline entry's ``note``) are declared with ``exclude_if``: absent, never null.
"""

from typing import Literal

from pydantic import Field

from shop import lazy
from shop.contracts import ResponseModel, absent
from shop.fulfillment.contract_parts import DamagedRefundView
from shop.money import Money
from shop.returns.contract_parts import InspectedUnits
from shop.returns.models import ReturnReason, ReturnStatus


class ReturnLineView(ResponseModel):
    sku: str
    name: str
    quantity: int
    reason: ReturnReason
    warehouse_id: str = Field(description="the warehouse that shipped these units")
    weight_grams: int = Field(description="per unit")
    refund: Money = Field(description="what the line gives back: its net price share after discounts, plus tax")


class ReturnLabel(ResponseModel):
    carrier: str
    tracking_number: str
    tracking_url: str
    cost: Money
    label_key: str | None = Field(None, exclude_if=absent, description="the label document (PDF) in LabelsBucket, "
                                  "bought through the carrier port (GET /returns/{returnId}/label links it)")


class ReturnTimelineEntry(ResponseModel):
    at: str
    status: str
    note: str | None = Field(None, exclude_if=absent)


class ExchangeView(ResponseModel):
    """What an exchange sends instead of a refund (shop.returns.exchanges), filled in as its workflow goes."""

    replacement_sku: str = Field(description="another SKU of the same product")
    replacement_name: str
    quantity: int
    weight_grams: int = Field(description="per unit")
    unit_price: Money = Field(description="the replacement's catalog price when the exchange was requested")
    difference: Money = Field(description="signed, tax included: above zero charged, below zero refunded, zero: "
                                          "no money moves")
    warehouse_id: str | None = Field(None, exclude_if=absent, description="where the replacement is reserved")
    reserved: bool
    released: bool = Field(description="the reservation was given back (the exchange did not go ahead)")
    charge_intent_id: str | None = Field(None, exclude_if=absent)
    charged: Money | None = Field(None, exclude_if=absent, description="the difference charged, once charged")
    charge_refund_id: str | None = Field(None, exclude_if=absent,
                                         description="a charged difference refunded when the exchange did not go ahead")
    refund_id: str | None = Field(None, exclude_if=absent)
    refunded: Money | None = Field(None, exclude_if=absent, description="a cheaper replacement's difference, refunded")
    shipment_id: str | None = Field(None, exclude_if=absent, description="the replacement parcel (in the order)")
    outcome: str | None = Field(None, exclude_if=absent,
                                description="why it did not go ahead: out_of_stock, payment_declined:<code>, "
                                            "refused_at_inspection")


class ReturnLabelLink(ResponseModel):
    """GET /returns/{returnId}/label: where the shopper fetches the return label to print (PDF)."""

    return_id: str
    order_id: str
    carrier: str
    tracking_number: str
    content_type: str = Field(description="application/pdf")
    url: str = Field(description="presigned GET of the document; open or print it before it expires")
    expires_in_seconds: int


class ReturnView(ResponseModel):
    """A return: REQUESTED, then APPROVED, AWAITING_GOODS (label issued), INSPECTED, REFUNDED (or REJECTED).
    An exchange (``kind`` exchange): after INSPECTED, SHIPPING_REPLACEMENT then EXCHANGED (or REFUNDED when the
    inspection refused it)."""

    return_id: str
    order_id: str
    customer_id: str
    email: str | None = Field(None, exclude_if=absent)
    status: ReturnStatus
    lines: list[ReturnLineView]
    refund_total: Money = Field(description="the sum of the lines' refunds; shipping is not refunded")
    note: str | None = Field(None, exclude_if=absent)
    label: ReturnLabel | None = Field(None, exclude_if=absent, description="the return label, once issued")
    inspection: list[InspectedUnits] | None = Field(None, exclude_if=absent,
                                                    description="the warehouse's findings, once inspected")
    refund_id: str | None = Field(None, exclude_if=absent)
    refund_due: Money | None = Field(None, exclude_if=absent,
                                     description="what the inspection decided the return gives back, once inspected")
    refunded: Money | None = Field(None, exclude_if=absent, description="what was refunded, once refunded")
    created_at: str
    updated_at: str
    timeline: list[ReturnTimelineEntry] = Field(description="status changes, oldest first")
    kind: Literal["exchange"] | None = Field(None, exclude_if=absent, description="present on exchanges only")
    exchange: ExchangeView | None = Field(None, exclude_if=absent, description="an exchange's replacement")


# ---------------------------------------------------------- staff (functions/returns_admin)
# the queue's page (StaffReturnSummary, StaffReturnPage) is shop.returns.queue_contracts: the queue's list route
# does not define the return view's models at its cold start (issue 17); importable from here, loaded on first access


class StaffReturnLine(ReturnLineView):
    """A return line with what its inspection found and decided (the inspection fields once inspected)."""

    sellable: int | None = Field(None, exclude_if=absent, description="units inspected sellable (back in stock)")
    damaged: int | None = Field(None, exclude_if=absent)
    damaged_refunds: list[DamagedRefundView] | None = Field(None, exclude_if=absent,
                                                            description="staff's decisions for the damaged units")
    refund_due: Money | None = Field(None, exclude_if=absent, description="what the line gives back, as inspected")


class StaffReturnView(ReturnView):
    """A return as staff see it (GET /admin/returns/{returnId}): the shopper's view, per line what was inspected
    and what it gives back, and the warehouse that receives the parcel."""

    inspecting_warehouse_id: str = Field(description="the warehouse that receives and inspects the parcel")
    lines: list[StaffReturnLine]  # type: ignore[assignment]


# the returns workflow's models live in shop.returns.workflow_contracts (functions/returns imports them from
# there): the return routes do not define them at their cold start (issue 17). Importable from here as before,
# loaded on first access.
_WORKFLOW = frozenset({
    "ReturnWorkflowInput", "ReturnApproved", "ReturnLabelIssued", "InspectionOpened", "ReturnInspected",
    "ReturnRestocked", "ReturnRefunded", "ReplacementReleased", "ExchangeSettled", "ReplacementParcel",
    "ExchangeCompleted"})


__getattr__ = lazy.attributes_from(__name__, {
    "shop.returns.queue_contracts": ("StaffReturnSummary", "StaffReturnPage"),
    "shop.returns.workflow_contracts": _WORKFLOW})

