"""Request bodies of the procurement admin API (functions/procurement), built on their route's first request
and imported by the routes' first request (``shop.procurement.models`` names them too: issue 17)."""

from datetime import UTC, date, datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shop.models import SkuCode, Slug, unique_skus
from shop.money import Money
from shop.procurement.models import RecordId

Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$", max_length=320)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class In(BaseModel):
    # request bodies: built on their route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


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


