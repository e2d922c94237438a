"""CORS headers of the HTTP functions' answers (shop.api): configured at run time, echoed for allowed origins."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel
from shop.api import Guard, body_refused, make_resolver, with_cors
from shop.config import function_environment, get_settings
from shop.errors import ConfigurationError

pytestmark = pytest.mark.unit

ORIGINS = "https://shop.example,https://admin.shop.example"


class Body(BaseModel):
    quantity: int


def _app() -> Any:
    app = make_resolver()  # built before any configuration exists, as a function module does at import

    @app.get("/things/<id>")
    def get_thing(id: str) -> dict[str, str]:
        return {"id": id}

    @app.put("/things/<id>")
    def put_thing(id: str, body: Body) -> dict[str, int]:
        return {"q": body.quantity}

    return app


def _event(origin: str | None, method: str = "GET", body: str | None = None) -> dict[str, Any]:
    headers = {"Origin": origin} if origin else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {"resource": "/things/{id}", "path": "/things/1", "httpMethod": method, "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": {"id": "1"},
            "requestContext": {"resourcePath": "/things/{id}", "httpMethod": method, "requestId": "r-1",
                               "stage": "local"},
            "body": body, "isBase64Encoded": False}


def _headers(result: dict[str, Any]) -> dict[str, str]:
    out = {k: v for k, v in (result.get("headers") or {}).items()}
    out.update({k: ", ".join(v) for k, v in (result.get("multiValueHeaders") or {}).items()})
    return out


def _cors(result: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in _headers(result).items() if k.lower().startswith("access-control-")}


@pytest.mark.parametrize("origin", ["https://shop.example", "https://admin.shop.example"])
def test_allowed_origin_is_echoed_on_2xx_and_4xx(origin):
    app = _app()
    with function_environment({"CORS_ALLOWED_ORIGINS": ORIGINS}):
        ok = app.resolve(_event(origin), {})
        bad = app.resolve(_event(origin, "PUT", json.dumps({"quantity": "many"})), {})
    assert ok["statusCode"] == 200 and bad["statusCode"] == 422
    for result in (ok, bad):
        cors = _cors(result)
        assert cors["Access-Control-Allow-Origin"] == origin
        allowed = {h.strip() for h in cors["Access-Control-Allow-Headers"].split(",")}
        assert {"Authorization", "Content-Type", "Idempotency-Key"} <= allowed
        assert cors["Access-Control-Max-Age"] == "600"
        assert "Access-Control-Allow-Credentials" not in cors
        assert _headers(result)["Vary"] == "Origin"


@pytest.mark.parametrize("origin", ["https://evil.example", "https://shop.example.evil.example", "null", None])
def test_other_origins_get_no_cors_header(origin):
    app = _app()
    with function_environment({"CORS_ALLOWED_ORIGINS": ORIGINS}):
        result = app.resolve(_event(origin), {})
    assert result["statusCode"] == 200
    assert _cors(result) == {}


def test_configuration_is_read_per_request_not_at_import():
    app = _app()
    with function_environment({}):
        assert _cors(app.resolve(_event("https://shop.example"), {})) == {}
    with function_environment({"CORS_ALLOWED_ORIGINS": "https://shop.example"}):
        assert _cors(app.resolve(_event("https://shop.example"), {}))["Access-Control-Allow-Origin"] == \
            "https://shop.example"


def test_answers_built_before_the_resolver_get_the_headers_too():
    event = {**_event("https://shop.example"), "resource": "/cart"}
    with function_environment({"CORS_ALLOWED_ORIGINS": ORIGINS}):
        denied = with_cors(event, Guard("/").denied(event) or {})
        big = with_cors(event, body_refused({**event, "body": "x" * 100}, max_body_bytes=10) or {})
        foreign = with_cors({**event, "headers": {"origin": "https://evil.example"}}, Guard("/").denied(event) or {})
    assert denied["statusCode"] == 401 and _cors(denied)["Access-Control-Allow-Origin"] == "https://shop.example"
    assert big["statusCode"] == 413 and _cors(big)["Access-Control-Allow-Origin"] == "https://shop.example"
    assert foreign["statusCode"] == 401 and _cors(foreign) == {}


@pytest.mark.parametrize("value", ["https://shop.example/", "shop.example", "https://a.example;https://b.example",
                                   "javascript:alert(1)"])
def test_malformed_origins_are_a_configuration_error(value):
    with function_environment({"CORS_ALLOWED_ORIGINS": value}), pytest.raises(ConfigurationError):
        get_settings()


def test_origins_are_split_trimmed_and_deduplicated():
    with function_environment({"CORS_ALLOWED_ORIGINS": " https://a.example, https://b.example:8443,,https://a.example"}):
        assert get_settings().cors_origins == ("https://a.example", "https://b.example:8443")
