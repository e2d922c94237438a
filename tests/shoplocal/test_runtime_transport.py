"""boto3 calls reach the worker's in-process moto without a socket (shoplocal/patches.py, patch 9) and get the
answers they get over the socket: the same data, the same errors (codes, messages, HTTP status), for JSON, query
and REST protocols, streamed bodies and S3 metadata with underscores included."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shoplocal import patches

pytestmark = pytest.mark.integration

VOLATILE = {"ResponseMetadata", "RequestId", "LastModified", "Date", "date", "x-amzn-requestid", "x-amz-request-id",
            "x-amz-id-2", "server", "ETag"}


def stable(value: Any) -> Any:
    """An answer without what changes from call to call (request ids, dates)."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def answer(call: Any) -> Any:
    try:
        return ("ok", stable(call()))
    except ClientError as err:
        return ("error", err.response["Error"], err.response["ResponseMetadata"]["HTTPStatusCode"])


def both_ways(stack: Any, call: Any) -> tuple[Any, Any]:
    """The answer in process, then over the socket."""
    inside = answer(call)
    with patches.over_the_socket(stack.moto_port):
        outside = answer(call)
    return inside, outside


def test_in_process_calls_answer_as_the_socket_does(stack):
    ddb, s3, idp, sfn = (stack.client(s) for s in ("dynamodb", "s3", "cognito-idp", "stepfunctions"))
    table = stack.physical_id("OrdersTable")
    key = {"pk": {"S": f"ORDER#transport-{uuid.uuid4().hex[:8]}"}, "sk": {"S": "ORDER"}}
    ddb.put_item(TableName=table, Item={**key, "status": {"S": "NEW"}, "blob": {"B": b"\x00\xff"},
                                        "m": {"M": {"l": {"L": [{"N": "1"}, {"NULL": True}]}}}})
    bucket = stack.physical_id("ReportsBucket")
    s3.put_object(Bucket=bucket, Key="transport/a.txt", Body=b"hello \xe2\x82\xac", ContentType="text/plain",
                  Metadata={"with_underscore": "u", "plain": "p"})
    pool = stack.physical_id_of_type("AWS::Cognito::UserPool")
    machine = stack.physical_id("OrderStateMachine")
    calls = {
        "get_item": lambda: ddb.get_item(TableName=table, Key=key, ConsistentRead=True),
        "query": lambda: ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                                   ExpressionAttributeValues={":p": key["pk"]}),
        "conditional failure": lambda: ddb.put_item(TableName=table, Item=key,
                                                    ConditionExpression="attribute_not_exists(pk)"),
        "missing table": lambda: ddb.describe_table(TableName="no-such-table"),
        "s3 get": lambda: {**s3.get_object(Bucket=bucket, Key="transport/a.txt"), "Body": None},
        "s3 body": lambda: bytes(s3.get_object(Bucket=bucket, Key="transport/a.txt")["Body"].read()),
        "s3 head": lambda: s3.head_object(Bucket=bucket, Key="transport/a.txt"),
        "s3 missing": lambda: s3.get_object(Bucket=bucket, Key="transport/none"),
        "cognito": lambda: idp.describe_user_pool(UserPoolId=pool)["UserPool"]["Policies"],
        "cognito missing user": lambda: idp.admin_get_user(UserPoolId=pool, Username="nobody@example.com"),
        "state machine": lambda: sfn.describe_state_machine(stateMachineArn=machine)["definition"],
    }
    for name, call in calls.items():
        inside, outside = both_ways(stack, call)
        assert inside == outside, name
    assert answer(calls["s3 body"]) == ("ok", "hello €".encode())
    assert answer(calls["s3 get"])[1]["Metadata"] == {"with_underscore": "u", "plain": "p"}
    assert answer(calls["conditional failure"])[1]["Code"] == "ConditionalCheckFailedException"


def test_no_socket_is_opened_for_a_registered_server(stack, monkeypatch):
    from botocore.exceptions import HTTPClientError
    from botocore.httpsession import URLLib3Session

    def no_socket(self: Any, *args: Any) -> Any:
        raise AssertionError("a socket request")

    ddb = stack.client("dynamodb")
    monkeypatch.setattr(URLLib3Session, "_get_connection_manager", no_socket)
    assert ddb.describe_table(TableName=stack.physical_id("OrdersTable"))["Table"]["TableStatus"] == "ACTIVE"
    with patches.over_the_socket(stack.moto_port), pytest.raises(HTTPClientError, match="a socket request"):
        ddb.describe_table(TableName=stack.physical_id("OrdersTable"))
