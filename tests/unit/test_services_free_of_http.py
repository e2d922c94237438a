"""The services and repositories speak no HTTP (issue 13): shop.api alone knows statuses and where a field
arrives; a service names a field relative to its input and the handler layer adds ``body.``/``query.``/
``path.`` from the route's signature (shop.api.FieldLocations), with ``field_locations`` as the override."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
from pathlib import Path
from typing import Annotated, Any

import pytest
import shop
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict
from shop import errors as E
from shop.api import STATUS, field_locations, http_status, make_resolver, proxy_error

pytestmark = pytest.mark.unit

SHOP = Path(shop.__file__).parent
BORDER = {SHOP / "api.py"}  # the one module that speaks HTTP
LOCATOR = re.compile(r"^(body|query|path)\.")
LOCATIONS = {"body", "query", "path"}


def _modules() -> list[Path]:
    return sorted(p for p in SHOP.rglob("*.py") if p not in BORDER)


def _is_docstring(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    parent = parents.get(node)
    return isinstance(parent, ast.Expr)


def _locators(tree: ast.AST) -> list[tuple[int, str]]:
    """Field locators in a module: a string (or the text an f-string starts with) "body."/"query."/"path.",
    or InvalidInput("body"/"query"/"path", ...)."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            if isinstance(head, ast.Constant) and isinstance(head.value, str) and LOCATOR.match(head.value):
                found.append((node.lineno, head.value))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and LOCATOR.match(node.value)
              and not isinstance(parents.get(node), ast.JoinedStr) and not _is_docstring(node, parents)):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.Call) and node.args:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first = node.args[0]
            if (name == "InvalidInput" and isinstance(first, ast.Constant) and first.value in LOCATIONS):
                found.append((node.lineno, str(first.value)))
    return found


def test_no_module_but_the_border_holds_a_field_locator() -> None:
    offenders = [f"{path.relative_to(SHOP)}:{line}: {text!r}" for path in _modules()
                 for line, text in _locators(ast.parse(path.read_text(encoding="utf-8")))]
    assert offenders == []


def test_the_scan_finds_each_kind_of_locator() -> None:
    code = ('raise InvalidInput("body.quantity", "x")\nraise InvalidInput(f"query.{name}", "x")\n'
            'raise E.InvalidInput("path", "x")\nCURSOR = "path.sku"\n"""a docstring naming body.quantity"""\n'
            'ok = InvalidInput("quantity", "x"), "bodyguard.x", f"lines.{i}.quantity"\n')
    assert sorted(line for line, _ in _locators(ast.parse(code))) == [1, 2, 3, 4]


def test_no_module_but_the_border_imports_the_event_handler() -> None:
    offenders = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(SHOP)}: {n}" for n in names
                          if n.startswith("aws_lambda_powertools.event_handler")]
    assert offenders == []


# the errors shop.errors defines (the contexts add their own subclasses)
ROOT_ERRORS = {c for c in vars(E).values() if isinstance(c, type) and issubclass(c, E.DomainError)} - {E.DomainError}


def _all_subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *_all_subclasses(direct)}}


def test_no_domain_error_knows_its_http_status() -> None:
    for info in pkgutil.walk_packages(shop.__path__, "shop."):
        importlib.import_module(info.name)
    errors = _all_subclasses(E.DomainError) | {E.DomainError}
    assert len(errors) > len(ROOT_ERRORS)  # the contexts' own errors were found too
    assert sorted(c.__qualname__ for c in errors if "status" in vars(c)) == []


def test_the_border_maps_each_error_to_the_status_of_its_most_specific_class() -> None:
    assert E.DomainError in STATUS and set(STATUS) <= ROOT_ERRORS | {E.DomainError}
    expected = {E.NotFound: 404, E.Conflict: 409, E.OutOfStock: 409, E.InvalidInput: 422, E.PayloadTooLarge: 413,
                E.Unauthorized: 401, E.Forbidden: 403, E.ServiceBusy: 503, E.DependencyFailed: 502,
                E.ConfigurationError: 500, E.PaymentDeclined: 402, E.DomainError: 500}
    assert {cls: http_status(cls) for cls in expected} == expected

    class Taken(E.Conflict):
        code = "taken"

    assert http_status(Taken("x")) == 409
    answer = proxy_error(E.PayloadTooLarge(10, "body"))
    assert answer["statusCode"] == 413
    assert json.loads(answer["body"])["error"]["details"]["fields"] == [
        {"field": "body", "message": "is larger than 10 bytes"}]


# ------------------------------------------------------------------ the location mapping, through a resolver

class Line(BaseModel):
    sku: str
    quantity: int


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str | None = None
    lines: list[Line]


def _app(raise_: Any) -> Any:
    app = make_resolver()

    @app.get("/things/<sku>")
    def read(sku: Annotated[str, PathParam()], cursor: Annotated[str | None, Query()] = None,
             end: Annotated[str | None, Query(alias="to")] = None) -> dict[str, Any]:
        raise raise_

    @app.post("/things/<sku>")
    def write(sku: str, body: Order) -> dict[str, Any]:
        raise raise_

    @app.post("/events")
    @field_locations(default="body")
    def event() -> dict[str, Any]:
        raise raise_

    @app.post("/accounts")
    @field_locations(email=None)
    def register(body: Order) -> dict[str, Any]:
        raise raise_

    return app


def _answer(method: str, path: str, error: E.DomainError, body: Any = None,
            query: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    event = {"resource": path, "path": path, "httpMethod": method, "headers": {"Content-Type": "application/json"},
             "multiValueHeaders": {}, "queryStringParameters": query,
             "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
             "pathParameters": None, "requestContext": {"requestId": "r-1", "stage": "local"},
             "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False}
    result = _app(error).resolve(event, None)
    return result["statusCode"], json.loads(result["body"])["error"]


ORDER = {"lines": [{"sku": "A-1", "quantity": 1}, {"sku": "B-2", "quantity": 9}]}


def test_a_query_parameter_is_located_in_the_query_by_its_public_name() -> None:
    status, err = _answer("GET", "/things/A-1", E.InvalidInput("cursor", "not a cursor of this listing"),
                          query={"cursor": "x"})
    assert status == 422
    assert err == {"code": "invalid_input", "message": "query.cursor: not a cursor of this listing",
                   "details": {"fields": [{"field": "query.cursor", "message": "not a cursor of this listing"}]}}
    for named in ("end", "to"):  # Query(alias="to"): the parameter's name or its alias
        assert _answer("GET", "/things/A-1", E.InvalidInput(named, "must not be before from"))[1]["message"] == \
            "query.to: must not be before from"


def test_a_path_parameter_is_located_in_the_path() -> None:
    status, err = _answer("GET", "/things/A-1", E.InvalidInput("sku", "the cart is full"))
    assert (status, err["message"], err["details"]["fields"][0]["field"]) == (422, "path.sku: the cart is full",
                                                                              "path.sku")
    _, err = _answer("POST", "/things/A-1", E.NotFound("no such sku", details={"field": "sku"}), body=ORDER)
    assert err["details"] == {"field": "path.sku"}


def test_a_nested_body_field_and_the_details_naming_fields_are_located_in_the_body() -> None:
    status, err = _answer("POST", "/things/A-1", E.InvalidInput("lines.1.quantity", "only 3 left",
                                                                details={"left": 3}), body=ORDER)
    assert status == 422
    assert err == {"code": "invalid_input", "message": "body.lines.1.quantity: only 3 left",
                   "details": {"fields": [{"field": "body.lines.1.quantity", "message": "only 3 left"}], "left": 3}}
    over = E.Conflict("over receipt", details={"field": "lines.0.quantity",
                                               "over": [{"field": "lines.1.quantity", "sku": "B-2"}]})
    status, err = _answer("POST", "/things/A-1", over, body=ORDER)
    assert status == 409
    assert err["details"] == {"field": "body.lines.0.quantity",
                              "over": [{"field": "body.lines.1.quantity", "sku": "B-2"}]}
    assert over.details["field"] == "lines.0.quantity"  # the error itself is left as the service raised it
    _, err = _answer("POST", "/things/A-1", E.InvalidInput("", "invalid parameter"), body=ORDER)
    assert err["message"] == "body: invalid parameter"  # "": the input as a whole, the body


def test_a_field_no_parameter_carries_stays_as_named() -> None:
    for field in ("cart", "header.Idempotency-Key"):
        _, err = _answer("POST", "/things/A-1", E.InvalidInput(field, "x"), body=ORDER)
        assert err["message"] == f"{field}: x" and err["details"]["fields"][0]["field"] == field
    _, err = _answer("POST", "/things/A-1", E.InvalidInput("email", "x"), body=ORDER)
    assert err["message"] == "body.email: x"  # a field of the body model


def test_a_route_overrides_what_its_signature_cannot_tell() -> None:
    _, err = _answer("POST", "/events", E.InvalidInput("id", "a Stripe event has an id (a string)"))
    assert err["message"] == "body.id: a Stripe event has an id (a string)"
    _, err = _answer("POST", "/events", E.InvalidInput("data.object.id", "x"))
    assert err["details"]["fields"][0]["field"] == "body.data.object.id"
    _, err = _answer("POST", "/events", E.InvalidInput("", "a Stripe event is a JSON object"))
    assert err["message"] == "body: a Stripe event is a JSON object"
    status, err = _answer("POST", "/accounts", E.Conflict("taken", details={"field": "email"}), body=ORDER)
    assert (status, err["details"]) == (409, {"field": "email"})  # email=None: answered as named
    _, err = _answer("POST", "/accounts", E.InvalidInput("lines.0.sku", "x"), body=ORDER)
    assert err["message"] == "body.lines.0.sku: x"  # the rest is still derived


def test_a_5xx_names_no_field_and_a_proxy_answer_keeps_fields_as_named() -> None:
    status, err = _answer("POST", "/things/A-1", E.DependencyFailed("table t-1 failed"), body=ORDER)
    assert (status, err) == (502, {"code": "dependency_failed", "message": "a downstream service failed; retry later"})
    answer = proxy_error(E.InvalidInput("quantity", "x"))
    assert json.loads(answer["body"])["error"]["message"] == "quantity: x"
