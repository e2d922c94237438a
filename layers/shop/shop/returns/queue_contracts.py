"""HTTP answer of the staff's returns queue (functions/returns_admin, GET /admin/returns): a page of returns in
one status. A module of its own (issue 17): the list route's cold start defines neither the return view's models
(shop.returns.contracts, which offers these by name too) nor the per-line inspection ones."""

from pydantic import Field

from shop.contracts import ResponseModel, absent
from shop.money import Money
from shop.returns.models import ReturnStatus


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
