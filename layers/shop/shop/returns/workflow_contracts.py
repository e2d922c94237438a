"""The returns workflow's data (statemachines/returns.asl.json): its execution input, the outputs of
functions/returns by action, and what a return task is resumed with. A module of its own, so that the returns
function does not define the shopper's and staff's HTTP answers (shop.returns.contracts, which offers these by name too)
at its cold start (issue 17)."""

from typing import Literal

from pydantic import Field

from shop.contracts import WorkflowData, absent, example
from shop.money import Money
from shop.returns.contract_parts import InspectedUnits
from shop.returns.models import ReturnStatus

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
