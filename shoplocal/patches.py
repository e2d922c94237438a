"""The few patches moto needs to stand in for AWS here. Each is applied once per process, documented in
docs/local-runtime.md and covered by tests/integration/test_runtime.py.

1. Lambda invoke runs our handler in-process (moto's Docker-less backend only echoes the payload).
   A raised exception becomes Lambda's error payload with the X-Amz-Function-Error header, so a Step
   Functions Catch on the exception's class name works as on AWS.
2. DynamoDB requests are serialized. DynamoDB makes each conditional write and each transaction atomic;
   moto's server handles requests on several threads without such a guarantee, so two conditional
   decrements could both pass their condition. One lock around moto's DynamoDB request handling restores
   the semantics our no-oversell guarantee relies on (throughput is not what moto is for).
3. EventBridge rules deliver to Lambda and Step Functions targets (moto raises NotImplementedError for
   them). Lambda targets are invoked asynchronously, as EventBridge does.
4. Powertools' event handler keeps the request being resolved in class attributes
   (``BaseRouter.current_event`` and ``lambda_context``), shared by every resolver in the process. On Lambda a
   process serves one invocation at a time; locally many invocations of one function run at once in one
   process, and one request could read another's principal and body (seen as two checkouts answered with the
   same order). Those two attributes become thread-local.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger("shoplocal")

_applied = False
_state: dict[str, Any] = {"invokers": [], "start_execution": None}
_async_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="eventbridge-target")
_pending: set[Future[Any]] = set()
_pending_lock = threading.Lock()
DYNAMODB_LOCK = threading.RLock()


def bind(invoker: Any, start_execution: Callable[[str, str], Any]) -> None:
    """Register a deployment's invoker. moto's state is per process, so several deployments (the app and a
    test fixture template) can live side by side; a function name or ARN finds its own invoker."""
    _state["invokers"].append(invoker)
    _state["start_execution"] = start_execution


def unbind(invoker: Any) -> None:
    if invoker in _state["invokers"]:
        _state["invokers"].remove(invoker)


def invoker_for(name: str) -> Any:
    for invoker in reversed(_state["invokers"]):
        try:
            invoker.spec(name)
        except KeyError:
            continue
        return invoker
    raise RuntimeError(f"shoplocal: no deployed function {name}")


def drain(timeout: float = 30.0) -> None:
    """Wait for asynchronous EventBridge deliveries started so far."""
    with _pending_lock:
        futures = list(_pending)
    for fut in futures:
        fut.result(timeout=timeout)


def _submit(fn: Callable[[], Any]) -> None:
    fut = _async_pool.submit(fn)
    with _pending_lock:
        _pending.add(fut)

    def done(f: Future[Any]) -> None:
        with _pending_lock:
            _pending.discard(f)
        if f.exception() is not None:
            log.error("EventBridge target delivery failed: %s", f.exception())

    fut.add_done_callback(done)


def select_path(event: Any, path: str) -> Any:
    """A target's InputPath: the simple JSONPath EventBridge allows (`$`, `$.detail`, `$.detail.items[0]`)."""
    if path.strip() == "$":
        return copy.deepcopy(event)
    if not path.startswith("$."):
        raise ValueError(f"unsupported InputPath {path!r}")
    node = event
    for part in path[2:].split("."):
        name, *indexes = part.replace("]", "").split("[")
        node = node[name] if name else node
        for index in indexes:
            node = node[int(index)]
    return copy.deepcopy(node)


def _patch_lambda() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
               response_headers: Any) -> bytes:
        invoker = invoker_for(function_name)
        event = json.loads(body) if body else {}
        if (headers or {}).get("X-Amz-Invocation-Type") == "Event":
            _submit(lambda: invoker.invoke_as_lambda(function_name, event))
            return b""
        result, error = invoker.invoke_as_lambda(function_name, event)
        if error is not None:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(error.payload()).encode()
        return json.dumps(result).encode()

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]


def _patch_dynamodb() -> None:
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with DYNAMODB_LOCK:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def _patch_events() -> None:
    from moto.events.models import EventTemplateParser, Rule
    from moto.utilities.arns import parse_arn

    original = Rule.send_to_targets

    def deliver(target: dict[str, Any], event: Any) -> None:
        arn = parse_arn(target["Arn"])
        if arn.service == "lambda":
            invoker = invoker_for(target["Arn"])
            _submit(lambda: invoker.invoke_as_lambda(target["Arn"], event))
        else:
            start = _state["start_execution"]
            _submit(lambda: start(target["Arn"], json.dumps(event), None))

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if not self.event_pattern.matches_event(original_event):
            return
        ours = [t for t in self.targets if parse_arn(t["Arn"]).service in ("lambda", "states")]
        for target in ours:
            if target.get("Input"):
                event: Any = json.loads(target["Input"])
            elif target.get("InputPath"):
                try:
                    event = select_path(original_event, target["InputPath"])
                except (KeyError, IndexError, TypeError, ValueError) as exc:
                    # EventBridge drops a delivery whose InputPath does not apply; it never fails PutEvents
                    log.error("EventBridge target %s: InputPath %s: %r", target["Id"], target["InputPath"], exc)
                    continue
            elif transform_input and target.get("InputTransformer"):
                # without a transformer, EventBridge delivers the whole event (moto's default template would
                # drop `account`)
                transformer = target["InputTransformer"]
                event = EventTemplateParser.parse(
                    input_template=transformer.get("InputTemplate"),
                    input_paths_map=transformer.get("InputPathsMap", {}), event=original_event)
            else:
                event = copy.deepcopy(original_event)
            deliver(target, event)
        rest = [t for t in self.targets if t not in ours]
        if rest:
            shallow = copy.copy(self)
            shallow.targets = rest
            original(shallow, original_event, transform_input)

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


class _RequestState(threading.local):
    current_event: Any = None
    lambda_context: Any = None


REQUEST_STATE = _RequestState()
_PER_REQUEST = ("current_event", "lambda_context")


class _BaseRouterName:
    """Stands for the name ``BaseRouter`` inside Powertools' api_gateway module, which assigns and reads the
    request as class attributes of it: those two go to the calling thread's state, anything else to the class."""

    def __init__(self, real: type):
        object.__setattr__(self, "_real", real)

    def __getattr__(self, name: str) -> Any:
        if name in _PER_REQUEST:
            return getattr(REQUEST_STATE, name)
        return getattr(object.__getattribute__(self, "_real"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _PER_REQUEST:
            setattr(REQUEST_STATE, name, value)
        else:
            setattr(object.__getattribute__(self, "_real"), name, value)


def _per_request_property(name: str) -> property:
    def get(self: Any) -> Any:
        return getattr(REQUEST_STATE, name)

    def put(self: Any, value: Any) -> None:
        setattr(REQUEST_STATE, name, value)

    return property(get, put)


def _patch_powertools_request_state() -> None:
    from aws_lambda_powertools.event_handler import api_gateway

    real = api_gateway.BaseRouter
    for name in _PER_REQUEST:  # instances (resolvers, routers) read and write through these properties
        setattr(real, name, _per_request_property(name))
    api_gateway.BaseRouter = _BaseRouterName(real)  # type: ignore[misc,assignment]


def apply() -> None:
    global _applied
    if _applied:
        return
    _patch_lambda()
    _patch_dynamodb()
    _patch_events()
    _patch_powertools_request_state()
    _applied = True
