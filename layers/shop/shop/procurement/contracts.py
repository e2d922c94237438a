"""HTTP answers of the procurement admin API (functions/procurement): suppliers, contracts, purchase orders
with their receipts, returns and supplier invoices.

The shapes are those ``shop.procurement.service`` has always returned. Receipt, return and invoice records are
stored items: a key that was null when it was written is not stored, so ``note`` is declared with
``exclude_if`` and stays absent rather than turning into a null; so are an invoice's ``settled_at`` (before it
is settled) and the ``supplier_id`` and ``counted`` that invoices recorded by older versions lack.
"""

from datetime import date
from typing import Literal

from pydantic import Field

from shop.contracts import ResponseModel, WorkflowData, absent, example
from shop.event_contracts import DifferenceKind
from shop.money import Money
from shop.procurement.models import InvoiceStatus, PoStatus


# ------------------------------------------------------------------ suppliers and contracts
class SupplierView(ResponseModel):
    supplier_id: str
    name: str
    email: str
    currency: str = Field(description="ISO 4217: the supplier invoices in it; its contracts and orders use it")
    active: bool = Field(description="only active suppliers get purchase orders")
    updated_at: str
    auto_submit_limit: Money | None = Field(
        None, description="the automatic restock submits (and e-mails) its orders to this supplier while their "
                          "total this calendar month (UTC) stays within it; null: they stay DRAFT")


class SupplierList(ResponseModel):
    items: list[SupplierView] = Field(description="by supplier id")


class SupplierContractView(ResponseModel):
    """A supplier's price and terms for one SKU, valid from one day to another (both included)."""

    contract_id: str
    supplier_id: str
    sku: str
    unit_cost: Money
    lead_time_days: int
    min_order_quantity: int
    valid_from: date
    valid_to: date


class SupplierContractListItem(SupplierContractView):
    valid_today: bool = Field(description="today (UTC) is within valid_from..valid_to")


class SupplierContractList(ResponseModel):
    sku: str
    items: list[SupplierContractListItem] = Field(description="by supplier, then contract id")


# ------------------------------------------------------------------ purchase orders
class PurchaseOrderLineView(ResponseModel):
    sku: str
    quantity: int = Field(description="units ordered")
    unit_cost: Money
    contract_id: str | None = Field(description="the contract the price came from; null when given on the order")
    received: int
    returned: int = Field(description="units sent back to the supplier")
    invoiced: int = Field(description="units of MATCHED or SETTLED invoices; <= received - returned")
    outstanding: int = Field(description="ordered, not yet received")
    received_net: int = Field(description="received - returned")
    invoiceable: int = Field(description="received (net of returns) and not yet invoiced")


class PurchaseOrderEvent(ResponseModel):
    at: str
    status: str
    note: str | None


class PurchaseOrderView(ResponseModel):
    po_id: str
    supplier_id: str
    warehouse_id: str
    status: PoStatus
    lines: list[PurchaseOrderLineView]
    currency: str
    auto: bool = Field(description="created by the automatic restock")
    expected_at: str | None = Field(description="expected delivery day (YYYY-MM-DD), from the contracts' lead time")
    created_at: str
    updated_at: str
    timeline: list[PurchaseOrderEvent]
    total: Money = Field(description="sum of quantity x unit_cost")
    invoiced_amount: Money = Field(description="total of MATCHED or SETTLED invoices")
    settled_amount: Money = Field(description="paid to the supplier; <= invoiced_amount")
    auto_submitted: bool | None = Field(None, exclude_if=absent,
                                        description="submitted by the automatic restock within the supplier's "
                                                    "auto_submit_limit; absent on POs stored before the limit")
    confirmed_delivery_date: date | None = Field(None, exclude_if=absent,
                                                 description="the delivery day the supplier confirmed; absent before")
    confirmed_at: str | None = Field(None, exclude_if=absent)


class PurchaseOrderConfirmed(PurchaseOrderView):
    changed: bool = Field(description="false: the PO had this date already (the same confirmation again)")


class MailAttachmentView(ResponseModel):
    filename: str
    content_type: str
    size: int = Field(description="bytes")


class SupplierMailView(ResponseModel):
    """The e-mail of the PO to its supplier (one per PO, whatever the retries)."""

    status: Literal["SENDING", "SENT", "SUPPRESSED"] = Field(
        description="SUPPRESSED: the address is on the suppression list (it bounced or complained): not sent")
    to: str
    sender: str
    claimed_at: str
    sent_at: str | None = Field(None, exclude_if=absent)
    message_id: str | None = Field(None, exclude_if=absent, description="SES MessageId")
    subject: str | None = Field(None, exclude_if=absent)
    attachments: list[MailAttachmentView] | None = Field(None, exclude_if=absent)
    reason: str | None = Field(None, exclude_if=absent)


class ReceiptLineView(ResponseModel):
    sku: str
    quantity: int


class GoodsReceiptRecord(ResponseModel):
    receipt_id: str = Field(description="the supplier's delivery note number")
    lines: list[ReceiptLineView]
    note: str | None = Field(None, exclude_if=absent)
    received_at: str


class SupplierReturnRecord(ResponseModel):
    return_id: str = Field(description="the return note number")
    lines: list[ReceiptLineView]
    reason: Literal["damaged", "wrong_item", "other"]
    note: str | None = Field(None, exclude_if=absent)
    returned_at: str


class InvoiceLineView(ResponseModel):
    sku: str
    quantity: int
    unit_price: Money


class InvoiceDifference(ResponseModel):
    """Why an invoice does not match the order and what was received (three-way match)."""

    sku: str | None = Field(description="null for a difference of the whole invoice")
    kind: DifferenceKind
    expected: int | Money | str = Field(description="units, a price or a currency, by kind")
    invoiced: int | Money | str
    message: str


class SupplierInvoiceRecord(ResponseModel):
    invoice_id: str = Field(description="the supplier's invoice number")
    po_id: str
    supplier_id: str | None = Field(None, exclude_if=absent,
                                    description="absent on invoices recorded before it was stored with them")
    lines: list[InvoiceLineView]
    status: InvoiceStatus = Field(description="MATCHED (payable), DISPUTED (differences listed) or SETTLED (paid)")
    differences: list[InvoiceDifference]
    invoice_total: Money
    expected_total: Money = Field(description="what the received goods (net of returns) cost at the PO's prices")
    counted: bool | None = Field(None, exclude_if=absent,
                                 description="counted on the PO's invoiced figures; absent on invoices recorded "
                                             "before those figures existed")
    recorded_at: str
    settled_at: str | None = Field(None, exclude_if=absent, description="when SETTLED; absent before")


class SupplierInvoiceRecorded(SupplierInvoiceRecord):
    replayed: bool = Field(description="the invoice id was recorded before: this is the stored result")


class PurchaseOrderDetail(PurchaseOrderView):
    receipts: list[GoodsReceiptRecord]
    returns: list[SupplierReturnRecord]
    invoices: list[SupplierInvoiceRecord]
    supplier_mail: SupplierMailView | None = Field(None, exclude_if=absent,
                                                   description="absent until the PO is e-mailed to the supplier")


class PurchaseOrderReceived(PurchaseOrderDetail):
    receipt: GoodsReceiptRecord = Field(description="this delivery note's record")
    replayed: bool = Field(description="the delivery note was received before: counted once")


class PurchaseOrderReturned(PurchaseOrderDetail):
    return_: SupplierReturnRecord = Field(alias="return", description="this return note's record")
    replayed: bool = Field(description="the return note was recorded before: counted once")


class PurchaseOrderPage(ResponseModel):
    items: list[PurchaseOrderView] = Field(description="newest first")
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


# ------------------------------------------------------------------ automatic restock (functions/procurement_restock)
class RestockSkipped(WorkflowData):
    """StockLow handled without a new purchase order (``po_id``: the open automatic one, if any)."""

    model_config = example({"created": False, "reason": "an automatic purchase order is already open",
                            "po_id": "po_20261124_0001"})

    created: Literal[False]
    reason: str
    po_id: str | None


class RestockOrdered(WorkflowData):
    """StockLow answered with an automatic purchase order: submitted within the supplier's limit, else DRAFT."""

    model_config = example({"created": True, "po_id": "po_20261124_0001", "quantity": 40, "contract_id": "c-2026",
                            "submitted": True, "note": None})

    created: Literal[True]
    po_id: str
    quantity: int
    contract_id: str
    submitted: bool = Field(False, description="submitted (and e-mailed) within the supplier's auto_submit_limit")
    note: str | None = Field(None, description="why it stays DRAFT; null when submitted")


class SupplierMailed(WorkflowData):
    """PurchaseOrderSubmitted answered: the PO e-mailed to its supplier, or why not."""

    model_config = example({"sent": True, "po_id": "po_20261124_0001", "to": "orders@supplier.example",
                            "status": "SENT", "replayed": False})

    sent: bool
    po_id: str
    to: str | None = None
    status: str | None = Field(None, description="SENT, SUPPRESSED, or null when nothing was to be sent")
    replayed: bool = Field(False, description="the mail was recorded before: nothing sent again")
    reason: str | None = None
