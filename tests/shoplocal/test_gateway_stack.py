"""The HTTP API emulation wired into the deployed local stack: real template routes, CORS and JWT authorizer (the
real Cognito pool and app client), real handlers."""

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
    return Gateway(real.routes, rec, real.authorizer, cors=real.cors), rec


def test_the_stack_wires_its_own_pool_client_and_allowed_origins(stack):
    auth = stack.gateway.authorizer
    assert auth.issuer == f"https://cognito-idp.us-east-1.amazonaws.com/{stack.physical_id('UserPool')}"
    assert auth.audience == (stack.physical_id("UserPoolClient"),)
    allowed = stack.deployment.parameters["AllowedOrigins"].split(",")
    assert list(stack.gateway.cors.allow_origins) == allowed  # the deployment's AllowedOrigins


def test_public_route_reaches_the_real_handler(stack):
    resp = stack.request("GET", "/products")
    assert resp.status == 200, resp.body
    assert "items" in resp.json()
    assert resp.header("Access-Control-Allow-Origin") is None  # no Origin: no CORS header
    allowed = stack.gateway.cors.allow_origins[0]
    from_browser = stack.request("GET", "/products", headers={"Origin": allowed})
    assert from_browser.header("Access-Control-Allow-Origin") == allowed  # the gateway's, from CorsConfiguration
    foreign = stack.request("GET", "/products", headers={"Origin": "https://evil.example"})
    assert foreign.status == 200 and foreign.header("Access-Control-Allow-Origin") is None


def test_protected_route_rejects_missing_forged_and_other_client_tokens(stack, recorded):
    gw, rec = recorded
    user = stack.user()
    assert stack.request("GET", "/cart").status == 401
    assert gw.handle("GET", "/cart").status == 401
    forged = gw.handle("GET", "/cart", headers={"Authorization": "Bearer " + user.id_token[:-3] + "abc"})
    assert forged.status == 401 and forged.header("www-authenticate")
    idp = stack.client("cognito-idp")
    pool = stack.physical_id("UserPool")
    other = idp.create_user_pool_client(UserPoolId=pool, ClientName="not-the-shop",
                                        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    tokens = idp.initiate_auth(ClientId=other["UserPoolClient"]["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": user.email, "PASSWORD": user.password})
    for token in (tokens["AuthenticationResult"]["IdToken"], tokens["AuthenticationResult"]["AccessToken"]):
        resp = gw.handle("GET", "/cart", headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 401
        assert "the token does not have a valid audience" in (resp.header("www-authenticate") or "")
    assert rec.calls == []


def test_protected_route_passes_real_cognito_claims_of_id_and_access_tokens(stack, recorded):
    gw, rec = recorded
    user = stack.user(groups=("admin", "warehouse"))
    for token in (user.id_token, user.access_token):
        resp = gw.handle("PUT", "/cart/items/SKU-1", headers={"Authorization": f"Bearer {token}"},
                         body='{"quantity": 1}')
        assert resp.status == 200
    (function, by_id), (_, by_access) = rec.calls
    assert function == "CartFunction"
    assert by_id["version"] == "1.0" and by_id["pathParameters"] == {"sku": "SKU-1"}
    claims = by_id["requestContext"]["authorizer"]["claims"]
    assert claims["sub"] == user.user_id
    assert claims["email"] == user.email
    assert claims["cognito:groups"] in ("[admin warehouse]", "[warehouse admin]")
    assert claims["exp"].isdigit()
    assert by_access["requestContext"]["authorizer"]["claims"]["client_id"] == stack.physical_id("UserPoolClient")
    assert by_id["requestContext"]["stage"] == "$default"


def test_the_real_handlers_accept_an_access_token(stack):
    user = stack.user()
    resp = stack.request("GET", "/cart", token=user.access_token)
    assert resp.status == 200, resp.body


def test_preflight_needs_no_token(stack, recorded):
    gw, rec = recorded
    resp = gw.handle("OPTIONS", "/checkout", headers={"Origin": stack.gateway.cors.allow_origins[0],
                                                       "Access-Control-Request-Method": "POST",
                                                       "Access-Control-Request-Headers": "authorization"})
    assert resp.status == 204
    assert "Authorization" in resp.headers["Access-Control-Allow-Headers"].split(",")
    assert rec.calls == []


def test_http_gateway_serves_the_stack(stack):
    assert requests.get(f"{stack.base_url}/products", timeout=10).status_code == 200
    missing = requests.get(f"{stack.base_url}/no-such-route", timeout=10)
    assert missing.status_code == 404
    assert missing.json() == {"message": "Not Found"}
    assert requests.get(f"{stack.base_url}/cart", timeout=10).status_code == 401
