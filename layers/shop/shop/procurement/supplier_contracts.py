"""The procurement admin API's answers about suppliers and their contracts (named by
``shop.procurement.contracts``, which imports each group of answers on first access: issue 17)."""

from datetime import date

from pydantic import Field

from shop.contracts import ResponseModel
from shop.money import Money


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
