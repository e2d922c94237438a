"""The procurement admin API's answers with a purchase order's records: its detail (receipts, returns to the
supplier, invoices, the supplier's e-mail), a receipt, a return, an invoice (named by
``shop.procurement.contracts``: issue 17).

Receipt, return and invoice records are stored items: a key that was null when it was written is not stored, so
``note`` is declared with ``exclude_if`` and stays absent rather than turning into a null; so are an invoice's
``settled_at`` (before it is settled) and the ``supplier_id`` and ``counted`` that invoices recorded by older
versions lack."""

from typing import Literal

from pydantic import Field

from shop.contracts import ResponseModel, absent
from shop.event_contracts import DifferenceKind
from shop.money import Money
from shop.procurement.models import InvoiceStatus
from shop.procurement.order_contracts import PurchaseOrderView


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
