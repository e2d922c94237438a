"""The procurement admin API's answers about purchase orders themselves: the order, a page of them, a
confirmation (named by ``shop.procurement.contracts``: issue 17)."""

from datetime import date

from pydantic import Field

from shop.contracts import ResponseModel, absent
from shop.money import Money
from shop.procurement.models import PoStatus


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


class PurchaseOrderPage(ResponseModel):
    items: list[PurchaseOrderView] = Field(description="newest first")
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")
