"""Scheduled (every 5 minutes): release the stock of orders still PENDING_PAYMENT after their reservation
expired (PendingByExpiry index). Each release is conditional (status PENDING_PAYMENT and expiry passed)
inside the release transaction, so racing sweepers and payments release at most once. Returns {released}."""

from __future__ import annotations

from typing import Any

from shop.errors import DomainError
from shop.observability import observability
from shop.orders import service
from shop.orders.models import OrderStatus
from shop.orders.workflow_contracts import ExpiredReservationsSwept

obs = observability("reservation-sweeper", needs=("orders_table", "inventory_table", "promotions_table"))
BATCH = 100
SAFETY_MARGIN_MS = 10_000


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    released = skipped = failed = 0
    cursor: dict[str, Any] | None = None
    while context is None or context.get_remaining_time_in_millis() > SAFETY_MARGIN_MS:
        # page through the index: an order that cannot be released now (failed, or skipped) stays in it, and
        # must not hide the ones after it (the next run tries it again)
        batch, cursor = service.expired_order_ids(BATCH, cursor)
        for order_id in batch:
            try:
                result = service.release(order_id, OrderStatus.EXPIRED, note="reservation expired, stock released",
                                         expired_only=True)
            except DomainError:
                failed += 1
                obs.logger.exception("release failed", extra={"order_id": order_id})
                continue
            if result["released"]:
                released += 1
            else:
                skipped += 1
        if cursor is None:
            break
    if released:
        obs.count("ReservationExpired", released)
    obs.logger.info("sweep done", extra={"released": released, "skipped": skipped, "failed": failed})
    return ExpiredReservationsSwept.emit({"released": released, "skipped": skipped, "failed": failed})


handler = obs.entrypoint(_handle)
