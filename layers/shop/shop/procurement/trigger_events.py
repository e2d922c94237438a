"""The parts of the EventBridge events the procurement consumer (functions/procurement_restock) reads:
StockLow (the automatic restock) and PurchaseOrderSubmitted (the supplier's e-mail). Built on the consumer's
first event; no other function imports them (``shop.procurement.models`` names them too: issue 17)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shop.models import SkuCode, Slug


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
