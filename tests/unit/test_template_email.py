"""E-mail in template.yaml (issue 14): the shop sends as one SES identity (its address or its domain), with one
configuration set whose bounces and complaints reach the suppression list, with IAM scoped to that identity and
set (no SESCrudPolicy, which also manages identities), and Cognito sends through SES only once asked to.

Read from the template as written, and from its SAM translation for the roles the functions really get.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from shoplocal.template import load_template, load_yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
# the functions that mail (shop.notifications.mailer); RestockFunction: purchase orders to suppliers
SENDERS = {"NotificationsFunction", "ReportsFunction", "RestockFunction", "CartReminderFunction"}
SEND_ACTIONS = {"ses:SendEmail", "ses:SendRawEmail"}
# the identity in use: SenderEmail, or the part after its "@"
IDENTITY = {"Fn::If": ["SenderIsDomain", {"Fn::Select": [1, {"Fn::Split": ["@", {"Ref": "SenderEmail"}]}]},
                       {"Ref": "SenderEmail"}]}
IDENTITY_ARN = {"Fn::Sub": ["arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${Identity}",
                            {"Identity": IDENTITY}]}
CONFIGURATION_SET_ARN = {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
                                    "configuration-set/${EmailConfigurationSet}"}
SANDBOX_RECIPIENTS = {"Fn::If": ["InSesSandbox", {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:"
                                                             "${AWS::AccountId}:identity/*"},
                                 {"Ref": "AWS::NoValue"}]}


@cache
def template() -> dict[str, Any]:
    return load_yaml(ROOT / "template.yaml")


@cache
def transformed(domain: bool = False) -> dict[str, Any]:
    params = {"SenderIdentityType": "domain"} if domain else {}
    return load_template(ROOT / "template.yaml", params).transformed


def of_type(t: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in t["Resources"].items() if r["Type"] == kind}


def functions() -> dict[str, dict[str, Any]]:
    return of_type(template(), "AWS::Serverless::Function")


def actions_of(statement: dict[str, Any]) -> set[str]:
    action = statement.get("Action", [])
    return {action} if isinstance(action, str) else set(action)


def role_statements(t: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    """The statements of a translated function's role (inline policies; SAM writes policy templates out)."""
    role = t["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    props = t["Resources"][role]["Properties"]
    return [s for policy in props.get("Policies") or [] for s in policy["PolicyDocument"]["Statement"]]


# ------------------------------------------------------------------------------ identity and configuration set
def test_the_sender_identity_is_the_address_or_its_domain():
    params = template()["Parameters"]
    assert params["SenderIdentityType"]["AllowedValues"] == ["address", "domain"]
    assert params["SenderIdentityType"]["Default"] == "address"  # the local stack keeps its default
    assert template()["Conditions"]["SenderIsDomain"] == {"Fn::Equals": [{"Ref": "SenderIdentityType"}, "domain"]}
    (identity,) = of_type(template(), "AWS::SES::EmailIdentity").values()
    assert identity["Properties"]["EmailIdentity"] == IDENTITY
    # an identity belongs to one stack: a second stage (or one verified by hand) uses it without creating it
    assert identity["Condition"] == "CreatesSenderIdentity"
    assert template()["Conditions"]["CreatesSenderIdentity"] == {
        "Fn::Equals": [{"Ref": "CreateSenderIdentity"}, "true"]}


def test_a_domain_identity_outputs_its_dkim_records():
    out = template()["Outputs"]["SenderDkimRecords"]
    assert out["Condition"] == "CreatesDomainIdentity"
    for i in (1, 2, 3):
        assert f"${{SenderIdentity.DkimDNSTokenName{i}}} CNAME ${{SenderIdentity.DkimDNSTokenValue{i}}}" in \
            out["Value"]["Fn::Sub"]


def test_bounces_and_complaints_of_the_configuration_set_go_to_a_topic_the_feedback_function_reads():
    sets = of_type(template(), "AWS::SES::ConfigurationSet")
    assert list(sets) == ["EmailConfigurationSet"]
    assert "Name" not in sets["EmailConfigurationSet"]["Properties"]  # generated: two stages never collide
    (dest,) = of_type(template(), "AWS::SES::ConfigurationSetEventDestination").values()
    assert dest["Properties"]["ConfigurationSetName"] == {"Ref": "EmailConfigurationSet"}
    event_dest = dest["Properties"]["EventDestination"]
    assert event_dest["Enabled"] is True
    assert {"bounce", "complaint"} <= set(event_dest["MatchingEventTypes"])
    topic = event_dest["SnsDestination"]["TopicARN"]["Ref"]
    assert template()["Resources"][topic]["Type"] == "AWS::SNS::Topic"
    subscribers = [lid for lid, fn in functions().items()
                   for e in (fn["Properties"].get("Events") or {}).values()
                   if e["Type"] == "SNS" and e["Properties"]["Topic"] == {"Ref": topic}]
    assert subscribers == ["EmailFeedbackFunction"]


def test_ses_may_publish_to_the_feedback_topic_for_this_configuration_set_only():
    topic = template()["Resources"]["EmailFeedbackDestination"]["Properties"]["EventDestination"][
        "SnsDestination"]["TopicARN"]["Ref"]
    policies = [p for p in of_type(template(), "AWS::SNS::TopicPolicy").values()
                if {"Ref": topic} in p["Properties"]["Topics"]]
    (statement,) = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]
                    if s["Principal"] == {"Service": "ses.amazonaws.com"}]
    assert statement["Effect"] == "Allow" and statement["Action"] == "sns:Publish"
    assert statement["Condition"]["StringEquals"] == {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert statement["Condition"]["ArnLike"] == {"AWS:SourceArn": CONFIGURATION_SET_ARN}


def test_every_sender_sends_with_the_configuration_set():
    for lid in SENDERS:
        env = functions()[lid]["Properties"]["Environment"]["Variables"]
        assert env["EMAIL_CONFIGURATION_SET"] == {"Ref": "EmailConfigurationSet"}, lid
        assert env["SENDER_EMAIL"] == {"Ref": "SenderEmail"}, lid


def test_the_notifications_read_the_suppression_list_the_feedback_function_writes():
    notifications = functions()["NotificationsFunction"]["Properties"]
    feedback = functions()["EmailFeedbackFunction"]["Properties"]
    assert notifications["Environment"]["Variables"]["NOTIFICATIONS_TABLE"] == {"Ref": "NotificationsTable"}
    assert feedback["Environment"]["Variables"]["NOTIFICATIONS_TABLE"] == {"Ref": "NotificationsTable"}
    assert {"DynamoDBReadPolicy": {"TableName": {"Ref": "NotificationsTable"}}} in notifications["Policies"]
    assert {"DynamoDBWritePolicy": {"TableName": {"Ref": "NotificationsTable"}}} in feedback["Policies"]
    assert feedback["DeadLetterQueue"]["Type"] == "SQS"


# ------------------------------------------------------------------------------------------------------ IAM
def test_no_function_has_an_ses_policy_template():
    """SESCrudPolicy (and SAM's other SES templates) also grant identity management, and are scoped to an
    address identity: a verified domain would be denied."""
    for lid, fn in functions().items():
        for policy in fn["Properties"].get("Policies") or []:
            names = set(policy) if isinstance(policy, dict) else {policy}
            assert not any(n.startswith("SES") for n in names), f"{lid}: {names}"


def test_sending_is_allowed_on_the_identity_in_use_and_the_configuration_set_only():
    for lid in SENDERS:
        statements = [s for s in functions()[lid]["Properties"]["Policies"]
                      if isinstance(s, dict) and "Statement" in s for s in s["Statement"]]
        (send,) = [s for s in statements if actions_of(s) & SEND_ACTIONS]
        assert actions_of(send) == SEND_ACTIONS, lid
        assert send["Resource"] == [IDENTITY_ARN, CONFIGURATION_SET_ARN, SANDBOX_RECIPIENTS], lid


@pytest.mark.parametrize("domain", [False, True], ids=["address", "domain"])
def test_no_role_may_do_more_with_ses_than_send(domain):
    t = transformed(domain)
    senders = set()
    for lid in of_type(t, "AWS::Lambda::Function"):
        for s in role_statements(t, lid):
            ses = {a for a in actions_of(s) if a.lower().startswith("ses:")}
            if not ses:
                continue
            assert ses == SEND_ACTIONS, f"{lid}: {ses}"
            assert "*" not in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]), lid
            senders.add(lid)
    assert senders == SENDERS


def test_the_sandbox_wildcard_is_off_unless_asked_for():
    params = template()["Parameters"]["SesSandbox"]
    assert params["Default"] == "false" and params["AllowedValues"] == ["true", "false"]
    assert template()["Conditions"]["InSesSandbox"] == {"Fn::Equals": [{"Ref": "SesSandbox"}, "true"]}


# ------------------------------------------------------------------------------------------------------ Cognito
def test_cognito_sends_through_ses_only_when_asked_and_keeps_its_default_sender_otherwise():
    assert template()["Parameters"]["CognitoEmailThroughSes"]["Default"] == "false"
    assert template()["Conditions"]["CognitoSendsThroughSes"] == {
        "Fn::Equals": [{"Ref": "CognitoEmailThroughSes"}, "true"]}
    (pool,) = of_type(template(), "AWS::Cognito::UserPool").values()
    condition, through_ses, default = pool["Properties"]["EmailConfiguration"]["Fn::If"]
    assert condition == "CognitoSendsThroughSes"
    assert through_ses == {"EmailSendingAccount": "DEVELOPER", "From": {"Ref": "SenderEmail"},
                           "SourceArn": IDENTITY_ARN, "ConfigurationSet": {"Ref": "EmailConfigurationSet"}}
    assert default == {"EmailSendingAccount": "COGNITO_DEFAULT"}
