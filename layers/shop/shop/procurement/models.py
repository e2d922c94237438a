"""Procurement: suppliers, contracts, purchase orders, receipts, returns to suppliers, supplier invoices."""

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shop.models import Frozen, SkuCode, Slug, unique_skus
from shop.money import Money

RecordId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$", max_length=320)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class In(BaseModel):
    # request bodies: built on their route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


# ------------------------------------------------------------------ suppliers and contracts
class SupplierIn(In):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    email: Email
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    active: bool = Field(True, strict=True)  # true or false, not 0/1 or "yes"
    auto_submit_limit: Money | None = Field(
        None, description="automatic restock may submit purchase orders to this supplier (and e-mail them) "
                          "while their total this calendar month (UTC) stays within this amount; none: its "
                          "automatic orders stay DRAFT for a human")

    @field_validator("auto_submit_limit")
    @classmethod
    def _limit(cls, v: Money | None) -> Money | None:
        if v is not None and v.amount < 0:
            raise ValueError("must not be negative")
        return v


class Supplier(Frozen):
    supplier_id: Slug
    name: str
    email: str
    currency: str
    active: bool
    updated_at: str
    auto_submit_limit: Money | None = None


class ContractIn(In):
    sku: SkuCode
    unit_cost: Money
    lead_time_days: int = Field(ge=0, le=365)
    min_order_quantity: int = Field(1, ge=1, le=1_000_000)
    valid_from: date
    valid_to: date

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.valid_to < self.valid_from:
            raise ValueError("valid_to must not be before valid_from")
        if self.unit_cost.amount <= 0:
            raise ValueError("unit_cost must be positive")
        return self


class Contract(Frozen):
    contract_id: Slug
    supplier_id: Slug
    sku: SkuCode
    unit_cost: Money
    lead_time_days: int
    min_order_quantity: int
    valid_from: date
    valid_to: date

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to


# ------------------------------------------------------------------ purchase orders
class PoStatus(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


P = PoStatus
PO_TRANSITIONS: dict[PoStatus, frozenset[PoStatus]] = {
    P.DRAFT: frozenset({P.SUBMITTED, P.CANCELLED}),
    P.SUBMITTED: frozenset({P.PARTIALLY_RECEIVED, P.RECEIVED, P.CANCELLED}),
    P.PARTIALLY_RECEIVED: frozenset({P.PARTIALLY_RECEIVED, P.RECEIVED, P.CLOSED}),
    P.RECEIVED: frozenset({P.CLOSED}),
    P.CLOSED: frozenset(),
    P.CANCELLED: frozenset(),
}
RECEIVING = frozenset({P.SUBMITTED, P.PARTIALLY_RECEIVED})
HAS_GOODS = frozenset({P.PARTIALLY_RECEIVED, P.RECEIVED, P.CLOSED})
OPEN = frozenset({P.DRAFT, P.SUBMITTED, P.PARTIALLY_RECEIVED})


class PoLine(Frozen):
    sku: SkuCode
    quantity: int = Field(gt=0)
    unit_cost: Money
    contract_id: str | None = None
    received: int = Field(0, ge=0)
    returned: int = Field(0, ge=0)
    invoiced: int = Field(0, ge=0, description="units of MATCHED or SETTLED invoices; <= received - returned")

    @property
    def outstanding(self) -> int:
        return max(0, self.quantity - self.received)

    @property
    def received_net(self) -> int:
        return self.received - self.returned

    @property
    def invoiceable(self) -> int:
        """Units received (net of returns) that no matched invoice covers yet: what may still be invoiced,
        and all that may still go back to the supplier."""
        return max(0, self.received_net - self.invoiced)


class PoEvent(Frozen):
    at: str
    status: str
    note: str | None = None


class PurchaseOrder(Frozen):
    po_id: str
    supplier_id: Slug
    warehouse_id: Slug
    status: PoStatus
    lines: list[PoLine]
    currency: str
    auto: bool = Field(False, description="created by the automatic restock")
    expected_at: str | None = None
    created_at: str
    updated_at: str
    version: int = 0
    timeline: list[PoEvent] = Field(default_factory=list)
    invoiced_amount: int = Field(0, ge=0, description="minor units (PO currency) of MATCHED or SETTLED invoices")
    settled_amount: int = Field(0, ge=0, description="minor units (PO currency) paid; <= invoiced_amount")
    auto_submitted: bool = Field(False, description="submitted by the automatic restock within the supplier's limit")
    confirmed_delivery_date: date | None = Field(None, description="the delivery day the supplier confirmed")
    confirmed_at: str | None = None

    def line(self, sku: str) -> PoLine | None:
        return next((ln for ln in self.lines if ln.sku == sku), None)


class PoLineIn(In):
    sku: SkuCode
    quantity: int = Field(gt=0, le=1_000_000, strict=True)
    unit_cost: Money | None = Field(None, description="defaults to the supplier's valid contract price")


class PurchaseOrderIn(In):
    supplier_id: Slug
    warehouse_id: Slug
    lines: list[PoLineIn] = Field(min_length=1, max_length=40)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        unique_skus(self.lines)
        return self


class QuantityLine(In):
    sku: SkuCode
    quantity: int = Field(gt=0, le=1_000_000, strict=True)


class ReceiptIn(In):
    receipt_id: RecordId = Field(description="the delivery note number: receiving it twice counts it once")
    lines: list[QuantityLine] = Field(min_length=1, max_length=40)
    note: Note | None = None

    @model_validator(mode="after")
    def _unique(self) -> Self:
        unique_skus(self.lines)
        return self


class SupplierReturnIn(In):
    return_id: RecordId
    lines: list[QuantityLine] = Field(min_length=1, max_length=40)
    reason: Literal["damaged", "wrong_item", "other"]
    note: Note | None = None

    @model_validator(mode="after")
    def _unique(self) -> Self:
        unique_skus(self.lines)
        return self


class InvoiceLineIn(In):
    sku: SkuCode
    quantity: int = Field(gt=0, le=1_000_000, strict=True)
    unit_price: Money


class InvoiceIn(In):
    invoice_id: RecordId
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=40)


class ConfirmationIn(In):
    """The supplier's answer to a purchase order: the day it will deliver."""

    confirmed_delivery_date: date = Field(description="YYYY-MM-DD, today (UTC) or later")
    note: Note | None = None

    @field_validator("confirmed_delivery_date")
    @classmethod
    def _not_past(cls, v: date) -> date:
        if v < datetime.now(UTC).date():
            raise ValueError("must not be in the past (today UTC or later)")
        return v


class InvoiceStatus(StrEnum):
    MATCHED = "MATCHED"
    DISPUTED = "DISPUTED"
    SETTLED = "SETTLED"


# ------------------------------------------------------------------ automatic restock trigger
# the restock consumer's events: built on its first event (issue 17), not by every function importing this module
class StockLowDetail(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    sku: SkuCode
    warehouse_id: Slug


class StockLowEvent(BaseModel):
    """The part of an EventBridge StockLow event the restock consumer reads."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    detail_type: Annotated[str, StringConstraints(pattern="^StockLow$")] = Field(alias="detail-type")
    detail: StockLowDetail


class PoSubmittedDetail(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    po_id: Annotated[str, StringConstraints(pattern=r"^po_[A-Za-z0-9_]{1,40}$")]


class PoSubmittedEvent(BaseModel):
    """The part of an EventBridge PurchaseOrderSubmitted event the supplier mail reads."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    detail_type: Annotated[str, StringConstraints(pattern="^PurchaseOrderSubmitted$")] = Field(alias="detail-type")
    detail: PoSubmittedDetail
