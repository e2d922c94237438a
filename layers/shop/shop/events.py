"""Domain events on the shop's EventBridge bus (data layer: the only module that calls put_events).

Every event is published AFTER the state change it reports has been written, and a step that is retried
publishes it again: delivery is at least once. Each detail carries a ``dedupe_key`` that is the same for
every publication of one fact (e.g. ``OrderPaid:ord_x``), so consumers (notifications, analytics) act once.
The contract of every detail type is in docs/events.md.
"""

from __future__ import annotations

import json
from typing import Any

from shop import aws
from shop.config import get_settings
from shop.errors import DependencyFailed

SOURCE = "shop.orders"
INVENTORY_SOURCE = "shop.inventory"

DETAIL_TYPES = frozenset({
    "OrderPlaced", "OrderPaid", "PaymentFailed", "OrderSplit", "ShipmentPacked", "ShipmentShipped",
    "ShipmentInTransit", "ShipmentException", "ShipmentDelivered", "OrderDelivered", "OrderCancelled",
    "RefundIssued", "WarehouseTaskOpened", "WarehouseTaskCompleted",
    "StockLow", "PurchaseOrderCreated", "PurchaseOrderSubmitted", "GoodsReceived", "SupplierReturned",
    "InvoiceMatched", "InvoiceDisputed", "InvoiceSettled",
    "TicketAnswered",
})


def entry(detail_type: str, detail: dict[str, Any], dedupe_suffix: str | None = None, *,
          subject: str | None = None, source: str = SOURCE) -> dict[str, Any]:
    """One event; its dedupe key is "<type>:<subject or order id>[:<suffix>]"."""
    if detail_type not in DETAIL_TYPES:
        raise ValueError(f"unknown event type {detail_type}")
    key = f"{detail_type}:{subject or detail['order_id']}" + (f":{dedupe_suffix}" if dedupe_suffix else "")
    return {"Source": source, "DetailType": detail_type, "EventBusName": get_settings().require("event_bus_name"),
            "Detail": json.dumps({**detail, "dedupe_key": key}, sort_keys=True, default=str)}


def publish(*entries: dict[str, Any]) -> None:
    """Put the entries on the bus; any rejected entry raises DependencyFailed (the caller's retry publishes
    again, consumers dedupe)."""
    if not entries:
        return
    with aws.translate_common_errors("event publish"):
        resp = aws.client("events").put_events(Entries=list(entries))
    if resp.get("FailedEntryCount"):
        failed = [e.get("ErrorCode") for e in resp.get("Entries", []) if e.get("ErrorCode")]
        raise DependencyFailed(f"event bus rejected {len(failed)} event(s): {failed}")
