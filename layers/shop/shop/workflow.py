"""Step Functions callbacks (data layer). Task tokens resume a workflow waiting on a warehouse task, a 3-D
Secure authentication or a carrier pickup; failing them with OrderNotShippable is how a cancellation ends
the order's workflow (every other step finds the order CANCELLED by its conditional writes), which works the
same on AWS and locally, where moto's StopExecution does not end an execution waiting for a token.

A token can only be used once: a second success, or one for a task that timed out or an execution that
stopped, is reported as False (the caller's job is done either way), never as an error.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from shop import aws
from shop.config import get_settings

GONE = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist", "ExecutionDoesNotExist"})


def send_success(token: str, output: dict[str, Any]) -> bool:
    try:
        with aws.translate_common_errors("resume workflow"):
            aws.client("stepfunctions").send_task_success(taskToken=token, output=json.dumps(output, default=str))
    except ClientError as exc:
        if aws.error_code(exc) in GONE:
            return False
        raise
    return True


def send_failure(token: str, error: str, cause: str) -> bool:
    try:
        with aws.translate_common_errors("fail workflow task"):
            aws.client("stepfunctions").send_task_failure(taskToken=token, error=error, cause=cause[:32_000])
    except ClientError as exc:
        if aws.error_code(exc) in GONE:
            return False
        raise
    return True


def start(arn_setting: str, name: str, payload: dict[str, Any]) -> bool:
    """Start an execution of the state machine named by the setting ``arn_setting``, named ``name`` (so it
    starts once); False when it was started before."""
    try:
        with aws.translate_common_errors("start workflow"):
            aws.client("stepfunctions").start_execution(stateMachineArn=get_settings().require(arn_setting),
                                                        name=name, input=json.dumps(payload))
    except ClientError as exc:
        if aws.error_code(exc) == "ExecutionAlreadyExists":
            return False
        raise
    return True


def describe(execution_arn: str) -> dict[str, Any]:
    """An execution's status, name, input, error and cause (what a status-change event may leave out)."""
    with aws.translate_common_errors("describe workflow"):
        resp = aws.client("stepfunctions").describe_execution(executionArn=execution_arn)
    return {k: resp.get(k) for k in ("executionArn", "stateMachineArn", "name", "status", "input", "error", "cause")}
