"""Procurement: suppliers, contracts, purchase orders, receipts, returns to suppliers, supplier invoices."""

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from shop import lazy
from shop.models import Frozen, SkuCode, Slug
from shop.money import Money

RecordId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")]


# ------------------------------------------------------------------ suppliers and contracts
class Supplier(Frozen):
    supplier_id: Slug
    name: str
    email: str
    currency: str
    active: bool
    updated_at: str
    auto_submit_limit: Money | None = None


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


class InvoiceStatus(StrEnum):
    MATCHED = "MATCHED"
    DISPUTED = "DISPUTED"
    SETTLED = "SETTLED"


# request bodies (shop.procurement.requests) and the consumer's events (shop.procurement.trigger_events) are
# modules of their own, named here on first access (issue 17): the restock consumer, the supplier's e-mail and
# the daily report load neither, the admin API's read routes no request body, the API no consumer event
__getattr__ = lazy.attributes_from(__name__, {
    "shop.procurement.requests": ("In", "SupplierIn", "ContractIn", "PoLineIn", "PurchaseOrderIn", "QuantityLine",
                                  "ReceiptIn", "SupplierReturnIn", "InvoiceLineIn", "InvoiceIn", "ConfirmationIn",
                                  "Email", "Note"),
    "shop.procurement.trigger_events": ("StockLowDetail", "StockLowEvent", "PoSubmittedDetail", "PoSubmittedEvent")})

