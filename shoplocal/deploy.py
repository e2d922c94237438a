"""A small CloudFormation deployer for the transformed template, targeting moto.

moto's own CloudFormation lacks Cognito and SES and applies neither TTL nor GSIs faithfully for every
case, so the resources our template uses are provisioned here with plain API calls, in dependency order,
after resolving the intrinsic functions. An unknown resource type fails loudly rather than being skipped.
"""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shoplocal.template import LoadedTemplate

ACCOUNT_ID = "123456789012"
NO_VALUE = object()
# Events::Rule target properties passed on to put_targets (the rest, e.g. EcsParameters, has no use here)
TARGET_KEYS = ("Id", "Arn", "Input", "InputPath", "InputTransformer", "RoleArn", "RetryPolicy",
               "DeadLetterConfig", "SqsParameters")


class DeployError(RuntimeError):
    pass


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: Path
    environment: dict[str, str]
    timeout: int
    memory: int
    layer_dirs: list[Path] = field(default_factory=list)


@dataclass
class ScheduledRule:
    logical_id: str
    name: str
    expression: str
    targets: list[dict[str, Any]]
    timezone: str = "UTC"  # EventBridge rules run in UTC; EventBridge Scheduler schedules name their zone


@dataclass
class Deployment:
    stack_name: str
    region: str
    parameters: dict[str, str]
    physical: dict[str, str] = field(default_factory=dict)  # Ref value per logical id
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    schedules: list[ScheduledRule] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    def function_by_name_or_arn(self, name: str) -> FunctionSpec | None:
        for spec in self.functions.values():
            if name in (spec.name, spec.arn, spec.logical_id) or name.startswith(spec.arn + ":"):
                return spec
        return None


# --------------------------------------------------------------------------- intrinsic functions
class Resolver:
    def __init__(self, template: dict[str, Any], deployment: Deployment):
        self.template = template
        self.d = deployment
        self.conditions: dict[str, bool] = {}
        for name in (template.get("Conditions") or {}):
            self.condition(name)

    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": self.d.region, "AWS::AccountId": ACCOUNT_ID, "AWS::StackName": self.d.stack_name,
            "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:aws:cloudformation:{self.d.region}:{ACCOUNT_ID}:stack/{self.d.stack_name}/local",
        }.get(name)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.resolve(self.template["Conditions"][name]))
        return self.conditions[name]

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        pseudo = self.pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in self.d.parameters:
            return self.d.parameters[name]
        if name in self.d.physical:
            return self.d.physical[name]
        raise DeployError(f"Ref to {name}, which is neither a parameter nor a deployed resource")

    def getatt(self, logical_id: str, attr: str) -> str:
        try:
            return self.d.attributes[logical_id][attr]
        except KeyError:
            raise DeployError(f"Fn::GetAtt {logical_id}.{attr} is not available") from None

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def repl(m: re.Match[str]) -> str:
            expr = m.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            if expr in variables:
                return str(self.resolve(variables[expr]))
            if "." in expr and expr.split(".", 1)[0] in self.d.attributes:
                lid, attr = expr.split(".", 1)
                return self.getatt(lid, attr)
            return str(self.ref(expr))

        return re.sub(r"\$\{([^}]+)\}", repl, text)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(v) for v in node]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                lid, attr = arg.split(".", 1) if isinstance(arg, str) else arg
                return self.getatt(lid, attr)
            if key == "Fn::Sub":
                if isinstance(arg, str):
                    return self.sub(arg, {})
                return self.sub(arg[0], arg[1])
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in self.resolve(arg[1]))
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::Split":
                return str(self.resolve(arg[1])).split(arg[0])
            if key == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Equals":
                return self.resolve(arg[0]) == self.resolve(arg[1])
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(v) for v in arg)
            if key == "Fn::Or":
                return any(self.resolve(v) for v in arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::FindInMap":
                name, top, second = (self.resolve(v) for v in arg)
                try:
                    return self.template["Mappings"][name][top][second]
                except KeyError:
                    raise DeployError(f"Fn::FindInMap {name}/{top}/{second}: no such mapping entry") from None
            if key == "Fn::Base64":
                return base64.b64encode(str(self.resolve(arg)).encode()).decode()
            if key == "Fn::GetAZs":
                return [f"{self.d.region}{zone}" for zone in "abc"]
            if key.startswith("Fn::"):
                raise DeployError(f"intrinsic {key} is not supported by the local deployer")
        out = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not NO_VALUE}


def dependencies(node: Any, resources: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(n: Any) -> None:
        if isinstance(n, list):
            for v in n:
                walk(v)
        elif isinstance(n, dict):
            if len(n) == 1:
                (key, arg), = n.items()
                if key == "Ref" and arg in resources:
                    found.add(arg)
                elif key == "Fn::GetAtt":
                    found.add((arg.split(".", 1) if isinstance(arg, str) else arg)[0])
                elif key == "Fn::Sub":
                    text = arg if isinstance(arg, str) else arg[0]
                    for expr in re.findall(r"\$\{([^}!]+)\}", text):
                        name = expr.split(".", 1)[0]
                        if name in resources:
                            found.add(name)
            for v in n.values():
                walk(v)

    walk(node)
    return found


def order_resources(resources: dict[str, Any]) -> list[str]:
    deps = {lid: dependencies(res.get("Properties", {}), resources)
            | set([res["DependsOn"]] if isinstance(res.get("DependsOn"), str) else res.get("DependsOn", []))
            for lid, res in resources.items()}
    ordered: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(lid: str) -> None:
        if lid in done:
            return
        if lid in visiting:
            raise DeployError(f"circular dependency through {lid}")
        visiting.add(lid)
        for dep in sorted(deps[lid]):
            if dep in resources:
                visit(dep)
        visiting.discard(lid)
        done.add(lid)
        ordered.append(lid)

    for lid in sorted(resources):
        visit(lid)
    return ordered


# --------------------------------------------------------------------------- provisioners
def _tiny_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "# the local runtime runs the real code in-process\n")
    return buf.getvalue()


def _tags_list(tags: Any) -> list[dict[str, str]]:
    if isinstance(tags, dict):
        return [{"Key": k, "Value": str(v)} for k, v in tags.items()]
    return list(tags or [])


class Deployer:
    def __init__(self, loaded: LoadedTemplate, client: Callable[[str], Any], *, stack_name: str = "shop-local",
                 region: str = "us-east-1", parameters: dict[str, str] | None = None,
                 base_env: dict[str, str] | None = None):
        self.loaded = loaded
        self.client = client
        self.base_env = dict(base_env or {})
        template = loaded.transformed
        params: dict[str, str] = {}
        for name, spec in (template.get("Parameters") or {}).items():
            if "Default" in spec:
                params[name] = str(spec["Default"])
        params.update(parameters or {})
        missing = [n for n in (template.get("Parameters") or {}) if n not in params]
        if missing:
            raise DeployError(f"parameters without value: {', '.join(missing)}")
        self.d = Deployment(stack_name=stack_name, region=region, parameters=params)
        self.resolver = Resolver(template, self.d)
        self.layer_dirs: dict[str, Path] = {}
        self.suffix = uuid.uuid4().hex[:6]

    def name_for(self, logical_id: str, limit: int = 64) -> str:
        return f"{self.d.stack_name}-{logical_id}-{self.suffix}"[:limit]

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.d.region}:{ACCOUNT_ID}:{resource}"

    def deploy(self) -> Deployment:
        resources = self.loaded.transformed["Resources"]
        for lid in order_resources(resources):
            res = resources[lid]
            if "Condition" in res and not self.resolver.condition(res["Condition"]):
                continue
            kind = res["Type"]
            self.d.types[lid] = kind
            handler = PROVISIONERS.get(kind)
            if handler is None:
                raise DeployError(f"resource type {kind} ({lid}) is not supported by the local deployer")
            props = self.resolver.resolve(res.get("Properties") or {})
            handler(self, lid, props)
        for name, out in (self.loaded.transformed.get("Outputs") or {}).items():
            if "Condition" in out and not self.resolver.condition(out["Condition"]):
                continue
            self.d.outputs[name] = str(self.resolver.resolve(out["Value"]))
        sender = self.d.parameters.get("SenderEmail")
        if sender:
            self.client("ses").verify_email_identity(EmailAddress=sender)
        return self.d

    # each provisioner records Ref (physical) and GetAtt attributes
    def table(self, lid: str, p: dict[str, Any]) -> None:
        name = p.get("TableName") or self.name_for(lid, 255)
        args: dict[str, Any] = {
            "TableName": name, "KeySchema": p["KeySchema"], "AttributeDefinitions": p["AttributeDefinitions"],
            "BillingMode": p.get("BillingMode", "PROVISIONED"),
        }
        if args["BillingMode"] == "PROVISIONED":
            args["ProvisionedThroughput"] = p.get("ProvisionedThroughput") or {
                "ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if p.get(key):
                args[key] = p[key]
        if p.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
        desc = self.client("dynamodb").create_table(**args)["TableDescription"]
        ttl = p.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            self.client("dynamodb").update_time_to_live(
                TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True})
        self.d.physical[lid] = name
        self.d.attributes[lid] = {"Arn": desc["TableArn"], "StreamArn": desc.get("LatestStreamArn", "")}

    def role(self, lid: str, p: dict[str, Any]) -> None:
        name = p.get("RoleName") or self.name_for(lid)
        role = self.client("iam").create_role(
            RoleName=name, Path=p.get("Path", "/"),
            AssumeRolePolicyDocument=json.dumps(p.get("AssumeRolePolicyDocument", {})))["Role"]
        for policy in p.get("Policies") or []:
            self.client("iam").put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                                               PolicyDocument=json.dumps({"Version": "2012-10-17",
                                                                           **policy["PolicyDocument"]}))
        self.d.physical[lid] = name
        self.d.attributes[lid] = {"Arn": role["Arn"], "RoleId": role["RoleId"]}

    def policy(self, lid: str, p: dict[str, Any]) -> None:
        """A stand-alone policy (ExistingSecretKeyPolicy): put on each of its roles, as IAM attaches it."""
        document = json.dumps({"Version": "2012-10-17", **p["PolicyDocument"]})
        for role in p.get("Roles") or []:
            self.client("iam").put_role_policy(RoleName=role, PolicyName=p["PolicyName"], PolicyDocument=document)
        self.d.physical[lid] = p["PolicyName"]
        self.d.attributes[lid] = {}

    def layer(self, lid: str, p: dict[str, Any]) -> None:
        sam_id = next((k for k in self.loaded.code_dirs if lid.startswith(k)), None)
        arn = self.arn("lambda", f"layer:{p.get('LayerName', lid)}:1")
        if sam_id:
            self.layer_dirs[arn] = self.loaded.code_dirs[sam_id]
        self.d.physical[lid] = arn
        self.d.attributes[lid] = {"Arn": arn}

    def function(self, lid: str, p: dict[str, Any]) -> None:
        name = p.get("FunctionName") or self.name_for(lid)
        code_dir = self.loaded.code_dirs.get(lid)
        if code_dir is None:
            raise DeployError(f"{lid}: no local CodeUri recorded")
        env = {k: str(v) for k, v in ((p.get("Environment") or {}).get("Variables") or {}).items()}
        created = self.client("lambda").create_function(
            FunctionName=name, Runtime=p.get("Runtime", "python3.13"), Role=p["Role"], Handler=p["Handler"],
            Code={"ZipFile": _tiny_zip()}, Timeout=int(p.get("Timeout", 3)), MemorySize=int(p.get("MemorySize", 128)),
            Environment={"Variables": env}, Description=str(p.get("Description", ""))[:256],
        )
        self.d.physical[lid] = name
        self.d.attributes[lid] = {"Arn": created["FunctionArn"]}
        self.d.functions[lid] = FunctionSpec(
            logical_id=lid, name=name, arn=created["FunctionArn"], handler=p["Handler"], code_dir=code_dir,
            environment=env, timeout=int(p.get("Timeout", 3)), memory=int(p.get("MemorySize", 128)),
            layer_dirs=[self.layer_dirs[a] for a in p.get("Layers", []) if a in self.layer_dirs],
        )

    def skip(self, lid: str, p: dict[str, Any]) -> None:
        """The HTTP API is served by shoplocal.gateway from the template's routes; permissions don't apply."""
        self.d.physical[lid] = "localapi" if self.d.types.get(lid) == "AWS::ApiGatewayV2::Api" else f"{lid}-local"
        self.d.attributes[lid] = {}

    def state_machine(self, lid: str, p: dict[str, Any]) -> None:
        name = p.get("StateMachineName") or self.name_for(lid, 80)
        definition = p.get("DefinitionString") or json.dumps(p.get("Definition"))
        for key, value in (p.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        arn = self.client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=p["RoleArn"], type=p.get("StateMachineType", "STANDARD"),
        )["stateMachineArn"]
        self.d.physical[lid] = arn
        self.d.attributes[lid] = {"Arn": arn, "Name": name}

    def event_bus(self, lid: str, p: dict[str, Any]) -> None:
        arn = self.client("events").create_event_bus(Name=p["Name"])["EventBusArn"]
        self.d.physical[lid] = p["Name"]
        self.d.attributes[lid] = {"Arn": arn, "Name": p["Name"]}

    def rule(self, lid: str, p: dict[str, Any]) -> None:
        name = p.get("Name") or self.name_for(lid)
        args: dict[str, Any] = {"Name": name, "State": p.get("State", "ENABLED")}
        for key in ("ScheduleExpression", "Description", "EventBusName"):
            if p.get(key):
                args[key] = p[key]
        if p.get("EventPattern"):
            args["EventPattern"] = json.dumps(p["EventPattern"])
        arn = self.client("events").put_rule(**args)["RuleArn"]
        targets = p.get("Targets") or []
        if targets:
            self.client("events").put_targets(Rule=name, EventBusName=p.get("EventBusName", "default"),
                                              Targets=[{k: v for k, v in t.items() if k in TARGET_KEYS}
                                                       for t in targets])
        if p.get("ScheduleExpression"):
            self.d.schedules.append(ScheduledRule(lid, name, p["ScheduleExpression"], targets))
        self.d.physical[lid] = name
        self.d.attributes[lid] = {"Arn": arn}

    def schedule(self, lid: str, p: dict[str, Any]) -> None:
        """EventBridge Scheduler (SAM ScheduleV2): created in moto and fired by the local scheduler, in the
        schedule's own time zone."""
        name = p.get("Name") or self.name_for(lid, 64)
        target = {k: v for k, v in p["Target"].items() if k in ("Arn", "RoleArn", "Input")}
        args: dict[str, Any] = {"Name": name, "ScheduleExpression": p["ScheduleExpression"], "Target": target,
                                "FlexibleTimeWindow": p.get("FlexibleTimeWindow") or {"Mode": "OFF"},
                                "State": p.get("State", "ENABLED")}
        if p.get("ScheduleExpressionTimezone"):
            args["ScheduleExpressionTimezone"] = p["ScheduleExpressionTimezone"]
        arn = self.client("scheduler").create_schedule(**args)["ScheduleArn"]
        self.d.schedules.append(ScheduledRule(lid, name, p["ScheduleExpression"], [target],
                                              p.get("ScheduleExpressionTimezone") or "UTC"))
        self.d.physical[lid] = name
        self.d.attributes[lid] = {"Arn": arn}

    def user_pool(self, lid: str, p: dict[str, Any]) -> None:
        args: dict[str, Any] = {"PoolName": p.get("UserPoolName") or self.name_for(lid, 128)}
        for key in ("Policies", "UsernameAttributes", "AutoVerifiedAttributes", "AliasAttributes", "MfaConfiguration",
                    "AdminCreateUserConfig", "AccountRecoverySetting", "LambdaConfig"):
            if p.get(key):
                args[key] = p[key]
        if p.get("Schema"):
            args["Schema"] = [{k: v for k, v in a.items()} for a in p["Schema"]]
        pool = self.client("cognito-idp").create_user_pool(**args)["UserPool"]
        self.d.physical[lid] = pool["Id"]
        self.d.attributes[lid] = {
            "Arn": pool["Arn"], "ProviderName": f"cognito-idp.{self.d.region}.amazonaws.com/{pool['Id']}",
            "ProviderURL": f"https://cognito-idp.{self.d.region}.amazonaws.com/{pool['Id']}", "UserPoolId": pool["Id"],
        }

    def user_pool_client(self, lid: str, p: dict[str, Any]) -> None:
        args: dict[str, Any] = {"UserPoolId": p["UserPoolId"], "ClientName": p.get("ClientName") or lid}
        for key in ("GenerateSecret", "ExplicitAuthFlows", "PreventUserExistenceErrors", "AccessTokenValidity",
                    "IdTokenValidity", "RefreshTokenValidity", "TokenValidityUnits"):
            if key in p:
                args[key] = p[key]
        created = self.client("cognito-idp").create_user_pool_client(**args)["UserPoolClient"]
        self.d.physical[lid] = created["ClientId"]
        self.d.attributes[lid] = {"ClientSecret": created.get("ClientSecret", "")}

    def user_pool_group(self, lid: str, p: dict[str, Any]) -> None:
        args = {k: p[k] for k in ("GroupName", "UserPoolId", "Description", "Precedence") if k in p}
        self.client("cognito-idp").create_group(**args)
        self.d.physical[lid] = p["GroupName"]
        self.d.attributes[lid] = {}

    def bucket(self, lid: str, p: dict[str, Any]) -> None:
        name = (p.get("BucketName") or self.name_for(lid, 63)).lower()
        self.client("s3").create_bucket(Bucket=name)
        self.d.physical[lid] = name
        self.d.attributes[lid] = {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com",
                                  "RegionalDomainName": f"{name}.s3.{self.d.region}.amazonaws.com"}

    def cloudfront(self, lid: str, p: dict[str, Any]) -> None:
        """CloudFront (the staff console's distribution, its origin access control and headers policy) is not
        emulated: the local gateway serves console/ itself (shoplocal/static.py). Recorded with the ids and
        domain name its Ref and GetAtt give, so the template's outputs resolve."""
        ident = "E" + uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.d.stack_name}/{lid}").hex[:13].upper()
        self.d.physical[lid] = ident
        self.d.attributes[lid] = {"Id": ident, "DomainName": f"{ident.lower()}.cloudfront.local"}

    def queue(self, lid: str, p: dict[str, Any]) -> None:
        name = p.get("QueueName") or self.name_for(lid, 80)
        url = self.client("sqs").create_queue(QueueName=name)["QueueUrl"]
        self.d.physical[lid] = url
        self.d.attributes[lid] = {"Arn": self.arn("sqs", name), "QueueUrl": url, "QueueName": name}

    def topic(self, lid: str, p: dict[str, Any]) -> None:
        arn = self.client("sns").create_topic(Name=p.get("TopicName") or self.name_for(lid, 256))["TopicArn"]
        self.d.physical[lid] = arn
        self.d.attributes[lid] = {"TopicArn": arn, "TopicName": arn.rsplit(":", 1)[-1]}

    def kms_key(self, lid: str, p: dict[str, Any]) -> None:
        """A customer managed key in moto (its policy is recorded, not enforced); Ref is the key id."""
        meta = self.client("kms").create_key(Description=str(p.get("Description", ""))[:8192],
                                             Policy=json.dumps(p["KeyPolicy"]))["KeyMetadata"]
        if p.get("EnableKeyRotation"):
            self.client("kms").enable_key_rotation(KeyId=meta["KeyId"])
        self.d.physical[lid] = meta["KeyId"]
        self.d.attributes[lid] = {"Arn": meta["Arn"], "KeyId": meta["KeyId"]}

    def ssm_parameter(self, lid: str, p: dict[str, Any]) -> None:
        name = p.get("Name") or f"/{self.name_for(lid)}"
        self.client("ssm").put_parameter(Name=name, Value=str(p["Value"]), Type=p.get("Type", "String"),
                                         Description=str(p.get("Description", "")), Overwrite=True)
        self.d.physical[lid] = name
        self.d.attributes[lid] = {"Type": p.get("Type", "String"), "Value": str(p["Value"])}

    def log_group(self, lid: str, p: dict[str, Any]) -> None:
        name = p.get("LogGroupName") or f"/local/{self.name_for(lid)}"
        self.client("logs").create_log_group(logGroupName=name)
        self.d.physical[lid] = name
        self.d.attributes[lid] = {"Arn": self.arn("logs", f"log-group:{name}:*")}
        if p.get("RetentionInDays"):
            self.client("logs").put_retention_policy(logGroupName=name, retentionInDays=int(p["RetentionInDays"]))

    def subscription(self, lid: str, p: dict[str, Any]) -> None:
        """An e-mail subscription stays pending confirmation, as on AWS (moto sends no mail)."""
        arn = self.client("sns").subscribe(TopicArn=p["TopicArn"], Protocol=p["Protocol"],
                                           Endpoint=p["Endpoint"])["SubscriptionArn"]
        self.d.physical[lid] = arn
        self.d.attributes[lid] = {"Arn": arn}

    def alarm(self, lid: str, p: dict[str, Any]) -> None:
        """Created in moto's CloudWatch so the alarms can be listed; nothing evaluates them locally."""
        name = p.get("AlarmName") or self.name_for(lid, 255)
        keys = ("AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions",
                "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
                "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
                "Metrics")
        args = {k: p[k] for k in keys if k in p}
        for k in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if k in args:
                args[k] = int(args[k])
        if "Threshold" in args:
            args["Threshold"] = float(args["Threshold"])
        for m in args.get("Metrics", []):
            if "Period" in m.get("MetricStat", {}):
                m["MetricStat"]["Period"] = int(m["MetricStat"]["Period"])
        self.client("cloudwatch").put_metric_alarm(AlarmName=name, **args)
        self.d.physical[lid] = name
        self.d.attributes[lid] = {"Arn": self.arn("cloudwatch", f"alarm:{name}")}

    def dashboard(self, lid: str, p: dict[str, Any]) -> None:
        name = p.get("DashboardName") or self.name_for(lid)
        self.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=p["DashboardBody"])
        self.d.physical[lid] = name
        self.d.attributes[lid] = {}

    def resource_policy(self, lid: str, p: dict[str, Any]) -> None:
        """Resource policies (S3 bucket, SNS topic, SQS queue) are not enforced locally: the local stack is
        reached over plain HTTP, so the bucket's TLS-only policy would refuse every request."""
        self.d.physical[lid] = f"{lid}-local"
        self.d.attributes[lid] = {}

    def secret(self, lid: str, p: dict[str, Any]) -> None:
        """Secrets Manager secret, as CloudFormation creates it: SecretString, or GenerateSecretString (a random
        password, or a JSON template with one generated key). Ref is the ARN."""
        sm = self.client("secretsmanager")
        args: dict[str, Any] = {"Name": p.get("Name") or self.name_for(lid, 256)}
        if p.get("Description"):
            args["Description"] = p["Description"]
        generate = p.get("GenerateSecretString")
        if "SecretString" in p:
            args["SecretString"] = p["SecretString"]
        elif generate is not None:
            options = {k: generate[k] for k in ("PasswordLength", "ExcludeCharacters", "ExcludeNumbers",
                                                "ExcludePunctuation", "ExcludeUppercase", "ExcludeLowercase",
                                                "IncludeSpace", "RequireEachIncludedType") if k in generate}
            password = sm.get_random_password(**options)["RandomPassword"]
            if generate.get("SecretStringTemplate") and generate.get("GenerateStringKey"):
                value = json.loads(generate["SecretStringTemplate"])
                value[generate["GenerateStringKey"]] = password
                args["SecretString"] = json.dumps(value)
            else:
                args["SecretString"] = password
        arn = sm.create_secret(**args)["ARN"]
        self.d.physical[lid] = arn
        self.d.attributes[lid] = {"Id": arn}

    def email_identity(self, lid: str, p: dict[str, Any]) -> None:
        """SES identity (address or domain), verified at once as moto verifies everything; Ref is its name."""
        name = p["EmailIdentity"]
        self.client("sesv2").create_email_identity(EmailIdentity=name)
        self.d.physical[lid] = name
        self.d.attributes[lid] = {f"DkimDNSToken{kind}{i}": f"local-{kind.lower()}{i}.{name}"
                                  for kind in ("Name", "Value") for i in (1, 2, 3)}

    def configuration_set(self, lid: str, p: dict[str, Any]) -> None:
        name = p.get("Name") or self.name_for(lid, 64)
        self.client("ses").create_configuration_set(ConfigurationSet={"Name": name})
        self.d.physical[lid] = name
        self.d.attributes[lid] = {}

    def configuration_set_event_destination(self, lid: str, p: dict[str, Any]) -> None:
        """Recorded in moto's SES (which publishes no events: tests deliver SES's SNS messages themselves)."""
        dest = p["EventDestination"]
        args: dict[str, Any] = {"Name": dest.get("Name") or lid, "Enabled": bool(dest.get("Enabled", False)),
                                "MatchingEventTypes": dest["MatchingEventTypes"]}
        if dest.get("SnsDestination"):
            args["SNSDestination"] = {"TopicARN": dest["SnsDestination"]["TopicARN"]}
        self.client("ses").create_configuration_set_event_destination(
            ConfigurationSetName=p["ConfigurationSetName"], EventDestination=args)
        self.d.physical[lid] = args["Name"]
        self.d.attributes[lid] = {}


PROVISIONERS: dict[str, Callable[[Deployer, str, dict[str, Any]], None]] = {
    "AWS::DynamoDB::Table": Deployer.table,
    "AWS::IAM::Role": Deployer.role,
    "AWS::IAM::Policy": Deployer.policy,
    "AWS::Lambda::LayerVersion": Deployer.layer,
    "AWS::Lambda::Function": Deployer.function,
    "AWS::Lambda::Permission": Deployer.skip,
    "AWS::ApiGatewayV2::Api": Deployer.skip,
    "AWS::ApiGatewayV2::Stage": Deployer.skip,
    "AWS::StepFunctions::StateMachine": Deployer.state_machine,
    "AWS::Events::EventBus": Deployer.event_bus,
    "AWS::Events::Rule": Deployer.rule,
    "AWS::Scheduler::Schedule": Deployer.schedule,
    "AWS::Cognito::UserPool": Deployer.user_pool,
    "AWS::Cognito::UserPoolClient": Deployer.user_pool_client,
    "AWS::Cognito::UserPoolGroup": Deployer.user_pool_group,
    "AWS::S3::Bucket": Deployer.bucket,
    "AWS::CloudFront::Distribution": Deployer.cloudfront,
    "AWS::CloudFront::OriginAccessControl": Deployer.cloudfront,
    "AWS::CloudFront::ResponseHeadersPolicy": Deployer.cloudfront,
    "AWS::SQS::Queue": Deployer.queue,
    "AWS::SQS::QueuePolicy": Deployer.resource_policy,
    "AWS::SNS::TopicPolicy": Deployer.resource_policy,
    "AWS::S3::BucketPolicy": Deployer.resource_policy,
    "AWS::SNS::Subscription": Deployer.subscription,
    "AWS::CloudWatch::Alarm": Deployer.alarm,
    "AWS::CloudWatch::Dashboard": Deployer.dashboard,
    "AWS::SNS::Topic": Deployer.topic,
    "AWS::Logs::LogGroup": Deployer.log_group,
    "AWS::KMS::Key": Deployer.kms_key,
    "AWS::SSM::Parameter": Deployer.ssm_parameter,
    "AWS::SecretsManager::Secret": Deployer.secret,
    "AWS::SES::EmailIdentity": Deployer.email_identity,
    "AWS::SES::ConfigurationSet": Deployer.configuration_set,
    "AWS::SES::ConfigurationSetEventDestination": Deployer.configuration_set_event_destination,
}
