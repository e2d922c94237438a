"""CORS over real HTTP against the local gateway, as a browser storefront on another origin sees it.

The gateway adds nothing of its own: the preflight comes from the template's Cors (API Gateway's mock
integration), a function's answer carries only what the function set (Powertools CORSConfig from
CORS_ALLOWED_ORIGINS) and the gateway's own errors carry exactly the template's GatewayResponses headers.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from shoplocal.template import load_yaml

pytestmark = [pytest.mark.e2e, pytest.mark.audited]

TIMEOUT = 10
ROOT = Path(__file__).resolve().parents[2]
FOREIGN = "https://evil.example"


def _cors(resp: requests.Response) -> dict[str, str]:
    return {k: v for k, v in resp.headers.items() if k.lower().startswith("access-control-")}


def _browser_may_read(resp: requests.Response, origin: str) -> bool:
    """The CORS check a browser makes on a non-credentialed answer."""
    return resp.headers.get("Access-Control-Allow-Origin") in ("*", origin)


@pytest.fixture(scope="module")
def origin(stack: Any) -> str:
    """An allowed origin, as the deployed functions were configured (the template's default)."""
    allowed = stack.function_env("CatalogFunction")["CORS_ALLOWED_ORIGINS"].split(",")
    assert FOREIGN not in allowed
    return allowed[-1]


@pytest.fixture(scope="module")
def gateway_response_headers() -> dict[str, dict[str, str]]:
    api = load_yaml(ROOT / "template.yaml")["Resources"]["ShopApi"]["Properties"]
    return {t: {k: v.strip("'") for k, v in r["ResponseParameters"]["Headers"].items()}
            for t, r in api["GatewayResponses"].items()}


def test_preflight_for_an_allowed_origin_lets_the_browser_send_an_authorized_json_put(stack: Any, origin: str):
    resp = requests.options(f"{stack.base_url}/cart/items/ANY-SKU", timeout=TIMEOUT, headers={
        "Origin": origin, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"})
    assert resp.status_code == 200, resp.text
    assert _browser_may_read(resp, origin)
    assert "PUT" in resp.headers["Access-Control-Allow-Methods"].split(",")
    allowed = {h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert resp.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in resp.headers


def test_handler_2xx_carries_the_allowed_origin(stack: Any, origin: str):
    resp = requests.get(f"{stack.base_url}/products", headers={"Origin": origin}, timeout=TIMEOUT)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Access-Control-Allow-Origin"] == origin
    assert resp.headers["Vary"] == "Origin"


def test_handler_4xx_carries_the_allowed_origin(stack: Any, origin: str):
    shopper = {"Authorization": f"Bearer {stack.user().id_token}", "Origin": origin}
    sku = f"CORS-{uuid.uuid4().hex[:8].upper()}"
    resp = requests.put(f"{stack.base_url}/cart/items/{sku}", data=json.dumps({"quantity": "many"}),
                        headers={**shopper, "Content-Type": "application/json"}, timeout=TIMEOUT)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "validation_error"
    assert resp.headers["Access-Control-Allow-Origin"] == origin


def test_authorizer_401_carries_the_gateway_response_headers(stack: Any, origin: str,
                                                            gateway_response_headers: dict[str, dict[str, str]]):
    for headers in ({"Origin": origin}, {"Origin": origin, "Authorization": "Bearer not-a-token"}):
        resp = requests.get(f"{stack.base_url}/cart", headers=headers, timeout=TIMEOUT)
        assert resp.status_code == 401
        assert resp.json() == {"message": "Unauthorized"}
        assert resp.headers["x-amzn-ErrorType"] == "UnauthorizedException"  # the gateway's, not the function's
        assert _cors(resp) == gateway_response_headers["DEFAULT_4XX"]
        assert _browser_may_read(resp, origin)


def test_unknown_route_403_carries_the_gateway_response_headers(stack: Any, origin: str,
                                                               gateway_response_headers: dict[str, dict[str, str]]):
    resp = requests.get(f"{stack.base_url}/no-such-route", headers={"Origin": origin}, timeout=TIMEOUT)
    assert resp.status_code == 403
    assert _cors(resp) == gateway_response_headers["DEFAULT_4XX"]


def test_a_disallowed_origin_gets_no_allow_header_from_a_handler(stack: Any):
    ok = requests.get(f"{stack.base_url}/products", headers={"Origin": FOREIGN}, timeout=TIMEOUT)
    assert ok.status_code == 200
    assert _cors(ok) == {}
    assert not _browser_may_read(ok, FOREIGN)
    shopper = {"Authorization": f"Bearer {stack.user().id_token}", "Origin": FOREIGN}
    cart = requests.get(f"{stack.base_url}/cart", headers=shopper, timeout=TIMEOUT)
    assert cart.status_code == 200, cart.text
    assert _cors(cart) == {}


def test_no_origin_no_cors_headers_on_a_handler_answer(stack: Any):
    resp = requests.get(f"{stack.base_url}/products", timeout=TIMEOUT)
    assert resp.status_code == 200
    assert _cors(resp) == {}
