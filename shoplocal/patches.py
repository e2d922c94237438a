"""The few patches moto needs to stand in for AWS here. Each is applied once per process, documented in
docs/local-runtime.md and covered by tests/shoplocal/test_runtime.py.

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

Speed, with the same answers (the test suite sends tens of thousands of requests through moto):

5. moto's JSON response serializer looks every member of every DynamoDB AttributeValue up through six alias
   providers (about a third of the CPU a request costs); AttributeValues given as moto's plain type dicts are
   written directly, exactly as the generic serializer writes them (anything else still goes the generic way;
   tests/shoplocal/test_runtime_serializer.py compares both).
6. moto's server lists its package directory (a listdir and a stat per service) on every request to find
   the backend for the Host header; the list is computed once.
7. moto's TransactWriteItems deep-copies every table it touches before it starts, to roll back on failure:
   with a session's worth of orders that is most of the time of a checkout, under the DynamoDB lock. The
   transaction here saves only what its actions can change (the hash buckets of the keys it names, the item an
   Update changes in place) and restores exactly that on failure. Same checks, same errors, same state after
   success or rollback (tests/shoplocal/test_runtime_transactions.py compares it with moto's).
8. Step Functions parses an execution's ASL definition with ANTLR again for every execution, and builds a new
   boto3 client (a service model load) for every Lambda task. The parse tree of a definition is kept (each
   execution still builds its own evaluation components from it) and the engine's clients are kept per service
   and region, with the configuration moto gives them.
9. boto3 calls to the in-process moto server skip the loopback socket: the request goes to the same WSGI
   application the server runs, with the environ werkzeug's server (and moto's handler) would build from it,
   and the answer comes back as botocore reads it from a socket (status, headers, body; a crash of the
   application is the 500 the server would send). Same parsing, authentication, dispatch and serialization;
   not a thread and a TCP connection per call. Only botocore's transport is concerned (any other HTTP client
   still reaches the server), and only for the servers a Stack registered (``serve_in_process``).
10. moto answers a Query by sorting every item of the table (all_items) and keeping those of the key: a query
   costs the size of the table, which grows all session long. A query here sorts only the items its key
   conditions can keep (the same items in the same order, the rest of moto's query unchanged); scans are
   unchanged.
11. Cognito's code mails: ForgotPassword and ResendConfirmationCode (moto has none) mail a 6-digit code to the
   outbox; ConfirmForgotPassword takes only that code and the pool's password policy; ConfirmSignUp checks a
   resent code (see _patch_cognito_codes).
20. Cognito requests and Step Functions' StartExecution are serialized, as patch 2 does for DynamoDB. A user
   pool keeps a username unique; moto's SignUp looks the name up and adds the user in two steps, so two
   sign-ups of one address on two server threads could both pass the lookup and create two users (seen as a
   double-clicked registration answered 201 twice with two user ids). Likewise an execution name is unique
   per state machine, and StartExecution with the name and input of a running execution returns that
   execution; moto looks the name up, deep-copies the state machine and only then adds the execution, so two
   duplicate checkouts starting the order's workflow at once could run two executions of one order.
Patches 5, 7, 8 and 10 stand in for a few lines of moto 5.2: each checks that the moto function it replaces is the
one it was written against and leaves moto alone (logging why) otherwise.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("shoplocal")

_applied = False
MOTO_ORIGINALS: dict[str, Any] = {}  # what patches 7 and 8 replaced (tests compare against them)
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

    LambdaSimpleBackend.invoke = invoke


def _patch_dynamodb() -> None:
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with DYNAMODB_LOCK:
            return original(self)

    DynamoHandler.call_action = call_action


COGNITO_LOCK = threading.RLock()
START_EXECUTION_LOCK = threading.Lock()


def _patch_unique_names() -> None:
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original_call = CognitoIdpResponse.call_action

    def call_action(self: Any) -> Any:
        with COGNITO_LOCK:
            return original_call(self)

    original_start = StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, *args: Any, **kwargs: Any) -> Any:
        with START_EXECUTION_LOCK:  # the execution's worker thread runs it after the lock is released
            return original_start(self, *args, **kwargs)

    CognitoIdpResponse.call_action = call_action
    StepFunctionsParserBackend.start_execution = start_execution


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

    Rule.send_to_targets = send_to_targets


# DynamoDB's AttributeValue members in the service model's order (the order the generic serializer writes them)
ATTRIBUTE_VALUE_MEMBERS = {"S": "string", "N": "string", "B": "blob", "SS": "list", "NS": "list", "BS": "list",
                           "M": "map", "L": "list", "NULL": "boolean", "BOOL": "boolean"}
_AV_KEYS = frozenset(ATTRIBUTE_VALUE_MEMBERS)


class _Generic(Exception):
    """This value is not a plain AttributeValue dict: the generic serializer handles it."""


def attribute_value(value: Any, base64: Callable[[Any], str]) -> dict[str, Any]:
    """What moto's JSON serializer makes of one AttributeValue given as a plain dict (moto's dynamo_to_dict
    output): its type members in model order, None members left out, blobs base64-encoded, maps and lists
    recursively. Raises _Generic for anything else (other keys, other value types), which the generic
    serializer then handles; with no other key present, its alias lookups can only find the member itself."""
    if type(value) is not dict or not value.keys() <= _AV_KEYS:
        raise _Generic
    out: dict[str, Any] = {}
    for key in ATTRIBUTE_VALUE_MEMBERS:
        member = value.get(key)
        if member is None:
            continue
        if key in ("S", "N"):
            if type(member) is not str:
                raise _Generic
            out[key] = member
        elif key == "B":
            if not isinstance(member, (bytes, str)):
                raise _Generic
            out[key] = base64(member)
        elif key in ("SS", "NS"):
            if type(member) is not list or any(type(m) is not str for m in member):
                raise _Generic
            out[key] = list(member)
        elif key == "BS":
            if type(member) is not list or not all(isinstance(m, (bytes, str)) for m in member):
                raise _Generic
            out[key] = [base64(m) for m in member]
        elif key == "M":
            if type(member) is not dict:
                raise _Generic
            out[key] = {k: attribute_value(v, base64) for k, v in member.items() if v is not None}
        elif key == "L":
            if type(member) is not list:
                raise _Generic
            out[key] = [None if v is None else attribute_value(v, base64) for v in member]
        else:  # NULL, BOOL
            if type(member) is not bool:
                raise _Generic
            out[key] = member
    return out


def _patch_dynamodb_serializer() -> None:
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure

    def is_attribute_value(shape: Any) -> bool:
        """The model's AttributeValue shape, with the members attribute_value writes (checked once per shape
        object, remembered on it as the generic serializer remembers a member's parent)."""
        known = getattr(shape, "_shoplocal_attribute_value", None)
        if known is None:
            members = shape.members
            known = shape.name == "AttributeValue" and not shape.serialization and \
                list(members) == list(ATTRIBUTE_VALUE_MEMBERS) and \
                {k: m.type_name for k, m in members.items()} == ATTRIBUTE_VALUE_MEMBERS
            shape._shoplocal_attribute_value = known
        return bool(known)

    def transformers_apply(serializer: Any) -> bool:
        """Would a response transformer (a key path suffix) touch an AttributeValue member? (Answered once per
        serializer, which serializes one response: its transformers are set when it is made.)"""
        known = serializer.__dict__.get("_shoplocal_transformers_apply")
        if known is None:
            paths = getattr(serializer._value_picker, "response_transformers", None) or {}
            known = serializer._shoplocal_transformers_apply = \
                any(k.endswith(tp) or tp.endswith("." + k) for tp in paths for k in _AV_KEYS)
        return bool(known)

    def _serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and value is not None and shape.name == "AttributeValue" and \
                self.service_model.service_name == "dynamodb" and is_attribute_value(shape) and \
                not transformers_apply(self):
            try:
                self._default_serialize(serialized, attribute_value(value, self._base64), shape, key)
                return
            except _Generic:
                pass
        original(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = _serialize_type_structure


def _patch_moto_module_list() -> None:
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def _same_source(fn: Any, sha256: str) -> bool:
    """Is ``fn`` the moto code a patch was written against? (Otherwise the patch is not applied.)"""
    found = hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()
    if found != sha256:
        log.warning("shoplocal: %s.%s changed in this moto version (%s): left unpatched (slower, same behaviour)",
                    fn.__module__, fn.__qualname__, found[:12])
    return found == sha256


class _Journal:
    """What a transaction's actions can change, saved before they run: per hash key named by an action, whether
    its bucket (range-key table) or item (hash-only table) existed, a shallow copy of the bucket, and deep copies
    of the items an Update changes in place. ``restore`` puts all of it back, in the original order."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]):
        from moto.dynamodb.models.dynamo_type import DynamoType

        self.buckets: dict[tuple[str, Any], tuple[Any, bool, Any]] = {}
        self.order: dict[str, list[Any]] = {}  # hash-only tables an action deletes from: their key order
        for action in transact_items:
            if len(action) != 1:
                continue  # moto refuses it before anything is written
            op_type, op = next(iter(action.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None or op_type not in ("ConditionCheck", "Put", "Delete", "Update"):
                continue  # moto refuses it before anything is written to that table
            key = op["Item"] if op_type == "Put" else op["Key"]
            if table.hash_key_attr not in key:
                raise _Generic  # moto's odd paths for a key without its hash attribute: not handled here
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = None
            if table.range_key_attr is not None and table.range_key_attr in key:
                range_value = DynamoType(key[table.range_key_attr])
            slot = (table.name, hash_value)
            if slot not in self.buckets:
                existed = hash_value in table.items
                current: Any = table.items[hash_value] if existed else None
                saved = dict(current) if existed and table.range_key_attr is not None else current
                self.buckets[slot] = (table, existed, saved)
            _, existed, saved = self.buckets[slot]
            if op_type == "Update" and existed:  # changed in place: keep a copy
                if table.range_key_attr is None:
                    self.buckets[slot] = (table, existed, copy.deepcopy(saved))
                elif range_value is not None and range_value in saved:
                    saved[range_value] = copy.deepcopy(saved[range_value])
            if op_type == "Delete" and table.range_key_attr is None and table.name not in self.order:
                self.order[table.name] = list(table.items)

    def restore(self, backend: Any) -> None:
        reinserted: set[str] = set()
        for (name, hash_value), (table, existed, saved) in self.buckets.items():
            if not existed:
                table.items.pop(hash_value, None)
            elif table.range_key_attr is not None:
                bucket = table.items[hash_value]
                bucket.clear()
                bucket.update(saved)
            else:
                if hash_value not in table.items:
                    reinserted.add(name)
                table.items[hash_value] = saved
        for name in reinserted:  # a deleted item comes back where it was
            table = backend.tables[name]
            ordered = [(k, table.items[k]) for k in self.order[name] if k in table.items]
            ordered += [(k, v) for k, v in table.items.items() if k not in self.order[name]]
            table.items.clear()
            table.items.update(ordered)


def _patch_dynamodb_transactions() -> None:
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend, get_filter_expression

    original = DynamoDBBackend.transact_write_items
    if not _same_source(original, "81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4"):
        return
    MOTO_ORIGINALS["transact_write_items"] = original

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        """moto 5.2.5's transact_write_items, line for line, except what is saved for the rollback."""
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        try:
            journal = _Journal(self, transact_items)
        except Exception:  # anything unusual in the request: moto's own way (it reports the error)
            return original(self, transact_items)

        target_items: set[tuple[str, str]] = set()

        def check_unicity(table_name: str, key: dict[str, Any]) -> None:
            item = (str(table_name), str(dict(sorted(key.items()))))
            if item in target_items:
                raise MultipleTransactionsException()
            target_items.add(item)

        errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
        for item in transact_items:
            original_item: dict[str, Any] | None = None
            if len(list(item.keys())) > 1:
                raise TransactWriteSingleOpException

            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")

                table_name = op["TableName"]
                condition_expression = op.get("ConditionExpression")
                expression_attribute_names = op.get("ExpressionAttributeNames")
                expression_attribute_values = op.get("ExpressionAttributeValues")
                return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")

                if op_type == "Put":
                    attrs = op["Item"]
                    table = self.get_table(table_name)
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]

                check_unicity(table_name, key)

                current = self.get_item(table_name, key)
                if condition_expression is not None:
                    condition_op = get_filter_expression(
                        condition_expression, expression_attribute_names, expression_attribute_values)
                    if not condition_op.expr(current):
                        if return_values_on_condition_check_failure == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)

                if op_type == "Put":
                    attrs = op["Item"]
                    self.put_item(table_name, attrs, condition_expression=condition_expression,
                                  expression_attribute_names=expression_attribute_names,
                                  expression_attribute_values=expression_attribute_values)
                elif op_type == "Delete":
                    self.delete_item(table_name, key, condition_expression=condition_expression,
                                     expression_attribute_names=expression_attribute_names,
                                     expression_attribute_values=expression_attribute_values)
                elif op_type == "Update":
                    update_expression = op["UpdateExpression"]
                    self.update_item(table_name, key, update_expression=update_expression,
                                     condition_expression=condition_expression,
                                     expression_attribute_names=expression_attribute_names,
                                     expression_attribute_values=expression_attribute_values)
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                journal.restore(self)
                raise
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
            except Exception as e:
                errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

        if any(code is not None for code, _, _ in errors):
            journal.restore(self)
            raise TransactionCanceledException(errors)

    DynamoDBBackend.transact_write_items = transact_write_items


def _forget_package(package: str) -> None:
    """Drop a package and its submodules from sys.modules: the next import loads them again."""
    import sys

    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


@contextmanager
def _batch_package_bare() -> Iterator[None]:
    """moto's ASL interpreter imports ``moto.batch.utils`` (an enum of job states, for its Batch task type), and
    importing the ``moto.batch`` package runs its models, which load all of moto.ec2 (0.8 s of every stack start,
    most of it AMI catalogues). Nothing here runs Batch or EC2: while the interpreter loads, a bare package stands
    in for ``moto.batch`` (its submodules load from the real folder), and it is removed afterwards, so a later
    ``import moto.batch`` runs the real package. tests/shoplocal/test_runtime_imports.py checks that both still work."""
    import importlib.util
    import sys
    import types

    spec = None if "moto.batch" in sys.modules else importlib.util.find_spec("moto.batch")
    if spec is None or not spec.submodule_search_locations:
        yield
        return
    bare = types.ModuleType("moto.batch")
    bare.__path__ = list(spec.submodule_search_locations)
    bare.__package__ = "moto.batch"
    sys.modules["moto.batch"] = bare
    try:
        yield
    finally:  # the interpreter keeps its references; a later import loads the real package and its submodules
        if sys.modules.get("moto.batch") is bare:
            _forget_package("moto.batch")


class _Ec2BackendsOnFirstUse:
    """Stands for ``moto.ec2.ec2_backends`` inside moto.ssm.models: the real one is imported when first used."""

    def __getitem__(self, key: Any) -> Any:
        from moto.ec2 import ec2_backends

        return ec2_backends[key]

    def __getattr__(self, name: str) -> Any:
        from moto.ec2 import ec2_backends

        return getattr(ec2_backends, name)


def _patch_ssm_import() -> None:
    """moto.ssm.models imports moto.ec2 (all of EC2's models and AMI catalogues: about 1.5 s of every stack start)
    for one use, the instances a maintenance window targets; the stack only keeps parameters. moto.ssm.models is
    imported here with a stand-in ``moto.ec2`` that offers only ``ec2_backends``, loading the real one on first
    use; the stand-in is removed at once, so any later ``import moto.ec2`` runs the real package. Anything else
    asked of the stand-in while moto.ssm loads: moto.ssm is dropped and loads the usual way when first used.
    tests/shoplocal/test_runtime_imports.py checks both."""
    import sys
    import types

    if "moto.ssm" in sys.modules or "moto.ec2" in sys.modules:
        return
    stand_in = types.ModuleType("moto.ec2")
    stand_in.ec2_backends = _Ec2BackendsOnFirstUse()  # type: ignore[attr-defined]
    sys.modules["moto.ec2"] = stand_in
    try:
        import moto.ssm.models  # noqa: F401
    except ImportError:
        log.warning("shoplocal: moto.ssm needs more of moto.ec2 than ec2_backends: loaded the usual way")
        _forget_package("moto.ssm")
    finally:
        if sys.modules.get("moto.ec2") is stand_in:
            del sys.modules["moto.ec2"]


def _patch_stepfunctions_engine() -> None:
    import sys

    with _batch_package_bare():
        from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.utils import boto_client

    parser = asl_parser.AmazonStateLanguageParser
    parse_original = parser.parse
    if _same_source(parse_original, "a59a7d18760fb22efc9fd46d8f0fb3bb6c0293abbce2b9053e1589181c6f0711"):
        trees: dict[str, Any] = {}

        def parse(definition: str) -> tuple[Any, Any]:
            """The parse tree of a definition is computed once (syntax errors are raised every time, nothing
            kept); every call gets new evaluation components (they carry an execution's state)."""
            tree = trees.get(definition)
            if tree is None:
                program, tree = parse_original(definition)
                trees[definition] = tree
                return program, tree
            return asl_parser.Preprocessor().visit(tree), tree

        parser.parse = staticmethod(parse)

    client_original = boto_client.boto_client_for
    if _same_source(client_original, "1f44dc2ac8aa2179df62365a6e5ea377f1770ea828a0f107440a2554f1b4edb8"):
        from moto.core.models import botocore_stubber
        from moto.settings import moto_server_port

        clients: dict[tuple[str, str, bool, str], Any] = {}
        lock = threading.Lock()

        def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
            """moto's client for the engine's calls (it ignores state_credentials too), made once per service,
            region and endpoint: boto3 clients are thread-safe."""
            key = (region, service, bool(botocore_stubber.enabled), str(moto_server_port()))
            found = clients.get(key)
            if found is None:
                with lock:
                    found = clients.get(key)
                    if found is None:
                        found = clients[key] = client_original(region, service, state_credentials)
            return found

        boto_client.boto_client_for = boto_client_for
        for name, module in list(sys.modules.items()):  # modules that imported it by name already
            if name.startswith("moto.stepfunctions.") and getattr(module, "boto_client_for", None) is client_original:
                module.boto_client_for = boto_client_for  # type: ignore[attr-defined]


def _patch_dynamodb_query() -> None:
    from moto.dynamodb.models.table import Table

    query_original, all_items_original = Table.query, Table.all_items
    if not (_same_source(query_original, "002b4d00be6df07cf37f6cbe0132e5eb89455ae12a8e79b23db3fb492450f21e")
            and _same_source(all_items_original, "c80d2ee3c896acd0cab6ca35aaeae3ab3fb65858933f8a3403d4e027c240f31d")):
        return
    MOTO_ORIGINALS["Table.query"], MOTO_ORIGINALS["Table.all_items"] = query_original, all_items_original
    only = threading.local()  # (table, hash key) while a base-table query runs on this thread

    def all_items(self: Any) -> list[Any]:
        """Inside a query: only the items the query can keep, sorted as moto sorts all of them (a subset of a
        sorted list, in the same order; the query drops the others anyway). A base-table query: its hash key's
        items. An index query: the items whose attributes equal the key conditions' values, tested as moto
        tests them."""
        scope = getattr(only, "scope", None)
        if scope is None or scope[0] is not self:
            return list(all_items_original(self))
        try:
            if scope[1] == "table":
                bucket = self.items.get(scope[2])
                items: list[Any] = [] if bucket is None else \
                    list(bucket.values()) if self.range_key_attr else [bucket]
            else:
                conditions = scope[2]
                items = [item for item in _stored(self) if all(
                    not (not item.attrs.get(a) or item.attrs.get(a) != v) for a, v in conditions.items())]
        except TypeError:  # not comparable as keys (moto compares it with every item)
            return list(all_items_original(self))
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    def _stored(table: Any) -> list[Any]:
        if table.range_key_attr:
            return [item for bucket in table.items.values() for item in bucket.values()]
        return list(table.items.values())

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name") or (args[6] if len(args) > 6 else None)
        conditions = kwargs.get("hash_key_conditions")
        if index_name:
            if not conditions:
                return query_original(self, hash_key, *args, **kwargs)
            only.scope = (self, "index", dict(conditions))
        elif hash_key is None:
            return query_original(self, hash_key, *args, **kwargs)
        else:
            only.scope = (self, "table", hash_key)
        try:
            return query_original(self, hash_key, *args, **kwargs)
        finally:
            only.scope = None

    Table.all_items = all_items
    Table.query = query


_in_process: dict[str, Any] = {}  # "host:port" -> the WSGI application of a moto server in this process


def serve_in_process(port: int, app: Any) -> None:
    """botocore requests to this moto server (127.0.0.1 or localhost, as Step Functions' engine addresses it)
    go straight to its WSGI application."""
    for host in ("127.0.0.1", "localhost"):
        _in_process[f"{host}:{port}"] = app


def stop_in_process(port: int) -> None:
    for host in ("127.0.0.1", "localhost"):
        _in_process.pop(f"{host}:{port}", None)


@contextmanager
def over_the_socket(port: int) -> Iterator[None]:
    """While inside, botocore reaches this moto server over its socket again (tests compare both ways)."""
    apps = {k: _in_process[k] for k in (f"127.0.0.1:{port}", f"localhost:{port}") if k in _in_process}
    for key in apps:
        del _in_process[key]
    try:
        yield
    finally:
        _in_process.update(apps)


def _text(value: Any) -> str:
    """A header name or value as the server reads it off the wire (http.client sends str as latin-1)."""
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)


def _wsgi_environ(request: Any, netloc: str) -> dict[str, Any]:
    """What werkzeug's development server (WSGIRequestHandler.make_environ) and moto's request handler build
    for this request, had it come over the socket."""
    import io
    import sys
    from urllib.parse import unquote, urlsplit

    from moto.core.request import (
        PRESERVED_HEADER_NAMES_ENVIRON_KEY,
        environ_key_for_header,
        should_preserve_original_header_name,
    )
    from werkzeug.serving import _wsgi_encoding_dance

    url = urlsplit(request.url)
    target = url.path + (f"?{url.query}" if url.query else "")
    body = request.body
    if body is None:
        data = b""
    elif isinstance(body, str):
        data = body.encode("utf-8")
    elif isinstance(body, (bytes, bytearray)):
        data = bytes(body)
    else:  # a file-like body (streamed uploads)
        data = body.read()
        data = data.encode("utf-8") if isinstance(data, str) else data
    port = netloc.partition(":")[2]
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "SERVER_SOFTWARE": "shoplocal-in-process", "REQUEST_METHOD": request.method, "SCRIPT_NAME": "",
        "PATH_INFO": _wsgi_encoding_dance(unquote(url.path)), "QUERY_STRING": _wsgi_encoding_dance(url.query),
        "REQUEST_URI": _wsgi_encoding_dance(target), "RAW_URI": _wsgi_encoding_dance(target),
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": 0, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": port,
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    headers = [(_text(k), _text(v)) for k, v in request.headers.items()]
    if "Host" not in request.headers:
        headers.insert(0, ("Host", netloc))  # what http.client sends
    if data and "Content-Length" not in request.headers and "Transfer-Encoding" not in request.headers:
        headers.append(("Content-Length", str(len(data))))  # what urllib3 sends for a sized body
    for name, raw in headers:
        if "_" in name:
            continue
        key = name.upper().replace("-", "_")
        value = raw.replace("\r\n", "")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = f"HTTP_{key}"
            if key in environ:
                value = f"{environ[key]},{value}"
        environ[key] = value
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        environ["wsgi.input_terminated"] = True  # the body above is already the de-chunked content
    dashed = {environ_key_for_header(name) for name, _ in headers if "_" not in name}
    names: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    for name, value in headers:
        if not should_preserve_original_header_name(name):
            continue
        key = environ_key_for_header(name)
        if key in dashed:
            continue
        names.setdefault(key, name)
        values.setdefault(key, []).append(value.replace("\r\n", ""))
    for key, joined in values.items():
        environ[key] = ",".join(joined)
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = names
    return environ


def _call_in_process(app: Any, request: Any, netloc: str) -> Any:
    import io
    from email.utils import formatdate

    import botocore.awsrequest
    from urllib3 import HTTPHeaderDict
    from urllib3.response import HTTPResponse
    from werkzeug.exceptions import InternalServerError
    from werkzeug.test import run_wsgi_app

    environ = _wsgi_environ(request, netloc)
    try:
        app_iter, status, response_headers = run_wsgi_app(app, environ, buffered=True)
        body = b"".join(app_iter)
    except Exception:  # the server logs it and answers 500
        log.exception("Error on request %s %s", request.method, request.url)
        app_iter, status, response_headers = run_wsgi_app(InternalServerError().get_response(environ), environ,
                                                          buffered=True)
        body = b"".join(app_iter)
    code = int(status.split(" ", 1)[0])
    headers = HTTPHeaderDict()
    for name, value in response_headers.items():  # (a repeated header stays repeated)
        headers.add(name, value)
    if "Server" not in headers:  # what werkzeug's server adds
        headers.add("Server", "shoplocal-in-process")
    if "Date" not in headers:
        headers.add("Date", formatdate(usegmt=True))
    if request.method == "HEAD" or code < 200 or code in (204, 304):
        body = b""
    raw = HTTPResponse(body=io.BytesIO(body), headers=headers, status=code, preload_content=False,
                       decode_content=False, request_method=request.method, request_url=request.url)
    response_headers_: Any = raw.headers
    response = botocore.awsrequest.AWSResponse(request.url, code, response_headers_, raw)
    if not request.stream_output:
        response.content  # noqa: B018  (read now, as botocore's transport does)
    return response


def _patch_botocore_transport() -> None:
    from urllib.parse import urlsplit

    from botocore.httpsession import URLLib3Session

    original = URLLib3Session.send

    def send(self: Any, request: Any) -> Any:
        if _in_process:
            netloc = urlsplit(request.url).netloc
            app = _in_process.get(netloc)
            if app is not None:
                return _call_in_process(app, request, netloc)
        return original(self, request)

    URLLib3Session.send = send  # type: ignore[method-assign]


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


COGNITO_SENDER = "no-reply@verificationemail.com"  # Cognito's own sender (EmailSendingAccount COGNITO_DEFAULT)


def _cognito_mail(backend: Any, email: str, subject: str, code: str) -> None:
    """Put a Cognito code mail in the stack's outbox (moto SES's sent messages, what Stack.sent_emails reads)."""
    import uuid

    from moto.ses.models import Message, ses_backends

    ses = ses_backends[backend.account_id][backend.region_name]
    ses.sent_messages.append(Message(f"cognito-{uuid.uuid4().hex}", COGNITO_SENDER, subject,
                                     f"Your code is {code}", {"ToAddresses": [email]}))


def _patch_cognito_codes() -> None:
    """11. Cognito codes reach the outbox and are checked. moto's ForgotPassword hands its code back only in a
    response header, its ConfirmForgotPassword accepts any code that lacks moto's prefix and any password, and
    it has no ResendConfirmationCode at all. Here: ForgotPassword and ResendConfirmationCode mail a 6-digit code
    to the user's address (nothing for an unknown address; the answer is the same); ConfirmForgotPassword takes
    only the last code mailed (CodeMismatchException otherwise, also for an unknown user, as Cognito answers
    with PreventUserExistenceErrors) and the pool's password policy; ConfirmSignUp checks a code once one was
    resent (before that moto's acceptance of any code stays, as the local stack confirms sign-ups itself)."""
    import random

    from moto.cognitoidp import exceptions as cx
    from moto.cognitoidp.models import CognitoIdpBackend, UserStatus, find_account_region_by_value
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.responses import ActionResult, EmptyResult

    def pool_and_user(backend: Any, client_id: str, username: str) -> tuple[Any, Any]:
        for pool in backend.user_pools.values():
            if client_id in pool.clients:
                return pool, pool._get_user(username)
        raise cx.ResourceNotFoundError(client_id)

    def delivery(user: Any, username: str) -> dict[str, str]:
        email = user.attribute_lookup.get("email", username) if user is not None else username
        name, _, domain = email.partition("@")
        return {"Destination": f"{name[:1]}***@{domain[:1]}***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}

    def forgot_password(self: Any, client_id: str, username: str) -> tuple[str | None, dict[str, Any]]:
        _, user = pool_and_user(self, client_id, username)
        code = None
        if user is not None:
            code = f"{random.randint(0, 999_999):06d}"
            user.confirmation_code = code
            _cognito_mail(self, user.attribute_lookup.get("email", username), "Your password reset code", code)
        return code, {"CodeDeliveryDetails": delivery(user, username)}

    def confirm_forgot_password(self: Any, client_id: str, username: str, password: str,
                                confirmation_code: str) -> None:
        pool, user = pool_and_user(self, client_id, username)
        if user is None or not user.confirmation_code or user.confirmation_code != confirmation_code:
            raise cx.CodeMismatchException("Invalid verification code provided, please try again.")
        self._validate_password(pool.id, password)
        user.password = password
        user.confirmation_code = None

    def resend_confirmation_code(self: Any, client_id: str, username: str) -> dict[str, Any]:
        _, user = pool_and_user(self, client_id, username)
        if user is not None:
            if user.status != UserStatus.UNCONFIRMED:
                raise cx.InvalidParameterException("User is already confirmed.")
            user.signup_code = f"{random.randint(0, 999_999):06d}"
            _cognito_mail(self, user.attribute_lookup.get("email", username), "Your verification code",
                          user.signup_code)
        return {"CodeDeliveryDetails": delivery(user, username)}

    def confirm_sign_up_response(self: Any) -> Any:
        client_id, username = self._get_param("ClientId"), self._get_param("Username")
        backend = self._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
        _, user = pool_and_user(backend, client_id, username)
        wanted = getattr(user, "signup_code", None)
        if wanted is not None and self._get_param("ConfirmationCode") != wanted:
            raise cx.CodeMismatchException("Invalid verification code provided, please try again.")
        backend.confirm_sign_up(client_id, username)
        if user is not None:
            user.signup_code = None
        return EmptyResult()

    def resend_confirmation_code_response(self: Any) -> Any:
        client_id = self._get_param("ClientId")
        account, region = find_account_region_by_value("client_id", client_id,
                                                       fallback=(self.current_account, self.region))
        from moto.cognitoidp.models import cognitoidp_backends

        return ActionResult(cognitoidp_backends[account][region].resend_confirmation_code(
            client_id, self._get_param("Username")))

    CognitoIdpBackend.forgot_password = forgot_password
    CognitoIdpBackend.confirm_forgot_password = confirm_forgot_password
    CognitoIdpBackend.resend_confirmation_code = resend_confirmation_code
    CognitoIdpResponse.confirm_sign_up = confirm_sign_up_response
    CognitoIdpResponse.resend_confirmation_code = resend_confirmation_code_response


def apply() -> None:
    from shoplocal import fastpath

    global _applied
    if _applied:
        return
    _patch_lambda()
    _patch_dynamodb()
    _patch_events()
    _patch_powertools_request_state()
    _patch_dynamodb_serializer()
    _patch_moto_module_list()
    _patch_dynamodb_transactions()
    _patch_stepfunctions_engine()
    _patch_ssm_import()
    _patch_botocore_transport()
    _patch_dynamodb_query()
    _patch_cognito_codes()
    _patch_unique_names()
    fastpath.apply()  # patches 12 to 19 (shoplocal/fastpath.py)
    _applied = True
