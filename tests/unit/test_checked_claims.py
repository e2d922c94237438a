"""shop.notifications.repository.CheckedClaims: a send's idempotency claim (Powertools' conditional PutItem)
made in one transaction with the checks that the address is not suppressed and the shopper chose no channels;
what each outcome of that transaction becomes for Powertools and for the notifications service."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from shop.errors import ServiceBusy
from shop.notifications import repository

CHECK = {"TableName": "n", "Key": {"pk": {"S": "SUPPRESSED#a@example.com"}, "sk": {"S": "SUPPRESSION"}},
         "ConditionExpression": "attribute_not_exists(pk)"}
PUT = {"TableName": "idem", "Item": {"id": {"S": "notify#k"}}, "ConditionExpression": "attribute_not_exists(#id)",
       "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}


class Inner:
    def __init__(self, reasons: list[dict[str, Any]] | None = None, code: str = "TransactionCanceledException"):
        self.reasons, self.code = reasons, code
        self.requests: list[dict[str, Any]] = []

    def transact_write_items(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        if self.reasons is None:
            return {}
        response: dict[str, Any] = {"Error": {"Code": self.code, "Message": "cancelled"},
                                    "CancellationReasons": self.reasons}
        raise ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]

    def update_item(self, **kwargs: Any) -> str:
        return "passed through"


def test_the_claim_and_its_checks_are_one_transaction():
    inner = Inner()
    claims = repository.CheckedClaims(inner, [CHECK])
    assert claims.put_item(**PUT) == {}
    assert claims.passed is True
    assert inner.requests == [{"TransactItems": [{"ConditionCheck": CHECK}, {"Put": PUT}]}]
    assert claims.update_item(Key={}) == "passed through"  # the completion is Powertools' own call


def test_a_failed_check_claims_nothing_and_says_so():
    claims = repository.CheckedClaims(Inner([{"Code": "ConditionalCheckFailed"}, {"Code": "None"}]), [CHECK])
    with pytest.raises(repository.ChecksFailed):
        claims.put_item(**PUT)
    assert claims.passed is False


def test_a_held_claim_is_answered_as_putitem_would_with_the_record():
    held = {"id": {"S": "notify#k"}, "status": {"S": "COMPLETED"}}
    claims = repository.CheckedClaims(Inner([{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Item": held}]),
                                      [CHECK])
    with pytest.raises(ClientError) as caught:
        claims.put_item(**PUT)
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert caught.value.response["Item"] == held  # type: ignore[typeddict-item]
    assert claims.passed is True  # the checks held: the address is not listed, no channel choice


def test_a_concurrent_claim_is_told_to_retry():
    claims = repository.CheckedClaims(Inner([{"Code": "None"}, {"Code": "TransactionConflict"}]), [CHECK])
    with pytest.raises(ServiceBusy):
        claims.put_item(**PUT)


def test_a_throttle_propagates():
    """The invocation fails and is retried (nothing was claimed)."""
    claims = repository.CheckedClaims(Inner([], "ProvisionedThroughputExceededException"), [CHECK])
    with pytest.raises(ClientError) as caught:
        claims.put_item(**PUT)
    assert caught.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
