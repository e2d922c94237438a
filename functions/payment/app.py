"""Workflow task TakePayment: PENDING_PAYMENT -> PAYMENT_PROCESSING, then one Stripe PaymentIntent per
order (created unconfirmed, recorded on the order, then confirmed; see shop.payments.service). Input
{"order_id"}; output {status: succeeded | requires_action | declined | skipped, payment_intent_id,
decline_code}. Provider outages raise DependencyFailed (the state machine retries, then releases the
reservation)."""

from __future__ import annotations

from typing import Any

from shop.observability import observability
from shop.orders.tasks import ChargeTask
from shop.payments import service

obs = observability("payment")

METRICS = {"succeeded": "PaymentSucceeded", "declined": "PaymentDeclined",
           "requires_action": "PaymentRequiresAction", "skipped": "PaymentSkipped"}


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = ChargeTask.model_validate(event)
    obs.logger.append_keys(order_id=task.order_id)
    result = service.take_payment(task.order_id)
    obs.count(METRICS[result["status"]])
    obs.logger.info("payment outcome", extra={"status": result["status"], "decline_code": result["decline_code"]})
    return result


handler = obs.entrypoint(_handle)
