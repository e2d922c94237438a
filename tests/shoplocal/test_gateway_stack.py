"""The gateway wired into the deployed local stack: real template routes, real Cognito pool, real handlers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from shoplocal.gateway import Gateway

pytestmark = pytest.mark.integration


class Recording:
    """Stands in for the stack's invoker: records what the function would receive."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def __call__(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls.append((function, event))
        return {"statusCode": 200, "body": "{}"}


@pytest.fixture
def recorded(stack) -> tuple[Gateway, Recording]:
    rec = Recording()
    real = stack.gateway
    return Gateway(real.routes, rec, real.authorizer, cors=real.cors, stage=real.stage,
                   gateway_responses=real.gateway_responses), rec


def test_public_route_reaches_the_real_handler(stack):
    resp = stack.request("GET", "/products")
    assert resp.status == 200, resp.body
    assert "items" in resp.json()
    assert resp.header("Access-Control-Allow-Origin") is None  # no Origin: the function adds no CORS header
    allowed = stack.function_env("CatalogFunction")["CORS_ALLOWED_ORIGINS"].split(",")[0]
    from_browser = stack.request("GET", "/products", headers={"Origin": allowed})
    assert from_browser.header("Access-Control-Allow-Origin") == allowed  # the function's, echoed


def test_protected_route_rejects_missing_and_access_tokens(stack, recorded):
    gw, rec = recorded
    user = stack.user()
    assert stack.request("GET", "/cart").status == 401
    assert gw.handle("GET", "/cart").status == 401
    assert gw.handle("GET", "/cart", headers={"Authorization": f"Bearer {user.access_token}"}).status == 401
    assert gw.handle("GET", "/cart", headers={"Authorization": "Bearer " + user.id_token[:-3] + "abc"}).status == 401
    assert rec.calls == []


def test_protected_route_passes_real_cognito_claims(stack, recorded):
    gw, rec = recorded
    user = stack.user(groups=("admin", "warehouse"))
    resp = gw.handle("PUT", "/cart/items/SKU-1", headers={"Authorization": f"Bearer {user.id_token}"},
                     body='{"quantity": 1}')
    assert resp.status == 200
    function, event = rec.calls[0]
    assert function == "CartFunction"
    assert event["pathParameters"] == {"sku": "SKU-1"}
    claims = event["requestContext"]["authorizer"]["claims"]
    assert claims["sub"] == user.user_id
    assert claims["email"] == user.email
    assert set(claims["cognito:groups"].split(",")) == {"admin", "warehouse"}
    assert event["requestContext"]["stage"] == stack.gateway.stage


def test_preflight_needs_no_token(stack, recorded):
    gw, rec = recorded
    resp = gw.handle("OPTIONS", "/checkout", headers={"Origin": "http://localhost:5173",
                                                       "Access-Control-Request-Method": "POST"})
    assert resp.status == 200
    assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]
    assert rec.calls == []


def test_http_gateway_serves_the_stack(stack):
    assert requests.get(f"{stack.base_url}/products", timeout=10).status_code == 200
    missing = requests.get(f"{stack.base_url}/no-such-route", timeout=10)
    assert missing.status_code == 403
    assert missing.json() == {"message": "Missing Authentication Token"}
    assert requests.get(f"{stack.base_url}/cart", timeout=10).status_code == 401
