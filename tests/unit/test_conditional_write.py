"""shop.aws.conditional_write: the one place that turns a DynamoDB write's failed condition into an answer
(``applied`` False) while every other error keeps its meaning (throttling -> ServiceBusy, the rest raised)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from shop import aws
from shop.errors import ServiceBusy

pytestmark = pytest.mark.unit


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "PutItem")


def test_a_write_that_goes_through_is_applied() -> None:
    with aws.conditional_write("x") as write:
        pass
    assert write.applied is True


def test_a_failed_condition_is_an_answer_not_an_error() -> None:
    with aws.conditional_write("x") as write:
        raise _error("ConditionalCheckFailedException")
    assert write.applied is False


def test_throttling_is_still_service_busy_and_other_errors_are_raised() -> None:
    with pytest.raises(ServiceBusy), aws.conditional_write("x"):
        raise _error("ProvisionedThroughputExceededException")
    with pytest.raises(ClientError) as raised, aws.conditional_write("x"):
        raise _error("ValidationException")
    assert aws.error_code(raised.value) == "ValidationException"


def test_an_error_that_is_no_client_error_passes_through() -> None:
    with pytest.raises(KeyError), aws.conditional_write("x"):
        raise KeyError("k")
