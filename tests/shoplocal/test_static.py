"""shoplocal.static: the local gateway serves the staff console (console/) at /console/ and Swagger UI at /docs
beside the API, with the right content types, nothing outside those folders, and every API request unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from shoplocal.gateway import Gateway, GatewayServer, Route, load_routes, serve
from shoplocal.stack import ROOT
from shoplocal.static import PREFIXES, is_static

pytestmark = pytest.mark.unit


def _echo(function: str, event: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps({"function": function})
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": body}


@pytest.fixture(scope="module")
def server() -> Iterator[GatewayServer]:
    routes = [Route("GET", "/items/{itemId}", "Item", "NONE"), Route("GET", "/{proxy+}", "Catchall", "NONE")]
    srv = serve(Gateway(routes, _echo, None), "127.0.0.1", 0)
    try:
        yield srv
    finally:
        srv.shutdown()


def test_no_api_route_of_the_template_lives_under_the_static_prefixes():
    routes, _ = load_routes(ROOT / "template.yaml")
    assert routes and not [r.path for r in routes if is_static(r.path)], PREFIXES


@pytest.mark.parametrize(("path", "content_type"), [
    ("/console/", "text/html; charset=utf-8"), ("/console/index.html", "text/html; charset=utf-8"),
    ("/console/app.js", "text/javascript; charset=utf-8"), ("/console/style.css", "text/css; charset=utf-8"),
    ("/console/favicon.svg", "image/svg+xml"), ("/console/config.json", "application/json"),
    ("/docs/", "text/html; charset=utf-8"), ("/docs/openapi.json", "application/json"),
    ("/docs/swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    ("/docs/swagger-ui.css", "text/css; charset=utf-8"),
])
def test_files_are_served_with_their_content_type(server, path, content_type):
    resp = requests.get(server.url + path, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == content_type
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert int(resp.headers["Content-Length"]) == len(resp.content) > 0


def test_the_console_page_has_its_security_policy_and_the_local_config_names_this_origin(server):
    page = requests.get(server.url + "/console/", timeout=10)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<script type="module" src="app.js">' in page.text
    assert requests.get(server.url + "/console/config.json", timeout=10).json() == {"api_base": ""}


@pytest.mark.parametrize("prefix", ["/console", "/docs"])
def test_the_bare_prefix_redirects_to_the_folder(server, prefix):
    resp = requests.get(server.url + prefix, timeout=10, allow_redirects=False)
    assert resp.status_code == 301 and resp.headers["Location"] == prefix + "/"


@pytest.mark.parametrize("path", ["/console/../template.yaml", "/console/%2e%2e/template.yaml",
                                  "/console/..%2fMakefile", "/console/.hidden", "/console/missing.js",
                                  "/docs/../Makefile", "/docs/swagger-ui-bundle.js.map"])
def test_nothing_outside_the_folders_is_served(server, path):
    with requests.Session() as http:
        prepared = requests.Request("GET", server.url + path).prepare()
        prepared.url = server.url + path  # as written: no client-side normalisation of ".."
        resp = http.send(prepared, timeout=10)
    assert resp.status_code == 404 and "not found" in resp.json()["message"]


def test_api_requests_answer_as_before(server):
    # a method other than GET/HEAD under the prefixes, and every other path, are the gateway's
    posted = requests.post(server.url + "/console/app.js", timeout=10)
    assert posted.status_code == 404 and posted.json() == {"message": "Not Found"}
    assert requests.get(server.url + "/items/1", timeout=10).json() == {"function": "Item"}
    assert requests.get(server.url + "/consoles", timeout=10).json() == {"function": "Catchall"}
    assert requests.head(server.url + "/console/app.js", timeout=10).status_code == 200
