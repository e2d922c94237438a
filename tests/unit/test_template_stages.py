"""Stages and secrets in template.yaml: two stages fit one account and region, and no secret is a value.

- every physical name a resource sets (``*Name`` properties) is derived from the stage or the stack name, or
  from another resource's generated name, so ``sam deploy --config-env dev`` and ``--config-env prod`` (or two
  stacks) never collide; a fixed literal name fails unless it is scoped inside another resource (listed below);
- no function's environment holds the Stripe key or a webhook secret: only the secret's ARN, and only the
  functions that read it may get it (secretsmanager:GetSecretValue on that secret, nothing wider);
- every secret reader reads the shop's secret, created by the stack (ShopSecrets) or existing (ExistingSecretArn,
  then not created), and a customer managed key of an existing secret is granted to the readers only;
- the Rules that keep stage prod off the local runtime's settings exist;
- samconfig.toml has a dev and a prod environment, deploying their own stage to their own stack, with no secret.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from shoplocal.deploy import Deployment, Resolver
from shoplocal.template import load_template, load_yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PROBE_STAGE = "probe-stage"
# names that are not account/region-wide: scoped inside their parent resource, or references to another resource
SCOPED_OR_REFERENCE = {
    ("AWS::Cognito::UserPoolGroup", "GroupName"),  # per user pool (the code checks the group "admin")
    ("AWS::Cognito::UserPoolClient", "ClientName"),  # per user pool
    ("AWS::ApiGatewayV2::Stage", "StageName"),  # per HTTP API: its $default stage
    ("AWS::CloudWatch::Alarm", "MetricName"),  # a metric, not the alarm
    ("AWS::Lambda::Permission", "FunctionName"),
    ("AWS::Events::Rule", "EventBusName"),
}
SECRET_ENV = re.compile(r"(SECRET|API_KEY|PASSWORD|TOKEN)", re.IGNORECASE)
# functions that talk to Stripe or verify webhooks (grep require_secret/optional_secret in layers/shop)
SECRET_READERS = {"OrdersFunction", "PaymentFunction", "FulfillmentFunction", "WebhooksFunction",
                  "ReturnsFunction", "OrderAdminFunction"}  # staff refunds and cancels move money
# what each reader's SHOP_SECRETS_ARN and secret policy name: the created secret, or the existing one
SHOP_SECRET = {"Fn::If": ["CreatesShopSecrets", {"Ref": "ShopSecrets"}, {"Ref": "ExistingSecretArn"}]}
EXISTING_ARN = "arn:aws:secretsmanager:eu-central-1:111122223333:secret:shop/prod/stripe-AbC123"
EXISTING_KEY = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@cache
def transformed() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml", {"Stage": PROBE_STAGE}).transformed


@cache
def original() -> dict[str, Any]:
    return load_yaml(ROOT / "template.yaml")


def _derived_from_stage_or_stack(value: Any, resources: dict[str, Any]) -> bool:
    """True when the name changes with the stage or the stack, or is another (generated) resource's name."""
    if isinstance(value, str):
        return PROBE_STAGE in value
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref":
            return arg in ("Stage", "AWS::StackName") or arg in resources
        if fn == "Fn::GetAtt":
            return True  # an attribute of another resource of this stack
        if fn == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            names = re.findall(r"\$\{([^}!]+)\}", text)
            return PROBE_STAGE in text or any(n in ("Stage", "AWS::StackName") or n.split(".")[0] in resources
                                              for n in names)
        if fn == "Fn::Join":
            return any(_derived_from_stage_or_stack(part, resources) for part in arg[1])
        if fn == "Fn::If":
            return all(_derived_from_stage_or_stack(branch, resources) for branch in arg[1:])
    return False


def test_no_resource_has_a_fixed_physical_name() -> None:
    resources = transformed()["Resources"]
    fixed = []
    for lid, res in resources.items():
        for key, value in (res.get("Properties") or {}).items():
            if not key.endswith("Name") or (res["Type"], key) in SCOPED_OR_REFERENCE:
                continue
            if not _derived_from_stage_or_stack(value, resources):
                fixed.append(f"{lid} ({res['Type']}).{key} = {value!r}")
    assert not fixed, "names must include ${Stage} or ${AWS::StackName} (two stages in one account): " + \
        "; ".join(fixed)


def test_the_daily_report_schedule_is_named_per_stack() -> None:
    schedules = {lid: r for lid, r in transformed()["Resources"].items() if r["Type"] == "AWS::Scheduler::Schedule"}
    assert schedules, "the daily report schedule is an AWS::Scheduler::Schedule"
    for lid, res in schedules.items():
        name = res["Properties"]["Name"]
        assert "${AWS::StackName}" in str(name) or PROBE_STAGE in str(name), lid


def test_the_detector_rejects_a_fixed_name() -> None:
    resources = {"Other": {}}
    assert not _derived_from_stage_or_stack("ReportsFunctionDailyReport", resources)
    assert not _derived_from_stage_or_stack({"Fn::Sub": "shop-events"}, resources)
    assert _derived_from_stage_or_stack({"Fn::Sub": "shop-events-${Stage}"}, resources)
    assert _derived_from_stage_or_stack({"Fn::Sub": "/aws/lambda/${Other}"}, resources)
    assert _derived_from_stage_or_stack(f"shop-deps-{PROBE_STAGE}", resources)


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}


def test_no_function_environment_holds_a_secret_value() -> None:
    template = transformed()
    secrets = {lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::SecretsManager::Secret"}
    assert secrets == {"ShopSecrets"}
    assert not {"StripeSecretKey", "StripeWebhookSecret", "CarrierWebhookSecret"} & set(template["Parameters"]), \
        "a secret is never a template parameter (it would sit in samconfig, shell history and the change set)"
    global_env = original()["Globals"]["Function"].get("Environment", {}).get("Variables", {})
    for lid, fn in _functions(template).items():
        env = (fn["Properties"].get("Environment") or {}).get("Variables") or {}
        for key, value in {**global_env, **env}.items():
            if key == "SHOP_SECRETS_ARN":
                assert value == SHOP_SECRET, lid
            else:
                assert not SECRET_ENV.search(key), f"{lid}: {key} looks like a secret in the environment"
                assert not (isinstance(value, dict) and value.get("Ref") in secrets), lid
    readers = {lid for lid, fn in _functions(template).items()
               if "SHOP_SECRETS_ARN" in ((fn["Properties"].get("Environment") or {}).get("Variables") or {})}
    assert readers == SECRET_READERS


def _statements(template: dict[str, Any], function: dict[str, Any]) -> list[dict[str, Any]]:
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    props = template["Resources"][role]["Properties"]
    return [s for policy in props.get("Policies") or [] for s in policy["PolicyDocument"]["Statement"]]


def test_only_the_secret_readers_may_read_the_secret_and_only_that_secret() -> None:
    template = transformed()
    for lid, fn in _functions(template).items():
        reads = [s for s in _statements(template, fn)
                 if any("secretsmanager" in a for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                        else s["Action"]))]
        if lid not in SECRET_READERS:
            assert not reads, f"{lid} may read secrets but has no SHOP_SECRETS_ARN"
            continue
        assert reads, f"{lid} reads the secret without secretsmanager:GetSecretValue"
        for statement in reads:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert set(actions) <= {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, lid
            assert statement["Resource"] in (SHOP_SECRET,  # SAM's policy template, or written out
                                             {"Fn::Sub": ["${secretArn}", {"secretArn": SHOP_SECRET}]}), lid


def test_the_secret_is_created_with_a_random_carrier_secret_and_placeholders() -> None:
    import json

    from shop.secrets import PLACEHOLDER, SECRET_NAMES

    props = original()["Resources"]["ShopSecrets"]["Properties"]
    assert "Name" not in props, "a fixed secret name collides across stages and with a deleted secret's name"
    assert "SecretString" not in props, "a value in the template would be in the repository"
    generate = props["GenerateSecretString"]
    template = json.loads(generate["SecretStringTemplate"])
    assert set(template) | {generate["GenerateStringKey"]} == set(SECRET_NAMES)
    assert generate["GenerateStringKey"] == "carrier_webhook_secret" and generate["PasswordLength"] >= 32
    assert set(template.values()) == {PLACEHOLDER}


def test_rules_keep_prod_off_the_local_settings() -> None:
    rules = original()["Rules"]
    asserted, refused = {}, {}
    for rule in rules.values():
        assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
        for assertion in rule["Assertions"]:
            check = assertion["Assert"]
            if "Fn::Not" in check:
                (left, right) = check["Fn::Not"][0]["Fn::Equals"]
                refused[left["Ref"]] = right
            else:
                (left, right) = check["Fn::Equals"]
                asserted[left["Ref"]] = right
            assert assertion["AssertDescription"]
    assert asserted == {"StripeApiBase": "", "AutoConfirmSignups": "false"}
    # prod must name its own browser origins: the default (the local ones) is refused
    assert refused == {"AllowedOrigins": original()["Parameters"]["AllowedOrigins"]["Default"]}


def test_samconfig_has_dev_and_prod_on_their_own_stacks_without_secrets() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    stacks = {}
    for env in ("dev", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        stacks[env] = config[env]["global"]["parameters"]["stack_name"]
        assert f'Stage="{env}"' in deploy["parameter_overrides"]
        assert deploy["capabilities"]
    assert stacks["dev"] != stacks["prod"]
    assert config["default"]["deploy"]["parameters"]["parameter_overrides"] == \
        config["dev"]["deploy"]["parameters"]["parameter_overrides"], "a plain sam deploy deploys dev, never prod"
    overrides = " ".join(str(cmd["parameters"].get("parameter_overrides", ""))
                         for env in config.values() if isinstance(env, dict) for cmd in env.values())
    assert not re.search(r"(sk|rk)_(live|test)_|whsec_|secret|apikey", overrides, re.IGNORECASE)


# ------------------------------------------------------------------------------ an existing secret instead
_NO_VALUE = object()


@cache
def as_deployed(**parameters: str) -> dict[str, Any]:
    """The template transformed with these parameters (Stage: PROBE_STAGE), as CloudFormation applies it."""
    if not parameters:
        return applied(transformed(), {})
    return applied(load_template(ROOT / "template.yaml", {"Stage": PROBE_STAGE, **parameters}).transformed, parameters)


def applied(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """The transformed template with these parameters' values: resources and outputs whose condition is false
    left out, each Fn::If replaced by its branch, parameters' Refs by their values. The conditions are evaluated by
    the local deployer's Resolver (what `make run` deploys)."""
    given = {"Stage": PROBE_STAGE, **parameters}
    values = {n: str(spec["Default"]) for n, spec in template["Parameters"].items() if "Default" in spec} | given
    resolver = Resolver(template, Deployment(stack_name="probe", region="eu-central-1", parameters=values))

    def apply(node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (apply(v) for v in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return apply(yes if resolver.condition(name) else no)
        if set(node) == {"Ref"} and node["Ref"] == "AWS::NoValue":
            return _NO_VALUE
        if set(node) == {"Ref"} and node["Ref"] in values:
            return values[node["Ref"]]
        return {k: v for k, v in ((k, apply(v)) for k, v in node.items()) if v is not _NO_VALUE}

    out = dict(template)
    for section in ("Resources", "Outputs"):
        out[section] = {lid: apply(r) for lid, r in template.get(section, {}).items()
                        if "Condition" not in r or resolver.condition(r["Condition"])}
    return out


def _secret_reads(template: dict[str, Any], lid: str) -> list[Any]:
    """The resources the function's role may call Secrets Manager on (SAM's policy template written out)."""
    resources: list[Any] = []
    for statement in _statements(template, template["Resources"][lid]):
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        if any(a.startswith("secretsmanager:") for a in actions):
            resource = statement["Resource"]
            if isinstance(resource, dict) and resource.get("Fn::Sub", [None])[0] == "${secretArn}":
                resource = resource["Fn::Sub"][1]["secretArn"]
            resources.append(resource)
    return resources


def _kms_grants(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
            and any("kms:" in str(s["Action"]) for s in r["Properties"]["PolicyDocument"]["Statement"])]


def _readers_env(template: dict[str, Any]) -> dict[str, Any]:
    return {lid: vars_["SHOP_SECRETS_ARN"] for lid, fn in _functions(template).items()
            if "SHOP_SECRETS_ARN" in (vars_ := (fn["Properties"].get("Environment") or {}).get("Variables") or {})}


def test_by_default_the_stack_creates_the_secret_every_reader_reads() -> None:
    template = as_deployed()
    assert template["Resources"]["ShopSecrets"]["Type"] == "AWS::SecretsManager::Secret"
    assert _readers_env(template) == {lid: {"Ref": "ShopSecrets"} for lid in SECRET_READERS}
    assert {where.split(".")[1] for where in _refers_to(template, "ShopSecrets")} >= SECRET_READERS
    for lid in SECRET_READERS:
        assert _secret_reads(template, lid) == [{"Ref": "ShopSecrets"}], lid
    assert template["Outputs"]["ShopSecretsArn"]["Value"] == {"Ref": "ShopSecrets"}
    assert not _kms_grants(template), "aws/secretsmanager needs no grant"


def test_with_an_existing_secret_the_stack_creates_none_and_every_reader_reads_that_one() -> None:
    template = as_deployed(ExistingSecretArn=EXISTING_ARN)
    assert not {lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::SecretsManager::Secret"}
    assert not _refers_to(template, "ShopSecrets"), "nothing may refer to the secret that is not created"
    assert _readers_env(template) == dict.fromkeys(SECRET_READERS, EXISTING_ARN)
    for lid in SECRET_READERS:
        assert _secret_reads(template, lid) == [EXISTING_ARN], lid
    for lid in set(_functions(template)) - SECRET_READERS:
        assert not _secret_reads(template, lid), lid
    assert template["Outputs"]["ShopSecretsArn"]["Value"] == EXISTING_ARN
    assert not _kms_grants(template), "no key given: the secret uses aws/secretsmanager"


def test_the_key_of_an_existing_secret_is_granted_to_its_readers_through_secrets_manager_only() -> None:
    template = as_deployed(ExistingSecretArn=EXISTING_ARN, ExistingSecretKmsKeyArn=EXISTING_KEY)
    (grant,) = _kms_grants(template)
    roles = {role["Ref"] for role in grant["Properties"]["Roles"]}
    assert roles == {_functions(template)[lid]["Properties"]["Role"]["Fn::GetAtt"][0] for lid in SECRET_READERS}
    (statement,) = grant["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "kms:Decrypt"
    assert statement["Resource"] == EXISTING_KEY
    assert statement["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}}}
    # a key without an existing secret is ignored: the created secret uses aws/secretsmanager
    assert not _kms_grants(applied(transformed(), {"ExistingSecretKmsKeyArn": EXISTING_KEY}))


def _refers_to(template: dict[str, Any], lid: str) -> list[str]:
    """Where the resources and outputs Ref, Fn::GetAtt or Fn::Sub the logical id."""
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, list):
            for v in node:
                walk(v, where)
        elif isinstance(node, dict):
            ref, getatt, sub = node.get("Ref"), node.get("Fn::GetAtt"), node.get("Fn::Sub")
            text = sub if isinstance(sub, str) else sub[0] if isinstance(sub, list) else ""
            if ref == lid or (getatt and str(getatt[0] if isinstance(getatt, list) else getatt).split(".")[0] == lid) \
                    or re.search(r"\$\{" + lid + r"[.}]", text):
                found.append(where)
            for v in node.values():
                walk(v, where)

    for section in ("Resources", "Outputs"):
        for name, node in template[section].items():
            walk(node, f"{section}.{name}")
    return found


@pytest.mark.parametrize(("parameter", "value", "accepted"), [
    ("ExistingSecretArn", "", True),
    ("ExistingSecretArn", EXISTING_ARN, True),
    ("ExistingSecretArn", "arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:shop-AbC123", True),
    ("ExistingSecretArn", "shop/prod/stripe", False),  # a name: IAM would not match the grant
    ("ExistingSecretArn", "arn:aws:secretsmanager:eu-central-1:111122223333:secret:shop", False),  # no suffix
    ("ExistingSecretArn", "arn:aws:ssm:eu-central-1:111122223333:parameter/shop-AbC123", False),
    ("ExistingSecretArn", EXISTING_ARN + " ", False),
    ("ExistingSecretKmsKeyArn", "", True),
    ("ExistingSecretKmsKeyArn", EXISTING_KEY, True),
    ("ExistingSecretKmsKeyArn", "arn:aws:kms:eu-central-1:111122223333:alias/shop", False),  # IAM needs the key
    ("ExistingSecretKmsKeyArn", "1234abcd-12ab-34cd-56ef-1234567890ab", False),
])
def test_the_existing_secret_parameters_take_complete_arns_or_nothing(parameter: str, value: str,
                                                                      accepted: bool) -> None:
    spec = original()["Parameters"][parameter]
    assert spec["Default"] == "", "the local stack and a plain deploy create their own secret"
    assert bool(re.fullmatch(spec["AllowedPattern"], value)) is accepted

