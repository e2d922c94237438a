"""CORS rules of template.yaml (issue 14), so a new API or HTTP function that forgets one fails CI.

With Lambda proxy integration API Gateway adds no CORS header to a function's answer, and its own answers
(authorizer 401, unknown route 403, 413, 5xx) only get the headers of the API's GatewayResponses.
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


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_yaml(ROOT / "template.yaml")


def _apis(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lid: r.get("Properties") or {} for lid, r in template["Resources"].items()
            if r["Type"] == "AWS::Serverless::Api"}


def _http_functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lid: r.get("Properties") or {} for lid, r in template["Resources"].items()
            if r["Type"] == "AWS::Serverless::Function"
            and any(e.get("Type") == "Api" for e in ((r.get("Properties") or {}).get("Events") or {}).values())}


def test_allowed_origins_parameter_defaults_to_local_origins_and_matches_its_pattern(template):
    param = template["Parameters"]["AllowedOrigins"]
    origins = param["Default"].split(",")
    assert origins and all(ORIGIN.match(o) for o in origins)
    assert all(re.match(r"^https?://(localhost|127\.0\.0\.1)(:\d+)?$", o) for o in origins)
    assert re.match(param["AllowedPattern"], param["Default"])
    for bad in ("https://shop.example/path", "https://a.example, https://b.example", "ftp://x", ""):
        assert not re.match(param["AllowedPattern"], bad), bad


def test_every_http_function_gets_the_allowed_origins(template):
    globals_env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert globals_env["CORS_ALLOWED_ORIGINS"] == {"Ref": "AllowedOrigins"}
    functions = _http_functions(template)
    assert functions
    for lid, props in functions.items():
        own = ((props.get("Environment") or {}).get("Variables") or {})
        assert own.get("CORS_ALLOWED_ORIGINS", globals_env["CORS_ALLOWED_ORIGINS"]) == {"Ref": "AllowedOrigins"}, lid


def test_every_api_answers_preflights_and_its_own_errors_with_cors_headers(template):
    apis = _apis(template)
    assert apis
    for lid, props in apis.items():
        cors = props.get("Cors")
        assert isinstance(cors, dict), f"{lid}: Cors must be configured"
        # the mock integration answers one static origin: a list would be an invalid header value
        assert "," not in cors["AllowOrigin"], lid
        assert not cors.get("AllowCredentials"), f"{lid}: bearer tokens, no cookies: never allow credentials"
        headers = {h.strip().lower() for h in cors["AllowHeaders"].strip("'").split(",")}
        assert {"authorization", "content-type", "idempotency-key"} <= headers, lid
        assert (props.get("Auth") or {}).get("AddDefaultAuthorizerToCorsPreflight") is False, lid
        responses = props.get("GatewayResponses") or {}
        for response_type in ("DEFAULT_4XX", "DEFAULT_5XX"):
            got = ((responses.get(response_type) or {}).get("ResponseParameters") or {}).get("Headers") or {}
            assert got.get("Access-Control-Allow-Origin"), f"{lid}: {response_type} needs Access-Control-Allow-Origin"
