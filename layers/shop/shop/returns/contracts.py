"""HTTP answers of the shopper's return routes (served by functions/orders): a return authorisation.

The shape is ``shop.returns.service.view``: the stored return without its null fields, so every key filled in
later by the returns workflow (``label``, ``inspection``, ``refund_id``, ``refunded``) and the optional ones
(``email``, ``note``, a timeline entry's ``note``) are declared with ``exclude_if``: absent, never null.
"""

from typing import Literal

from pydantic import Field

from shop.contracts import ResponseModel, WorkflowData, absent, example
from shop.fulfillment.contracts import DamagedRefundView
from shop.money import Money
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


class InspectedUnits(ResponseModel):
    sku: str
    sellable: int = Field(description="units back in stock")
    damaged: int
    damaged_refund: DamagedRefundView | None = Field(
        None, exclude_if=absent, description="what the damaged units give back, as staff decided (full, partial, none)")
    refund: Money | None = Field(None, exclude_if=absent,
                                 description="what these units give back: sellable ones their full price share")


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
class StaffReturnSummary(ResponseModel):
    """A return in the staff queue (GET /admin/returns)."""

    return_id: str
    order_id: str
    customer_id: str
    email: str | None = Field(None, exclude_if=absent)
    status: ReturnStatus
    units: int = Field(description="units being returned, all lines together")
    refund_total: Money = Field(description="what the lines give back in full")
    refund_due: Money | None = Field(None, exclude_if=absent, description="what the inspection decided")
    refunded: Money | None = Field(None, exclude_if=absent)
    created_at: str
    updated_at: str


class StaffReturnPage(ResponseModel):
    status: ReturnStatus
    items: list[StaffReturnSummary] = Field(description="newest first")
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


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


# ---------------------------------------------------------- the returns workflow (statemachines/returns.asl.json)
# functions/returns, by action (input: shop.returns.models.ReturnTask); docs/conventions.md lists them per state.
_ORDER = "ord_sampleorderaaaaaaaaaaaaaaa"
_RETURN = "ret_0123456789abcdef0123"


class ReturnWorkflowInput(WorkflowData):
    """The returns state machine's execution input (``shop.returns.service.request_return``, named by the return)."""

    model_config = example({"return_id": _RETURN, "order_id": _ORDER})

    return_id: str
    order_id: str


class ReturnApproved(WorkflowData):
    """approve (Approve, at ``$.approval``)."""

    model_config = example({"return_id": _RETURN, "status": "APPROVED", "kind": "exchange"})

    return_id: str
    status: ReturnStatus
    kind: Literal["return", "exchange"] = Field(description="an exchange goes on to ship its replacement")


class ReturnLabelIssued(WorkflowData):
    """issue_label (IssueLabel, at ``$.label``)."""

    model_config = example({"return_id": _RETURN, "tracking_number": "JJD0009876543210"})

    return_id: str
    tracking_number: str


class InspectionOpened(WorkflowData):
    """open_inspection's return to Lambda (discarded: the state waits for its token, resumed with
    ReturnInspected)."""

    model_config = example({"task_id": "tsk_0123456789abcdef0123_return", "waiting": True})

    task_id: str
    waiting: bool


class ReturnInspected(WorkflowData):
    """AwaitGoods (at ``$.inspection``): staff completed the return task (``shop.fulfillment.service.task_output``),
    or it was done already when the step ran (``open_inspection``: the task id and its result only, hence the
    optional ``kind``, ``completed_at`` and ``completed_by``). Restock reads ``inspected``."""

    model_config = example({"task_id": "tsk_0123456789abcdef0123_return", "kind": "return",
                            "completed_at": "2026-12-02T10:00:00Z", "completed_by": "usr_staff0001",
                            "inspected": [{"sku": "C40-BLACK", "sellable": 1, "damaged": 0}]})

    task_id: str
    kind: Literal["return"] | None = Field(None, exclude_if=absent)
    completed_at: str | None = Field(None, exclude_if=absent)
    completed_by: str | None = Field(None, exclude_if=absent)
    inspected: list[InspectedUnits]
    note: str | None = Field(None, exclude_if=absent)


class ReturnRestocked(WorkflowData):
    """restock (Restock, at ``$.restock``): ``restocked`` false when a retried step found it done."""

    model_config = example({"return_id": _RETURN, "restocked": True, "units": 1})

    return_id: str
    restocked: bool
    units: int = Field(description="sellable units back in stock")
    exchange_accepted: bool | None = Field(None, exclude_if=absent,
                                           description="exchanges only: the inspection lets the exchange go ahead")


class ReturnRefunded(WorkflowData):
    """refund (Refund, at ``$.refund``)."""

    model_config = example({"return_id": _RETURN, "status": "REFUNDED", "refund_id": "re_sample000001",
                            "refunded": {"amount": 1799, "currency": "EUR"}})

    return_id: str
    status: ReturnStatus
    refund_id: str | None
    refunded: Money | None


class ReplacementReleased(WorkflowData):
    """release_replacement (ReleaseReplacement, at ``$.release``): ``released`` false when a retried step found
    the reservation given back already."""

    model_config = example({"return_id": _RETURN, "released": True})

    return_id: str
    released: bool


class ExchangeSettled(WorkflowData):
    """settle_difference (SettleDifference, at ``$.settlement``)."""

    model_config = example({"return_id": _RETURN, "difference": {"amount": -500, "currency": "EUR"},
                            "charged": None, "refunded": {"amount": 500, "currency": "EUR"}})

    return_id: str
    difference: Money
    charged: Money | None = None
    refunded: Money | None = None


class ReplacementParcel(WorkflowData):
    """ship_replacement (ShipReplacement, at ``$.replacement``): the parcel fulfillment's steps then ship."""

    model_config = example({"return_id": _RETURN, "order_id": _ORDER,
                            "shipment_id": "shp_sampleorderaaaaaaaaaaaaaaa_x0123456789abcdef0123"})

    return_id: str
    order_id: str
    shipment_id: str


class ExchangeCompleted(WorkflowData):
    """complete_exchange (CompleteExchange, at ``$.completed``)."""

    model_config = example({"return_id": _RETURN, "status": "EXCHANGED"})

    return_id: str
    status: ReturnStatus
