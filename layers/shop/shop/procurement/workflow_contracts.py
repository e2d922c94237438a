"""What the procurement consumer (functions/procurement_restock) returns: StockLow answered with an automatic
purchase order or without one, PurchaseOrderSubmitted answered with the supplier's e-mail. Apart from the admin
API's answers (shop.procurement.contracts, which names these on first access): each function imports only the
side it uses (issue 17)."""

from typing import Literal

from pydantic import Field

from shop.contracts import WorkflowData, example


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
