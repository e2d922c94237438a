"""Powertools idempotency for checkout, keyed on (customer, Idempotency-Key) with payload validation.

The persistence layer is built per call (never at import) on IDEMPOTENCY_TABLE with the shared boto3
client. Same key + different body -> IdempotencyKeyReused (422); a replay after completion gets the stored
response. A record still IN_PROGRESS (a concurrent duplicate, or the SDK retrying our own record write after
a slow answer, which then finds itself) does not fail the request: the checkout runs unguarded, which is
safe by construction because the order id is derived from the key (service.order_id_for) and the order Put
is conditional, so it places the order once or replays it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from shop import idempotency
from shop.errors import InvalidInput

EXPIRES_AFTER_SECONDS = 24 * 3600


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"


def run_once(customer_id: str, idempotency_key: str, payload: dict[str, Any],
             work: Callable[[], dict[str, Any]], lambda_context: Any = None) -> dict[str, Any]:
    try:
        return idempotency.run_once(
            work, key_prefix="checkout", event_key="[customer_id, idempotency_key]",
            data={"customer_id": customer_id, "idempotency_key": idempotency_key, "payload": payload},
            expires_after_seconds=EXPIRES_AFTER_SECONDS, lambda_context=lambda_context,
            payload_validation_jmespath="payload")
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReused("header.Idempotency-Key",
                                   "was already used for a different checkout request") from exc
    except IdempotencyAlreadyInProgressError:
        return work()
