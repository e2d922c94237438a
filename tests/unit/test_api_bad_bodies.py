"""shop.api refuses unreadable request bodies with a 4xx naming the field, never a 500 (no stack needed).

The same cases run over HTTP against the whole stack in tests/e2e/test_bad_input.py."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, StrictInt
from shop.api import MAX_BODY_BYTES, Guard, http_handler, make_resolver

pytestmark = pytest.mark.unit


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: StrictInt


class _Obs:
    @staticmethod
    def entrypoint(fn: Any, _path: str) -> Any:
        return fn


def _handler() -> Any:
    app = make_resolver()

    @app.put("/things/<id>")
    def put_thing(id: str, body: Body) -> dict[str, Any]:
        return {"quantity": body.quantity}

    return http_handler(app, _Obs(), Guard("/"))


def _event(body: str | None, *, b64: bool = False, content_type: str = "application/json",
           claims: dict[str, str] | None = None) -> dict[str, Any]:
    ctx: dict[str, Any] = {"resourcePath": "/things/{id}", "httpMethod": "PUT", "requestId": "r-1", "stage": "local",
                           "authorizer": {"claims": claims if claims is not None else {"sub": "u1"}}}
    return {"resource": "/things/{id}", "path": "/things/1", "httpMethod": "PUT",
            "headers": {"Content-Type": content_type}, "multiValueHeaders": {"Content-Type": [content_type]},
            "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": {"id": "1"},
            "requestContext": ctx, "body": body, "isBase64Encoded": b64}


def _call(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    result = _handler()(event, None)
    return result["statusCode"], json.loads(result["body"])


def _fields(body: dict[str, Any]) -> list[str]:
    return [f["field"] for f in body["error"]["details"]["fields"]]


def _padded(size: int) -> str:
    """A JSON object of exactly ``size`` bytes (UTF-8)."""
    head = '{"quantity": 1, "pad": "'
    return head + "é" * ((size - len(head) - 2) // 2) + "x" * ((size - len(head) - 2) % 2) + '"}'


def test_a_body_of_exactly_the_limit_is_parsed_and_one_byte_more_is_413() -> None:
    exact, over = _padded(MAX_BODY_BYTES), _padded(MAX_BODY_BYTES + 1)
    assert (len(exact.encode()), len(over.encode())) == (MAX_BODY_BYTES, MAX_BODY_BYTES + 1)
    status, body = _call(_event(exact))
    assert status == 422 and _fields(body) == ["body.pad"]  # read, and refused for what it says
    status, body = _call(_event(over))
    assert status == 413 and body["error"]["code"] == "payload_too_large" and _fields(body) == ["body"]
    assert body["error"]["details"]["limit_bytes"] == MAX_BODY_BYTES
    status, body = _call(_event(base64.b64encode(over.encode()).decode(), b64=True))
    assert status == 413 and body["error"]["code"] == "payload_too_large"


def test_the_guard_answers_before_the_body_is_looked_at() -> None:
    status, body = _call(_event(_padded(MAX_BODY_BYTES + 1), claims={}))
    assert status == 401 and body["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(("body", "b64"), [
    ('{"quantity": 1', False),
    ("nope", False),
    ("[" * 20_000 + "]" * 20_000, False),  # json.loads: RecursionError, not JSONDecodeError
    (base64.b64encode(b'{"quantity": "\xff"}').decode(), True),  # not UTF-8: API Gateway sends it base64
    ("!!! not base64 !!!", True),
])
def test_an_unreadable_body_is_400_malformed_json_naming_the_body(body: str, b64: bool) -> None:
    status, answer = _call(_event(body, b64=b64))
    assert status == 400, answer
    assert answer["error"]["code"] == "malformed_json" and _fields(answer) == ["body"]


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data", "multipart/form-data; boundary=b"])
def test_another_media_type_is_415_naming_the_content_type(content_type: str) -> None:
    status, body = _call(_event('{"quantity": 1}', content_type=content_type))
    assert status == 415, body
    assert body["error"]["code"] == "unsupported_media_type" and _fields(body) == ["header.Content-Type"]


def test_a_readable_body_still_reaches_the_route() -> None:
    assert _call(_event('{"quantity": 3}')) == (200, {"quantity": 3})
    status, body = _call(_event('{"quantity": true}'))
    assert status == 422 and _fields(body) == ["body.quantity"]
