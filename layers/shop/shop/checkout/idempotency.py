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

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from shop import aws
from shop.config import get_settings
from shop.errors import InvalidInput

EXPIRES_AFTER_SECONDS = 24 * 3600


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"


def run_once(customer_id: str, idempotency_key: str, payload: dict[str, Any],
             work: Callable[[], dict[str, Any]], lambda_context: Any = None) -> dict[str, Any]:
    settings = get_settings()
    persistence = DynamoDBPersistenceLayer(table_name=settings.require("idempotency_table"),
                                           boto3_client=aws.client("dynamodb"))
    config = IdempotencyConfig(event_key_jmespath="[customer_id, idempotency_key]",
                               payload_validation_jmespath="payload", raise_on_no_idempotency_key=True,
                               expires_after_seconds=EXPIRES_AFTER_SECONDS)
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config,
                         key_prefix="checkout")
    def guarded(request: dict[str, Any]) -> dict[str, Any]:
        return work()

    try:
        return dict(guarded(request={"customer_id": customer_id, "idempotency_key": idempotency_key,
                                     "payload": payload}))
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReused("header.Idempotency-Key",
                                   "was already used for a different checkout request") from exc
    except IdempotencyAlreadyInProgressError:
        return work()
