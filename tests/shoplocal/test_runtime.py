"""The local runtime itself: deployer, in-process invoker, moto patches, scheduler, CLI.

Uses a small test-only template (tests/fixtures/runtime) deployed into the worker's moto next to the app.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from shoplocal import patches
from shoplocal.deploy import Deployer, DeployError
from shoplocal.lambdas import Invoker
from shoplocal.scheduler import Scheduler
from shoplocal.stack import ROOT
from shoplocal.template import load_template

pytestmark = pytest.mark.integration
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "runtime" / "template.yaml"


class _FixtureStack:
    """Just enough of Stack for the scheduler: a deployment, its invoker and a client factory."""

    def __init__(self, stack):
        self.parent = stack
        loaded = load_template(FIXTURE, {"Stage": "test"})
        self.deployment = Deployer(loaded, stack.client, stack_name=f"rt-{uuid.uuid4().hex[:6]}",
                                   parameters={"Stage": "test"}).deploy()
        self.invoker = Invoker(self.deployment.functions, stack.base_env())
        patches.bind(self.invoker, stack._start_execution_by_arn)

    def client(self, service):
        return self.parent.client(service)

    def echoes(self):
        table = self.deployment.physical["CounterTable"]
        items = self.client("dynamodb").query(TableName=table, IndexName="ByKind",
                                              KeyConditionExpression="kind = :k",
                                              ExpressionAttributeValues={":k": {"S": "echo"}})["Items"]
        return [json.loads(i["event"]["S"]) for i in items]


@pytest.fixture(scope="module")
def fixture_stack(stack):
    fs = _FixtureStack(stack)
    yield fs
    patches.unbind(fs.invoker)


def test_deployer_creates_resources_with_template_properties(fixture_stack):
    d = fixture_stack.deployment
    ddb = fixture_stack.client("dynamodb")
    table = ddb.describe_table(TableName=d.physical["CounterTable"])["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk"]
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["ByKind"]
    ttl = ddb.describe_time_to_live(TableName=d.physical["CounterTable"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    env = d.functions["EchoFunction"].environment
    assert env["TABLE"] == d.physical["CounterTable"]
    assert env["TABLE_ARN"] == table["TableArn"]
    assert env["GREETING"] == "hello from test in us-east-1"
    assert env["FLAG"] == "on"
    assert d.outputs["TableName"] == d.physical["CounterTable"]
    machine = fixture_stack.client("stepfunctions").describe_state_machine(stateMachineArn=d.physical["Machine"])
    definition = json.loads(machine["definition"])
    assert definition["States"]["Echo"]["Resource"] == d.functions["EchoFunction"].arn
    assert [s.expression for s in d.schedules] == ["rate(1 minute)"]


def test_unknown_resource_types_fail_loudly(stack, tmp_path):
    bad = tmp_path / "template.yaml"
    bad.write_text("Resources:\n  Thing:\n    Type: AWS::Made::Up\n    Properties: {}\n")
    with pytest.raises(DeployError, match=r"AWS::Made::Up \(Thing\)"):
        Deployer(load_template(bad), stack.client).deploy()


def test_invoke_runs_the_handler_with_its_own_environment(fixture_stack):
    out = fixture_stack.invoker.invoke("EchoFunction", {"hello": "world"})
    assert out["event"] == {"hello": "world"}
    assert out["greeting"] == "hello from test in us-east-1"
    assert out["function"] == fixture_stack.deployment.functions["EchoFunction"].name
    assert out["process_env_untouched"] is True


def test_state_machine_runs_tasks_in_process_with_retry_and_catch_by_exception_class(fixture_stack, stack):
    arn = fixture_stack.deployment.physical["Machine"]
    ok = stack._start_execution_by_arn(arn, json.dumps({"key": uuid.uuid4().hex, "fail_times": 1}))
    caught = stack._start_execution_by_arn(arn, json.dumps({"key": uuid.uuid4().hex, "fail_times": 5}))
    done = stack.wait_execution(ok, timeout=60)
    failed = stack.wait_execution(caught, timeout=60)
    assert done["status"] == "SUCCEEDED", done
    out = json.loads(done["output"])
    assert out["outcome"] == "done" and out["flaky"] == {"calls": 2}  # one failure, retried once
    assert out["echo"]["greeting"] == "hello from test in us-east-1"
    assert failed["status"] == "SUCCEEDED"
    out = json.loads(failed["output"])
    assert out["outcome"] == "caught"
    assert out["error"]["Error"] == "OutOfBeans"


def test_dynamodb_conditional_writes_are_atomic_across_threads(fixture_stack):
    ddb = fixture_stack.client("dynamodb")
    table = fixture_stack.deployment.physical["CounterTable"]
    key = {"pk": {"S": f"stock#{uuid.uuid4()}"}}
    ddb.put_item(TableName=table, Item={**key, "left": {"N": "5"}})
    wins, losses = [], []
    barrier = threading.Barrier(50)

    def take():
        barrier.wait()
        try:
            ddb.update_item(TableName=table, Key=key, UpdateExpression="SET #l = #l - :one",
                            ConditionExpression="#l >= :one", ExpressionAttributeNames={"#l": "left"},
                            ExpressionAttributeValues={":one": {"N": "1"}})
            wins.append(1)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
            losses.append(1)

    threads = [threading.Thread(target=take) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert (len(wins), len(losses)) == (5, 45)
    assert ddb.get_item(TableName=table, Key=key)["Item"]["left"] == {"N": "0"}


def test_eventbridge_rules_deliver_to_lambda_and_state_machine_targets(fixture_stack, stack):
    marker = uuid.uuid4().hex
    bus = fixture_stack.deployment.physical["Bus"]
    events = fixture_stack.client("events")
    events.put_events(Entries=[
        {"EventBusName": bus, "Source": "runtime.test", "DetailType": "Echo", "Detail": json.dumps({"m": marker})},
        {"EventBusName": bus, "Source": "runtime.test", "DetailType": "Start",
         "Detail": json.dumps({"m": marker})},
        {"EventBusName": bus, "Source": "other", "DetailType": "Echo", "Detail": json.dumps({"m": "ignored"})},
    ])
    stack.drain_async(timeout=30)
    echoed = [e for e in fixture_stack.echoes() if e.get("detail", {}).get("m") == marker]
    assert len(echoed) >= 1 and echoed[0]["detail-type"] in ("Echo", "Start")
    assert not [e for e in fixture_stack.echoes() if e.get("detail", {}).get("m") == "ignored"]
    sfn = fixture_stack.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=fixture_stack.deployment.physical["Machine"])["executions"]
    started = []
    for ex in executions:
        desc = sfn.describe_execution(executionArn=ex["executionArn"])
        if marker in desc.get("input", ""):
            started.append(desc)
    assert len(started) == 1


def test_eventbridge_target_input_path_delivers_part_of_the_event(fixture_stack, stack):
    marker = uuid.uuid4().hex
    fixture_stack.client("events").put_events(Entries=[{
        "EventBusName": fixture_stack.deployment.physical["Bus"], "Source": "runtime.test",
        "DetailType": "DetailOnly", "Detail": json.dumps({"m": marker, "n": 1})}])
    stack.drain_async(timeout=30)
    assert [e for e in fixture_stack.echoes() if e.get("m") == marker] == [{"m": marker, "n": 1}]


def test_scheduler_loop_fires_due_rules_until_stopped(fixture_stack):
    from datetime import UTC, datetime

    scheduler = Scheduler(fixture_stack, tick_seconds=0.05)
    scheduler.start()
    try:
        [lid] = list(scheduler.next_run)
        assert scheduler.next_run[lid] > datetime.now(UTC)  # rate(1 minute): not before a minute has passed
        scheduler.next_run[lid] = datetime.now(UTC)  # make it due now
        deadline = time.monotonic() + 15
        while not scheduler.fired and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop()
    assert [f[0] for f in scheduler.fired] == [lid]
    assert scheduler.next_run[lid] > datetime.now(UTC)
    assert not scheduler._thread.is_alive()


def test_scheduler_fires_schedule_rules_with_a_scheduled_event(fixture_stack):
    scheduler = Scheduler(fixture_stack)
    [result] = scheduler.fire(fixture_stack.deployment.schedules[0].logical_id)
    assert result["event"]["detail-type"] == "Scheduled Event"
    assert result["event"]["source"] == "aws.events"
    assert scheduler.fired and scheduler.fired[0][0] == fixture_stack.deployment.schedules[0].logical_id


def test_every_resource_of_the_real_template_is_deployed(stack):
    all_resources = stack.loaded.transformed["Resources"]
    # conditional resources are deployed when their condition holds: the alarm e-mail is empty locally, the SES
    # identity is created by default
    resources = {lid: r for lid, r in all_resources.items() if "Condition" not in r}
    conditional, deployed = set(all_resources) - set(resources), set(stack.deployment.types)
    assert "OpsTopicEmail" in conditional and "OpsTopicEmail" not in deployed
    assert "SenderIdentity" in conditional and "SenderIdentity" in deployed
    assert set(resources) <= deployed and deployed - set(resources) <= conditional
    assert all(stack.deployment.physical[lid] for lid in resources)
    for lid, spec in stack.deployment.functions.items():
        assert (spec.code_dir / "app.py").exists(), lid


def test_invoke_command_mirrors_sam_local_invoke():
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "shoplocal", "-v", "invoke", "CatalogFunction", "-e",
         str(ROOT / "events" / "catalog" / "list_categories.json"), "--no-stripe"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)  # only the result: the function's logs (verbose here) go to stderr
    assert result["statusCode"] == 200
    assert proc.stderr
    assert "items" in json.loads(result["body"])
    assert time.monotonic() - started < 120


def test_invoke_command_exits_1_with_the_lambda_error_payload(tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"key": uuid.uuid4().hex, "fail_times": 1}))
    proc = subprocess.run(
        [sys.executable, "-m", "shoplocal", "--template", str(FIXTURE), "invoke", "FlakyFunction", "-e", str(event),
         "--no-stripe"], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert proc.returncode == 1, proc.stderr[-2000:]
    error = json.loads(proc.stdout)
    assert error["errorType"] == "OutOfBeans"
    assert error["errorMessage"] == "call 1 failed"
    assert error["stackTrace"]


def test_sender_identity_is_verified_and_sent_mail_is_recorded(stack):
    sender = stack.deployment.parameters["SenderEmail"]
    ses = stack.client("ses")
    assert sender in ses.list_identities(IdentityType="EmailAddress")["Identities"]
    to = f"{uuid.uuid4().hex[:10]}@example.com"
    ses.send_email(Source=sender, Destination={"ToAddresses": [to], "CcAddresses": ["cc-" + to]},
                   Message={"Subject": {"Data": "Your order"}, "Body": {"Text": {"Data": "Thanks!"}}})
    raw = (f"From: {sender}\r\nTo: {to}\r\nSubject: Raw order mail\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nRaw thanks\r\n")
    ses.send_raw_email(Source=sender, Destinations=[to], RawMessage={"Data": raw})
    mine = [m for m in stack.sent_emails() if to in m["destinations"]]
    assert mine[0] == {"source": sender, "destinations": [to, "cc-" + to], "subject": "Your order", "body": "Thanks!"}
    assert mine[1]["subject"] == "Raw order mail"
    assert mine[1]["body"].strip() == "Raw thanks"


def test_cognito_sign_ups_of_one_address_at_once_create_one_user(stack, monkeypatch):
    """Patch 20: a user pool keeps a username unique. moto looks the name up, then adds the user; a pause between
    the two (here 50 ms, a slow thread in the server) let two sign-ups of one address both pass without the lock."""
    from moto.cognitoidp.models import CognitoIdpUserPool

    looked_up = CognitoIdpUserPool._get_user

    def slow_lookup(self, username):
        found = looked_up(self, username)
        time.sleep(0.05)
        return found

    monkeypatch.setattr(CognitoIdpUserPool, "_get_user", slow_lookup)
    idp = stack.client("cognito-idp")
    pool = stack.physical_id_of_type("AWS::Cognito::UserPool")
    client = stack.physical_id_of_type("AWS::Cognito::UserPoolClient")
    email = f"twice-{uuid.uuid4().hex[:10]}@example.com"
    subs, refusals = [], []
    barrier = threading.Barrier(4)

    def sign_up():
        barrier.wait()
        try:
            subs.append(idp.sign_up(ClientId=client, Username=email, Password="Corr3ct-Horse",
                                    UserAttributes=[{"Name": "email", "Value": email}])["UserSub"])
        except ClientError as exc:
            refusals.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=sign_up) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(subs) == 1 and refusals == ["UsernameExistsException"] * 3, (subs, refusals)
    users = idp.list_users(UserPoolId=pool, Filter=f'email = "{email}"')["Users"]
    assert len(users) == 1 and {"Name": "sub", "Value": subs[0]} in users[0]["Attributes"], users


def test_one_execution_name_started_at_once_runs_once(fixture_stack, stack, monkeypatch):
    """Patch 20: StartExecution with the name and input of a running execution returns that execution, as Step
    Functions does. moto looks the name up, then copies the state machine and adds the execution; a pause after
    the lookup (50 ms, a slow server thread) let four duplicate starts run four executions without the lock."""
    from moto.stepfunctions.models import StateMachine

    looked_up = StateMachine._handle_name_input_idempotency

    def slow_lookup(self, name, execution_input):
        found = looked_up(self, name, execution_input)
        time.sleep(0.05)
        return found

    monkeypatch.setattr(StateMachine, "_handle_name_input_idempotency", slow_lookup)
    sfn = stack.client("stepfunctions")
    arn = fixture_stack.deployment.physical["Machine"]
    name = f"once-{uuid.uuid4().hex[:10]}"
    payload = json.dumps({"key": uuid.uuid4().hex, "fail_times": 1})  # retried after 1 s: still running
    started, refused, barrier = [], [], threading.Barrier(4)

    def start():
        barrier.wait()
        try:
            started.append(sfn.start_execution(stateMachineArn=arn, name=name, input=payload)["executionArn"])
        except ClientError as exc:  # what a start after the first execution ended gets
            refused.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(set(started)) == 1 and set(refused) <= {"ExecutionAlreadyExists"}, (started, refused)
    assert stack.wait_execution(started[0], timeout=60)["status"] == "SUCCEEDED"
    runs = [e for e in sfn.list_executions(stateMachineArn=arn)["executions"] if e["name"] == name]
    assert len(runs) == 1, runs
