"""Scheduled (every 5 minutes): e-mail the shoppers whose cart has lines, was last changed more than
CART_REMINDER_AFTER_MINUTES ago and was never reminded, once per cart (shop.cart.reminders: a Query of the
sparse reminder index, a consistent read and a conditional claim per cart, so overlapping runs send one mail and
a cart checked out meanwhile gets none; opted-out and suppressed shoppers get nothing).
Returns {sent, skipped, opted_out, suppressed, failed}."""

from __future__ import annotations

from typing import Any

from shop.cart import reminders
from shop.observability import observability

obs = observability("cart-reminders", needs=("carts_table", "catalog_table", "notifications_table", "sender_email",
                                             "email_configuration_set", "cart_reminder_after_minutes"))
SAFETY_MARGIN_MS = 10_000


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    time_left = (lambda: context.get_remaining_time_in_millis() - SAFETY_MARGIN_MS) if context is not None else None
    result = reminders.sweep(time_left=time_left)
    if result.sent:
        obs.count("CartReminderSent", result.sent)
    obs.logger.info("cart reminders sweep done", extra=result.summary())
    return result.summary()


handler = obs.entrypoint(_handle)
