"""The HTTP functions write no CORS header (shop.api): the HTTP API's CorsConfiguration (template.yaml, ShopHttpApi)
answers the preflights and adds the CORS headers to every answer, ignoring any a function returns
(tests/unit/test_template_cors.py pins that configuration)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from pydantic import BaseModel
from shop.api import Guard, http_handler, make_resolver
from shop.config import function_environment
from shop.observability import observability

from shoplocal.lambdas import LambdaContext

pytestmark = pytest.mark.unit

ORIGIN = "https://shop.example"


class Body(BaseModel):
    quantity: int


def _app() -> Any:
    app = make_resolver()

    @app.get("/things/<id>")
    def get_thing(id: str) -> dict[str, str]:
        return {"id": id}

    @app.put("/things/<id>")
    def put_thing(id: str, body: Body) -> dict[str, int]:
        return {"q": body.quantity}

    return app


def _event(method: str = "GET", body: str | None = None, *, claims: dict[str, str] | None = None,
           origin: str | None = ORIGIN) -> dict[str, Any]:
    headers = {"Origin": origin} if origin else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    context: dict[str, Any] = {"resourcePath": "/things/{id}", "httpMethod": method, "requestId": "r-1",
                               "stage": "$default"}
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {"resource": "/things/{id}", "path": "/things/1", "httpMethod": method, "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": {"id": "1"}, "requestContext": context,
            "body": body, "isBase64Encoded": False}


def _context() -> LambdaContext:
    return LambdaContext("probe", "$LATEST", "arn:aws:lambda:us-east-1:000000000000:function:probe", 128,
                         "req-1", "/aws/lambda/probe", "stream", int(time.time() * 1000) + 10_000)


def _cors(result: dict[str, Any]) -> dict[str, Any]:
    """The answer's Access-Control-* headers, and the Vary a function added for them."""
    headers = [*(result.get("headers") or {}).items(), *(result.get("multiValueHeaders") or {}).items()]
    return {k: v for k, v in headers if str(k).lower().startswith("access-control-") or str(k).lower() == "vary"}


# a stage's environment once carried the allowed origins: even with that variable set, nothing is echoed
@pytest.mark.parametrize("env", [{}, {"CORS_ALLOWED_ORIGINS": ORIGIN}])
@pytest.mark.parametrize("origin", [ORIGIN, "https://evil.example", None])
def test_resolver_answers_carry_no_cors_header(env, origin):
    app = _app()
    with function_environment(env):
        ok = app.resolve(_event(origin=origin), {})
        bad = app.resolve(_event("PUT", json.dumps({"quantity": "many"}), origin=origin), {})
        unknown = app.resolve({**_event(origin=origin), "resource": "/nothing", "path": "/nothing"}, {})
    assert (ok["statusCode"], bad["statusCode"], unknown["statusCode"]) == (200, 422, 404)
    for result in (ok, bad, unknown):
        assert _cors(result) == {}


def test_a_preflight_reaching_a_function_is_not_answered_with_cors_headers():
    # the HTTP API answers every preflight itself; a function has no OPTIONS route
    preflight = {**_event("OPTIONS"), "headers": {"Origin": ORIGIN, "Access-Control-Request-Method": "PUT"}}
    result = _app().resolve(preflight, {})
    assert result["statusCode"] == 404 and _cors(result) == {}


def test_answers_given_before_the_resolver_carry_no_cors_header_either():
    handler = http_handler(_app(), observability("probe"), Guard("/things"), max_body_bytes=10)
    with function_environment({"CORS_ALLOWED_ORIGINS": ORIGIN}):
        denied = handler(_event(), _context())
        too_big = handler(_event("PUT", json.dumps({"quantity": 10 ** 20}), claims={"sub": "u-1"}), _context())
        ok = handler(_event(claims={"sub": "u-1"}), _context())
    assert (denied["statusCode"], too_big["statusCode"], ok["statusCode"]) == (401, 413, 200)
    for result in (denied, too_big, ok):
        assert _cors(result) == {}


def test_a_misconfigured_function_answers_500_without_cors_headers():
    handler = http_handler(_app(), observability("probe", needs=("orders_table",)))
    with function_environment({"CORS_ALLOWED_ORIGINS": ORIGIN}):
        answer = handler(_event(claims={"sub": "u-1"}), _context())
    assert answer["statusCode"] == 500
    assert json.loads(answer["body"])["error"]["code"] == "configuration_error"
    assert _cors(answer) == {}
