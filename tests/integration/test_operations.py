"""The operations resources deploy locally, and a dead-letter queue can be redriven into its function."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from pathlib import Path

import pytest

from shoplocal.redrive import redrive

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_log_groups_alarms_and_dashboard_are_deployed(stack):
    logs = stack.client("logs")
    for lid, spec in stack.deployment.functions.items():
        group = stack.physical_id(f"{lid}LogGroup")
        [found] = [g for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
                   if g["logGroupName"] == group]
        assert found["retentionInDays"] == 30, lid
    names = set()
    for page in stack.client("cloudwatch").get_paginator("describe_alarms").paginate():
        names |= {a["AlarmName"] for a in page["MetricAlarms"]}
    assert stack.physical_id("OrderStateMachineFailedAlarm") in names
    assert stack.physical_id("AnalyticsDeadLetterQueueDepthAlarm") in names
    dashboard = stack.client("cloudwatch").get_dashboard(DashboardName=stack.physical_id("OpsDashboard"))
    assert "OrderPaid" in dashboard["DashboardBody"]
    # no alarm e-mail locally: the ops topic has no subscription
    topic = stack.physical_id("OpsTopic")
    assert stack.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_redrive_invokes_the_function_with_each_message_and_keeps_the_failures(stack):
    sqs = stack.client("sqs")
    queue = stack.physical_id("AnalyticsDeadLetterQueue")
    good = json.loads((ROOT / "events" / "analytics" / "order_paid.json").read_text())
    good["id"] = str(uuid.uuid4())
    # an order id as the shop makes them (base32), which the event contract checks
    good["detail"]["order_id"] = "ord_redrive" + base64.b32encode(uuid.uuid4().bytes[:10]).decode().lower()
    bad = copy.deepcopy(good)
    del bad["detail-type"]  # not an event the function can parse: it fails again
    # as Lambda puts a failed asynchronous invocation: the event is the body
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(good),
                     MessageAttributes={"ErrorCode": {"DataType": "Number", "StringValue": "200"}})
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(bad))

    dry = redrive(sqs, stack.client("lambda"), queue, stack.physical_id("AnalyticsFunction"), dry_run=True)
    assert dry.waiting == 2 and not dry.redriven and not dry.failed

    result = redrive(sqs, stack.client("lambda"), queue, stack.physical_id("AnalyticsFunction"))
    assert len(result.redriven) == 1
    assert list(result.failed.values()) == ["ValidationError"]
    # the failure is still in the queue; the redriven event was recorded (recording it again is a no-op)
    assert stack.invoke("AnalyticsFunction", good)["recorded"] is False
