"""boto3 access for the data layer only: cached clients and AWS-error-to-domain-error translation.

Clients are created lazily on first use (never at import) and cached per (service, region, endpoint);
boto3 clients are thread-safe once created, the session is not, so creation is locked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError

from shop.config import get_settings
from shop.errors import ConfigurationError, ServiceBusy

_lock = threading.Lock()
_clients: dict[tuple[str, str, str | None], Any] = {}
_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=10)
# A local endpoint (moto, shoplocal) serialises DynamoDB requests in one process: under a burst of a few hundred
# concurrent requests one call can wait far longer than any AWS call does, so it gets more time to answer.
_LOCAL_BOTO_CONFIG = _BOTO_CONFIG.merge(Config(read_timeout=60))
_S3_CONFIG = Config(signature_version="s3v4")
# No answer in time (the request may or may not have been applied): callers that can tell check and retry;
# translate_common_errors makes it ServiceBusy (retried by the workflow, 503 for HTTP clients).
NO_ANSWER = (ReadTimeoutError, ConnectTimeoutError, BotoConnectionError)

THROTTLING_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "TooManyRequestsException", "InternalServerError", "ServiceUnavailable", "TransactionInProgressException",
    # a single-item write meeting a transaction in progress on the item (botocore does not retry it)
    "TransactionConflictException",
    # SES (maximum sending rate exceeded) and SNS (publish, the account's SMS rate)
    "Throttling", "ThrottledException",
})
# cancellation reasons of a transaction that say "not now" rather than "no": another transaction on one of
# the items, or throttling inside the transaction
CONTENTION_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


def client(service: str) -> Any:
    settings = get_settings()
    key = (service, settings.region, settings.endpoint_url)
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(key)
        if found is None:
            session: Any = boto3.session.Session()  # service names are dynamic: no typed overload applies
            config = _LOCAL_BOTO_CONFIG if settings.endpoint_url else _BOTO_CONFIG
            if service == "s3":  # presigned links (labels, reports) signed SigV4: what every region and SSE-KMS take
                config = config.merge(_S3_CONFIG)
            found = session.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url,
                                   config=config)
            _clients[key] = found
        return found


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def translate_common_errors(what: str) -> Iterator[None]:
    """Map errors no caller handles specifically: throttling -> ServiceBusy, missing table -> config."""
    try:
        yield
    except NO_ANSWER as exc:
        raise ServiceBusy(f"{what}: the store did not answer in time, retry shortly") from exc
    except ClientError as exc:
        code = error_code(exc)
        if code in THROTTLING_CODES:
            raise ServiceBusy(f"{what}: the service is busy, retry shortly") from exc
        if code == "ResourceNotFoundException":
            raise ConfigurationError(f"{what}: resource missing ({exc})") from exc
        raise


@dataclass
class Write:
    applied: bool = True


@contextmanager
def conditional_write(what: str) -> Iterator[Write]:
    """One conditional write whose failed condition is an answer, not an error: the yielded ``applied`` turns
    False when DynamoDB refused the write (ConditionalCheckFailed); every other error as translate_common_errors
    maps it. ``with aws.conditional_write("x") as write: client.put_item(...)``, then ``return write.applied``."""
    write = Write()
    try:
        with translate_common_errors(what):
            yield write
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        write.applied = False


def cancellation_codes(exc: ClientError) -> list[str]:
    """Per-item reason codes of a TransactionCanceledException ("None" for items that were fine)."""
    reasons = exc.response.get("CancellationReasons") or []
    return [str(r.get("Code", "None")) for r in reasons]


def cancellation_codes_or_parse(exc: ClientError) -> list[str]:
    """Like cancellation_codes, falling back to the bracketed list in the message
    ("Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]")."""
    codes = cancellation_codes(exc)
    if codes:
        return codes
    message = str(exc.response.get("Error", {}).get("Message", ""))
    if "[" in message and message.endswith("]"):
        return [c.strip() for c in message[message.rindex("[") + 1 : -1].split(",")]
    return []


class TransactionCancelled(Exception):
    """TransactWriteItems was cancelled; ``codes`` has one entry per action, in order ("None" where fine)."""

    def __init__(self, codes: list[str]):
        super().__init__(f"transaction cancelled: {codes}")
        self.codes = codes


def busy_if_contended(exc: TransactionCancelled, what: str) -> None:
    """A transaction cancelled by contention becomes ServiceBusy (which callers and the workflow retry), never
    a Conflict that a workflow would compensate (by cancelling a paid order, say)."""
    if CONTENTION_REASONS.intersection(exc.codes):
        raise ServiceBusy(f"{what}: the items are busy ({', '.join(exc.codes)}), retry shortly") from exc


def transact_codes(actions: list[dict[str, Any]], what: str) -> list[str] | None:
    """Run one TransactWriteItems: None when it committed, else the per-action cancellation codes. Other
    errors go through :func:`translate_common_errors` (throttling -> ServiceBusy, outages -> DependencyFailed)."""
    try:
        with translate_common_errors(what):
            client("dynamodb").transact_write_items(TransactItems=actions)
    except ClientError as exc:
        if error_code(exc) == "TransactionCanceledException":
            return cancellation_codes_or_parse(exc)
        raise
    return None


def transact(actions: list[dict[str, Any]], what: str) -> None:
    """Like :func:`transact_codes`, raising TransactionCancelled with the codes."""
    codes = transact_codes(actions, what)
    if codes is not None:
        raise TransactionCancelled(codes)
