"""shop.aws.translate_common_errors: every service's throttling is ServiceBusy (retried later, 503), so callers
(the SES mailer, the SNS texter, the DynamoDB repositories) need no throttling case of their own; other errors
propagate unchanged."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from shop import aws
from shop.errors import ServiceBusy

pytestmark = pytest.mark.unit


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, operation)


@pytest.mark.parametrize(("code", "operation"), [
    ("Throttling", "SendEmail"),  # SES: maximum sending rate exceeded
    ("Throttling", "SendRawEmail"),
    ("Throttling", "Publish"),  # SNS
    ("ThrottledException", "Publish"),  # SNS: the account's SMS rate
    ("ProvisionedThroughputExceededException", "PutItem"),
    ("ThrottlingException", "StartExecution"),
])
def test_throttling_of_any_service_is_service_busy(code: str, operation: str) -> None:
    with pytest.raises(ServiceBusy, match="email send: the service is busy"):
        with aws.translate_common_errors("email send"):
            raise client_error(code, operation)


@pytest.mark.parametrize("code", ["MessageRejected", "InvalidParameter", "ConditionalCheckFailedException"])
def test_other_errors_propagate_unchanged(code: str) -> None:
    with pytest.raises(ClientError) as raised:
        with aws.translate_common_errors("email send"):
            raise client_error(code, "SendEmail")
    assert aws.error_code(raised.value) == code
