"""HTTP answers of the procurement admin API (functions/procurement): suppliers, contracts, purchase orders
with their receipts, returns and supplier invoices; and what the procurement consumer returns.

The shapes are those ``shop.procurement.service`` has always returned. This module names them all; each group
is a module of its own, imported on the first access to one of its names (issue 17), so a cold start builds
the classes of the answers of the route it serves (a supplier's route none of a purchase order's) and the
consumer (functions/procurement_restock) none of the API's. ``from shop.procurement.contracts import X``
works as before; the admin API's routes name their answers ``contracts.X``, which Powertools resolves on the
route's first request (or when the OpenAPI document is made).
"""

from shop import lazy

_GROUPS = {
    # suppliers and their contracts
    "shop.procurement.supplier_contracts": ("SupplierView", "SupplierList", "SupplierContractView",
                                            "SupplierContractListItem", "SupplierContractList"),
    # a purchase order itself
    "shop.procurement.order_contracts": ("PurchaseOrderLineView", "PurchaseOrderEvent", "PurchaseOrderView",
                                         "PurchaseOrderConfirmed", "PurchaseOrderPage"),
    # a purchase order with its records: receipts, returns, invoices, the supplier's e-mail
    "shop.procurement.record_contracts": ("MailAttachmentView", "SupplierMailView", "ReceiptLineView",
                                          "GoodsReceiptRecord", "SupplierReturnRecord", "InvoiceLineView",
                                          "InvoiceDifference", "SupplierInvoiceRecord", "SupplierInvoiceRecorded",
                                          "PurchaseOrderDetail", "PurchaseOrderReceived", "PurchaseOrderReturned"),
    # the consumer's outputs (functions/procurement_restock)
    "shop.procurement.workflow_contracts": ("RestockSkipped", "RestockOrdered", "SupplierMailed"),
}


__getattr__ = lazy.attributes_from(__name__, _GROUPS)


