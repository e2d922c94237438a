"""Each function's settings (issue 13): what its app.py declares, what template.yaml gives it and what its code
reads agree, and the entry point checks the declaration on the first invocation.

- the environment of every function in template.yaml (Globals merged with its own variables; ``!Ref``,
  ``!GetAtt``, ``!Sub`` count as supplied) supplies each setting it ``needs``, and no variable that no declared
  setting reads (dead config), apart from ALLOWED_UNDECLARED below;
- the declaration matches the settings its code path reads: a static walk from functions/<x>/app.py through
  the module-level functions and classes it references in layers/shop/shop (``get_settings().x``,
  ``settings.x``, ``require("x")``), so neither a stale declaration nor an undeclared read passes;
- the template does not repeat a code default (shop/config.py is the one source of those);
- a function whose environment lacks a needed setting fails its first invocation with a ConfigurationError
  naming the variable (HTTP callers get 500 configuration_error), and importing a function reads no setting.
No AWS: nothing here starts the local stack.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import shop.config
from shop.config import (
    MAY_BE_EMPTY,
    PLATFORM_SETTINGS,
    Needs,
    Settings,
    env_var,
    function_environment,
    needs,
)
from shop.errors import ConfigurationError
from shop.observability import observability

from shoplocal.lambdas import LambdaContext
from shoplocal.template import load_yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shop"
FIELDS = frozenset(Settings.model_fields)
SETTING_OF_VAR = {env_var(name): name for name in FIELDS}

# Variables a function may get without declaring a setting for them: the one list, each with its reason.
POWERTOOLS_PREFIX = "POWERTOOLS_"  # read by Powertools itself (service name, metrics namespace, log level)
ALLOWED_UNDECLARED = {
    "PYDANTIC_DISABLE_PLUGINS": "read by pydantic itself: no plugins are shipped, so no function scans the "
                                "installed distributions' entry points for them (issue 17, cold imports)",
}


# ---------------------------------------------------------------- the template's functions

@dataclass(frozen=True)
class TemplateFunction:
    logical_id: str
    folder: str
    environment: dict[str, Any]  # variable -> literal value or intrinsic function
    http: bool


@cache
def template() -> dict[str, Any]:
    return load_yaml(ROOT / "template.yaml")


@cache
def template_functions() -> dict[str, TemplateFunction]:
    t = template()
    global_env = (((t.get("Globals") or {}).get("Function") or {}).get("Environment") or {}).get("Variables") or {}
    out = {}
    for lid, res in t["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        props = res.get("Properties") or {}
        own = ((props.get("Environment") or {}).get("Variables")) or {}
        events = (props.get("Events") or {}).values()
        out[lid] = TemplateFunction(lid, Path(props["CodeUri"]).name, {**global_env, **own},
                                    any(e.get("Type") in ("Api", "HttpApi") for e in events))
    return out


def _supplied(value: Any) -> bool:
    """A literal value, or one CloudFormation computes (``!Ref``, ``!GetAtt``, ``!Sub``...)."""
    return value is not None


def _placeholder_env(fn: TemplateFunction) -> dict[str, str]:
    """The function's environment with every computed value replaced by a stand-in, as the runtime sees it."""
    return {k: (v if isinstance(v, str) else str(v) if isinstance(v, int | float) else f"<{k.lower()}>")
            for k, v in fn.environment.items() if _supplied(v)}


@cache
def declaration(folder: str) -> Needs:
    """The declared settings of functions/<folder>/app.py (imported under its own name, as the runtime does)."""
    path = ROOT / "functions" / folder / "app.py"
    spec = importlib.util.spec_from_file_location(f"test_function_config_{folder}", path)
    assert spec and spec.loader
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    obs = getattr(module, "obs", None)
    assert obs is not None, f"{path}: no `obs = observability(...)` declaring the function's settings"
    return obs.needs


FUNCTIONS = sorted(template_functions())


def test_the_template_has_the_functions_this_test_checks() -> None:
    folders = {f.folder for f in template_functions().values()}
    assert folders == {p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists()}
    assert len(FUNCTIONS) >= 20


def test_the_allowed_undeclared_variables_are_few_and_all_in_globals() -> None:
    global_env = template()["Globals"]["Function"]["Environment"]["Variables"]
    assert set(ALLOWED_UNDECLARED) <= set(global_env)
    assert all(reason.strip() for reason in ALLOWED_UNDECLARED.values())


# ---------------------------------------------------------------- declaration vs environment

@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_the_environment_supplies_exactly_the_declared_settings(logical_id: str) -> None:
    fn = template_functions()[logical_id]
    declared = declaration(fn.folder)
    supplied = {k for k, v in fn.environment.items() if _supplied(v)}
    missing = sorted(env_var(n) for n in declared.needs if env_var(n) not in supplied)
    assert not missing, f"{logical_id}: needs {missing} but template.yaml does not set them"
    declared_vars = {env_var(n) for n in declared.settings}
    extra = sorted(v for v in supplied - declared_vars
                   if not v.startswith(POWERTOOLS_PREFIX) and v not in ALLOWED_UNDECLARED)
    assert not extra, (f"{logical_id}: template.yaml sets {extra}, which no setting declared in "
                       f"functions/{fn.folder}/app.py reads (dead config, or an undeclared setting)")


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_the_first_invocation_finds_every_needed_setting(logical_id: str) -> None:
    fn = template_functions()[logical_id]
    declared = declaration(fn.folder)
    env = _placeholder_env(fn)
    assert declared.missing(env) == []
    for name in sorted(declared.needs - MAY_BE_EMPTY):  # and each one is really checked
        assert declared.missing({k: v for k, v in env.items() if k != env_var(name)}) == [env_var(name)]


def test_the_template_does_not_repeat_a_code_default() -> None:
    """shop/config.py is the one source of every code default: a literal in the template that equals it is a
    second copy (values a stage chooses come from Parameters, resources from !Ref: neither is a literal)."""
    defaults = Settings()
    repeated = []
    for lid, fn in template_functions().items():
        for var, value in fn.environment.items():
            name = SETTING_OF_VAR.get(var)
            if name is None or not isinstance(value, str) or Settings.model_fields[name].default is None:
                continue
            if getattr(Settings.model_validate({var: value}), name) == getattr(defaults, name):
                repeated.append(f"{lid}: {var}")
    assert not repeated, f"remove these from template.yaml, the code default is the same: {sorted(repeated)}"


# ---------------------------------------------------------------- declaration vs code (static walk)

@dataclass
class _Module:
    name: str
    defs: dict[str, ast.stmt] = field(default_factory=dict)  # top-level functions and classes
    variables: dict[str, ast.expr] = field(default_factory=dict)  # top-level NAME = value
    top: list[ast.stmt] = field(default_factory=list)  # the rest of what runs at import
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # local name -> (module, attribute)


# imports inside these functions are not followed: the function runs for HTTP events only (a non-HTTP function
# never reaches it), and an HTTP function reads what it imports through its resolver anyway
_HTTP_ONLY = {("shop.observability", "_misconfigured_answer")}


def _parse(name: str, path: Path) -> _Module:
    mod = _Module(name)
    for st in ast.parse(path.read_text(), str(path)).body:
        if isinstance(st, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            mod.defs[st.name] = st
            continue
        targets = st.targets if isinstance(st, ast.Assign) else [st.target] if isinstance(st, ast.AnnAssign) else []
        value = getattr(st, "value", None)
        if targets and value is not None and all(isinstance(t, ast.Name) for t in targets):
            for t in targets:
                assert isinstance(t, ast.Name)
                mod.variables[t.id] = value
            continue
        mod.top.append(st)
        if isinstance(st, ast.ImportFrom) and st.module:
            for a in st.names:
                mod.imports[a.asname or a.name] = (st.module, a.name)
        elif isinstance(st, ast.Import):
            for a in st.names:
                mod.imports[a.asname or a.name.split(".")[0]] = (a.name if a.asname else a.name.split(".")[0], None)
    # an import inside a function (a rare path's module, imported when the path runs; issue 17) resolves the
    # same way, unless a top-level name shadows it
    for node in mod.defs.values():
        if (name, getattr(node, "name", "")) in _HTTP_ONLY:
            continue
        for st in ast.walk(node):
            if isinstance(st, ast.ImportFrom) and st.module and st.level == 0:
                for a in st.names:
                    mod.imports.setdefault(a.asname or a.name, (st.module, a.name))
    return mod


@cache
def _shop_module(name: str) -> _Module | None:
    if name != "shop" and not name.startswith("shop."):
        return None
    base = LAYER / name.replace(".", "/")
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return _parse(name, path)
    return None


# ("def", module, name): a top-level function or class (a class counts whole); ("var", module, name): a
# top-level variable's value; ("top", module): the rest of its import-time code; ("mod", module, ""): all of it
Node = tuple[str, str, str]


class _Walk:
    """Reachability over the shop's top-level functions, classes and variables, starting from all of an app.py.
    Names resolve statically: ``module.function`` through module aliases, and ``ports.store.function`` through
    a module-level ``ports = Ports(store=module)`` (the services' ports). A module used as a value any other way
    counts whole. It relies on the shop passing Settings around as a value named ``settings``
    (docs/conventions.md)."""

    def __init__(self, app: _Module):
        self.app = app

    def module(self, name: str) -> _Module | None:
        return self.app if name == self.app.name else _shop_module(name)

    def resolve(self, module: str, name: str, depth: int = 0) -> Node | None:
        mod = self.module(module)
        if mod is None or depth > 10:
            return None
        if name in mod.defs:
            return ("def", module, name)
        if name in mod.variables:
            return ("var", module, name)
        if name in mod.imports:
            source, attr = mod.imports[name]
            if attr is None:
                return ("mod", source, "") if _shop_module(source) else None
            if _shop_module(f"{source}.{attr}"):
                return ("mod", f"{source}.{attr}", "")
            return self.resolve(source, attr, depth + 1) if _shop_module(source) else None
        return None

    def _member(self, var: Node, attr: str) -> Node | None:
        """``var.attr`` where ``var = SomeClass(attr=<module or instance>, ...)``; None when it is anything else."""
        mod = self.module(var[1])
        value = mod.variables.get(var[2]) if mod is not None else None
        if not isinstance(value, ast.Call):
            return None
        arg = next((k.value for k in value.keywords if k.arg == attr), None)
        if isinstance(arg, ast.Call):  # an instance: its class
            arg = arg.func
        return self.resolve(var[1], arg.id) if isinstance(arg, ast.Name) else None

    def references(self, module: str, body: list[ast.AST]) -> set[Node]:
        found: set[Node] = set()
        chain_bases: set[int] = set()
        inner = {id(n.value) for st in body for n in ast.walk(st) if isinstance(n, ast.Attribute)}
        for st in body:
            for n in ast.walk(st):
                if not isinstance(n, ast.Attribute) or id(n) in inner:  # whole chains only: a.b.c, not a.b
                    continue
                parts: list[str] = []
                base: ast.expr = n
                while isinstance(base, ast.Attribute):
                    parts.append(base.attr)
                    base = base.value
                if not isinstance(base, ast.Name):
                    continue
                chain_bases.add(id(base))
                target = self.resolve(module, base.id)
                for part in reversed(parts):
                    if target is None or target[0] == "def":
                        break
                    if target[0] == "mod":
                        found.add(("top", target[1], ""))
                        target = self.resolve(target[1], part)
                    else:
                        member = self._member(target, part)
                        if member is None:
                            break
                        found.add(("top", target[1], ""))
                        target = member
                if target is not None:
                    found.add(target)  # where the chain stops: a function or class, or a value used as such
        for st in body:
            for n in ast.walk(st):
                if isinstance(n, ast.Name) and id(n) not in chain_bases:
                    target = self.resolve(module, n.id)
                    if target is not None:
                        found.add(target)
        return found

    def reads(self) -> dict[str, set[str]]:
        """Setting -> the places (module:name) that read it."""
        todo: list[Node] = [("mod", self.app.name, "")]
        seen: set[Node] = set()
        out: dict[str, set[str]] = {}
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            kind, module, name = node
            mod = self.module(module)
            if mod is None:
                continue
            if kind == "mod":
                todo.extend(("def", module, d) for d in mod.defs)
                todo.extend(("var", module, v) for v in mod.variables)
                todo.append(("top", module, ""))
                continue
            if kind != "top":
                todo.append(("top", module, ""))  # a module's import-time code runs whenever it is imported
            body: list[ast.AST] = (list(mod.top) if kind == "top" else [mod.defs[name]] if kind == "def"
                                   else [mod.variables[name]])
            # shop.config defines the settings (and names them in strings); the reads are elsewhere
            for setting in _settings_read(body) if module != "shop.config" else ():
                out.setdefault(setting, set()).add(f"{module}:{name or '<module>'}")
            todo.extend(self.references(module, body))
        return out


def _settings_property_reads() -> dict[str, set[str]]:
    """Settings properties (none at present) -> the fields they read."""
    path = LAYER / "shop" / "config.py"
    cls = next(n for n in ast.parse(path.read_text()).body if isinstance(n, ast.ClassDef) and n.name == "Settings")
    out = {}
    for item in cls.body:
        if isinstance(item, ast.FunctionDef) and any(getattr(d, "id", None) == "property" for d in item.decorator_list):
            out[item.name] = {n.attr for n in ast.walk(item) if isinstance(n, ast.Attribute) and n.attr in FIELDS
                              and isinstance(n.value, ast.Name) and n.value.id == "self"}
    return out


PROPERTY_READS = _settings_property_reads()
NO_DEFAULT = frozenset(n for n, f in Settings.model_fields.items() if f.default is None)


def _is_settings(expr: ast.expr) -> bool:
    if isinstance(expr, ast.Name):
        return expr.id == "settings"
    if isinstance(expr, ast.Call):
        func = expr.func
        return (getattr(func, "id", None) or getattr(func, "attr", None)) == "get_settings"
    return False


def _declarations(body: Sequence[ast.AST]) -> set[int]:
    """The nodes inside ``observability(...)`` / ``needs(...)`` calls: a declaration is not a read."""
    calls = [n for st in body for n in ast.walk(st) if isinstance(n, ast.Call)
             and (getattr(n.func, "id", None) or getattr(n.func, "attr", None)) in ("observability", "needs")]
    return {id(inner) for call in calls for inner in ast.walk(call)}


def _settings_read(body: Sequence[ast.AST]) -> set[str]:
    found: set[str] = set()
    declared = _declarations(body)
    for st in body:
        for n in ast.walk(st):
            if id(n) in declared:
                continue
            if isinstance(n, ast.Attribute) and _is_settings(n.value):
                if n.attr in FIELDS:
                    found.add(n.attr)
                found |= PROPERTY_READS.get(n.attr, set())
            # require("orders_table"), workflow.start("returns_state_machine_arn", ...): a setting named in a
            # string; only the fields without a default, whose names are never anything else
            elif isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in NO_DEFAULT:
                found.add(n.value)
    return found


@cache
def code_reads(folder: str) -> dict[str, set[str]]:
    app = _parse(f"functions.{folder}.app", ROOT / "functions" / folder / "app.py")
    return {k: v for k, v in _Walk(app).reads().items() if k not in PLATFORM_SETTINGS}


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_the_declaration_is_what_the_code_reads(logical_id: str) -> None:
    fn = template_functions()[logical_id]
    declared = declaration(fn.folder).settings
    reads = code_reads(fn.folder)
    undeclared = {name: sorted(reads[name]) for name in sorted(set(reads) - declared)}
    assert not undeclared, f"functions/{fn.folder}/app.py reads settings it does not declare: {undeclared}"
    stale = sorted(declared - set(reads))
    assert not stale, f"functions/{fn.folder}/app.py declares settings its code never reads: {stale}"


def test_the_walk_sees_reads_through_helpers_and_modules() -> None:
    """The walk itself: a read three calls away (checkout -> repository -> workflow via require) is found."""
    checkout = code_reads("checkout")
    assert "order_state_machine_arn" in checkout and "tax_rates_bps" in checkout
    assert any(place.startswith("shop.pricing:") for place in checkout["tax_rates_bps"])
    assert "returns_state_machine_arn" in code_reads("orders")  # workflow.start("returns_state_machine_arn")
    # through the ports (payment_ports.gateway is stripe_adapter), and only what is called through them: the
    # order store's inventory_table is read by release, which the payment steps (starting, recording and
    # confirming a payment through shop.orders.service) never call
    assert "shop.payments.stripe_adapter:_client" in code_reads("payments")["stripe_api_base"]
    assert "orders_table" in code_reads("payments") and "inventory_table" not in code_reads("payments")
    assert "inventory_table" in code_reads("orders_release")


def test_the_walk_finds_each_kind_of_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PROPERTY_READS, "tax_label", {"tax_rates_bps"})  # a Settings property reading a field
    tree = ast.parse("def f(settings):\n"
                     "    a = get_settings().orders_table\n"
                     "    b = settings.currency\n"
                     "    c = get_settings().require('carts_table')\n"
                     "    d = settings.tax_label\n"
                     "    e = order.currency\n")
    assert _settings_read(list(tree.body)) == {"orders_table", "currency", "carts_table", "tax_rates_bps"}


# ---------------------------------------------------------------- the declaration at run time

def test_a_declaration_names_real_settings_only() -> None:
    with pytest.raises(ValueError, match="no_such_setting"):
        needs("orders_table", "no_such_setting")
    with pytest.raises(ValueError, match="platform"):
        needs("region")
    with pytest.raises(ValueError, match="both"):
        needs("currency", optional=("currency",))
    assert needs("orders_table", optional=("currency",)).settings == {"orders_table", "currency"}


@pytest.fixture
def no_settings_read_at_import(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse() -> Any:
        raise AssertionError("a setting was read while importing a function")

    monkeypatch.setattr(shop.config, "environ", refuse)
    yield


@pytest.mark.parametrize("folder", sorted({f.folder for f in template_functions().values()}))
def test_importing_a_function_reads_no_setting(folder: str, no_settings_read_at_import: None) -> None:
    path = ROOT / "functions" / folder / "app.py"
    spec = importlib.util.spec_from_file_location(f"test_function_config_import_{folder}", path)
    assert spec and spec.loader
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


def _context() -> LambdaContext:
    return LambdaContext("probe", "$LATEST", "arn:aws:lambda:us-east-1:000000000000:function:probe", 128,
                         "req-1", "/aws/lambda/probe", "stream", int(time.time() * 1000) + 10_000)


def _probe() -> tuple[Any, list[Any]]:
    calls: list[Any] = []

    def work(event: Any, context: Any) -> dict[str, Any]:
        calls.append(event)
        return {"ok": True}

    obs = observability("probe", needs=("orders_table", "stripe_api_base"), optional=("currency",))
    return obs.entrypoint(work), calls


def test_the_first_invocation_without_a_needed_setting_fails_naming_its_variable() -> None:
    handler, calls = _probe()
    with function_environment({"STRIPE_API_BASE": ""}), pytest.raises(ConfigurationError) as err:
        handler({"task": "x"}, _context())
    assert "ORDERS_TABLE" in str(err.value) and "probe" in str(err.value)
    assert "STRIPE_API_BASE" not in str(err.value)  # may be empty: the real Stripe
    assert calls == []


def test_an_http_caller_gets_500_configuration_error_without_internals() -> None:
    handler, calls = _probe()
    event = {"httpMethod": "GET", "path": "/x", "resource": "/x", "headers": {"Origin": "https://shop.example"},
             "requestContext": {"requestId": "r-1"}}
    with function_environment({}):
        answer = handler(event, _context())
    assert answer["statusCode"] == 500
    assert json.loads(answer["body"]) == {"error": {"code": "configuration_error",
                                                    "message": "the service is misconfigured"}}
    # no CORS header: the HTTP API's CorsConfiguration adds them to every answer (test_template_cors)
    assert not any(k.lower().startswith("access-control-") for k in answer["headers"])
    assert calls == []


def test_an_invalid_value_fails_the_first_invocation_too() -> None:
    handler, calls = _probe()
    with function_environment({"ORDERS_TABLE": "orders", "TAX_RATES_BPS": "{not json"}), \
            pytest.raises(ConfigurationError, match="invalid configuration"):
        handler({}, _context())
    assert calls == []


def test_the_settings_are_checked_until_they_are_in_place_then_never_again() -> None:
    handler, calls = _probe()
    with function_environment({}), pytest.raises(ConfigurationError):
        handler({"n": 1}, _context())
    with function_environment({"ORDERS_TABLE": "orders"}):
        assert handler({"n": 2}, _context()) == {"ok": True}
    with function_environment({}):  # a warm environment does not check again
        assert handler({"n": 3}, _context()) == {"ok": True}
    assert calls == [{"n": 2}, {"n": 3}]
