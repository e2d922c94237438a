"""Procurement's event consumer (EventBridge):

- StockLow: automatic restock, at most one open automatic purchase order per SKU and warehouse, from the best
  valid supplier contract; submitted at once while the supplier's monthly auto-submit limit allows, else DRAFT
  (shop.procurement.service.restock);
- PurchaseOrderSubmitted: the PO e-mailed to its supplier, once per PO (shop.procurement.supplier_mail).
Repeated or concurrent events are safe."""

from __future__ import annotations

from typing import Any

from shop.observability import observability
from shop.procurement import service
from shop.procurement.trigger_events import PoSubmittedEvent, StockLowEvent
from shop.procurement.workflow_contracts import RestockOrdered, RestockSkipped, SupplierMailed

obs = observability("restock", needs=("procurement_table", "inventory_table", "event_bus_name", "notifications_table",
                                      "sender_email", "procurement_sender_email", "email_configuration_set"))


def _restock(event: dict[str, Any]) -> dict[str, Any]:
    parsed = StockLowEvent.model_validate(event).detail
    obs.logger.append_keys(sku=parsed.sku, warehouse_id=parsed.warehouse_id)
    result = service.restock(parsed.sku, parsed.warehouse_id)
    obs.count(("RestockSubmitted" if result.get("submitted") else "RestockOrdered") if result["created"]
              else "RestockSkipped")
    obs.logger.info("restock", extra={"result": result})  # its "created" would clash with the LogRecord's
    return (RestockOrdered if result["created"] else RestockSkipped).emit(result)


def _mail(event: dict[str, Any]) -> dict[str, Any]:
    from shop.procurement import supplier_mail  # PurchaseOrderSubmitted only: the restock renders no e-mail (issue 17)

    po_id = PoSubmittedEvent.model_validate(event).detail.po_id
    obs.logger.append_keys(po_id=po_id)
    result = supplier_mail.mail_supplier(po_id)
    if not result.get("replayed"):
        obs.count("SupplierMailed" if result["sent"] else "SupplierNotMailed")
    obs.logger.info("supplier mail", extra={"result": result})
    return SupplierMailed.emit(result)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("detail-type") == "PurchaseOrderSubmitted":
        return _mail(event)
    return _restock(event)


handler = obs.entrypoint(_handle)
