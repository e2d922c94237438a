"""Procurement admin API (group admin): suppliers, contracts, purchase orders (create, submit, cancel, close,
the supplier's confirmed delivery date), receiving goods, returns to suppliers, supplier invoices (three-way
match) and their settlement."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from shop.api import JSON, Guard, Principal, http_handler, make_resolver, once_per_key, require_group
from shop.models import SkuCode, Slug
from shop.observability import observability
from shop.procurement import contracts as answers
from shop.procurement import models, service
from shop.procurement.models import PoStatus, RecordId

obs = observability("procurement", needs=("procurement_table", "inventory_table", "idempotency_table",
                                          "event_bus_name"))
app = make_resolver(obs.logger)
suppliers = Router()
contracts = Router()
purchase_orders = Router()
invoices = Router()
PoId = Annotated[str, Path(pattern=r"^po_[a-f0-9]{20}$")]
# a route's answer (answers.X) and body (models.XIn, from shop.procurement.requests) are named through their
# modules, which import them on the first access: when Powertools resolves the route's annotations, on its first
# request (or when the OpenAPI document is made). A cold start builds the classes of the route it serves (issue 17)


def admin() -> Principal:
    return require_group(app, "admin")


@suppliers.get("/admin/suppliers")
def list_suppliers() -> answers.SupplierList:
    admin()
    return service.list_suppliers()


@suppliers.put("/admin/suppliers/<supplierId>")
def put_supplier(supplierId: Annotated[Slug, Path()], body: models.SupplierIn) -> answers.SupplierView:
    admin()
    obs.count("SupplierSaved")
    return service.put_supplier(supplierId, body)


@contracts.put("/admin/suppliers/<supplierId>/contracts/<contractId>")
def put_contract(supplierId: Annotated[Slug, Path()], contractId: Annotated[Slug, Path()],
                 body: models.ContractIn) -> answers.SupplierContractView:
    admin()
    obs.count("ContractSaved")
    return service.put_contract(supplierId, contractId, body)


@contracts.get("/admin/contracts")
def list_contracts(sku: Annotated[SkuCode, Query()]) -> answers.SupplierContractList:
    admin()
    return service.list_contracts(sku)


@purchase_orders.post("/admin/purchase-orders", status_code=201)
def create_po(body: models.PurchaseOrderIn) -> Response[answers.PurchaseOrderView]:
    who = admin()

    def work() -> dict[str, Any]:
        made = service.create_po(body)
        obs.count("PurchaseOrderCreated")
        return made

    view = once_per_key(app, who, "create_po", body, work)  # a double click creates one purchase order
    return Response(status_code=201, content_type=JSON, body=view,
                    headers={"Location": f"/admin/purchase-orders/{view['po_id']}"})


@purchase_orders.get("/admin/purchase-orders")
def list_pos(status: Annotated[PoStatus, Query()] = PoStatus.DRAFT,
             limit: Annotated[int, Query(ge=1, le=100)] = 20,
             cursor: Annotated[str | None, Query(max_length=2000)] = None) -> answers.PurchaseOrderPage:
    admin()
    return service.list_pos(status, limit, cursor)


@purchase_orders.get("/admin/purchase-orders/<poId>")
def get_po(poId: PoId) -> answers.PurchaseOrderDetail:
    admin()
    return service.get_po(poId)


@purchase_orders.post("/admin/purchase-orders/<poId>/submit")
def submit(poId: PoId) -> answers.PurchaseOrderView:
    admin()
    obs.logger.append_keys(po_id=poId)
    obs.count("PurchaseOrderSubmitted")
    return service.submit(poId)


@purchase_orders.post("/admin/purchase-orders/<poId>/cancel")
def cancel(poId: PoId) -> answers.PurchaseOrderView:
    admin()
    obs.logger.append_keys(po_id=poId)
    obs.count("PurchaseOrderCancelled")
    return service.cancel(poId)


@purchase_orders.post("/admin/purchase-orders/<poId>/close")
def close(poId: PoId) -> answers.PurchaseOrderView:
    admin()
    obs.logger.append_keys(po_id=poId)
    obs.count("PurchaseOrderClosed")
    return service.close(poId)


@purchase_orders.post("/admin/purchase-orders/<poId>/confirmation")
def confirm(poId: PoId, body: models.ConfirmationIn) -> answers.PurchaseOrderConfirmed:
    """The supplier's confirmed delivery date (the same date again: no change; another date replaces it, the
    timeline keeps the earlier one)."""
    admin()
    obs.logger.append_keys(po_id=poId)
    result = service.confirm(poId, body)
    if result["changed"]:
        obs.count("PurchaseOrderConfirmed")
    return result


@purchase_orders.post("/admin/purchase-orders/<poId>/receipts")
def receive(poId: PoId, body: models.ReceiptIn) -> answers.PurchaseOrderReceived:
    admin()
    obs.logger.append_keys(po_id=poId, receipt_id=body.receipt_id)
    result = service.receive(poId, body)
    if not result["replayed"]:
        obs.count("GoodsReceived")
    return result


@purchase_orders.post("/admin/purchase-orders/<poId>/returns")
def return_goods(poId: PoId, body: models.SupplierReturnIn) -> answers.PurchaseOrderReturned:
    admin()
    obs.logger.append_keys(po_id=poId, return_id=body.return_id)
    result = service.return_to_supplier(poId, body)
    if not result["replayed"]:
        obs.count("SupplierReturned")
    return result


@invoices.post("/admin/purchase-orders/<poId>/invoices")
def record_invoice(poId: PoId, body: models.InvoiceIn) -> answers.SupplierInvoiceRecorded:
    admin()
    obs.logger.append_keys(po_id=poId, invoice_id=body.invoice_id)
    result = service.record_invoice(poId, body)
    if not result["replayed"]:
        obs.count(f"Invoice{result['status'].title()}")
    return result


@invoices.post("/admin/purchase-orders/<poId>/invoices/<invoiceId>/settle")
def settle(poId: PoId, invoiceId: Annotated[RecordId, Path()]) -> answers.SupplierInvoiceRecord:
    admin()
    obs.logger.append_keys(po_id=poId, invoice_id=invoiceId)
    result = service.settle(poId, invoiceId)
    obs.count("InvoiceSettled")
    return result


app.include_router(suppliers)
app.include_router(contracts)
app.include_router(purchase_orders)
app.include_router(invoices)


handler = http_handler(app, obs, Guard("/admin/", "admin"))
