"""The purchase-order facts of the bus (producer: shop.procurement.service). Defined when a type of the
family is first needed (see shop.event_contracts)."""

from typing import ClassVar, Literal

from pydantic import Field

from shop.event_contracts import (
    _PO_FIELDS,
    INVENTORY_SOURCE,
    ContractDetail,
    DifferenceKind,
    Part,
    _eur,
    _example,
)
from shop.models import SkuCode, Slug
from shop.money import Money


class PoLineState(Part):
    """A purchase order line as it stands after the change the event reports."""

    sku: SkuCode
    quantity: int = Field(gt=0)
    unit_cost: Money
    contract_id: str | None
    received: int = Field(ge=0)
    returned: int = Field(ge=0)
    invoiced: int = Field(ge=0, description="units of matched or settled invoices")


class SkuQuantity(Part):
    sku: SkuCode
    quantity: int = Field(gt=0)


class InvoiceDifference(Part):
    sku: str | None = Field(description="null for a difference of the whole invoice")
    kind: DifferenceKind
    expected: Money | int | str = Field(description="units, a unit cost, or a currency code, as ``kind`` says")
    invoiced: Money | int | str
    message: str


class _PurchaseOrderFact(ContractDetail):
    """A fact about one purchase order, with the order as it stands after it."""

    SOURCE: ClassVar[str] = INVENTORY_SOURCE

    po_id: str
    supplier_id: Slug
    warehouse_id: Slug
    status: Literal["DRAFT", "SUBMITTED", "PARTIALLY_RECEIVED", "RECEIVED", "CLOSED", "CANCELLED"]
    auto: bool = Field(description="created by the automatic restock")
    lines: list[PoLineState]


class PurchaseOrderCreated(_PurchaseOrderFact):
    """Published when a draft purchase order is created, by an admin or by the automatic restock."""

    model_config = _example("PurchaseOrderCreated", "po_20261124_0001",
                            **{**_PO_FIELDS, "status": "DRAFT", "auto": True}, cause="restock", available=2,
                            reorder_point=3)

    cause: Literal["restock"] | None = Field(None, description="sent by the automatic restock only")
    available: int | None = Field(None, description="restock only: available units when it ordered")
    reorder_point: int | None = Field(None, description="restock only")


class PurchaseOrderSubmitted(_PurchaseOrderFact):
    """Published when a purchase order is sent to the supplier (its units count as incoming)."""

    model_config = _example("PurchaseOrderSubmitted", "po_20261124_0001", **_PO_FIELDS)


class GoodsReceived(_PurchaseOrderFact):
    """Published when a delivery of the supplier is received (once per delivery note)."""

    model_config = _example("GoodsReceived", "po_20261124_0001", "dn-0001",
                            **{**_PO_FIELDS, "status": "PARTIALLY_RECEIVED"},
                            receipt=[{"sku": "MUG-BLUE-350", "quantity": 10}])

    receipt: list[SkuQuantity]


class SupplierReturned(_PurchaseOrderFact):
    """Published when goods go back to the supplier (once per return note)."""

    model_config = _example("SupplierReturned", "po_20261124_0001", "rn-0001",
                            **{**_PO_FIELDS, "status": "RECEIVED"}, returned=[{"sku": "MUG-BLUE-350", "quantity": 1}],
                            reason="damaged")

    returned: list[SkuQuantity]
    reason: Literal["damaged", "wrong_item", "other"]


class _InvoiceRecorded(_PurchaseOrderFact):
    invoice_id: str
    differences: list[InvoiceDifference]


class InvoiceMatched(_InvoiceRecorded):
    """Published when a supplier invoice matches the purchase order and the receipts (three-way match)."""

    model_config = _example("InvoiceMatched", "po_20261124_0001", "inv-0001", **{**_PO_FIELDS, "status": "RECEIVED"},
                            invoice_id="inv-0001", differences=[])


class InvoiceDisputed(_InvoiceRecorded):
    """Published when a supplier invoice does not match: its differences are listed."""

    model_config = _example("InvoiceDisputed", "po_20261124_0001", "inv-0002", **{**_PO_FIELDS, "status": "RECEIVED"},
                            invoice_id="inv-0002", differences=[
                                {"sku": "MUG-BLUE-350", "kind": "price", "expected": _eur(450),
                                 "invoiced": _eur(480), "message": "SKU MUG-BLUE-350 is invoiced at 480 EUR per unit "
                                                                   "but the agreed cost is 450 EUR"}])


class InvoiceSettled(_PurchaseOrderFact):
    """Published when a matched invoice is paid (once)."""

    model_config = _example("InvoiceSettled", "po_20261124_0001", "inv-0001", **{**_PO_FIELDS, "status": "RECEIVED"},
                            invoice_id="inv-0001", amount=_eur(18000))

    invoice_id: str
    amount: Money = Field(description="the invoice's total")
