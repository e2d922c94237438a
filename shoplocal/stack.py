"""The local stack: moto server + patches + localstripe + the template deployed + the HTTP gateway.

Used by `python -m shoplocal run`, by `invoke`, and (once per pytest worker) by the tests' `stack` fixture.
"""

from __future__ import annotations

import atexit
import email
import email.policy
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config

from shoplocal import patches
from shoplocal.deploy import ACCOUNT_ID, Deployer, Deployment
from shoplocal.lambdas import Invoker
from shoplocal.template import load_template

log = logging.getLogger("shoplocal")
ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
STRIPE_KEY = "sk_test_local"
STRIPE_WEBHOOK_SECRET = "whsec_local"
CARRIER_WEBHOOK_SECRET = "carrier_local"
# parameters the transform leaves as Refs (shoplocal.template.load_template): one kept transform for every port
REFS_ONLY = ("StripeApiBase",)
# localstripe pickles its whole state to the fixed path /tmp/localstripe.pickle on every write and reads it
# at start: two instances (test workers, `make run` beside the tests) corrupt each other's file. Each of ours
# keeps its state in its own memory instead.
# It also behaves as Stripe does where it would not (shoplocal/stripe_patches.py: a refund above what is left of
# the charge is refused; a card saved with setup_future_usage is charged off_session, any other card refused).
LOCALSTRIPE_IN_MEMORY = (
    "import localstripe.resources as r; r.Store.dump_to_disk = lambda self: None; "
    f"import sys; sys.path.insert(0, {str(ROOT)!r}); import shoplocal.stripe_patches as p; p.apply(); "
    "from localstripe.server import start; start()"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_until(check: Any, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout}s ({last})")


@dataclass
class TestUser:
    email: str
    password: str
    user_id: str
    id_token: str
    access_token: str
    refresh_token: str
    groups: tuple[str, ...] = ()

    __test__ = False  # not a pytest test class


class Stack:
    def __init__(self, template: str | Path = ROOT / "template.yaml", *, moto_port: int | None = None,
                 gateway_port: int | None = None, stripe_port: int | None = None, serve_http: bool = True,
                 start_stripe: bool = True, parameters: dict[str, str] | None = None):
        self.template_path = Path(template)
        self.moto_port = moto_port or free_port()
        self.gateway_port = gateway_port if gateway_port is not None else 0
        self.stripe_port = stripe_port or free_port()
        self.serve_http = serve_http
        self.start_stripe = start_stripe
        self.extra_parameters = dict(parameters or {})
        # what the template's ShopSecrets holds locally (docs/deploy.md puts real ones in place on AWS)
        self.secrets = {"stripe_api_key": STRIPE_KEY, "stripe_webhook_secret": STRIPE_WEBHOOK_SECRET,
                        "carrier_webhook_secret": CARRIER_WEBHOOK_SECRET}
        self._server: Any = None
        self._stripe: subprocess.Popen[bytes] | None = None
        self._http: Any = None
        self._clients: dict[str, Any] = {}
        # one boto3 session for all of them: a new session loads botocore's data again (its 1.2 MB endpoints
        # file, the service models), ~0.1 s a client; a session is not thread-safe, hence the lock
        self._session: Any = None
        self._clients_lock = threading.Lock()
        self.deployment: Deployment
        self.invoker: Invoker
        self.gateway: Any = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def stripe_base(self) -> str:
        return f"http://127.0.0.1:{self.stripe_port}"

    @property
    def base_url(self) -> str:
        if self._http is None:
            raise RuntimeError("the HTTP gateway is not serving (serve_http=False)")
        return str(self._http.url)

    def base_env(self) -> dict[str, str]:
        return {**CREDENTIALS, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                "AWS_ENDPOINT_URL": self.endpoint_url, "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_DEV": "false"}

    def start(self) -> Stack:
        from moto.server import ThreadedMotoServer

        atexit.register(self.stop)  # never leave localstripe behind, even when start() fails half-way

        for key, value in CREDENTIALS.items():
            os.environ.setdefault(key, value)
        os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
        os.environ["MOTO_PORT"] = str(self.moto_port)  # Step Functions' engine calls moto back on this port
        # Powertools reads these from the process environment, not the per-function one: keep the console
        # readable (python -m shoplocal -v run shows function logs and EMF metrics).
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        patches.apply()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self._server.start()
        patches.serve_in_process(self.moto_port, self._server._server.app)  # boto3 calls skip the socket
        requests.post(f"{self.endpoint_url}/moto-api/config", timeout=10, json={
            "stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}).raise_for_status()
        if self.start_stripe:
            self._start_localstripe()
        params = {"Stage": "local", "StripeApiBase": self.stripe_base if self.start_stripe else "",
                  "AutoConfirmSignups": "true", **self.extra_parameters}
        loaded = load_template(self.template_path, params, REGION, refs_only=REFS_ONLY)
        declared = set((loaded.transformed.get("Parameters") or {}).keys())
        params = {k: v for k, v in params.items() if k in declared}
        self.loaded = loaded
        self.deployment = Deployer(loaded, self.client, region=REGION, parameters=params,
                                   base_env=self.base_env()).deploy()
        self._put_local_secrets()
        self.invoker = Invoker(self.deployment.functions, self.base_env())
        patches.bind(self.invoker, self._start_execution_by_arn)
        self._start_gateway()
        self._point_urls_at_gateway()
        if self._http is not None and self._stripe is not None:
            # localstripe signs and posts payment_intent events to our webhook route, as Stripe would
            self.register_stripe_webhook(f"{self.base_url}/webhooks/stripe", events=[
                "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"])
        return self

    def _point_urls_at_gateway(self) -> None:
        """On AWS the template's ApiUrlParameter and ConsoleUrlParameter hold the stage's execute-api URL and the
        console's CloudFront URL (the daily report's e-mailed link); locally both are this gateway's."""
        if self._http is None:
            return  # no gateway (serve_http=False): the parameters keep the template's values
        base = f"{self.base_url.rstrip('/')}/"
        for logical_id, value in (("ApiUrlParameter", base), ("ConsoleUrlParameter", f"{base}console/")):
            name = self.deployment.physical.get(logical_id)
            if name is not None:
                self.client("ssm").put_parameter(Name=name, Value=value, Type="String", Overwrite=True)

    def _put_local_secrets(self) -> None:
        """The operator's step after a first deploy (docs/deploy.md), done with the local values: the functions
        read them from the template's secret (shop.secrets) exactly as on AWS."""
        arn = self.deployment.physical.get("ShopSecrets")
        if arn is not None:  # a fixture template may have no secret
            self.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=json.dumps(self.secrets))

    def _start_localstripe(self) -> None:
        cmd = [sys.executable, "-c", LOCALSTRIPE_IN_MEMORY]
        last_output = ""
        for attempt in range(3):
            if attempt:
                self.stripe_port = free_port()
            log_file = tempfile.TemporaryFile()
            proc = subprocess.Popen([*cmd, "--port", str(self.stripe_port), "--from-scratch"],
                                    stdout=log_file, stderr=log_file)
            self._stripe = proc
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    if requests.get(f"{self.stripe_base}/v1/customers", auth=(STRIPE_KEY, ""),
                                    timeout=2).status_code < 500:
                        return
                except requests.RequestException:
                    pass
                time.sleep(0.2)
            proc.kill()
            proc.wait(timeout=5)
            log_file.seek(0)
            last_output = log_file.read().decode(errors="replace")[-2000:]
            log.warning("localstripe on port %s did not start: %s", self.stripe_port, last_output)
        self._stripe = None
        raise TimeoutError(f"localstripe did not start: {last_output}")

    def _start_gateway(self) -> None:
        from shoplocal.deploy import Resolver
        from shoplocal.gateway import Gateway, JwtAuthorizer, load_api, serve

        # the HTTP API's routes, CorsConfiguration and JWT authorizer, intrinsics resolved against this deployment
        api = load_api(self.template_path, Resolver(self.loaded.original, self.deployment).resolve)
        authorizer = None
        if api.jwt is not None:
            # the issuer is a pool of this stack (moto serves its JWKS); it stays AWS's URL, as in the tokens moto signs
            prefix = f"https://cognito-idp.{REGION}.amazonaws.com/"
            if not api.jwt.issuer.startswith(prefix):
                raise ValueError(f"JWT issuer {api.jwt.issuer}: only a Cognito pool of the stack is served locally")
            pool_id = api.jwt.issuer.removeprefix(prefix)
            authorizer = JwtAuthorizer(jwks_url=f"{self.endpoint_url}/{pool_id}/.well-known/jwks.json",
                                       issuer=api.jwt.issuer, audience=api.jwt.audience,
                                       identity_header=api.jwt.identity_header)
        self.gateway = Gateway(api.routes, self.invoker.invoke, authorizer, cors=api.cors)
        if self.serve_http:
            self._http = serve(self.gateway, "127.0.0.1", self.gateway_port)

    def stop(self) -> None:
        if getattr(self, "invoker", None) is not None:
            patches.unbind(self.invoker)
        if self._http is not None:
            self._http.shutdown()
            self._http = None
        if self._stripe is not None:
            self._stripe.terminate()
            try:
                self._stripe.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._stripe.kill()
            self._stripe = None
        if self._server is not None:
            patches.stop_in_process(self.moto_port)
            self._server.stop()
            self._server = None

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ fixture API
    def client(self, service: str) -> Any:
        found = self._clients.get(service)
        if found is None:
            with self._clients_lock:
                found = self._clients.get(service)
                if found is None:
                    if self._session is None:
                        self._session = boto3.session.Session(
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            aws_session_token="testing", region_name=REGION)
                    found = self._session.client(service, endpoint_url=self.endpoint_url,
                                                 config=Config(retries={"max_attempts": 2}, max_pool_connections=64))
                    self._clients[service] = found
        return found

    def physical_id(self, logical_id: str) -> str:
        try:
            return self.deployment.physical[logical_id]
        except KeyError:
            raise KeyError(f"{logical_id} is not a resource of the deployed template") from None

    def physical_id_of_type(self, kind: str) -> str | None:
        for lid, t in self.deployment.types.items():
            if t == kind:
                return self.deployment.physical[lid]
        return None

    def function_env(self, logical_id: str) -> dict[str, str]:
        return self.invoker.environment(self.invoker.spec(logical_id))

    def invoke(self, logical_id: str, event: Any) -> Any:
        return self.invoker.invoke(logical_id, event)

    def request(self, method: str, path: str, *, json: Any = None, body: str | bytes | None = None,
                headers: dict[str, str] | None = None, query: Any = None, token: str | None = None) -> Any:
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if json is not None:
            import json as _json
            body = _json.dumps(json)
        return self.gateway.handle(method, path, headers=hdrs, query=query, body=body)

    def user(self, groups: tuple[str, ...] | list[str] = (), email: str | None = None,
             password: str | None = None) -> TestUser:
        idp = self.client("cognito-idp")
        pool_id = self.physical_id_of_type("AWS::Cognito::UserPool")
        client_id = self.physical_id_of_type("AWS::Cognito::UserPoolClient")
        email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
        password = password or f"Pw-{uuid.uuid4().hex[:10]}A1"
        sub = None
        try:
            signed = idp.sign_up(ClientId=client_id, Username=email, Password=password,
                                 UserAttributes=[{"Name": "email", "Value": email}])
            sub = signed["UserSub"]
            idp.admin_confirm_sign_up(UserPoolId=pool_id, Username=email)
        except idp.exceptions.UsernameExistsException:
            pass
        for group in groups:
            idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
        auth = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": email, "PASSWORD": password})["AuthenticationResult"]
        if sub is None:
            attrs = idp.admin_get_user(UserPoolId=pool_id, Username=email)["UserAttributes"]
            sub = next(a["Value"] for a in attrs if a["Name"] == "sub")
        return TestUser(email=email, password=password, user_id=sub, id_token=auth["IdToken"],
                        access_token=auth["AccessToken"], refresh_token=auth.get("RefreshToken", ""),
                        groups=tuple(groups))

    def _start_execution_by_arn(self, arn: str, input_json: str, name: str | None = None) -> str:
        # AWS names an unnamed execution with a UUID; moto would name every one "None"
        args: dict[str, Any] = {"stateMachineArn": arn, "input": input_json, "name": name or str(uuid.uuid4())}
        return str(self.client("stepfunctions").start_execution(**args)["executionArn"])

    def start_execution(self, state_machine_logical_id: str, input: dict[str, Any], name: str | None = None) -> str:
        return self._start_execution_by_arn(self.physical_id(state_machine_logical_id), json.dumps(input), name)

    def wait_execution(self, execution_arn: str, timeout: float = 30) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            desc = sfn.describe_execution(executionArn=execution_arn)
            if desc["status"] != "RUNNING":
                return dict(desc)
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_arn} still RUNNING after {timeout}s")
            time.sleep(0.1)

    def execution_history(self, execution_arn: str) -> list[dict[str, Any]]:
        return list(self.client("stepfunctions").get_execution_history(
            executionArn=execution_arn, maxResults=1000)["events"])

    def sent_emails(self) -> list[dict[str, Any]]:
        """Mail sent through moto SES (v1 or v2), oldest first: source, destinations (a flat list of addresses,
        To/Cc/Bcc together), subject and body (text part of raw MIME; template name and data for templated)."""
        from moto.ses.models import ses_backends

        return [_email_record(msg) for msg in list(ses_backends[ACCOUNT_ID][REGION].sent_messages)]

    def sent_sms(self) -> list[dict[str, Any]]:
        """Texts published to phone numbers through moto SNS, oldest first: {message_id, phone_number, message}
        (shoplocal.outbox; served at GET /_local/outbox/sms while `make run` runs)."""
        from shoplocal.outbox import sent_sms

        return sent_sms(ACCOUNT_ID, REGION)

    def drain_async(self, timeout: float = 30) -> None:
        patches.drain(timeout)

    def register_stripe_webhook(self, url: str, secret: str = STRIPE_WEBHOOK_SECRET,
                                events: list[str] | None = None) -> None:
        payload: dict[str, Any] = {"url": url, "secret": secret}
        if events:
            payload["events"] = events
        requests.post(f"{self.stripe_base}/_config/webhooks/shop", json=payload, timeout=5).raise_for_status()

    def carrier_webhook(self, tracking_number: str, status: str, *, event_id: str | None = None,
                        occurred_at: str | None = None, **extra: Any) -> Any:
        """POST a carrier tracking event signed as the carrier would (Carrier-Signature) through the gateway."""
        from shop.orderflow.webhooks import carrier_signature

        body = json.dumps({"event_id": event_id or f"evt_{uuid.uuid4().hex}", "tracking_number": tracking_number,
                           "status": status, "occurred_at": occurred_at or time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                         time.gmtime()), **extra})
        secret = self.secrets["carrier_webhook_secret"]
        return self.request("POST", "/webhooks/carrier", body=body,
                            headers={"Carrier-Signature": carrier_signature(secret, int(time.time()), body)})

    def seed_demo(self) -> dict[str, Any]:
        from shoplocal.seed import seed_demo

        admin = self.user(groups=("admin",), email="admin@example.com", password=DEMO_PASSWORD)
        return dict(seed_demo(self.request, admin.id_token))


DEMO_PASSWORD = "Shop-Demo-2026"


def _attachment_record(part: Any) -> dict[str, Any]:
    """An attachment of a raw mail as the outbox shows it: name, type, size in bytes, and a CSV's text."""
    data = part.get_payload(decode=True) or b""
    record: dict[str, Any] = {"filename": part.get_filename(), "content_type": part.get_content_type(),
                              "size": len(data)}
    if part.get_content_type() == "text/csv":
        record["text"] = data.decode(part.get_content_charset() or "utf-8", errors="replace")
    return record


def _email_record(msg: Any) -> dict[str, Any]:
    destinations = getattr(msg, "destinations", None) or []
    if isinstance(destinations, dict):
        destinations = [a for addresses in destinations.values() for a in addresses or []]
    record: dict[str, Any] = {"source": getattr(msg, "source", None), "destinations": list(destinations),
                              "subject": getattr(msg, "subject", None), "body": getattr(msg, "body", None)}
    raw = getattr(msg, "raw_data", None)
    if raw:
        parsed = email.message_from_string(raw, policy=email.policy.default)
        record["subject"] = str(parsed["Subject"]) if parsed["Subject"] is not None else None
        record["source"] = record["source"] or (str(parsed["From"]) if parsed["From"] else None)
        part = parsed.get_body(preferencelist=("plain", "html"))
        record["body"] = part.get_content() if part is not None else raw
        attached = [_attachment_record(a) for a in parsed.iter_attachments()]
        if attached:  # a purchase order to its supplier: its CSV and HTML documents
            record["attachments"] = attached
    if getattr(msg, "template", None) is not None:
        record["template"] = msg.template
        record["template_data"] = msg.template_data
    return record
