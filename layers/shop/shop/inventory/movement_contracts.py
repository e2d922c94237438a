"""The inventory admin API's movement ledger (named by ``shop.inventory.contracts``: issue 17). A movement's
``reason`` and ``ref``, when the service leaves them out, stay absent (``exclude_if``) instead of turning into
nulls."""

from typing import Literal

from pydantic import Field

from shop.contracts import ResponseModel, absent


class StockMovement(ResponseModel):
    """One line of the stock ledger: a change of on_hand and why. on_hand is the sum of the level's movements."""

    sku: str
    warehouse_id: str
    delta: int = Field(description="units added (+) or removed (-)")
    kind: Literal["count", "adjustment", "receipt", "supplier_return", "shipment", "customer_return"]
    at: str = Field(description="UTC timestamp")
    reason: str | None = Field(None, exclude_if=absent, description="adjustment reason or count note, if any")
    ref: str | None = Field(None, exclude_if=absent,
                            description="what caused it (purchase order/receipt, order, return), or an adjustment's "
                                        "note")


class StockMovementPage(ResponseModel):
    sku: str
    warehouse_id: str
    on_hand: int
    items: list[StockMovement] = Field(description="newest first")
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")
