"""Powertools idempotency on IDEMPOTENCY_TABLE, built per call (never at import) with the shared boto3 client.
Used by the webhooks (per event id), the notifications (per dedupe key) and the create/adjust routes that have
no natural key of their own (``once_per_request``: per caller and ``Idempotency-Key`` header); each caller
decides what a duplicate in progress or a reused key means for it. Checkout keeps its own record (the order)."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

from shop import aws
from shop.config import get_settings
from shop.errors import Conflict, InvalidInput

IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
REQUEST_KEY_SECONDS = 24 * 3600  # a client retries a request within a day, as with Stripe's keys


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"


class RequestInProgress(Conflict):
    """The same request (same caller, route and Idempotency-Key) is being served right now: retry it later to
    get its answer."""
    code = "request_in_progress"


_layers: dict[tuple[str, Any], Any] = {}  # (table, shared client) -> its unconfigured layer
_layers_lock = threading.Lock()


def _persistence(table: str, client: Any) -> Any:
    """A DynamoDB persistence layer of its own for one call, on ``client`` (None: the shared client).

    Building one registers a User-Agent handler on the client it is given (Powertools'
    register_feature_to_client, a new handler each time), and the shared client lives as long as the
    function's environment: built per call, every idempotent request left one more handler that all later
    requests of the client ran (each adding a header: a warm function's AWS calls grew slower with each request
    it had served). So one layer is built per table and shared client, and each call gets a shallow copy of it,
    made before it is configured (Powertools configures a layer once, for one key prefix and config, and
    concurrent calls must not share that)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    shared = aws.client("dynamodb")
    with _layers_lock:
        built = _layers.get((table, shared))
        if built is None:
            built = _layers[(table, shared)] = DynamoDBPersistenceLayer(table_name=table, boto3_client=shared)
    layer = copy.copy(built)
    if client is not None:
        layer.client = client  # a caller's wrapper of the shared client (its events are the shared client's)
    return layer


def run_once(work: Callable[[], dict[str, Any]], *, key_prefix: str, data: dict[str, Any], event_key: str,
             expires_after_seconds: int, lambda_context: Any = None, client: Any = None,
             **config: Any) -> dict[str, Any]:
    """``work()`` once per key (``event_key`` is a JMESPath into ``data``); a completed key returns the stored
    result; ``client`` replaces the shared DynamoDB client (a caller's wrapper of it). Raises Powertools'
    IdempotencyAlreadyInProgressError / IdempotencyValidationError for the caller.
    Powertools' idempotency is imported here, by the functions that use it, not by every importer of shop.api."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    persistence = _persistence(get_settings().require("idempotency_table"), client)
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


def once_per_request(work: Callable[[], dict[str, Any]], *, operation: str, caller: str, key: str | None,
                     body: Any, lambda_context: Any = None) -> dict[str, Any]:
    """``work()`` once per (operation, caller, Idempotency-Key): a repeated request gets the first one's result
    (its body; the route builds its status and headers again), a request with the same key and another body
    is 422 ``idempotency_key_reused`` (field ``header.Idempotency-Key``), and a copy arriving while the first is
    still running is 409 ``request_in_progress``. Without a key the work simply runs (the key is optional)."""
    if key is None:
        return work()
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    try:
        return run_once(work, key_prefix=f"request.{operation}", data={"key": f"{caller}:{key}", "body": digest},
                        event_key="key", payload_validation_jmespath="body",
                        expires_after_seconds=REQUEST_KEY_SECONDS, lambda_context=lambda_context)
    except IdempotencyAlreadyInProgressError as exc:
        raise RequestInProgress("the same request (Idempotency-Key) is being processed; retry it to get its answer",
                                details={"field": "header.Idempotency-Key"}) from exc
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReused("header.Idempotency-Key", "was already used for a different request") from exc
