"""The state machines' data against the workflow models (issue 13, "Workflow I/O").

statemachines/*.asl.json read what the task functions return by JSONPath (``$.payment.status``,
``$.split.shipments``, ``$.pack.package_weight_grams`` ...). Without this, a key renamed on either side fails
only in an execution. Here each definition is walked state by state, on the shapes of the models (no AWS): the
execution input model, then each task's output placed at its ResultPath, met over every path that reaches a
state. Every JSONPath a state reads (InputPath, Parameters/ItemSelector/ResultSelector ``x.$``, ItemsPath,
Choice variables and values, TimeoutSecondsPath, OutputPath ...) must name a field of the models of the data
there, and what Parameters hand a function must be its input model's fields. The models are also fed through
the handlers (services stubbed) and checked against the pure producers of the task-token outputs.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import reduce
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError, create_model
from shop.contracts import WorkflowData
from shop.fulfillment import service as fulfillment_service
from shop.fulfillment.contracts import (
    FulfillmentCancelled,
    LabelCreated,
    OrderConfirmedAndSplit,
    OrderSplit,
    PackTaskDone,
    PickTaskDone,
    PickupTaskDone,
    ShipmentHandedOver,
    StockCommitted,
    TaskOpened,
)
from shop.fulfillment.models import ShipmentItem, TaskKind, TaskStatus, WarehouseTask
from shop.orders.contracts import (
    ExpiredReservationsSwept,
    OrderWorkflowInput,
    ReservationReleased,
)
from shop.orders.models import OrderStatus
from shop.orders.tasks import (
    AbandonPaymentTask,
    CancelOrderTask,
    ChargeTask,
    CommitStockTask,
    ConfirmAndSplitTask,
    MarkShippedTask,
    OpenTaskTask,
    ReleaseTask,
)
from shop.payments import service as payments_service
from shop.payments.contracts import AuthenticationWait, PaymentOutcome
from shop.procurement.contracts import RestockOrdered, RestockSkipped
from shop.returns.contracts import (
    ExchangeCompleted,
    ExchangeSettled,
    InspectionOpened,
    ReplacementParcel,
    ReplacementReleased,
    ReturnApproved,
    ReturnInspected,
    ReturnLabelIssued,
    ReturnRefunded,
    ReturnRestocked,
    ReturnWorkflowInput,
)
from shop.returns.models import ReturnTask

from shoplocal.template import load_yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


# ================================================================== what each task takes and gives
@dataclass(frozen=True)
class TaskContract:
    input: type[BaseModel]  # what Parameters (a waitForTaskToken task's Payload) hand the function
    output: type[BaseModel]  # what the function returns (placed at ResultPath, unless it waits for a token)
    resumed_with: type[BaseModel] | None = None  # waitForTaskToken: what the token is resumed with


def kind_of(params: dict[str, Any]) -> str | None:
    """The key's kind: Parameters' "kind", with the task its completion opens when chained (PickAndPack's
    ``"then": "pack"``: "pick+pack", resumed by the pack task)."""
    kind, then = params.get("kind"), params.get("then")
    return f"{kind}+{then}" if then is not None else kind


# (function folder, Parameters' "action", Parameters' "kind" (kind_of)) -> the task's models
TASKS: dict[tuple[str, str | None, str | None], TaskContract] = {
    # TakePayment waits (issue 17); the plain charge and await_authentication serve executions started before
    ("payments", "charge", None): TaskContract(ChargeTask, AuthenticationWait, PaymentOutcome),
    ("payments", "abandon", None): TaskContract(AbandonPaymentTask, PaymentOutcome),
    ("orders_release", None, None): TaskContract(ReleaseTask, ReservationReleased),
    ("fulfillment", "confirm_and_split", None): TaskContract(ConfirmAndSplitTask, OrderConfirmedAndSplit),
    ("fulfillment", "open_task", "pick"): TaskContract(OpenTaskTask, TaskOpened, PickTaskDone),
    ("fulfillment", "open_task", "pick+pack"): TaskContract(OpenTaskTask, TaskOpened, PackTaskDone),
    ("fulfillment", "open_task", "pack"): TaskContract(OpenTaskTask, TaskOpened, PackTaskDone),
    ("fulfillment", "open_task", "pickup"): TaskContract(OpenTaskTask, TaskOpened, PickupTaskDone),
    ("fulfillment", "commit_stock", None): TaskContract(CommitStockTask, StockCommitted),
    ("fulfillment", "mark_shipped", None): TaskContract(MarkShippedTask, ShipmentHandedOver),
    ("fulfillment", "cancel", None): TaskContract(CancelOrderTask, FulfillmentCancelled),
    ("returns", "approve", None): TaskContract(ReturnTask, ReturnApproved),
    ("returns", "issue_label", None): TaskContract(ReturnTask, ReturnLabelIssued),
    ("returns", "open_inspection", None): TaskContract(ReturnTask, InspectionOpened, ReturnInspected),
    ("returns", "restock", None): TaskContract(ReturnTask, ReturnRestocked),
    ("returns", "refund", None): TaskContract(ReturnTask, ReturnRefunded),
    ("returns", "release_replacement", None): TaskContract(ReturnTask, ReplacementReleased),
    ("returns", "settle_difference", None): TaskContract(ReturnTask, ExchangeSettled),
    ("returns", "ship_replacement", None): TaskContract(ReturnTask, ReplacementParcel),
    ("returns", "complete_exchange", None): TaskContract(ReturnTask, ExchangeCompleted),
}
EXECUTION_INPUT: dict[str, type[BaseModel]] = {"order": OrderWorkflowInput, "returns": ReturnWorkflowInput,
                                              "exchanges": ReturnWorkflowInput}


# ================================================================== shapes: what a model lets a JSONPath read
@dataclass(frozen=True)
class Obj:
    """A JSON object: its known fields; ``open`` when other keys may be there too (``Any``, ``dict``)."""

    fields: tuple[tuple[str, Shape], ...] = ()
    open: bool = False
    name: str = "object"

    def get(self, key: str) -> Shape | None:
        found = dict(self.fields).get(key)
        return ANY if found is None and self.open else found


@dataclass(frozen=True)
class Arr:
    item: Shape


@dataclass(frozen=True)
class Leaf:
    """A scalar: its JSON types (None: unknown) and, for a Literal or an enum, the only values it takes."""

    types: frozenset[str] | None = None
    values: frozenset[Any] | None = None


Shape = Obj | Arr | Leaf
ANY = Obj(open=True, name="anything")
STRING = Leaf(frozenset({"string"}))
ERROR = Obj((("Cause", STRING), ("Error", STRING)), name="the caught error")
_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def shape_of(tp: Any) -> Shape:
    """The shape of a type annotation. ``X | None`` is X: a path must name a field, its nullness is not checked."""
    origin = get_origin(tp)
    if tp is Any or tp is object:
        return ANY
    if origin is Annotated:
        return shape_of(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return reduce(meet, [shape_of(a) for a in get_args(tp) if a is not type(None)])
    if origin is Literal:
        return Leaf(frozenset(_SCALARS[type(v)] for v in get_args(tp)), frozenset(get_args(tp)))
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple):
        return Arr(shape_of(get_args(tp)[0]) if get_args(tp) else ANY)
    if origin is dict or tp is dict:
        return ANY
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return Obj(tuple(sorted((f.serialization_alias or name, shape_of(f.annotation))
                                for name, f in tp.model_fields.items())), open=tp.model_config.get("extra") == "allow",
                   name=tp.__name__)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return Leaf(frozenset({"string"} if issubclass(tp, str) else {"integer"}), frozenset(m.value for m in tp))
    if tp in _SCALARS:
        return Leaf(frozenset({_SCALARS[tp]}))
    raise TypeError(f"no shape for {tp!r}: teach shape_of")


def meet(a: Shape, b: Shape) -> Shape:
    """What can be read from data that is either ``a`` or ``b`` (two paths reach a state)."""
    if a == b:
        return a
    if isinstance(a, Obj) and isinstance(b, Obj):
        name = a.name if a.name == b.name else f"{a.name} | {b.name}"
        if a.open and b.open:
            keys = {k for k, _ in a.fields} | {k for k, _ in b.fields}
        elif a.open or b.open:
            keys = {k for k, _ in (b if a.open else a).fields}
        else:
            keys = {k for k, _ in a.fields} & {k for k, _ in b.fields}
        return Obj(tuple(sorted((k, meet(a.get(k) or ANY, b.get(k) or ANY)) for k in keys)), a.open and b.open, name)
    if a == ANY or b == ANY:
        return b if a == ANY else a
    if isinstance(a, Arr) and isinstance(b, Arr):
        return Arr(meet(a.item, b.item))
    if isinstance(a, Leaf) and isinstance(b, Leaf):
        return Leaf(None if a.types is None or b.types is None else a.types | b.types,
                    None if a.values is None or b.values is None else a.values | b.values)
    return Leaf()  # an object on one path, a scalar on another: no field can be read


def describe(shape: Shape) -> str:
    if isinstance(shape, Obj):
        return f"{shape.name} (fields: {', '.join(k for k, _ in shape.fields) or 'none'})"
    if isinstance(shape, Arr):
        return "an array"
    return "a " + "/".join(sorted(shape.types or {"scalar"}))


class PathError(Exception):
    pass


_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)((?:\[\d+\])*)$")


def resolve(root: Shape, path: str) -> Shape:
    """The shape at ``path`` (``$``, ``$.a.b``, ``$.a[0].b``) under ``root``; PathError naming what is missing."""
    if path == "$":
        return root
    if not path.startswith("$."):
        raise PathError(f"{path}: only $ and $.field... paths are supported here")
    current, walked = root, "$"
    for segment in path[2:].split("."):
        m = _SEGMENT.match(segment)
        if m is None:
            raise PathError(f"{path}: unsupported segment {segment!r}")
        if not isinstance(current, Obj):
            raise PathError(f"{path}: {walked} is {describe(current)}, it has no field {m[1]!r}")
        found = current.get(m[1])
        if found is None:
            raise PathError(f"{path}: {walked} is {describe(current)}, no field {m[1]!r}")
        current, walked = found, f"{walked}.{m[1]}"
        for _ in re.findall(r"\[\d+\]", m[2]):
            if current == ANY:
                break
            if not isinstance(current, Arr):
                raise PathError(f"{path}: {walked} is {describe(current)}, not an array")
            current, walked = current.item, f"{walked}[]"
    return current


def place(data: Shape, result_path: str | None, value: Shape) -> Shape:
    """``data`` with ``value`` written at ``result_path`` (ResultPath: null keeps the input, $ replaces it)."""
    if result_path is None:
        return data
    if result_path == "$":
        return value
    if not result_path.startswith("$.") or not all(_SEGMENT.match(s) and "[" not in s
                                                   for s in result_path[2:].split(".")):
        raise PathError(f"ResultPath {result_path}: only $.field... paths are supported here")
    key, _, rest = result_path[2:].partition(".")
    base = data if isinstance(data, Obj) else Obj()
    inner = place(base.get(key) or Obj(), f"$.{rest}", value) if rest else value
    return Obj(tuple(sorted({**dict(base.fields), key: inner}.items())), base.open, "the state's data")


def compatible(given: Shape, wanted: Shape) -> bool:
    """Could data of shape ``given`` be what a field of shape ``wanted`` takes (kinds, JSON types, values)?"""
    if given == ANY or wanted == ANY:
        return True
    if isinstance(given, Arr) and isinstance(wanted, Arr):
        return compatible(given.item, wanted.item)
    if isinstance(given, Leaf) and isinstance(wanted, Leaf):
        if given.types is None or wanted.types is None:
            return True
        numeric = {"integer", "number"}
        if not (given.types & wanted.types or (given.types & numeric and wanted.types & numeric)):
            return False
        return given.values is None or wanted.values is None or given.values <= wanted.values
    return type(given) is type(wanted)


# ================================================================== the walk
def functions_of(machine: str) -> dict[str, str]:
    """``${XFunctionArn}`` -> the function's folder, from template.yaml's DefinitionSubstitutions."""
    resources = load_yaml(ROOT / "template.yaml")["Resources"]
    sm = next(r for r in resources.values() if r["Type"] == "AWS::Serverless::StateMachine"
              and r["Properties"].get("DefinitionUri") == f"statemachines/{machine}.asl.json")
    found = {}
    for key, value in sm["Properties"]["DefinitionSubstitutions"].items():
        target = value["Fn::GetAtt"]
        logical_id = target[0] if isinstance(target, list) else target.split(".")[0]
        found["${" + key + "}"] = Path(resources[logical_id]["Properties"]["CodeUri"]).name
    return found


def context(*, task_token: bool = False, map_item: Shape | None = None) -> Obj:
    """The context object ``$$``: Task.Token only where a task waits for it, Map.Item only in ItemSelector."""
    fields: dict[str, Shape] = {"Execution": ANY, "StateMachine": ANY, "State": ANY}
    if task_token:
        fields["Task"] = Obj((("Token", STRING),), name="$$.Task")
    if map_item is not None:
        item = Obj((("Index", Leaf(frozenset({"integer"}))), ("Value", map_item)), name="$$.Map.Item")
        fields["Map"] = Obj((("Item", item),), name="$$.Map")
    return Obj(tuple(sorted(fields.items())), name="$$")


LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
COMPARISON_TYPES = {"String": {"string"}, "Numeric": {"integer", "number"}, "Boolean": {"boolean"},
                    "Timestamp": {"string"}}


@dataclass
class Walk:
    """One state machine walked on shapes. ``errors`` holds every path that does not resolve."""

    functions: dict[str, str]
    tasks: dict[tuple[str, str | None, str | None], TaskContract]
    errors: list[str] = field(default_factory=list)
    used: set[tuple[str, str | None, str | None]] = field(default_factory=set)
    recording: bool = True

    def error(self, where: str, message: str) -> None:
        if self.recording and f"{where}: {message}" not in self.errors:
            self.errors.append(f"{where}: {message}")

    def read(self, where: str, data: Shape, path: str, ctx: Obj | None = None) -> Shape:
        try:
            return resolve(ctx if path.startswith("$$") and ctx is not None else data,
                           path[1:] if path.startswith("$$") else path)
        except PathError as exc:
            self.error(where, str(exc))
            return ANY

    def template(self, where: str, node: Any, data: Shape, ctx: Obj) -> Shape:
        """Parameters / ItemSelector / ResultSelector: every ``x.$`` read from ``data`` (or ``$$``)."""
        if isinstance(node, dict):
            out: dict[str, Shape] = {}
            for key, value in node.items():
                if key.endswith(".$"):
                    out[key[:-2]] = self.expression(f"{where}.{key}", value, data, ctx)
                else:
                    out[key] = self.template(f"{where}.{key}", value, data, ctx)
            return Obj(tuple(sorted(out.items())), name=where)
        if isinstance(node, list):
            return Arr(reduce(meet, [self.template(where, v, data, ctx) for v in node]) if node else ANY)
        if node is None:
            return Leaf(frozenset({"null"}))
        return Leaf(frozenset({_SCALARS[type(node)]}), frozenset({node}))

    def expression(self, where: str, value: Any, data: Shape, ctx: Obj) -> Shape:
        if not isinstance(value, str):
            self.error(where, f"{value!r} is not a path")
            return ANY
        if value.startswith("States."):  # an intrinsic function: each path argument must resolve
            for path in re.findall(r"(\$\$?(?:\.[A-Za-z0-9_\-\[\]]+)*)", value):
                self.read(where, data, path, ctx)
            return ANY
        return self.read(where, data, value, ctx)

    # -------------------------------------------------------------- states
    def run(self, states: dict[str, Any], start: str, given: Shape, prefix: str) -> Shape:
        """Walk ``states`` from ``start`` with input ``given``; the meet of what its ends output."""
        recording, self.recording = self.recording, False
        incoming: dict[str, Shape] = {start: given}
        for _ in range(100):  # to the fixpoint: shapes only shrink as paths meet
            before = dict(incoming)
            for name, state in states.items():
                if name in incoming:
                    for target, shape in self.step(f"{prefix}{name}", state, incoming[name])[0]:
                        incoming[target] = meet(incoming[target], shape) if target in incoming else shape
            if incoming == before:
                break
        else:
            raise AssertionError(f"{prefix or 'the machine'}: no fixpoint after 100 rounds")
        self.recording = recording
        ends: list[Shape] = []
        for name, state in states.items():
            if name not in incoming:
                self.error(f"{prefix}{name}", "no state leads here")
                continue
            edges, end = self.step(f"{prefix}{name}", state, incoming[name])
            for target, _ in edges:
                if target not in states:
                    self.error(f"{prefix}{name}", f"Next {target!r} is not a state")
            if end is not None:
                ends.append(end)
        return reduce(meet, ends) if ends else ANY

    def step(self, where: str, state: dict[str, Any], data: Shape) -> tuple[list[tuple[str, Shape]], Shape | None]:
        """(the states it goes to with what they get, what it outputs when it ends the run or None)."""
        kind = state["Type"]
        if state.get("QueryLanguage", "JSONPath") != "JSONPath":
            self.error(where, "only JSONPath states are checked here")
            return [], None
        effective = self.input(where, state, data)
        if kind == "Choice":
            for i, rule in enumerate(state["Choices"]):
                self.rule(f"{where}.Choices[{i}]", rule, effective)
            out = self.output(where, state, effective)
            targets = [r["Next"] for r in state["Choices"]] + ([state["Default"]] if "Default" in state else [])
            return [(t, out) for t in targets], None
        if kind in ("Succeed", "Fail"):
            for key in ("ErrorPath", "CausePath"):
                if key in state:
                    self.read(f"{where}.{key}", effective, state[key])
            return [], self.output(where, state, effective) if kind == "Succeed" else None
        if kind == "Pass":
            result = (self.template(f"{where}.Parameters", state["Parameters"], effective, context())
                      if "Parameters" in state else effective)
            if "Result" in state:
                result = self.template(f"{where}.Result", state["Result"], ANY, context())
            return self.finish(where, state, data, result, catches=False)
        if kind == "Wait":
            for key in ("SecondsPath", "TimestampPath"):
                if key in state:
                    self.read(f"{where}.{key}", effective, state[key])
            return self.finish(where, state, data, effective, catches=False)
        if kind == "Task":
            return self.finish(where, state, data, self.task(where, state, effective))
        if kind == "Map":
            return self.finish(where, state, data, self.map(where, state, effective))
        self.error(where, f"{kind} states are not checked yet: teach this test")
        return [], None

    def input(self, where: str, state: dict[str, Any], data: Shape) -> Shape:
        path = state.get("InputPath", "$")
        return Obj() if path is None else self.read(f"{where}.InputPath", data, path)

    def output(self, where: str, state: dict[str, Any], data: Shape) -> Shape:
        path = state.get("OutputPath", "$")
        return Obj() if path is None else self.read(f"{where}.OutputPath", data, path)

    def finish(self, where: str, state: dict[str, Any], data: Shape, result: Shape,
               catches: bool = True) -> tuple[list[tuple[str, Shape]], Shape | None]:
        """ResultSelector, ResultPath, OutputPath, Next or End, and the Catch edges (the error at their ResultPath)."""
        if "ResultSelector" in state:
            result = self.template(f"{where}.ResultSelector", state["ResultSelector"], result, context())
        try:
            out = self.output(where, state, place(data, state.get("ResultPath", "$"), result))
        except PathError as exc:
            self.error(where, str(exc))
            out = ANY
        edges = [(state["Next"], out)] if "Next" in state else []
        for catcher in state.get("Catch", []) if catches else []:
            try:
                edges.append((catcher["Next"], place(data, catcher.get("ResultPath", "$"), ERROR)))
            except PathError as exc:
                self.error(f"{where}.Catch", str(exc))
        return edges, out if state.get("End") else None

    def task(self, where: str, state: dict[str, Any], effective: Shape) -> Shape:
        resource: str = state["Resource"]
        params: dict[str, Any] | None = state.get("Parameters")
        waits = resource == f"{LAMBDA_INVOKE}.waitForTaskToken"
        if waits:
            function, params = self.functions.get((params or {}).get("FunctionName", "")), (params or {}).get("Payload")
        elif resource.startswith("arn:"):
            self.error(where, f"resource {resource} is not checked yet: teach this test")
            return ANY
        else:
            function = self.functions.get(resource)
        if function is None:
            self.error(where, f"{resource}: not a function of the template's DefinitionSubstitutions")
            return ANY
        for key in ("TimeoutSecondsPath", "HeartbeatSecondsPath"):
            if key in state:
                self.read(f"{where}.{key}", effective, state[key])
        payload = self.template(f"{where}.Parameters", params, effective, context(task_token=waits)) \
            if params is not None else effective
        params = params or {}
        task = (function, params.get("action"), kind_of(params))
        contract = self.tasks.get(task)
        if contract is None:
            self.error(where, f"no contract for {task}: add it to TASKS")
            return ANY
        self.used.add(task)
        self.check_input(f"{where}.Parameters", contract.input, params, payload)
        if waits != (contract.resumed_with is not None):
            self.error(where, f"{task} {'waits' if waits else 'does not wait'} for a task token, its contract "
                              f"{'does not' if waits else 'does'}")
        return shape_of(contract.resumed_with if waits and contract.resumed_with else contract.output)

    def check_input(self, where: str, model: type[BaseModel], params: dict[str, Any], payload: Shape) -> None:
        """What Parameters hand the function is its input model: known fields (an unknown one would be ignored),
        every required one, constants it accepts, paths of a compatible shape."""
        fields = {f.validation_alias if isinstance(f.validation_alias, str) else name: f
                  for name, f in model.model_fields.items()}
        given = {k.removesuffix(".$"): k for k in params}
        for name in given.keys() - fields.keys():
            self.error(where, f"{model.__name__} has no field {name!r} (fields: {', '.join(fields)})")
        for name in fields.keys() - given.keys():
            if fields[name].is_required():
                self.error(where, f"{model.__name__} requires {name!r}")
        for name, key in given.items():
            if name not in fields:
                continue
            info = fields[name]
            if key.endswith(".$"):
                got = payload.get(name) if isinstance(payload, Obj) else ANY
                if got is not None and not compatible(got, shape_of(info.annotation)):
                    self.error(where, f"{key}: {describe(got)} for {model.__name__}.{name} ({info.annotation})")
                continue
            try:
                TypeAdapter(Annotated[info.annotation, info]).validate_python(params[key])
            except ValidationError as exc:
                self.error(where, f"{key}: {params[key]!r} is not a valid {model.__name__}.{name}: "
                                  f"{exc.errors()[0]['msg']}")

    def map(self, where: str, state: dict[str, Any], effective: Shape) -> Shape:
        items = self.read(f"{where}.ItemsPath", effective, state.get("ItemsPath", "$"))
        if not isinstance(items, Arr) and items != ANY:
            self.error(f"{where}.ItemsPath", f"{state.get('ItemsPath', '$')} is {describe(items)}, not an array")
        item = items.item if isinstance(items, Arr) else ANY
        selector = state.get("ItemSelector", state.get("Parameters"))
        given = item if selector is None else self.template(f"{where}.ItemSelector", selector, effective,
                                                            context(map_item=item))
        processor: dict[str, Any] = state.get("ItemProcessor", state.get("Iterator")) or {}
        return Arr(self.run(processor["States"], processor["StartAt"], given, f"{where}/"))

    def rule(self, where: str, rule: dict[str, Any], data: Shape) -> None:
        for nested in ("And", "Or"):
            for i, inner in enumerate(rule.get(nested, [])):
                self.rule(f"{where}.{nested}[{i}]", inner, data)
        if "Not" in rule:
            self.rule(f"{where}.Not", rule["Not"], data)
        if "Variable" not in rule:
            return
        variable = self.read(f"{where}.Variable", data, rule["Variable"])
        for op, value in rule.items():
            prefix = next((p for p in COMPARISON_TYPES if op.startswith(p)), None)
            if prefix is None:
                continue
            if not isinstance(variable, Leaf) and variable != ANY:
                self.error(where, f"{op} on {rule['Variable']}, which is {describe(variable)}")
                continue
            if isinstance(variable, Leaf) and variable.types is not None and \
                    not variable.types & COMPARISON_TYPES[prefix]:
                self.error(where, f"{op} on {rule['Variable']}, which is {describe(variable)}")
            if op.endswith("Path"):
                self.read(f"{where}.{op}", data, value)
            elif op == "StringEquals" and isinstance(variable, Leaf) and variable.values is not None \
                    and value not in variable.values:
                self.error(where, f"{rule['Variable']} is never {value!r} (it is one of "
                                  f"{', '.join(sorted(map(str, variable.values)))})")


def load_machine(machine: str) -> dict[str, Any]:
    return dict(json.loads((ROOT / "statemachines" / f"{machine}.asl.json").read_text()))


def walk(machine: str, definition: dict[str, Any] | None = None,
         tasks: dict[tuple[str, str | None, str | None], TaskContract] | None = None,
         execution_input: type[BaseModel] | None = None) -> Walk:
    definition = load_machine(machine) if definition is None else definition
    w = Walk(functions_of(machine), TASKS if tasks is None else tasks)
    w.run(definition["States"], definition["StartAt"], shape_of(execution_input or EXECUTION_INPUT[machine]), "")
    return w


# ================================================================== the definitions as they are
@pytest.mark.parametrize("machine", sorted(EXECUTION_INPUT))
def test_every_path_of_the_state_machine_names_a_model_field(machine: str) -> None:
    assert walk(machine).errors == []


def test_every_contract_is_a_task_of_a_state_machine() -> None:
    used = set().union(*(walk(m).used for m in EXECUTION_INPUT))
    assert used == set(TASKS)


def test_the_walk_sees_what_each_state_reads() -> None:
    """The shapes are real: at ConfirmAndSplit the payment is PaymentOutcome, in the Map an item is a shipment."""
    w = Walk(functions_of("order"), TASKS)
    data = place(shape_of(OrderWorkflowInput), "$.payment", shape_of(PaymentOutcome))
    assert w.read("x", data, "$.payment.status") == Leaf(frozenset({"string"}), frozenset(
        {"succeeded", "requires_action", "declined", "skipped"}))
    assert w.read("x", data, "$.payment.nope") == ANY
    assert w.errors == ["x: $.payment.nope: $.payment is PaymentOutcome (fields: auth_timeout_seconds, "
                        "decline_code, order_id, payment_intent_id, status), no field 'nope'"]
    items = resolve(place(data, "$.split", shape_of(OrderConfirmedAndSplit)), "$.split.shipments")
    assert isinstance(items, Arr) and resolve(items.item, "$.warehouse_id") == STRING


# ================================================================== a wrong definition is caught
def _mutated(machine: str, old: str, new: str) -> dict[str, Any]:
    text = (ROOT / "statemachines" / f"{machine}.asl.json").read_text()
    assert old in text, old
    return dict(json.loads(text.replace(old, new, 1)))


@pytest.mark.parametrize(("machine", "old", "new", "caught"), [
    # a Choice variable renamed
    ("order", '"Variable": "$.payment.status"', '"Variable": "$.payment.state"',
     "AbandonOutcome.Choices[0].Variable: $.payment.state: $.payment is PaymentOutcome"),
    # a Choice value the output never takes
    ("order", '"StringEquals": "succeeded"', '"StringEquals": "paid"', "$.payment.status is never 'paid'"),
    # a timeout read from the execution input
    ("order", '"TimeoutSecondsPath": "$.payment_timeout_seconds"', '"TimeoutSecondsPath": "$.auth_timeout_seconds"',
     "TakePayment.TimeoutSecondsPath: $.auth_timeout_seconds: $ is OrderWorkflowInput"),
    # a Parameters path into a task's output
    ("order", '"$.pack.package_weight_grams"', '"$.pack.weight_grams"',
     "FulfilShipments/AwaitPickup.Parameters.package_weight_grams.$: $.pack.weight_grams: $.pack is PackTaskDone"),
    # the Map's items
    ("order", '"ItemsPath": "$.split.shipments"', '"ItemsPath": "$.split.parcels"',
     "FulfilShipments.ItemsPath: $.split.parcels: $.split is OrderConfirmedAndSplit"),
    # a Parameters key the function does not know (it would silently drop it: extra="ignore")
    ("order", '"payment_intent_id.$": "$.payment.payment_intent_id"', '"intent_id.$": "$.payment.payment_intent_id"',
     "ConfirmAndSplit.Parameters: ConfirmAndSplitTask has no field 'intent_id'"),
    # an output placed elsewhere: everything after it reads nothing
    ("order", '"ResultPath": "$.split"', '"ResultPath": "$.plan"',
     "FulfilShipments.ItemsPath: $.split.shipments: $ is the state's data (fields: order_id, payment, "
     "payment_timeout_seconds, plan), no field 'split'"),
    # a constant the function refuses
    ("order", '"reason": "PAYMENT_FAILED"', '"reason": "PAYMENT_FAIL"',
     "ReleaseAfterDecline.Parameters: reason: 'PAYMENT_FAIL' is not a valid ReleaseTask.reason"),
    ("exchanges", '"kind": "pack"', '"kind": "box"', "no contract for ('fulfillment', 'open_task', 'box')"),
    ("order", '"then": "pack"', '"then": "box"', "no contract for ('fulfillment', 'open_task', 'pick+box')"),
    # PickAndPack's flag lost: the token would be resumed by the pick (no package weight for AwaitPickup)
    ("order", '"then": "pack",', '',
     "FulfilShipments/AwaitPickup.Parameters.package_weight_grams.$: $.pack.package_weight_grams: $.pack is "
     "PickTaskDone"),
    # the execution input
    ("returns", '"return_id.$": "$.return_id"', '"return_id.$": "$.returnId"',
     "Approve.Parameters.return_id.$: $.returnId: $ is ReturnWorkflowInput"),
    # a token task's output
    ("returns", '"inspected.$": "$.inspection.inspected"', '"inspected.$": "$.inspection.result"',
     "Restock.Parameters.inspected.$: $.inspection.result: $.inspection is ReturnInspected"),
])
def test_a_mutated_definition_is_caught(machine: str, old: str, new: str, caught: str) -> None:
    errors = walk(machine, _mutated(machine, old, new)).errors
    assert any(caught in e for e in errors), errors


def test_a_state_only_reached_without_the_output_it_reads_is_caught() -> None:
    """Meet over paths: ConfirmAndSplit reached straight from TakePayment's Catch (no $.payment) fails."""
    definition = load_machine("order")
    definition["States"]["TakePayment"]["Catch"][-1]["Next"] = "ConfirmAndSplit"
    errors = walk("order", definition).errors
    assert any("ConfirmAndSplit.Parameters.payment_intent_id.$: $.payment.payment_intent_id" in e
               for e in errors), errors


# ================================================================== the errors a Catch or a Retry names
def _error_names(states: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for state in states.values():
        for key in ("Catch", "Retry"):
            for rule in state.get(key, []):
                names.update(n for n in rule["ErrorEquals"] if not n.startswith(("States.", "Lambda.")))
        if "ItemProcessor" in state:
            names |= _error_names(state["ItemProcessor"]["States"])
    return names


def test_every_error_a_state_machine_names_is_raised_by_that_name() -> None:
    """A Catch matches the error's name (a Lambda error's type is its exception's class name, a task token is
    failed with a name): renaming the class would send that outcome to States.ALL (a cancelled order to the
    compensation) without any test of the definition noticing. Outcomes signalled as errors instead of a
    Choice state after the task (ConfirmAndSplit's OrderCancelledMeanwhile) are named here too."""
    from shop import errors
    from shop.orders import service as orders_service
    from shop.payments import errors as payment_errors

    raised = {c.__name__: c for c in (errors.ServiceBusy, errors.DependencyFailed,
                                      orders_service.OrderCancelledMeanwhile, fulfillment_service.OrderNotShippable,
                                      payment_errors.PaymentDeclined, payment_errors.OrderAlreadyClosed)}
    named = set().union(*(_error_names(load_machine(m)["States"]) for m in EXECUTION_INPUT))
    assert named == set(raised), named
    assert all(issubclass(c, Exception) for c in raised.values())
    confirm = load_machine("order")["States"]["ConfirmAndSplit"]
    assert confirm["Catch"][0] == {"ErrorEquals": ["OrderCancelledMeanwhile"], "ResultPath": "$.error",
                                   "Next": "CancelledMeanwhile"}
    assert "OrderCancelledMeanwhile" not in {n for r in confirm["Retry"] for n in r["ErrorEquals"]}


def test_confirm_reports_an_order_cancelled_meanwhile_as_the_error_the_machine_catches(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """ConfirmAndSplit (issue 17: ConfirmOrder and SplitOrder in one step): the confirmation finds the order
    cancelled, the step fails with OrderCancelledMeanwhile and splits nothing."""
    app = _app("fulfillment")
    event = _sample_events()[("fulfillment", "confirm_and_split", None)]
    monkeypatch.setattr(app.service.orders_service, "confirm_paid", lambda *a, **kw: {
        "order_id": event["order_id"], "status": OrderStatus.CANCELLED, "changed": False})
    monkeypatch.setattr(app.service, "split", lambda *a, **kw: pytest.fail("a cancelled order was split"))
    with pytest.raises(app.service.orders_service.OrderCancelledMeanwhile) as caught:
        app._handle(event, None)
    assert type(caught.value).__name__ == "OrderCancelledMeanwhile"


def test_confirm_and_split_confirms_first_then_splits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one step does what ConfirmOrder then SplitOrder did, in that order, with the payment's intent."""
    app = _app("fulfillment")
    event = _sample_events()[("fulfillment", "confirm_and_split", None)]
    calls: list[tuple[Any, ...]] = []
    split = _example(OrderSplit)
    monkeypatch.setattr(app.service.orders_service, "confirm_paid", lambda *a: calls.append(("confirm", *a)) or {
        "order_id": event["order_id"], "status": OrderStatus.PAID, "changed": True})
    monkeypatch.setattr(app.service, "split", lambda *a: calls.append(("split", *a)) or split)
    assert app._handle(event, None) == {"order_id": event["order_id"], "confirmation": {
        "order_id": event["order_id"], "status": "PAID"}, "shipments": split["shipments"]}
    assert calls == [("confirm", event["order_id"], event["payment_intent_id"]), ("split", event["order_id"])]


# ================================================================== a wrong model is caught
def _renamed(model: type[BaseModel], old: str, new: str) -> type[BaseModel]:
    """A copy of ``model`` with the field ``old`` renamed ``new`` (what a refactoring would do)."""
    fields: dict[str, Any] = {(new if n == old else n): (f.annotation, copy.copy(f)) for n, f in
                              model.model_fields.items()}
    assert old in model.model_fields
    return create_model(model.__name__, __base__=WorkflowData, **fields)


def _swap(old: type[BaseModel], new: type[BaseModel]) -> dict[tuple[str, str | None, str | None], TaskContract]:
    return {k: replace(c, output=new if c.output is old else c.output,
                       resumed_with=new if c.resumed_with is old else c.resumed_with) for k, c in TASKS.items()}


@pytest.mark.parametrize(("machine", "model", "old", "new", "caught"), [
    ("order", PaymentOutcome, "status", "state", "AbandonOutcome.Choices[0].Variable: $.payment.status"),
    ("order", PaymentOutcome, "payment_intent_id", "intent_id",
     "ConfirmAndSplit.Parameters.payment_intent_id.$: $.payment.payment_intent_id"),
    ("order", ReservationReleased, "status", "final", "ReleaseOutcome.Choices[0].Variable: $.release.status"),
    ("order", OrderConfirmedAndSplit, "shipments", "parcels", "FulfilShipments.ItemsPath: $.split.shipments"),
    ("order", PackTaskDone, "package_weight_grams", "weight", "AwaitPickup.Parameters.package_weight_grams.$"),
    ("exchanges", PackTaskDone, "package_weight_grams", "weight",
     "CommitReplacementStock.Parameters.package_weight_grams.$"),
    ("exchanges", PickupTaskDone, "picked_up_at", "scanned_at", "MarkReplacementShipped.Parameters.picked_up_at.$"),
    ("returns", ReturnInspected, "inspected", "units", "Restock.Parameters.inspected.$: $.inspection.inspected"),
])
def test_a_renamed_output_field_is_caught(machine: str, model: type[BaseModel], old: str, new: str,
                                          caught: str) -> None:
    errors = walk(machine, tasks=_swap(model, _renamed(model, old, new))).errors
    assert any(caught in e for e in errors), errors


def test_a_renamed_execution_input_or_task_input_field_is_caught() -> None:
    errors = walk("order", execution_input=_renamed(OrderWorkflowInput, "order_id", "id")).errors
    assert any("TakePayment.Parameters.order_id.$: $.order_id: $ is OrderWorkflowInput" in e for e in errors), errors
    errors = walk("order", execution_input=_renamed(OrderWorkflowInput, "payment_timeout_seconds", "wait")).errors
    assert any("TakePayment.TimeoutSecondsPath: $.payment_timeout_seconds" in e for e in errors), errors
    renamed = _renamed(ConfirmAndSplitTask, "payment_intent_id", "intent_id")
    tasks = {k: replace(c, input=renamed) if c.input is ConfirmAndSplitTask else c for k, c in TASKS.items()}
    errors = walk("order", tasks=tasks).errors
    assert any("ConfirmAndSplit.Parameters: ConfirmAndSplitTask has no field 'payment_intent_id'" in e
               for e in errors), errors


def test_a_narrowed_output_value_is_caught() -> None:
    """The payment outcome no longer says "succeeded": AbandonOutcome's branch to ConfirmAndSplit could never be
    taken."""
    narrowed = create_model("PaymentOutcome", __base__=WorkflowData, **{  # type: ignore[call-overload]
        n: ((Literal["requires_action", "declined", "skipped"] if n == "status" else f.annotation), copy.copy(f))
        for n, f in PaymentOutcome.model_fields.items()})
    errors = walk("order", tasks=_swap(PaymentOutcome, narrowed)).errors
    assert any("AbandonOutcome" in e and "$.payment.status is never 'succeeded'" in e for e in errors), errors


# ================================================================== the models' examples through the handlers
def _example(model: type[BaseModel]) -> dict[str, Any]:
    extra = model.model_config.get("json_schema_extra")  # as written: model_json_schema() sorts its keys
    examples = extra.get("examples") if isinstance(extra, dict) else None
    assert isinstance(examples, list) and len(examples) == 1 and isinstance(examples[0], dict), model.__name__
    return dict(examples[0])


def _models() -> Iterator[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    for c in TASKS.values():
        for m in (c.output, c.resumed_with):
            if m is not None and m not in seen:
                seen.add(m)
                yield m
    yield from EXECUTION_INPUT.values()
    yield from (ExpiredReservationsSwept, RestockOrdered, RestockSkipped)


@pytest.mark.parametrize("model", list(_models()), ids=lambda m: m.__name__)
def test_each_example_is_its_model_exactly(model: type[WorkflowData]) -> None:
    """An example survives emit byte for byte (keys, order, absent ones absent), and a key the model does not
    declare is refused, not dropped."""
    example = _example(model)
    assert json.dumps(model.emit(example)) == json.dumps(example)
    with pytest.raises(ValidationError):
        model.emit({**example, "unexpected": 1})


def _app(function: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"workflow_contracts_{function}", ROOT / "functions" / function /
                                                  "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sample_events() -> dict[tuple[str, str | None, str | None], dict[str, Any]]:
    """events/<function>/*.json (the sample inputs of ``make invoke``) by the TASKS key they are for."""
    found: dict[tuple[str, str | None, str | None], dict[str, Any]] = {}
    for function in {k[0] for k in TASKS}:
        for path in sorted((ROOT / "events" / function).glob("*.json")):
            event = json.loads(path.read_text())
            action = event.get("action", "charge" if function == "payments" else None)
            found[(function, action, kind_of(event))] = event
    found.setdefault(("returns", "open_inspection", None), {
        "action": "open_inspection", "order_id": "ord_sampleorderaaaaaaaaaaaaaaa",
        "return_id": "ret_0123456789abcdef0123", "task_token": "token-1"})
    return found


# the service call each handler makes, stubbed to answer what yields the model's example
STUBS: dict[tuple[str, str | None, str | None], tuple[str, str, Callable[[dict[str, Any]], Any]]] = {
    ("payments", "charge", None): ("service", "charge", lambda ex: (_example(PaymentOutcome), ex["waiting"])),
    ("payments", "abandon", None): ("service", "abandon", lambda ex: ex),
    ("orders_release", None, None): ("service", "fail_payment", lambda ex: {
        "order_id": ex["order_id"], "released": ex["released"], "status": OrderStatus(ex["status"])}),
    ("fulfillment", "confirm_and_split", None): ("service", "confirm_and_split", lambda ex: {
        **ex, "confirmation": {**ex["confirmation"], "changed": True}}),
    ("fulfillment", "open_task", "pick"): ("service", "open_task", lambda ex: ex),
    ("fulfillment", "open_task", "pick+pack"): ("service", "open_task", lambda ex: ex),
    ("fulfillment", "open_task", "pack"): ("service", "open_task", lambda ex: ex),
    ("fulfillment", "open_task", "pickup"): ("service", "open_task", lambda ex: ex),
    ("fulfillment", "commit_stock", None): ("service", "commit_stock", lambda ex: ex),
    ("fulfillment", "mark_shipped", None): ("service", "mark_shipped", lambda ex: ex),
    ("fulfillment", "cancel", None): ("cancellation", "cancel", lambda ex: {  # the order view
        "order_id": ex["order_id"], "status": ex["status"], "created_at": "2026-11-24T09:00:00Z",
        "payment": ex["payment"], "shipments": []}),
    ("returns", "approve", None): ("exchanges", "approve", lambda ex: ex),
    ("returns", "issue_label", None): ("service", "issue_label", lambda ex: ex),
    ("returns", "open_inspection", None): ("service", "open_inspection", lambda ex: ex),
    ("returns", "restock", None): ("exchanges", "restock", lambda ex: ex),
    ("returns", "refund", None): ("service", "refund", lambda ex: ex),
    ("returns", "release_replacement", None): ("exchanges", "release_replacement", lambda ex: ex),
    ("returns", "settle_difference", None): ("exchanges", "settle_difference", lambda ex: ex),
    ("returns", "ship_replacement", None): ("exchanges", "ship_replacement", lambda ex: ex),
    ("returns", "complete_exchange", None): ("exchanges", "complete_exchange", lambda ex: ex),
}


@pytest.mark.parametrize("key", list(TASKS), ids=lambda k: "-".join(p for p in k if p))
def test_each_task_handler_takes_its_input_and_gives_its_output_model(
        key: tuple[str, str | None, str | None], monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample event is the task's input model; the handler's answer, with the service answering the output
    model's example, is that example byte for byte (so what the state machine sees is unchanged)."""
    function, contract = key[0], TASKS[key]
    event = _sample_events()[key]
    parsed = contract.input.model_validate(event if function != "payments" else {"action": "charge", **event})
    assert (getattr(parsed, "action", None), kind_of(parsed.model_dump())) == key[1:]
    app = _app(function)
    owner, name, stub = STUBS[key]
    example = _example(contract.output)
    for first_owner, first_name, answer in BEFORE.get(key, ()):
        monkeypatch.setattr(getattr(app, first_owner), first_name, lambda *a, answer=answer, **kw: answer())
    monkeypatch.setattr(getattr(app, owner), name, lambda *a, **kw: stub(example))
    assert json.dumps(app._handle(event, None)) == json.dumps(example)


# what a handler does before the call STUBS names (its output not the step's): the pickup step buys the label
# first (issue 17, the label step merged into the pickup step)
BEFORE: dict[tuple[str, str | None, str | None], list[tuple[str, str, Callable[[], Any]]]] = {
    ("fulfillment", "open_task", "pickup"): [("service", "create_label", lambda: _example(LabelCreated))],
}


@pytest.mark.parametrize("create_label", [True, False])
def test_the_pickup_step_buys_the_label_first_with_the_pack_weight_then_opens_the_task(
        monkeypatch: pytest.MonkeyPatch, create_label: bool) -> None:
    """AwaitPickup is the label step and the pickup step in one invocation: the label (idempotent) first, so
    that the task's opening finds the pickup booked, then the token recorded. Without ``create_label`` (an
    execution started before the merge: its CreateLabel step bought the label) only the task is opened."""
    app = _app("fulfillment")
    event = {**_sample_events()[("fulfillment", "open_task", "pickup")]}
    if not create_label:
        event.pop("create_label"), event.pop("package_weight_grams")
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(app.service, "create_label", lambda *a: calls.append(("create_label", *a)) or
                        _example(LabelCreated))
    monkeypatch.setattr(app.service, "open_task", lambda *a, **kw: calls.append(("open_task", *a[:3])) or
                        _example(TaskOpened))
    assert app._handle(event, None) == _example(TaskOpened)  # the token's task: what the step returns
    opened = ("open_task", event["order_id"], event["shipment_id"], TaskKind.PICKUP)
    assert calls == ([("create_label", event["order_id"], event["shipment_id"], 950), opened] if create_label
                     else [opened])


@pytest.mark.parametrize("key", [("fulfillment", "open_task", "pick+pack"), ("fulfillment", "open_task", "pick")])
def test_the_pick_step_passes_its_chain_to_the_service(key: tuple[str, str | None, str | None],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """PickAndPack's ``then: pack`` reaches shop.fulfillment.service.open_task (the pick task stores it); the
    Pick step of an execution started before it (and the exchanges' PickReplacement) passes none."""
    app = _app("fulfillment")
    calls: list[Any] = []
    monkeypatch.setattr(app.service, "open_task", lambda *a, **kw: calls.append((a[2], kw)) or _example(TaskOpened))
    assert app._handle(_sample_events()[key], None) == _example(TaskOpened)
    assert calls == [(TaskKind.PICK, {"then": TaskKind.PACK if key[2] == "pick+pack" else None})]


@pytest.mark.parametrize("payload", [{"kind": "pick", "create_label": True},
                                     {"kind": "pack", "package_weight_grams": 950},
                                     {"kind": "pickup", "package_weight_grams": 950},
                                     {"kind": "pack", "then": "pack"}, {"kind": "pickup", "then": "pack"},
                                     {"kind": "pick", "then": "pickup"}])
def test_a_label_goes_with_a_pickup_step_only(payload: dict[str, Any]) -> None:
    """(and a chained task, ``then``, is a pick followed by its pack only)"""
    event = {**_sample_events()[("fulfillment", "open_task", "pickup")]}
    event.pop("create_label"), event.pop("package_weight_grams")
    with pytest.raises(ValidationError):
        OpenTaskTask.model_validate({**event, **payload})


@pytest.mark.parametrize("waits", [True, False])
def test_a_handler_refuses_an_output_that_drifted(monkeypatch: pytest.MonkeyPatch, waits: bool) -> None:
    """A service that renamed a key fails the task (the state machine catches it), not a later state; the waiting
    charge checks the outcome before it resumes the token with it."""
    app = _app("payments")
    drifted = {**_example(PaymentOutcome)}
    drifted["state"] = drifted.pop("status")
    monkeypatch.setattr(app.service, "take_payment", lambda order_id: drifted)
    monkeypatch.setattr(app.service.order_ports, "workflow", None)  # no token is resumed or failed
    event = {**_sample_events()[("payments", "charge", None)]}
    if not waits:
        event.pop("task_token")
    with pytest.raises(ValidationError):
        app._handle(event, None)


def test_the_scheduled_and_event_handlers_give_their_models(monkeypatch: pytest.MonkeyPatch) -> None:
    sweeper = _app("orders_sweeper")
    ids = ["ord_sampleorderaaaaaaaaaaaaaaa", "ord_sampleorderbbbbbbbbbbbbbbb", "ord_sampleordercccccccccccccc"]
    monkeypatch.setattr(sweeper.service, "expired_order_ids", lambda limit, cursor: (ids, None))
    monkeypatch.setattr(sweeper.service, "release", lambda order_id, *a, **kw: {"released": order_id != ids[-1]})
    assert json.dumps(sweeper._handle({}, None)) == json.dumps(_example(ExpiredReservationsSwept))
    restock = _app("procurement_restock")
    restock.obs.logger.setLevel("INFO")  # as deployed (the local stack logs WARNING): its info line must work
    event = json.loads((ROOT / "events" / "procurement_restock" / "stock_low.json").read_text())
    for model in (RestockOrdered, RestockSkipped):
        monkeypatch.setattr(restock.service, "restock", lambda sku, warehouse_id, m=model: _example(m))
        assert json.dumps(restock._handle(event, None)) == json.dumps(_example(model))


def test_the_docs_name_every_model() -> None:
    docs = (ROOT / "docs" / "conventions.md").read_text()
    missing = {m.__name__ for m in _models()} | {c.input.__name__ for c in TASKS.values()}
    assert {name for name in missing if f"`{name}`" not in docs and f".{name}`" not in docs} == set()


@pytest.mark.parametrize("machine", sorted(EXECUTION_INPUT))
def test_the_sample_execution_inputs_are_the_models(machine: str) -> None:
    sample = json.loads((ROOT / "events" / "statemachines" / f"{machine}.json").read_text())
    assert EXECUTION_INPUT[machine].model_validate(sample).model_dump(mode="json") == sample


# ================================================================== what task tokens are resumed with
def _task(kind: TaskKind, result: dict[str, Any], by: str = "usr_staff0001") -> WarehouseTask:
    return WarehouseTask(task_id=f"tsk_sampleorderaaaaaaaaaaaaaaa_1_{kind.value}", kind=kind, status=TaskStatus.DONE,
                         order_id="ord_sampleorderaaaaaaaaaaaaaaa", shipment_id="shp_sampleorderaaaaaaaaaaaaaaa_1",
                         warehouse_id="berlin", created_at="2026-11-25T09:00:00Z",
                         checklist=[ShipmentItem(sku="MUG-BLUE-350", name="Enamel mug, blue", quantity=2,
                                                 weight_grams=400)],
                         completed_at="2026-11-25T10:00:00Z", completed_by=by, result=result,
                         instructions="...")


@pytest.mark.parametrize(("kind", "result", "model"), [
    (TaskKind.PICK, {"picked": [{"sku": "MUG-BLUE-350", "quantity": 2}]}, PickTaskDone),
    (TaskKind.PICK, {"picked": [{"sku": "MUG-BLUE-350", "quantity": 2}], "note": "bin empty after"}, PickTaskDone),
    (TaskKind.PACK, {"package_weight_grams": 950}, PackTaskDone),
    (TaskKind.PACK, {"package_weight_grams": 950, "note": "double box"}, PackTaskDone),
    (TaskKind.PICKUP, {"picked_up_at": "2026-11-26T07:58:12Z"}, PickupTaskDone),
    (TaskKind.RETURN, {"inspected": [{"sku": "MUG-BLUE-350", "sellable": 1, "damaged": 1}]}, ReturnInspected),
])
def test_a_completed_warehouse_task_resumes_its_token_with_the_model(kind: TaskKind, result: dict[str, Any],
                                                                     model: type[WorkflowData]) -> None:
    """shop.fulfillment.service.task_output is what staff completing a task (and the carrier's scan) send."""
    sent = json.loads(json.dumps(fulfillment_service.task_output(_task(kind, result))))
    assert json.dumps(model.emit(sent)) == json.dumps(sent)


def test_a_return_task_done_before_its_step_resumes_with_the_model() -> None:
    """shop.returns.service.open_inspection sends the task id and its result only (no kind, no completion)."""
    sent = {"task_id": "tsk_0123456789abcdef0123_return",
            **{"inspected": [{"sku": "C40-BLACK", "sellable": 1, "damaged": 0}]}}
    assert ReturnInspected.emit(sent) == sent


@pytest.mark.parametrize(("status", "intent", "code"), [("succeeded", "pi_1", None), ("declined", "pi_1", "expired"),
                                                        ("declined", None, "order_closed")])
def test_the_stripe_webhook_resumes_the_payment_token_with_the_model(status: str, intent: str | None,
                                                                      code: str | None) -> None:
    """shop.payments.service._out builds every payment outcome, the token's included."""
    sent = payments_service._out("ord_sampleorderaaaaaaaaaaaaaaa", status, intent, code)
    assert json.dumps(PaymentOutcome.emit(sent)) == json.dumps(sent)
