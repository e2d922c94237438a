"""Operating and data-safety rules of template.yaml (issue 14), so a new resource that forgets one fails CI.

Read from the template as written (CloudFormation tags turned into `Fn::` dicts), not from a deployment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from shoplocal.template import load_yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
# Tables whose items are not business data, with the reason they get no PITR and no retain policy.
NON_BUSINESS_TABLES = {
    "IdempotencyTable": "short-lived TTL records of requests in flight; a restore would replay stale answers",
}
RETAIN = {"Fn::If": ["RetainData", "Retain", "Delete"]}
# event sources that invoke a function asynchronously (a failure is retried, then dropped without a DLQ)
ASYNC_EVENT_TYPES = {"Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent", "SNS", "S3"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_yaml(ROOT / "template.yaml")


def of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == type_}


def refs(node: Any) -> set[str]:
    """Every logical id a node refers to (Ref, GetAtt, Sub variables)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".", 1)[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= {m.split(".", 1)[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)}
                if not isinstance(value, str):
                    found |= refs(value[1])
            else:
                found |= refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= refs(item)
    return found


def alarms_on(template: dict[str, Any], namespace: str, metric: str) -> list[dict[str, Any]]:
    """Alarm properties watching `metric`, directly or inside a metric-math alarm."""
    found = []
    for alarm in of_type(template, "AWS::CloudWatch::Alarm").values():
        p = alarm["Properties"]
        metrics = [(p.get("Namespace"), p.get("MetricName"), p.get("Dimensions"))]
        metrics += [(m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"],
                     m["MetricStat"]["Metric"].get("Dimensions")) for m in p.get("Metrics", []) if "MetricStat" in m]
        if any(ns == namespace and name == metric for ns, name, _ in metrics):
            assert {"Ref": "OpsTopic"} in p["AlarmActions"], f"alarm on {metric} does not notify the ops topic"
            found.append(p)
    return found


def watched(template: dict[str, Any], namespace: str, metric: str) -> set[str]:
    return set().union(*(refs(p) for p in alarms_on(template, namespace, metric))) if alarms_on(
        template, namespace, metric) else set()


# ------------------------------------------------------------------------------------------- data safety
def test_language_extensions_come_before_sam_so_deletion_policies_may_use_if(template):
    assert template["Transform"] == ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]
    assert template["Conditions"]["RetainData"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


def test_every_business_table_has_pitr_retain_and_deletion_protection_in_prod(template):
    tables = of_type(template, "AWS::DynamoDB::Table")
    assert set(NON_BUSINESS_TABLES) <= set(tables)
    for lid, table in tables.items():
        if lid in NON_BUSINESS_TABLES:
            continue
        p = table["Properties"]
        assert p.get("PointInTimeRecoverySpecification") == {"PointInTimeRecoveryEnabled": True}, lid
        assert table.get("DeletionPolicy") == RETAIN and table.get("UpdateReplacePolicy") == RETAIN, lid
        assert p.get("DeletionProtectionEnabled") == {"Fn::If": ["RetainData", True, False]}, lid
        assert p.get("SSESpecification") == {"SSEEnabled": True}, lid


def test_user_pool_and_buckets_are_retained_in_prod(template):
    kept = {**of_type(template, "AWS::Cognito::UserPool"), **of_type(template, "AWS::S3::Bucket")}
    assert kept
    for lid, res in kept.items():
        assert res.get("DeletionPolicy") == RETAIN and res.get("UpdateReplacePolicy") == RETAIN, lid


def test_buckets_are_encrypted_private_and_tls_only(template):
    policies = of_type(template, "AWS::S3::BucketPolicy").values()
    for lid, bucket in of_type(template, "AWS::S3::Bucket").items():
        p = bucket["Properties"]
        assert p["BucketEncryption"]["ServerSideEncryptionConfiguration"], lid
        assert p["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
        denies = [s for pol in policies if pol["Properties"]["Bucket"] == {"Ref": lid}
                  for s in pol["Properties"]["PolicyDocument"]["Statement"]
                  if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
        assert denies, f"{lid} has no TLS-only bucket policy"
        assert {"Fn::GetAtt": [lid, "Arn"]} in denies[0]["Resource"], "the deny covers the bucket and its objects"
        assert {"Fn::Sub": f"${{{lid}.Arn}}/*"} in denies[0]["Resource"]
        assert denies[0]["Action"] == "s3:*" and denies[0]["Principal"] == "*"


# ------------------------------------------------------------------------------------------- operating it
def test_every_asynchronously_invoked_function_has_a_dead_letter_queue(template):
    functions = of_type(template, "AWS::Serverless::Function")
    asynchronous = {lid for lid, f in functions.items()
                    if any(e["Type"] in ASYNC_EVENT_TYPES for e in (f["Properties"].get("Events") or {}).values())}
    assert {"ReservationSweeperFunction", "RestockFunction", "AnalyticsFunction", "ReportsFunction",
            "NotificationsFunction"} <= asynchronous
    for lid in asynchronous:
        p = functions[lid]["Properties"]
        dlq = p.get("DeadLetterQueue")
        on_failure = (p.get("EventInvokeConfig") or {}).get("DestinationConfig", {}).get("OnFailure")
        assert (dlq and dlq["Type"] == "SQS") or on_failure, f"{lid} is invoked asynchronously but has no DLQ"
        if dlq:
            queue = dlq["TargetArn"]["Fn::GetAtt"][0]
            assert template["Resources"][queue]["Type"] == "AWS::SQS::Queue"


def test_every_queue_is_a_watched_dead_letter_queue(template):
    queues = set(of_type(template, "AWS::SQS::Queue"))
    assert queues <= watched(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible")


def test_every_function_logs_to_its_own_group_with_retention(template):
    for lid, fn in of_type(template, "AWS::Serverless::Function").items():
        group = (fn["Properties"].get("LoggingConfig") or {}).get("LogGroup")
        assert isinstance(group, dict) and "Ref" in group, f"{lid} has no explicit log group"
        res = template["Resources"][group["Ref"]]
        assert res["Type"] == "AWS::Logs::LogGroup"
        assert res["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, lid


def test_every_log_group_expires(template):
    for lid, group in of_type(template, "AWS::Logs::LogGroup").items():
        assert group["Properties"].get("RetentionInDays"), lid


def test_every_state_machine_logs_and_alarms_on_failures_and_timeouts(template):
    machines = of_type(template, "AWS::Serverless::StateMachine")
    assert machines
    failed, timed_out = watched(template, "AWS/States", "ExecutionsFailed"), watched(
        template, "AWS/States", "ExecutionsTimedOut")
    rule = template["Resources"]["WorkflowFailedRule"]["Properties"]
    for lid, sm in machines.items():
        logging = sm["Properties"]["Logging"]
        assert logging["Level"] in ("ERROR", "ALL")
        group = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
        assert template["Resources"][group]["Type"] == "AWS::Logs::LogGroup"
        actions = {a for s in sm["Properties"]["Policies"] if isinstance(s, dict) and "Statement" in s
                   for st in s["Statement"] for a in st["Action"]}
        assert {"logs:CreateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeLogGroups"} <= actions, lid
        assert lid in failed and lid in timed_out, f"{lid} lacks a failed or timed-out alarm"
        assert {"Ref": lid} in rule["EventPattern"]["detail"]["stateMachineArn"]
    assert rule["EventPattern"]["detail"]["status"] == ["FAILED", "TIMED_OUT", "ABORTED"]
    assert rule["EventPattern"]["detail-type"] == ["Step Functions Execution Status Change"]
    assert rule["Targets"] == [{"Id": "OpsTopic", "Arn": {"Ref": "OpsTopic"}}]
    assert "EventBusName" not in rule  # Step Functions reports to the default bus


def test_functions_api_and_tables_are_alarmed(template):
    assert set(of_type(template, "AWS::Serverless::Function")) <= watched(template, "AWS/Lambda", "Errors")
    assert alarms_on(template, "AWS/Lambda", "Throttles")
    # an HTTP API's metrics: 5xx and Latency by ApiId on its $default stage
    assert "ShopHttpApi" in watched(template, "AWS/ApiGateway", "5xx")
    latency = [p for p in alarms_on(template, "AWS/ApiGateway", "Latency") if p.get("ExtendedStatistic") == "p99"]
    assert latency and {"Name": "Stage", "Value": "$default"} in latency[0]["Dimensions"]
    tables = set(of_type(template, "AWS::DynamoDB::Table"))
    assert tables <= watched(template, "AWS/DynamoDB", "WriteThrottleEvents")
    assert tables <= watched(template, "AWS/DynamoDB", "ReadThrottleEvents")


def test_ops_topic_mails_the_alarm_address_only_when_one_is_given(template):
    sub = template["Resources"]["OpsTopicEmail"]
    assert sub["Condition"] == "HasAlarmEmail"
    assert sub["Properties"] == {"TopicArn": {"Ref": "OpsTopic"}, "Protocol": "email",
                                 "Endpoint": {"Ref": "AlarmEmail"}}
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""


def test_dashboard_shows_the_shop_metrics(template):
    body = template["Resources"]["OpsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for metric in ("CheckoutStarted", "OrderPaid", "PaymentDeclined", "ShipmentShipped", "ServerlessShop"):
        assert metric in body
