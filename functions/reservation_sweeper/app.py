"""Scheduled (every 5 minutes): release the stock of orders still PENDING_PAYMENT after their reservation
expired (PendingByExpiry index). Each release is conditional (status PENDING_PAYMENT and expiry passed)
inside the release transaction, so racing sweepers and payments release at most once. Returns {released}."""

from __future__ import annotations

from typing import Any

from shop.errors import DomainError
from shop.models import OrderStatus
from shop.observability import observability
from shop.orders import service

obs = observability("reservation-sweeper")
BATCH = 100
SAFETY_MARGIN_MS = 10_000


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    released = skipped = failed = 0
    seen: set[str] = set()
    while context is None or context.get_remaining_time_in_millis() > SAFETY_MARGIN_MS:
        batch = [oid for oid in service.expired_order_ids(BATCH) if oid not in seen]
        if not batch:
            break
        for order_id in batch:
            seen.add(order_id)
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
    if released:
        obs.count("ReservationExpired", released)
    obs.logger.info("sweep done", extra={"released": released, "skipped": skipped, "failed": failed})
    return {"released": released, "skipped": skipped, "failed": failed}


handler = obs.entrypoint(_handle)
