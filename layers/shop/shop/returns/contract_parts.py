"""A return task's inspected units: in the returns workflow's data (shop.returns.workflow_contracts:
ReturnInspected) and in the HTTP answers (shop.returns.contracts: a return's ``inspection``), each of which imports
it from here without the other's models (issue 17, cold imports)."""

from pydantic import Field

from shop.contracts import ResponseModel, absent
from shop.fulfillment.contract_parts import DamagedRefundView
from shop.money import Money


class InspectedUnits(ResponseModel):
    sku: str
    sellable: int = Field(description="units back in stock")
    damaged: int
    damaged_refund: DamagedRefundView | None = Field(
        None, exclude_if=absent, description="what the damaged units give back, as staff decided (full, partial, none)")
    refund: Money | None = Field(None, exclude_if=absent,
                                 description="what these units give back: sellable ones their full price share")
