"""The local runtime's patch 4: concurrent requests resolved by Powertools in one process each see their own
event (Powertools keeps it in class attributes, which Lambda's one-invocation-per-process makes safe)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from shoplocal import patches

pytestmark = pytest.mark.unit


def event(who: str) -> dict[str, Any]:
    return {"resource": "/whoami", "path": "/whoami", "httpMethod": "GET", "headers": {"X-Who": who},
            "multiValueHeaders": {"X-Who": [who]}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None,
            "requestContext": {"resourcePath": "/whoami", "httpMethod": "GET", "path": "/whoami",
                               "requestId": who, "stage": "local"}, "body": None, "isBase64Encoded": False}


def make_app(barrier: threading.Barrier) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()
    router = Router()

    @router.get("/whoami")
    def whoami() -> dict[str, Any]:
        before = app.current_event.headers["X-Who"]
        barrier.wait(timeout=10)  # every request is now in flight: all have set their event
        return {"before": before, "after": app.current_event.headers["X-Who"],
                "router": router.current_event.headers["X-Who"]}

    app.include_router(router)
    return app


def test_concurrent_requests_each_see_their_own_event():
    patches.apply()
    n = 8
    barrier = threading.Barrier(n)
    apps = [make_app(barrier) for _ in range(n)]  # one execution environment per invocation, as the invoker does

    def call(i: int) -> dict[str, Any]:
        import json

        return dict(json.loads(apps[i].resolve(event(f"user-{i}"), None)["body"]))

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(call, range(n)))
    assert results == [{"before": f"user-{i}", "after": f"user-{i}", "router": f"user-{i}"} for i in range(n)]
