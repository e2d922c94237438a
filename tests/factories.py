"""Test data through the admin API (so every test also exercises the real routes)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any


def uid(n: int = 8) -> str:
    return uuid.uuid4().hex[:n]


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


ADDRESS = {"name": "Ada Lovelace", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117",
           "country": "DE"}


@dataclass
class Product:
    product_id: str
    skus: list[str]
    warehouses: list[str]


def ok(resp: Any, *statuses: int) -> Any:
    assert resp.status in (statuses or (200, 201)), (resp.status, resp.body)
    return resp.json()


class AdminApi:
    """Requests as the shop administrator: ``api("PUT", path, json=...)`` asserts the status (200 unless
    ``expect`` says otherwise) and returns the JSON answer (the ``api`` fixture in tests/conftest.py)."""

    def __init__(self, stack: Any, admin: Any):
        self.stack, self.token = stack, admin.id_token

    def __call__(self, method: str, path: str, expect: int | tuple[int, ...] = 200, **kw: Any) -> Any:
        resp = self.stack.request(method, path, token=self.token, **kw)
        wanted = expect if isinstance(expect, tuple) else (expect,)
        assert resp.status in wanted, (method, path, resp.status, resp.body)
        return resp.json()


def supplied_sku(stack: Any, api: AdminApi, *, min_order_quantity: int) -> dict[str, Any]:
    """A new SKU stocked (10) in one new warehouse and a supplier with a contract for it valid today (600 per
    unit, 3 days lead time): {"sku", "wh", "supplier", "product"}."""
    product = make_product(stack, api.token, stock={"a": 10})
    sku, wh = product.skus[0], product.warehouses[0]
    sid = f"sup-{uid()}"
    api("PUT", f"/admin/suppliers/{sid}", json={"name": "Acme", "email": "orders@acme.example", "currency": "EUR"})
    api("PUT", f"/admin/suppliers/{sid}/contracts/main", json={
        "sku": sku, "unit_cost": eur(600), "lead_time_days": 3, "min_order_quantity": min_order_quantity,
        **CONTRACT_WINDOW})
    return {"sku": sku, "wh": wh, "supplier": sid, "product": product}


def make_product(stack: Any, admin_token: str, *, stock: dict[str, int], price: int = 1999,
                 weight_grams: int = 400, n_skus: int = 1) -> Product:
    """A product with n SKUs, each stocked per warehouse as given ({suffix: on_hand}); warehouses are new."""
    tag = uid()
    category = f"cat-{tag}"
    ok(stack.request("PUT", f"/admin/categories/{category}", json={"name": f"Category {tag}"}, token=admin_token))
    wh_ids = {}
    for i, suffix in enumerate(stock):
        wid = f"wh-{suffix}-{tag}"
        country, zone = (("DE", "domestic"), ("FR", "eu"), ("US", "world"))[i % 3]
        ok(stack.request("PUT", f"/admin/warehouses/{wid}", json={"name": wid, "country": country, "zone": zone,
                                                                  "priority": 10 * (i + 1)}, token=admin_token))
        wh_ids[suffix] = wid
    product_id = f"p-{tag}"
    skus = [f"SKU-{tag.upper()}-{i}" for i in range(n_skus)]
    ok(stack.request("POST", "/admin/products", token=admin_token, json={
        "product_id": product_id, "name": f"Product {tag}", "description": "test product", "category": category,
        "skus": [{"sku": s, "name": f"Variant {i}", "price": eur(price), "weight_grams": weight_grams}
                 for i, s in enumerate(skus)]}), 201)
    for s in skus:
        for suffix, qty in stock.items():
            ok(stack.request("PUT", f"/admin/inventory/{s}/{wh_ids[suffix]}", json={"on_hand": qty},
                             token=admin_token))
    return Product(product_id, skus, list(wh_ids.values()))


def stock_of(stack: Any, sku: str) -> dict[str, dict[str, int]]:
    table = stack.physical_id("InventoryTable")
    items = stack.client("dynamodb").query(
        TableName=table, KeyConditionExpression="pk = :p", ConsistentRead=True,
        ExpressionAttributeValues={":p": {"S": f"SKU#{sku}"}})["Items"]
    levels = {i["warehouse_id"]["S"]: {k: int(i[k]["N"]) for k in ("on_hand", "available", "reserved")}
              for i in items if "#S" not in i["sk"]["S"]}
    for shard in (i for i in items if "#S" in i["sk"]["S"]):  # a sharded level: its shards' units count too
        for k in ("available", "reserved"):
            levels[shard["warehouse_id"]["S"]][k] += int(shard[k]["N"])
    return levels


_NOW = datetime.now(UTC)
# a supplier contract valid today (and for the whole test session)
CONTRACT_WINDOW = {"valid_from": str(_NOW.date() - timedelta(days=10)),
                   "valid_to": str(_NOW.date() + timedelta(days=100))}
# a promotion running now (and for the whole test session)
PROMO_WINDOW = {"starts_at": (_NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "ends_at": (_NOW + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")}


def make_coupon(stack: Any, admin_token: str, **terms: Any) -> str:
    """A new coupon running now with these terms (percent or amount_off, global_limit, ...); its code."""
    code = f"C{uid(8).upper()}"
    ok(stack.request("PUT", f"/admin/coupons/{code}", token=admin_token, json={**PROMO_WINDOW, **terms}))
    return code


def put_in_cart(stack: Any, token: str, sku: str, quantity: int) -> None:
    ok(stack.request("PUT", f"/cart/items/{sku}", json={"quantity": quantity}, token=token))


def checkout(stack: Any, token: str, key: str | None = None, *, payment_method_id: str = "pm_card_visa",
             address: dict[str, Any] | None = None) -> Any:
    return stack.request("POST", "/checkout", token=token, headers={"Idempotency-Key": key or f"key-{uid(16)}"},
                         json={"shipping_address": address or ADDRESS, "payment_method_id": payment_method_id})


def execution_arn(stack: Any, order_id: str) -> str:
    """The order workflow's execution for an order (checkout names it after the order id)."""
    machine = stack.physical_id("OrderStateMachine")
    return machine.replace(":stateMachine:", ":execution:") + ":" + order_id


def order_item(stack: Any, order_id: str) -> dict[str, Any]:
    return stack.client("dynamodb").get_item(
        TableName=stack.physical_id("OrdersTable"), ConsistentRead=True,
        Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}})["Item"]


def wait_for(check: Any, timeout: float = 30, what: str = "condition", interval: float = 0.1) -> Any:
    """Poll ``check()`` until it returns something truthy (returned) or the timeout passes (AssertionError)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def order_view(stack: Any, token: str, order_id: str) -> dict[str, Any]:
    return dict(ok(stack.request("GET", f"/orders/{order_id}", token=token)))


def wait_status(stack: Any, token: str, order_id: str, *statuses: str, timeout: float = 30) -> dict[str, Any]:
    return dict(wait_for(lambda: (v := order_view(stack, token, order_id)) and v["status"] in statuses and v,
                         timeout, f"order {order_id} to become {statuses}"))


def open_task(stack: Any, staff_token: str, warehouse_id: str, order_id: str, kind: str,
              timeout: float = 30) -> dict[str, Any]:
    """Wait until the warehouse lists an open task of this kind for the order; returns it."""
    def find() -> dict[str, Any] | None:
        listed = ok(stack.request("GET", f"/warehouse/{warehouse_id}/tasks", token=staff_token,
                                  query={"limit": "100"}))
        return next((t for t in listed["items"] if t["order_id"] == order_id and t["kind"] == kind), None)

    return dict(wait_for(find, timeout, f"an open {kind} task for {order_id} in {warehouse_id}"))


def pick_and_pack(stack: Any, staff_token: str, order_id: str, warehouse_id: str, *, extra_grams: int = 150,
                  timeout: float = 30) -> dict[str, Any]:
    """Complete the pick task (picked = checklist) and the pack task (items' weight + packaging) of the
    order's shipment from ``warehouse_id``; returns the completed pack task."""
    pick = open_task(stack, staff_token, warehouse_id, order_id, "pick", timeout)
    picked = [{"sku": i["sku"], "quantity": i["quantity"]} for i in pick["checklist"]]
    ok(stack.request("POST", f"/warehouse/tasks/{pick['task_id']}/complete", token=staff_token,
                     json={"picked": picked}))
    pack = open_task(stack, staff_token, warehouse_id, order_id, "pack", timeout)
    weight = sum(i["weight_grams"] * i["quantity"] for i in pack["checklist"]) + extra_grams
    return dict(ok(stack.request("POST", f"/warehouse/tasks/{pack['task_id']}/complete", token=staff_token,
                                 json={"package_weight_grams": weight})))


def emails_to(stack: Any, address: str) -> list[dict[str, Any]]:
    return [m for m in stack.sent_emails() if address in m["destinations"]]


def history(stack: Any, order_id: str) -> list[dict[str, Any]]:
    return list(stack.execution_history(execution_arn(stack, order_id)))


def entered_states(events: list[dict[str, Any]]) -> list[str]:
    return [details["name"] for e in events for key, details in e.items() if key == "stateEnteredEventDetails"]


def state_output(stack: Any, order_id: str, name: str) -> dict[str, Any]:
    """The output of the last run of state ``name`` in the order's execution."""
    import json

    exits = [e["stateExitedEventDetails"] for e in history(stack, order_id) if "stateExitedEventDetails" in e
             and e["stateExitedEventDetails"]["name"] == name]
    assert exits, f"{name} never finished for {order_id}"
    return dict(json.loads(exits[-1]["output"]))


def wait_parked(stack: Any, order_id: str, timeout: float = 20) -> dict[str, Any]:
    """Wait until the order's payment step waits for the shopper's 3-D Secure: its task token parked on the order
    (shop.payments.service.charge); returns the order item."""
    return dict(wait_for(lambda: (item := order_item(stack, order_id)) and "auth_task_token" in item and item,
                         timeout, f"{order_id}'s payment step waiting for 3-D Secure"))


def shopper_authenticates(stack: Any, shopper_token: str, order_id: str, *, success: bool = True) -> dict[str, Any]:
    """The shopper answers 3-D Secure (localstripe's authentication) once the order shows it and the payment step
    waits for it (so the webhook finds the token parked); returns the order view the shopper saw while waiting."""
    import requests

    from shoplocal.stack import STRIPE_KEY

    waiting = wait_for(lambda: (v := order_view(stack, shopper_token, order_id))
                       and v["payment"]["status"] == "requires_action" and v, 20, "the 3-D Secure step")
    wait_parked(stack, order_id)
    answered = requests.post(f"{stack.stripe_base}/v1/payment_intents/{waiting['payment']['payment_intent_id']}"
                             "/_authenticate", auth=(STRIPE_KEY, ""), timeout=10,
                             data={"client_secret": waiting["payment"]["client_secret"],
                                   "success": "true" if success else "false"})
    assert answered.status_code == 200, answered.text
    return dict(waiting)


def function_failures(events: list[dict[str, Any]]) -> list[str]:
    """The errors an execution's functions failed their steps with: a plain Lambda task's (LambdaFunctionFailed)
    and a lambda:invoke.waitForTaskToken step's own invocation (TaskFailed whose cause is the function's error
    payload), not a token failed with SendTaskFailure (an outcome: a declined payment, a closed order)."""
    found: list[str] = []
    for e in events:
        if e["type"] == "LambdaFunctionFailed":
            found.append(e["lambdaFunctionFailedEventDetails"].get("error", ""))
        elif e["type"] == "TaskFailed" and _function_error(e["taskFailedEventDetails"].get("cause", "")):
            found.append(e["taskFailedEventDetails"].get("error", ""))
    return found


def _function_error(cause: str) -> bool:
    try:
        return isinstance(payload := json.loads(cause), dict) and "errorType" in payload
    except ValueError:
        return False


def wait_paid(stack: Any, order_id: str, timeout: float = 60) -> dict[str, Any]:
    """Wait until the paid order is split and waiting in the warehouse (the execution keeps RUNNING until
    staff pick and pack); returns the output of the ConfirmAndSplit state (the confirmation at ``split``)."""
    sfn = stack.client("stepfunctions")
    arn = execution_arn(stack, order_id)

    def reached() -> str | None:
        try:
            status = sfn.describe_execution(executionArn=arn)["status"]
        except sfn.exceptions.ExecutionDoesNotExist:
            return None
        if status != "RUNNING":
            return str(status)
        return "split" if "FulfilShipments" in entered_states(history(stack, order_id)) else None

    outcome = wait_for(reached, timeout, f"{order_id} to be paid and split")
    assert outcome == "split", f"the execution ended {outcome} before fulfillment"
    return state_output(stack, order_id, "ConfirmAndSplit")


@contextmanager
def hooked(stack: Any, fn: Callable[[str, dict[str, Any]], None]) -> Iterator[None]:
    """Run ``fn(logical_id, event)`` before every function invocation while inside (fault injection: raise
    to fail the invocation, block to hold it)."""
    stack.invoker.hooks.append(fn)
    try:
        yield
    finally:
        stack.invoker.hooks.remove(fn)


@dataclass
class Prepared:
    """A shopper with a filled cart, and the id its checkout will give the order (known in advance, so a
    hook can target the order before its workflow starts)."""

    shopper: Any
    key: str
    order_id: str
    product: Product

    @property
    def sku(self) -> str:
        return self.product.skus[0]


def prepare_checkout(stack: Any, admin: Any, label: str, quantity: int = 2,
                     stock: dict[str, int] | None = None) -> Prepared:
    from shop.checkout.service import order_id_for

    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock=stock or {"a": 5})
    put_in_cart(stack, shopper.id_token, product.skus[0], quantity)
    key = f"{label}-{product.product_id}"
    return Prepared(shopper, key, order_id_for(shopper.user_id, key), product)


def execution_status_change(stack: Any, arn: str) -> dict[str, Any]:
    """The EventBridge "Execution Status Change" event Step Functions publishes for an ended execution (moto
    publishes none): what the template's rule hands OrderAdminFunction."""
    described = stack.client("stepfunctions").describe_execution(executionArn=arn)
    detail = {"executionArn": arn, "stateMachineArn": described["stateMachineArn"], "name": described["name"],
              "status": described["status"], "input": described.get("input"), "output": described.get("output"),
              "error": described.get("error"), "cause": described.get("cause")}
    return {"version": "0", "id": f"ev-{uid()}", "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states", "account": "123456789012", "time": "2026-01-01T00:00:00Z",
            "region": "us-east-1", "resources": [arn], "detail": detail}


def checkout_with_payments_broken(stack: Any, prep: Prepared) -> dict[str, Any]:
    """Check ``prep`` out while its payment step and that step's compensation both die (whether money was taken
    is unknown: PaymentNeedsAttention, nothing charged); the ended execution, as stack.wait_execution gives it."""
    def broken_payments(logical_id: str, event: dict[str, Any]) -> None:
        if logical_id == "PaymentFunction" and event.get("order_id") == prep.order_id and \
                event.get("action") in ("charge", "abandon"):
            raise RuntimeError("payment client broken")

    with hooked(stack, broken_payments):
        assert checkout(stack, prep.shopper.id_token, prep.key).status == 201
        ended: dict[str, Any] = stack.wait_execution(execution_arn(stack, prep.order_id), timeout=60)
    return ended


def deliver(stack: Any, staff_token: str, shopper_token: str, order_id: str, warehouse_id: str) -> None:
    """Take a paid single-parcel order to DELIVERED: pick and pack as staff, then the carrier's delivery scan."""
    pick_and_pack(stack, staff_token, order_id, warehouse_id)
    tracking = wait_for(lambda: order_view(stack, shopper_token, order_id)["shipments"][0]["tracking_number"], 30,
                        f"the label of {order_id}")
    ok(stack.carrier_webhook(tracking, "delivered"))
    wait_status(stack, shopper_token, order_id, "DELIVERED")


# ------------------------------------------------------------------ fault injection at the adapters
@dataclass
class DynamoFault:
    """One DynamoDB fault: the next ``times`` calls of ``operation`` (boto3 method name) whose request
    ``match`` accepts fail with ``code`` before reaching DynamoDB, as botocore raises them once its own
    retries are spent. A TransactionCanceledException names one reason per action: ``reason`` at index
    ``at`` (the order's item is the first action of every workflow transaction), "None" elsewhere."""

    operation: str
    code: str
    match: Callable[[dict[str, Any]], bool]
    times: int = 1
    reason: str = "TransactionConflict"
    at: int = 0
    injected: int = 0

    def error(self, request: dict[str, Any]) -> Any:
        from botocore.exceptions import ClientError

        response: dict[str, Any] = {"Error": {"Code": self.code, "Message": f"{self.code} (injected)"},
                                    "ResponseMetadata": {"HTTPStatusCode": 400}}
        if self.code == "TransactionCanceledException":
            codes = ["None"] * len(request.get("TransactItems", []))
            codes[self.at] = self.reason
            response["Error"]["Message"] = ("Transaction cancelled, please refer cancellation reasons for specific "
                                            f"reasons [{', '.join(codes)}]")
            response["CancellationReasons"] = [{"Code": c} for c in codes]
        name = "".join(part.title() for part in self.operation.split("_"))
        return ClientError(response, name)


class _FaultyDynamo:
    """The shared boto3 DynamoDB client, with some calls failing first (everything else passes through)."""

    def __init__(self, inner: Any, faults: tuple[DynamoFault, ...], lock: Any):
        self._inner, self._faults, self._lock = inner, faults, lock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        faults = [f for f in self._faults if f.operation == name]
        if not faults:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            for fault in faults:
                with self._lock:
                    fire = fault.injected < fault.times and fault.match(kwargs)
                    if fire:
                        fault.injected += 1
                if fire:
                    raise fault.error(kwargs)
            return attr(*args, **kwargs)

        return call


@contextmanager
def wrapped_dynamodb(wrap: Callable[[Any], Any]) -> Iterator[None]:
    """While inside, every in-process function's data layer gets ``wrap(client)`` for the DynamoDB client:
    ``shop.aws.client`` (the one cached client per service that all functions share, looked up at call time)
    is swapped, then restored."""
    from shop import aws

    real = aws.client
    aws.client = lambda service: wrap(real(service)) if service == "dynamodb" else real(service)  # type: ignore[assignment]
    try:
        yield
    finally:
        aws.client = real  # type: ignore[assignment]


@contextmanager
def calls_by_function(stack: Any, label: Callable[[str, dict[str, Any]], str | None],
                      describe: Callable[[str, dict[str, Any]], Any]) -> Iterator[list[tuple[str, str, Any]]]:
    """Every DynamoDB call made while inside by the in-process invocations ``label(logical_id, event)`` names
    (None: not counted), as (label, operation, ``describe(operation, kwargs)``): the call budgets' spy."""
    import threading

    calls: list[tuple[str, str, Any]] = []
    inside = threading.local()
    lock = threading.Lock()

    class Spy:
        def __init__(self, inner: Any):
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            attr = getattr(self._inner, name)
            fn = getattr(inside, "function", None)
            if fn is None or name.startswith("_") or name in ("meta", "exceptions") or not callable(attr):
                return attr

            def call(*args: Any, **kwargs: Any) -> Any:
                with lock:
                    calls.append((fn, name, describe(name, kwargs)))
                return attr(*args, **kwargs)

            return call

    def mark(logical_id: str, event: dict[str, Any]) -> None:
        inside.function = label(logical_id, event if isinstance(event, dict) else {})

    stack.invoker.hooks.append(mark)
    try:
        with wrapped_dynamodb(Spy):
            yield calls
    finally:
        stack.invoker.hooks.remove(mark)


@contextmanager
def dynamodb_faults(*faults: DynamoFault) -> Iterator[tuple[DynamoFault, ...]]:
    """Inject DynamoDB errors into every in-process function while inside (see wrapped_dynamodb). Yields the
    faults, whose ``injected`` counts what fired."""
    import threading

    lock = threading.Lock()
    with wrapped_dynamodb(lambda client: _FaultyDynamo(client, faults, lock)):
        yield faults


def order_write(order_id: str, to_status: str) -> Callable[[dict[str, Any]], bool]:
    """Matches the workflow's write moving the order to ``to_status``: an UpdateItem (confirm) or a
    transaction whose first action is that update (split, stock commit, release)."""
    def match(request: dict[str, Any]) -> bool:
        update = request["TransactItems"][0].get("Update") if "TransactItems" in request else request
        if not update or update.get("Key", {}).get("pk", {}).get("S") != f"ORDER#{order_id}":
            return False
        return bool(update.get("ExpressionAttributeValues", {}).get(":to", {}).get("S") == to_status)

    return match


@dataclass
class StripeFault:
    """One fault on the payment provider's HTTP transport, under the stripe library (so its own retries
    and error mapping run): ``kind`` "500" answers an API error without reaching Stripe, "timeout" raises
    the connection error a read timeout gives, "timeout_after" lets Stripe process the request and then
    loses the answer. Applies to the next ``times`` requests (each HTTP attempt counts) with ``method``
    whose URL path matches ``path`` and which concern ``order_id`` (create: its metadata; an intent's
    URL: that intent's metadata)."""

    kind: str
    method: str
    path: str
    order_id: str
    times: int = 1
    injected: int = 0
    seen: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def stripe_faults(stack: Any, *faults: StripeFault) -> Iterator[tuple[StripeFault, ...]]:
    """Inject faults into the payments adapter's Stripe client (shop.payments.stripe_adapter, one cached
    client shared by every in-process function) by wrapping its HTTP client's ``request``."""
    import re
    import threading
    from urllib.parse import urlparse

    import requests
    import stripe
    from requests.structures import CaseInsensitiveDict
    from shop.config import function_environment
    from shop.payments import stripe_adapter

    from shoplocal.stack import STRIPE_KEY

    with function_environment(stack.function_env("PaymentFunction")):
        http = stripe_adapter._client()._requestor._get_http_client()
    real = http.request
    lock = threading.Lock()
    owners: dict[str, str] = {}

    def owner(path: str, post_data: Any) -> str | None:
        found = re.search(r"/payment_intents/(pi_\w+)", path)
        if found is None:
            return str(post_data or "")
        if found[1] not in owners:
            intent = requests.get(f"{stack.stripe_base}/v1/payment_intents/{found[1]}", auth=(STRIPE_KEY, ""),
                                  timeout=10).json()
            owners[found[1]] = (intent.get("metadata") or {}).get("order_id", "")
        return owners[found[1]]

    def request(method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        path = urlparse(url).path
        fault = None
        for candidate in faults:
            if candidate.method == method.upper() and re.search(candidate.path, path) and \
                    candidate.order_id in (owner(path, post_data) or ""):
                with lock:
                    candidate.seen.append({"path": path, "idempotency_key": (headers or {}).get("Idempotency-Key")})
                    if candidate.injected < candidate.times:
                        candidate.injected += 1
                        fault = candidate
                break
        if fault is None:
            return real(method, url, headers, post_data)
        if fault.kind == "500":
            body = '{"error": {"type": "api_error", "message": "An unknown error occurred (injected)"}}'
            return body, 500, CaseInsensitiveDict({"Request-Id": "req_injected", "Content-Type": "application/json"})
        if fault.kind == "timeout_after":
            real(method, url, headers, post_data)  # Stripe did it; the answer never arrives
        # what the library's requests client raises for a read timeout (retried by the library)
        raise stripe.APIConnectionError("Unexpected error communicating with Stripe. (ReadTimeout, injected)",
                                        should_retry=True)

    http.request = request
    http._sleep_time_seconds = lambda num_retries: 0.05  # the library still retries, without its backoff
    try:
        yield faults
    finally:
        del http.request, http._sleep_time_seconds  # the class's methods again


def three_ds_card(stack: Any) -> str:
    """A localstripe card that requires 3-D Secure (4000 0027 6000 3184); its PaymentMethod id."""
    import requests

    from shoplocal.stack import STRIPE_KEY

    pm = requests.post(f"{stack.stripe_base}/v1/payment_methods", auth=(STRIPE_KEY, ""), timeout=10, data={
        "type": "card", "card[number]": "4000002760003184", "card[exp_month]": "12", "card[exp_year]": "2030",
        "card[cvc]": "123"})
    pm.raise_for_status()
    return str(pm.json()["id"])


def stripe_signature(body: str, *, secret: str | None = None, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for ``body`` (the stack's webhook secret and now, unless given)."""
    import hashlib
    import hmac
    import time

    from shoplocal.stack import STRIPE_WEBHOOK_SECRET

    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new((secret or STRIPE_WEBHOOK_SECRET).encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def script_report(stdout: str, key: str) -> dict[str, Any]:
    """The JSON report a maintenance script printed, picked out of the captured stdout by one of its keys: the
    in-process Lambdas of the local stack (asynchronous EventBridge targets, Step Functions tasks still running
    from earlier tests) print their logs and EMF metrics to the same stdout, at any time."""
    import json

    reports = []
    for line in stdout.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and key in parsed:
            reports.append(parsed)
    assert len(reports) == 1, f"expected one report with {key!r} in: {stdout[-2000:]}"
    return reports[0]
