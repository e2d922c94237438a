"""Customer returns: a return authorisation for delivered lines, inspected in the warehouse, refunded per line."""

from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shop.models import Frozen, SkuCode, unique_skus
from shop.money import Money
from shop.orders.models import TimelineEntry

ReturnReason = Literal["damaged", "wrong_item", "not_as_described", "changed_mind", "other"]


class ReturnLineIn(BaseModel):
    # a request body: built on its route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", defer_build=True)
    sku: SkuCode
    quantity: int = Field(gt=0, le=1000, strict=True)
    reason: ReturnReason


class ReturnIn(BaseModel):
    # a request body: built on its route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", defer_build=True)
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=40)
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None

    @model_validator(mode="after")
    def _unique(self) -> Self:
        unique_skus(self.lines)
        return self


class ReturnStatus(StrEnum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    AWAITING_GOODS = "AWAITING_GOODS"  # label issued, the warehouse waits for the parcel
    INSPECTED = "INSPECTED"  # received: sellable units are back in stock
    REFUNDED = "REFUNDED"
    REJECTED = "REJECTED"
    # exchanges only (shop.returns.exchanges): the replacement goes out through the warehouse's outbound flow
    SHIPPING_REPLACEMENT = "SHIPPING_REPLACEMENT"
    EXCHANGED = "EXCHANGED"  # the replacement was handed to the carrier and the price difference settled


class ReturnLine(Frozen):
    sku: SkuCode
    name: str
    quantity: int
    reason: str
    warehouse_id: str
    weight_grams: int
    refund: Money  # what this line gives back: its net price share after discounts, plus its tax


class ExchangeIn(BaseModel):
    """POST /orders/{orderId}/exchanges: some delivered units of one line for another SKU of the same product."""

    # a request body: built on its route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", defer_build=True)
    sku: SkuCode = Field(description="the delivered SKU going back")
    quantity: int = Field(gt=0, le=1000, strict=True)
    replacement_sku: SkuCode = Field(description="another SKU (size, colour) of the same product")
    reason: ReturnReason = "other"
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


class Exchange(Frozen):
    """What an exchange sends out instead of a refund, and the money the swap moves (signed ``difference``:
    above zero the shopper pays it, below zero it is refunded). Filled in as the workflow goes."""

    replacement_sku: SkuCode
    replacement_name: str
    quantity: int
    weight_grams: int
    unit_price: Money  # the replacement's catalog price at the request
    difference: Money  # signed: replacement minus the returned units, tax included (shop.returns.exchanges)
    warehouse_id: str | None = None  # where the replacement is reserved (at approval)
    reserved: bool = False
    released: bool = False  # the reservation was given back (inspection refused the exchange, or no payment)
    charge_intent_id: str | None = None
    charged: Money | None = None
    charge_refund_id: str | None = None  # a charged difference given back when the exchange did not go ahead
    refund_id: str | None = None  # a cheaper replacement: the difference refunded
    refunded: Money | None = None
    shipment_id: str | None = None
    outcome: str | None = None  # why the exchange did not go ahead (no stock, payment declined, inspection)


class CustomerReturn(Frozen):
    return_id: str
    order_id: str
    customer_id: str
    email: str | None = None
    status: ReturnStatus
    lines: list[ReturnLine]
    refund_total: Money
    note: str | None = None
    label: dict[str, Any] | None = None
    inspection: list[dict[str, Any]] | None = None
    refund_id: str | None = None
    refund_due: Money | None = None  # what the inspection decided the return gives back (shop.returns.decisions)
    refunded: Money | None = None
    created_at: str
    updated_at: str
    timeline: list[TimelineEntry] = Field(default_factory=list)
    kind: Literal["return", "exchange"] = "return"
    exchange: Exchange | None = None


# ------------------------------------------------------------------ workflow task inputs
class ReturnTask(BaseModel):
    model_config = ConfigDict(extra="ignore")
    order_id: Annotated[str, StringConstraints(pattern=r"^ord_[a-z2-7]{10,40}$")]
    return_id: Annotated[str, StringConstraints(pattern=r"^ret_[a-f0-9]{20}$")]
    action: Literal["approve", "issue_label", "open_inspection", "restock", "refund",
                    "release_replacement", "settle_difference", "ship_replacement", "complete_exchange"]
    task_token: str | None = None
    inspected: list[dict[str, Any]] | None = None
