"""Models shared by the warehouse's HTTP answers (shop.fulfillment.contracts) and the workflow's data
(shop.fulfillment.workflow_contracts), and shown by the returns' answers too (shop.returns.contracts): each of
those modules imports them from here without the others' models (issue 17, cold imports)."""

from typing import Literal

from pydantic import Field

from shop.contracts import ResponseModel, absent
from shop.money import Money


class DamagedRefundView(ResponseModel):
    """Staff's decision on what a line's damaged units give back (shop.fulfillment.models.DamagedRefund)."""

    decision: Literal["full", "partial", "none"]
    reason: str
    amount_per_unit: Money | None = Field(None, exclude_if=absent, description="partial, per damaged unit")
    amount: Money | None = Field(None, exclude_if=absent, description="partial, for the line's damaged units")


# a pick task's picked line (PickTaskDone; the task answers' result)
class TaskPickedLine(ResponseModel):
    sku: str
    quantity: int
