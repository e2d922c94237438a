"""Operating rules of template.yaml added with the IaC scan (issue 14), so a new resource that forgets one fails CI:
encrypted topics whose key lets each publisher use it, an alarm on every EventBridge rule's undelivered events,
encrypted queues, the daily report's lasting link (the admin API, its URL read at run time), the report's
suppression list, and checkov's skips each with a reason.

Read from the template as written (CloudFormation tags turned into ``Fn::`` dicts) and, where SAM generates
the resources (the functions' event rules), from the template SAM turns it into.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from shoplocal.template import load_template, load_yaml
from tests.unit.test_template_rules import alarms_on, of_type, refs

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
KEY_USE = {"kms:GenerateDataKey*", "kms:Decrypt"}
# EventBridge's KMS requests for an SNS target carry neither key: a grant conditioned on them drops every event
UNSUPPORTED_FOR_EVENTBRIDGE = {"aws:SourceArn", "aws:SourceAccount"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_yaml(ROOT / "template.yaml")


@cache
def transformed() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml", {"Stage": "probe"}).transformed


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _key_of(template: dict[str, Any], topic: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    key = topic["Properties"].get("KmsMasterKeyId")
    assert isinstance(key, dict) and "Fn::GetAtt" in key, "topic is not encrypted with the stack's own key"
    lid = key["Fn::GetAtt"][0]
    assert template["Resources"][lid]["Type"] == "AWS::KMS::Key"
    return lid, template["Resources"][lid]


def _publishers(template: dict[str, Any], topic_lid: str) -> set[str]:
    """Service principals that publish to the topic: its topic policies, and SES for an event destination."""
    services: set[str] = set()
    for policy in of_type(template, "AWS::SNS::TopicPolicy").values():
        if {"Ref": topic_lid} not in policy["Properties"]["Topics"]:
            continue
        for s in policy["Properties"]["PolicyDocument"]["Statement"]:
            if s["Effect"] == "Allow" and "sns:Publish" in _actions(s):
                services.add(s["Principal"]["Service"])
    for dest in of_type(template, "AWS::SES::ConfigurationSetEventDestination").values():
        if dest["Properties"]["EventDestination"].get("SnsDestination", {}).get("TopicARN") == {"Ref": topic_lid}:
            services.add("ses.amazonaws.com")
    return services


# ------------------------------------------------------------------------------------------- encryption
def test_every_topic_is_encrypted_with_a_rotated_key_that_each_publisher_may_use(template):
    topics = of_type(template, "AWS::SNS::Topic")
    assert {"OpsTopic", "EmailFeedbackTopic"} <= set(topics)
    assert _publishers(template, "OpsTopic") == {"events.amazonaws.com", "cloudwatch.amazonaws.com"}
    assert _publishers(template, "EmailFeedbackTopic") == {"ses.amazonaws.com"}
    for lid, topic in topics.items():
        _, key = _key_of(template, topic)
        props = key["Properties"]
        assert props["EnableKeyRotation"] is True, lid
        statements = props["KeyPolicy"]["Statement"]
        root = [s for s in statements if s["Principal"].get("AWS") == {
            "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}]
        assert root and root[0]["Action"] == "kms:*", "the account must keep control of the key"
        for service in _publishers(template, lid):
            grants = [s for s in statements if s["Effect"] == "Allow" and s["Principal"].get("Service") == service
                      and KEY_USE <= _actions(s)]
            assert grants, f"{service} publishes to {lid} but may not use its key"
            if service == "events.amazonaws.com":
                conditions = {k for op in (grants[0].get("Condition") or {}).values() for k in op}
                assert not conditions & UNSUPPORTED_FOR_EVENTBRIDGE, conditions
        assert not [s for s in statements if s["Principal"] == "*" or s["Principal"].get("AWS") == "*"]


def test_every_queue_is_encrypted(template):
    for lid, queue in of_type(template, "AWS::SQS::Queue").items():
        p = queue["Properties"]
        assert p.get("SqsManagedSseEnabled") is True or p.get("KmsMasterKeyId"), lid


# ------------------------------------------------------------------------------------------- delivery failures
def _rule_alarm_dims(template: dict[str, Any]) -> list[tuple[set[str], set[str]]]:
    """(dimension names, logical ids referred to) of each metric an alarm watches for undelivered events."""
    out = []
    for metric in ("FailedInvocations", "InvocationsFailedToBeSentToDlq"):
        for p in alarms_on(template, "AWS/Events", metric):
            for m in p["Metrics"]:
                stat = m.get("MetricStat", {}).get("Metric", {})
                if stat.get("MetricName") == metric:
                    out.append(({d["Name"] for d in stat["Dimensions"]}, refs(stat["Dimensions"]), ))
    return out


def test_every_event_rule_pages_when_it_cannot_deliver(template):
    rules = of_type(transformed(), "AWS::Events::Rule")
    assert {"WorkflowFailedRule", "NotificationsFunctionOrderEvents", "RestockFunctionStockLow",
            "AnalyticsFunctionOrderEvents", "ReservationSweeperFunctionSweep"} <= set(rules)
    watched = _rule_alarm_dims(template)
    for lid, rule in rules.items():
        custom_bus = "EventBusName" in rule["Properties"]
        # custom-bus rules report with EventBusName and RuleName, default-bus rules with RuleName alone
        expected = {"EventBusName", "RuleName"} if custom_bus else {"RuleName"}
        failed = [names for names, ids in watched if lid in ids]
        assert len(failed) == 2, f"{lid}: no alarm on FailedInvocations and InvocationsFailedToBeSentToDlq"
        assert all(names == expected for names in failed), (lid, failed)


def test_every_dead_letter_queue_is_alarmed(template):
    """A message that lands in any DLQ (a function's or a rule's) pages the ops topic."""
    queues: set[str] = set()
    for fn in of_type(template, "AWS::Serverless::Function").values():
        dlq = fn["Properties"].get("DeadLetterQueue")
        if dlq:
            queues |= refs(dlq["TargetArn"])
        for event in (fn["Properties"].get("Events") or {}).values():
            config = (event.get("Properties") or {}).get("DeadLetterConfig")
            if config:
                assert "Arn" in config, "a rule's DLQ is a queue of the template (SAM's Type: SQS makes one unwatched)"
                queues |= refs(config["Arn"])
    assert queues and queues <= set(of_type(template, "AWS::SQS::Queue"))
    depth = set().union(*(refs(p) for p in alarms_on(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible")))
    assert queues <= depth


# ------------------------------------------------------------------------------------------- the daily report
def test_the_report_link_is_the_admin_api_and_its_url_is_read_at_run_time(template):
    res = template["Resources"]
    fn = res["ReportsFunction"]["Properties"]
    events = {e["Properties"]["Path"]: e for e in fn["Events"].values() if e["Type"] == "HttpApi"}
    stored = events["/admin/reports/daily/{date}"]["Properties"]
    assert stored["Method"] == "get" and "Auth" not in stored  # the default: the JWT authorizer on the pool
    param = res["ApiUrlParameter"]["Properties"]
    assert param["Name"] == {"Fn::Sub": "/${AWS::StackName}/api-url"}
    assert param["Value"] == {"Fn::Sub": "https://${ShopHttpApi}.execute-api.${AWS::Region}.amazonaws.com/"}
    env = fn["Environment"]["Variables"]
    assert env["API_URL_PARAMETER"] == param["Name"]
    assert {"SSMParameterReadPolicy": {"ParameterName": {"Fn::Sub": "${AWS::StackName}/api-url"}}} in fn["Policies"]


def test_no_function_of_the_api_refers_to_the_api(template):
    """The API's integrations refer to its functions: a function that referred back (e.g. its URL in the
    environment) would be a circular dependency CloudFormation refuses. Read the URL at run time instead."""
    for lid, fn in of_type(template, "AWS::Serverless::Function").items():
        apis = {refs(e["Properties"].get("ApiId")).pop() for e in (fn["Properties"].get("Events") or {}).values()
                if e["Type"] == "HttpApi" and e["Properties"].get("ApiId")}
        assert not apis & refs({k: v for k, v in fn["Properties"].items() if k != "Events"}), lid


def test_the_report_reads_the_suppression_list(template):
    fn = template["Resources"]["ReportsFunction"]["Properties"]
    assert fn["Environment"]["Variables"]["NOTIFICATIONS_TABLE"] == {"Ref": "NotificationsTable"}
    assert {"DynamoDBReadPolicy": {"TableName": {"Ref": "NotificationsTable"}}} in fn["Policies"]


# ------------------------------------------------------------------------------------------- the IaC scan
def test_every_checkov_skip_has_a_reason(template):
    text = (ROOT / "template.yaml").read_text()
    inline = re.findall(r"#\s*checkov:skip=(CKV2?_AWS_\d+)(.*)", text)
    assert inline
    for check, reason in inline:
        assert reason.startswith(":") and len(reason.strip(": ")) >= 40, f"{check}: give the reason"
    config = (ROOT / ".checkov.yaml").read_text().splitlines()
    start = config.index("skip-check:")
    entries = [(i, line.strip()[2:]) for i, line in enumerate(config) if i > start and line.strip().startswith("- ")]
    assert entries
    for i, check in entries:
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), check
        reason = []
        j = i - 1
        while config[j].strip().startswith("#"):
            reason.insert(0, config[j].strip("# "))
            j -= 1
        assert len(" ".join(reason)) >= 60, f"{check} is skipped without a reason in .checkov.yaml"


def test_the_scan_runs_with_the_checks_of_make_test():
    makefile = (ROOT / "Makefile").read_text()
    checks = re.search(r"^checks:(.*)$", makefile, re.M)
    assert checks and "scan" in checks.group(1).split()
    assert re.search(r"^scan:", makefile, re.M) and "checkov --config-file .checkov.yaml" in makefile
    pins = [ln for ln in (ROOT / "requirements-scan.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    assert pins and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*", p) for p in pins), pins
    assert "requirements-scan.txt" in (ROOT / "scripts" / "bootstrap.sh").read_text()
