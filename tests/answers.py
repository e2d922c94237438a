"""What a client gets from a route whose answer is ``data`` under the return annotation ``model``: the answer
goes through a real resolver (shop.api.make_resolver), as in the functions, so response-model validation and
serialization are the real ones."""

from __future__ import annotations

import json
from typing import Any

from shop.api import make_resolver
from shop.config import function_environment


def answer(model: Any, data: dict[str, Any]) -> tuple[int, Any]:
    """(status, body) of a GET route that returns ``data`` under the return annotation ``model``."""
    app = make_resolver()

    def route() -> Any:
        return data

    route.__annotations__["return"] = model
    app.get("/answer")(route)
    event = {"resource": "/answer", "path": "/answer", "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
             "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
             "requestContext": {"resourcePath": "/answer", "httpMethod": "GET", "requestId": "r-1", "stage": "local"},
             "body": None, "isBase64Encoded": False}
    with function_environment({}):
        result = app.resolve(event, {})
    return result["statusCode"], json.loads(result["body"])


def same(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The answer is ``data`` itself (as JSON), with status 200."""
    status, body = answer(model, data)
    assert (status, body) == (200, json.loads(json.dumps(data))), body
    return dict(body)
