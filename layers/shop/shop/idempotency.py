"""Powertools idempotency on IDEMPOTENCY_TABLE, built per call (never at import) with the shared boto3 client.
Used by checkout (per customer and Idempotency-Key), the webhooks (per event id) and the notifications (per
dedupe key); each caller decides what a duplicate in progress or a reused key means for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from shop import aws
from shop.config import get_settings


def run_once(work: Callable[[], dict[str, Any]], *, key_prefix: str, data: dict[str, Any], event_key: str,
             expires_after_seconds: int, lambda_context: Any = None, **config: Any) -> dict[str, Any]:
    """``work()`` once per key (``event_key`` is a JMESPath into ``data``); a completed key returns the stored
    result. Raises Powertools' IdempotencyAlreadyInProgressError / IdempotencyValidationError for the caller."""
    persistence = DynamoDBPersistenceLayer(table_name=get_settings().require("idempotency_table"),
                                           boto3_client=aws.client("dynamodb"))
    settings = IdempotencyConfig(event_key_jmespath=event_key, raise_on_no_idempotency_key=True,
                                 expires_after_seconds=expires_after_seconds, **config)
    if lambda_context is not None:
        # the IN_PROGRESS record then expires with the invocation, so a timed-out attempt can be retried
        settings.register_lambda_context(lambda_context)

    @idempotent_function(data_keyword_argument="data", persistence_store=persistence, config=settings,
                         key_prefix=key_prefix)
    def guarded(data: dict[str, Any]) -> dict[str, Any]:
        return work()

    return dict(guarded(data=data))
