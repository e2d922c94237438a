"""CORS rules of template.yaml (issue 14), so a new API, route or function that breaks one fails CI.

CORS is the HTTP API's: its CorsConfiguration answers every preflight at the gateway and adds the CORS headers
to every answer (the gateway's own and the integrations'), ignoring any CORS header a function returns. So the
configuration lives there only, and the functions get no allowed origins (tests/unit/test_api_cors.py: they
write no CORS header).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from shoplocal.template import load_yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
IMPLICIT_HTTP_API = "ServerlessHttpApi"  # what SAM creates for an HttpApi event without ApiId


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_yaml(ROOT / "template.yaml")


def _http_apis(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lid: r.get("Properties") or {} for lid, r in template["Resources"].items()
            if r["Type"] == "AWS::Serverless::HttpApi"}


def _routes(template: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(function, API, METHOD, path) of every HttpApi event."""
    out = []
    for lid, r in template["Resources"].items():
        if r["Type"] != "AWS::Serverless::Function":
            continue
        for event in ((r.get("Properties") or {}).get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties") or {}
            api = props.get("ApiId", {"Ref": IMPLICIT_HTTP_API})
            assert isinstance(api, dict) and set(api) == {"Ref"}, f"{lid}: ApiId must be a !Ref to an HttpApi"
            out.append((lid, api["Ref"], str(props.get("Method", "any")).upper(), str(props.get("Path", "/"))))
    return out


def test_allowed_origins_parameter_defaults_to_local_origins_and_matches_its_pattern(template):
    param = template["Parameters"]["AllowedOrigins"]
    origins = param["Default"].split(",")
    assert origins and all(ORIGIN.match(o) for o in origins)
    assert all(re.match(r"^https?://(localhost|127\.0\.0\.1)(:\d+)?$", o) for o in origins)
    assert re.match(param["AllowedPattern"], param["Default"])
    for bad in ("https://shop.example/path", "https://a.example, https://b.example", "ftp://x", ""):
        assert not re.match(param["AllowedPattern"], bad), bad


def test_every_http_api_takes_its_origins_from_the_allowed_origins(template):
    apis = _http_apis(template)
    assert apis
    for lid, props in apis.items():
        cors = props.get("CorsConfiguration")
        assert isinstance(cors, dict), f"{lid}: CorsConfiguration must be configured"
        assert cors.get("AllowOrigins") == {"Fn::Split": [",", {"Ref": "AllowedOrigins"}]}, lid
        assert not cors.get("AllowCredentials"), f"{lid}: bearer tokens, no cookies: never allow credentials"


def test_every_http_api_allows_the_headers_the_clients_send(template):
    for lid, props in _http_apis(template).items():
        headers = {str(h).strip().lower() for h in props["CorsConfiguration"].get("AllowHeaders") or []}
        assert {"authorization", "content-type", "idempotency-key"} <= headers, lid


def test_every_http_api_allows_the_methods_of_its_routes(template):
    apis = _http_apis(template)
    routes = _routes(template)
    assert routes
    for function, api, method, path in routes:
        assert api in apis, f"{function} {method} {path}: routed to {api}, which is not an HttpApi of the template"
        # an OPTIONS (or ANY) route would take the preflights from the gateway's CORS answer
        assert method not in ("OPTIONS", "ANY"), f"{function} {method} {path}: preflights are the gateway's"
        allowed = {str(m).upper() for m in apis[api]["CorsConfiguration"].get("AllowMethods") or []}
        assert method in allowed or "*" in allowed, f"{api}: AllowMethods lacks {method} ({function} {path})"


def test_no_function_gets_the_allowed_origins(template):
    """The gateway ignores a function's CORS headers: the origins the functions once echoed are dead config."""
    functions = {lid: r.get("Properties") or {} for lid, r in template["Resources"].items()
                 if r["Type"] == "AWS::Serverless::Function"}
    global_env = (((template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}).get("Variables")
    assert "CORS_ALLOWED_ORIGINS" not in (global_env or {})
    for lid, props in functions.items():
        assert "CORS_ALLOWED_ORIGINS" not in ((props.get("Environment") or {}).get("Variables") or {}), lid
