"""Files the local gateway serves beside the API: the staff console (console/, at /console/), Swagger UI for
docs/openapi.json (at /docs) and the local outbox of texts and mail (at /_local/outbox/sms and /email).

On AWS neither is API Gateway's business: the console is an S3 bucket behind CloudFront (template.yaml,
ConsoleBucket / ConsoleDistribution) and the OpenAPI document is a file of the repository. Locally one origin
(http://127.0.0.1:3000) serves both, so the console calls the API without CORS, as it does on AWS with the
distribution's origin in AllowedOrigins. Only GET and HEAD under these prefixes are answered here; every
other request goes to the API Gateway emulation unchanged (tests/shoplocal/test_static.py checks that no
template route starts with either prefix).

Swagger UI's own files (version 5: docs/openapi.json is OpenAPI 3.1) come from the ``swagger-ui-py`` package
(requirements-dev.txt), never from a CDN; only its static folder is used, none of its web-framework code.
"""

from __future__ import annotations

import json
import mimetypes
import posixpath
from pathlib import Path
from urllib.parse import unquote

from shoplocal.gateway import GatewayResponse

ROOT = Path(__file__).resolve().parent.parent
CONSOLE_DIR = ROOT / "console"
OPENAPI = ROOT / "docs" / "openapi.json"
CONSOLE_PREFIX = "/console"
DOCS_PREFIX = "/docs"
OUTBOX_PREFIX = "/_local/outbox"  # what the shop sent: /_local/outbox/sms, /_local/outbox/email (shoplocal.outbox)
PREFIXES = (CONSOLE_PREFIX, DOCS_PREFIX, OUTBOX_PREFIX)

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
         ".txt": "text/plain; charset=utf-8", ".map": "application/json"}
# What CloudFront's response headers policy adds on AWS (template.yaml, ConsoleHeadersPolicy), so a page that
# works here works there: scripts and styles from the console's origin only, the API on the same origin.
# 'unsafe-inline' styles: the daily report's HTML (shown in a sandboxed frame) carries its own <style>.
CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
               "object-src 'none'")
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                    "X-Frame-Options": "DENY", "Cache-Control": "no-cache"}
# Locally the API is this same origin: config.json (written from the stack's outputs on AWS, `make
# deploy-console`) says so when console/ holds none.
LOCAL_CONFIG = {"api_base": ""}

DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Serverless Shop API - Swagger UI</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""
DOCS_INIT = """window.ui = SwaggerUIBundle({url: "/docs/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout", persistAuthorization: true});
"""
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "favicon-16x16.png")


def is_static(path: str) -> bool:
    clean = "/" + path.split("?", 1)[0].lstrip("/")
    return any(clean == p or clean.startswith(p + "/") for p in PREFIXES)


def _answer(status: int, raw: bytes, content_type: str, extra: dict[str, str] | None = None) -> GatewayResponse:
    headers = {"Content-Type": content_type, **SECURITY_HEADERS, **(extra or {})}
    return GatewayResponse(status, headers, "", raw)


def _not_found(what: str) -> GatewayResponse:
    body = json.dumps({"message": f"{what} not found"}).encode()
    return _answer(404, body, "application/json")


def _file(base: Path, relative: str, extra: dict[str, str] | None = None) -> GatewayResponse:
    """A file below ``base``; nothing outside it (``..``, absolute parts) and no hidden files."""
    parts = [p for p in posixpath.normpath("/" + relative).split("/") if p]
    if any(p.startswith(".") for p in parts):
        return _not_found(relative)
    target = base.joinpath(*parts) if parts else base
    try:
        target = target.resolve()
        target.relative_to(base.resolve())
    except (OSError, ValueError):
        return _not_found(relative)
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return _not_found(relative)
    kind = TYPES.get(target.suffix.lower()) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return _answer(200, target.read_bytes(), kind, extra)


def _swagger_dir() -> Path | None:
    """swagger-ui-py's static folder, found without importing the package (its __init__ loads web frameworks'
    handlers)."""
    import importlib.util

    spec = importlib.util.find_spec("swagger_ui")
    for location in (spec.submodule_search_locations or []) if spec else []:
        static = Path(location) / "static"
        if (static / "swagger-ui-bundle.js").is_file():
            return static
    return None


def console(relative: str) -> GatewayResponse:
    if relative == "config.json" and not (CONSOLE_DIR / "config.json").is_file():
        return _answer(200, json.dumps(LOCAL_CONFIG).encode(), "application/json")
    return _file(CONSOLE_DIR, relative, {"Content-Security-Policy": CONSOLE_CSP})


def docs(relative: str) -> GatewayResponse:
    if relative in ("", "index.html"):
        return _answer(200, DOCS_PAGE.encode(), TYPES[".html"])
    if relative == "init.js":
        return _answer(200, DOCS_INIT.encode(), TYPES[".js"])
    if relative == "openapi.json":
        return _file(OPENAPI.parent, OPENAPI.name)
    if relative in SWAGGER_FILES:
        found = _swagger_dir()
        if found is None:
            return _not_found("swagger-ui-py (pip install -r requirements-dev.txt)")
        return _file(found, relative)
    return _not_found(relative)


def outbox(relative: str) -> GatewayResponse:
    """The local outbox as JSON (moto's recorded texts and mail; nothing like it exists on AWS)."""
    from shoplocal.outbox import outbox_json

    body = outbox_json(relative.strip("/"))
    if body is None:
        return _not_found(f"outbox {relative!r} (sms, email)")
    return _answer(200, body, "application/json")


def static_response(method: str, path: str) -> GatewayResponse | None:
    """The answer for a GET/HEAD under /console, /docs or /_local/outbox; None for everything else (the API's
    requests)."""
    if method.upper() not in ("GET", "HEAD"):
        return None
    clean = "/" + unquote(path.split("?", 1)[0]).lstrip("/")
    for prefix, serve in ((CONSOLE_PREFIX, console), (DOCS_PREFIX, docs), (OUTBOX_PREFIX, outbox)):
        if clean == prefix:  # relative links in the page need the trailing slash
            return _answer(301, b"", "text/plain", {"Location": prefix + "/"})
        if clean.startswith(prefix + "/"):
            return serve(clean[len(prefix) + 1:])
    return None


__all__ = ["CONSOLE_DIR", "PREFIXES", "is_static", "static_response"]
