"""Workflow task Payment (shop.payments.service), by action:
- charge with a task token (TakePayment, lambda:invoke.waitForTaskToken): PENDING_PAYMENT -> PAYMENT_PROCESSING,
  then one Stripe PaymentIntent per order (created unconfirmed, recorded on the order, then confirmed); the outcome
  resumes the token when paid, fails it with PaymentDeclined or OrderAlreadyClosed, or (3-D Secure) parks it for
  the Stripe webhook. Answers {waiting} (discarded by Step Functions).
- charge without a token (executions started before TakePayment waited): the same charge, answering
  {status: succeeded | requires_action | declined | skipped, payment_intent_id, decline_code, auth_timeout_seconds?}.
- await_authentication (lambda:invoke.waitForTaskToken, those executions' AwaitAuthentication): parks the token
  for the Stripe webhook.
- abandon: cancels an intent that did not complete before the stock is released (or reports it succeeded).
Provider outages raise DependencyFailed (the state machine retries, then compensates). Outputs are
shop.payments.contracts models: the state machine reads them by JSONPath."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from shop.observability import observability
from shop.orders.tasks import AwaitAuthenticationTask, ChargeTask, PaymentTask
from shop.payments import service
from shop.payments.contracts import AuthenticationWait, PaymentOutcome

obs = observability("payment", needs=("orders_table", "event_bus_name", "payment_auth_timeout_seconds",
                                      "shop_secrets_arn", "stripe_api_base", "stage"))
TASK: TypeAdapter[Any] = TypeAdapter(PaymentTask)

METRICS = {"succeeded": "PaymentSucceeded", "declined": "PaymentDeclined",
           "requires_action": "PaymentRequiresAction", "skipped": "PaymentSkipped"}


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = TASK.validate_python({"action": "charge", **event})
    obs.logger.append_keys(order_id=task.order_id, action=task.action)
    if isinstance(task, ChargeTask) and task.task_token is not None:
        outcome, waiting = service.charge(task.order_id, task.task_token)  # the outcome checked before it was sent
        obs.count(METRICS[outcome["status"]])
        result = AuthenticationWait.emit({"waiting": waiting})
    elif isinstance(task, ChargeTask):
        result = PaymentOutcome.emit(service.take_payment(task.order_id))
        obs.count(METRICS[result["status"]])
    elif isinstance(task, AwaitAuthenticationTask):
        result = AuthenticationWait.emit(service.await_authentication(task.order_id, task.task_token))
    else:
        result = PaymentOutcome.emit(service.abandon(task.order_id))
        obs.count("PaymentAbandoned")
    obs.logger.info("payment step", extra={"result": {k: v for k, v in result.items() if k != "order_id"}})
    return result


handler = obs.entrypoint(_handle)
