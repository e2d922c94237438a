"""CORS over real HTTP against the local gateway, as a browser storefront on another origin sees it.

The HTTP API's CorsConfiguration (template.yaml, ShopHttpApi) does all of it: the gateway answers every preflight
itself (204; the CORS headers only for an allowed origin, method and request headers), adds
Access-Control-Allow-Origin to every function answer for an allowed Origin and drops whatever Access-Control-*
header a function set; its own answers (authorizer 401, unknown route 404) carry no CORS header
(docs/local-gateway.md, CORS).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.audited]

TIMEOUT = 10
FOREIGN = "https://evil.example"


def _cors(resp: requests.Response) -> dict[str, str]:
    return {k: v for k, v in resp.headers.items() if k.lower().startswith("access-control-")}


def _browser_may_read(resp: requests.Response, origin: str) -> bool:
    """The CORS check a browser makes on a non-credentialed answer."""
    return resp.headers.get("Access-Control-Allow-Origin") in ("*", origin)


@pytest.fixture(scope="module")
def origin(stack: Any) -> str:
    """An allowed origin: the deployment's AllowedOrigins (the template's default)."""
    allowed = stack.deployment.parameters["AllowedOrigins"].split(",")
    assert FOREIGN not in allowed and "*" not in allowed
    return allowed[-1]


def test_preflight_for_an_allowed_origin_lets_the_browser_send_an_authorized_json_put(stack: Any, origin: str):
    resp = requests.options(f"{stack.base_url}/cart/items/ANY-SKU", timeout=TIMEOUT, headers={
        "Origin": origin, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"})
    assert resp.status_code == 204, resp.text
    assert resp.headers["Access-Control-Allow-Origin"] == origin
    assert "PUT" in resp.headers["Access-Control-Allow-Methods"].split(",")
    allowed = {h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert resp.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in resp.headers


@pytest.mark.parametrize("headers", [
    {"Origin": FOREIGN, "Access-Control-Request-Method": "PUT"},
    {"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-not-allowed"},
])
def test_preflight_not_allowed_gets_no_cors_header(stack: Any, origin: str, headers: dict[str, str]):
    resp = requests.options(f"{stack.base_url}/cart/items/ANY-SKU", timeout=TIMEOUT,
                            headers={"Origin": origin, **headers})
    assert resp.status_code == 204
    assert _cors(resp) == {}


def test_handler_2xx_carries_the_allowed_origin(stack: Any, origin: str):
    resp = requests.get(f"{stack.base_url}/products", headers={"Origin": origin}, timeout=TIMEOUT)
    assert resp.status_code == 200, resp.text
    assert _cors(resp) == {"Access-Control-Allow-Origin": origin}


def test_handler_4xx_carries_the_allowed_origin(stack: Any, origin: str):
    shopper = {"Authorization": f"Bearer {stack.user().id_token}", "Origin": origin}
    sku = f"CORS-{uuid.uuid4().hex[:8].upper()}"
    resp = requests.put(f"{stack.base_url}/cart/items/{sku}", data=json.dumps({"quantity": "many"}),
                        headers={**shopper, "Content-Type": "application/json"}, timeout=TIMEOUT)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "validation_error"
    assert _cors(resp) == {"Access-Control-Allow-Origin": origin}


def test_authorizer_401_carries_no_cors_header(stack: Any, origin: str):
    for headers in ({"Origin": origin}, {"Origin": origin, "Authorization": "Bearer not-a-token"}):
        resp = requests.get(f"{stack.base_url}/cart", headers=headers, timeout=TIMEOUT)
        assert resp.status_code == 401
        assert resp.json() == {"message": "Unauthorized"}
        assert _cors(resp) == {}
        assert not _browser_may_read(resp, origin)  # a browser page sees a failed fetch, not the 401
    invalid = requests.get(f"{stack.base_url}/cart", headers={"Authorization": "Bearer not-a-token"}, timeout=TIMEOUT)
    assert invalid.headers["www-authenticate"].startswith('Bearer scope="" error="invalid_token"')


def test_unknown_route_404_carries_no_cors_header(stack: Any, origin: str):
    resp = requests.get(f"{stack.base_url}/no-such-route", headers={"Origin": origin}, timeout=TIMEOUT)
    assert resp.status_code == 404 and resp.json() == {"message": "Not Found"}
    assert _cors(resp) == {}


def test_a_disallowed_origin_gets_no_allow_header(stack: Any):
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
