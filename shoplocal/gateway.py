"""API Gateway (REST, v1 proxy integration) emulation built from the template's routes.

Requests become Lambda proxy events exactly shaped like API Gateway's; protected routes are checked by a
Cognito user-pool authorizer (RS256 signature against the pool's JWKS, expiry, issuer, audience, token_use)
before the function runs, as API Gateway does. Responses map back from the proxy result.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import jwt
import requests

from shoplocal.template import load_yaml

log = logging.getLogger("shoplocal.gateway")
MAX_BODY = 10 * 1024 * 1024


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    auth: str  # "COGNITO" or "NONE"
    api: str | None = None

    @property
    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s]

    def specificity(self) -> tuple[int, ...]:
        # literal segments beat {param}, which beats {proxy+}
        return tuple(0 if s.endswith("+}") else 1 if s.startswith("{") else 2 for s in self.segments)

    def match(self, path: str) -> dict[str, str] | None:
        parts = [unquote(p) for p in path.split("/") if p]
        params: dict[str, str] = {}
        segs = self.segments
        for i, seg in enumerate(segs):
            if seg.startswith("{") and seg.endswith("+}"):
                if i >= len(parts):
                    return None
                params[seg[1:-2]] = "/".join(parts[i:])
                return params
            if i >= len(parts):
                return None
            if seg.startswith("{") and seg.endswith("}"):
                params[seg[1:-1]] = parts[i]
            elif seg != parts[i]:
                return None
        return params if len(parts) == len(segs) else None


@dataclass(frozen=True)
class CorsConfig:
    allow_origin: str = "*"
    allow_headers: str = ""
    allow_methods: str = ""

    def headers(self) -> dict[str, str]:
        out = {"Access-Control-Allow-Origin": self.allow_origin}
        if self.allow_headers:
            out["Access-Control-Allow-Headers"] = self.allow_headers
        if self.allow_methods:
            out["Access-Control-Allow-Methods"] = self.allow_methods
        return out


def _unquote_cors(value: Any) -> str:
    text = str(value or "")
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


def load_routes(template_path: Path | str) -> tuple[list[Route], CorsConfig | None]:
    template = load_yaml(Path(template_path))
    resources = template["Resources"]
    apis = {lid: r.get("Properties") or {} for lid, r in resources.items() if r.get("Type") == "AWS::Serverless::Api"}
    cors: CorsConfig | None = None
    for props in apis.values():
        c = props.get("Cors")
        if isinstance(c, str):
            cors = CorsConfig(allow_origin=_unquote_cors(c))
        elif isinstance(c, dict):
            cors = CorsConfig(_unquote_cors(c.get("AllowOrigin", "'*'")), _unquote_cors(c.get("AllowHeaders")),
                              _unquote_cors(c.get("AllowMethods")))
    routes: list[Route] = []
    for lid, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        for event in ((res.get("Properties") or {}).get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            p = event.get("Properties") or {}
            api_ref = p.get("RestApiId")
            api_id = api_ref.get("Ref") if isinstance(api_ref, dict) else api_ref
            default = ((apis.get(api_id) or {}).get("Auth") or {}).get("DefaultAuthorizer")
            authorizer = (p.get("Auth") or {}).get("Authorizer", default)
            auth = "NONE" if not authorizer or authorizer == "NONE" else "COGNITO"
            method = str(p["Method"]).upper()
            routes.append(Route("ANY" if method == "ANY" else method, p["Path"], lid, auth, api_id))
    routes.sort(key=lambda r: r.specificity(), reverse=True)
    return routes, cors


class Unauthorized(Exception):
    pass


class CognitoAuthorizer:
    def __init__(self, jwks_url: str, issuer: str, audience: str):
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _key(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys:
                jwks = requests.get(self.jwks_url, timeout=5).json()
                self._keys = {k["kid"]: jwt.PyJWK(k).key for k in jwks.get("keys", [])}
            if kid not in self._keys:
                raise Unauthorized("unknown signing key")
            return self._keys[kid]

    def verify(self, header_value: str | None) -> dict[str, str]:
        if not header_value:
            raise Unauthorized("no token")
        token = header_value.strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256":
                raise Unauthorized("unexpected algorithm")
            claims = jwt.decode(token, self._key(str(header.get("kid"))), algorithms=["RS256"],
                                issuer=self.issuer, options={"verify_aud": False, "require": ["exp", "iss", "sub"]})
        except jwt.PyJWTError as exc:
            raise Unauthorized(str(exc)) from exc
        if claims.get("token_use") != "id":
            raise Unauthorized("an ID token is required")
        if claims.get("aud") != self.audience:
            raise Unauthorized("token for another client")
        out: dict[str, str] = {}
        for key, value in claims.items():
            if isinstance(value, list):
                out[key] = ",".join(str(v) for v in value)
            else:
                out[key] = str(value).lower() if isinstance(value, bool) else str(value)
        return out


@dataclass
class GatewayResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    raw: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _json_response(status: int, payload: Any, extra: Mapping[str, str] | None = None) -> GatewayResponse:
    body = json.dumps(payload)
    return GatewayResponse(status, {"Content-Type": "application/json", **(extra or {})}, body, body.encode())


class Gateway:
    def __init__(self, routes: list[Route], invoke: Callable[[str, dict[str, Any]], Any],
                 authorizer: CognitoAuthorizer | None, cors: CorsConfig | None = None, stage: str = "local"):
        self.routes = sorted(routes, key=lambda r: r.specificity(), reverse=True)
        self.invoke = invoke
        self.authorizer = authorizer
        self.cors = cors
        self.stage = stage

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | tuple[None, bool]:
        path_exists = False
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            path_exists = True
            if route.method in (method, "ANY"):
                return route, params
        return None, path_exists

    def handle(self, method: str, path: str, *, headers: Mapping[str, str] | None = None,
               query: str | Mapping[str, Any] | None = None, body: str | bytes | None = None,
               source_ip: str = "127.0.0.1") -> GatewayResponse:
        method = method.upper()
        headers = dict(headers or {})
        cors_headers = self.cors.headers() if self.cors else {}
        raw_body = body.encode() if isinstance(body, str) else (body or b"")
        if len(raw_body) > MAX_BODY:
            return _json_response(413, {"message": "Request Too Long"}, cors_headers)
        if method == "OPTIONS" and self.cors:
            _, exists = self.find("GET", path) if self.find("OPTIONS", path)[0] is None else (None, True)
            return GatewayResponse(200 if exists else 403, {**cors_headers, "Content-Length": "0"}, "", b"")
        found = self.find(method, path)
        route, params = found
        if route is None:
            # API Gateway answers unknown paths and methods with 403 "Missing Authentication Token"
            return _json_response(403, {"message": "Missing Authentication Token"}, cors_headers)
        assert isinstance(params, dict)
        claims = None
        if route.auth == "COGNITO":
            if self.authorizer is None:
                return _json_response(500, {"message": "no authorizer configured"})
            auth_header = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
            try:
                claims = self.authorizer.verify(auth_header)
            except Unauthorized as exc:
                log.info("401 on %s %s: %s", method, path, exc)
                return _json_response(401, {"message": "Unauthorized"}, cors_headers)
        event = self.event(route, method, path, params, headers, query, raw_body, claims, source_ip)
        try:
            result = self.invoke(route.function, event)
            return self.response(result, cors_headers)
        except Exception:
            log.exception("%s failed for %s %s", route.function, method, path)
            return _json_response(502, {"message": "Internal server error"}, cors_headers)

    def event(self, route: Route, method: str, path: str, params: dict[str, str], headers: dict[str, str],
              query: str | Mapping[str, Any] | None, body: bytes, claims: dict[str, str] | None,
              source_ip: str) -> dict[str, Any]:
        multi_query: dict[str, list[str]] = {}
        if isinstance(query, str):
            for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=True):
                multi_query.setdefault(k, []).append(v)
        elif query:
            for k, v in query.items():
                multi_query[k] = [str(x) for x in v] if isinstance(v, list | tuple) else [str(v)]
        multi_headers: dict[str, list[str]] = {}
        for k, v in headers.items():
            multi_headers.setdefault(k, []).append(v)
        is_b64 = False
        text: str | None = None
        if body:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text, is_b64 = base64.b64encode(body).decode(), True
        now = time.time()
        context: dict[str, Any] = {
            "resourceId": "local", "resourcePath": route.path, "httpMethod": method,
            "extendedRequestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{self.stage}{path}", "accountId": "123456789012", "protocol": "HTTP/1.1", "stage": self.stage,
            "domainPrefix": "localhost", "requestTimeEpoch": int(now * 1000), "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent") or headers.get("user-agent"),
                         "cognitoIdentityPoolId": None, "accountId": None, "caller": None, "user": None},
            "domainName": "localhost", "apiId": route.api or "localapi",
        }
        if claims is not None:
            context["authorizer"] = {"claims": claims}
        return {
            "resource": route.path, "path": path, "httpMethod": method,
            "headers": dict(headers) or None, "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": params or None, "stageVariables": None, "requestContext": context,
            "body": text, "isBase64Encoded": is_b64,
        }

    @staticmethod
    def response(result: Any, cors_headers: Mapping[str, str]) -> GatewayResponse:
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            log.error("malformed Lambda proxy response: %r", result)
            return _json_response(502, {"message": "Internal server error"}, cors_headers)
        headers = {**cors_headers}
        for k, v in (result.get("headers") or {}).items():
            headers[k] = str(v)
        for k, values in (result.get("multiValueHeaders") or {}).items():
            headers[k] = ", ".join(str(v) for v in values)
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        return GatewayResponse(int(result["statusCode"]), headers, raw.decode("utf-8", "replace"), raw)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    gateway: Gateway

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            resp = _json_response(413, {"message": "Request Too Long"})
            self.close_connection = True
        else:
            body = self.rfile.read(length) if length else b""
            resp = self.gateway.handle(self.command, path, headers=dict(self.headers.items()), query=query,
                                       body=body, source_ip=self.client_address[0])
        self.send_response(resp.status)
        for k, v in resp.headers.items():
            if k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.raw)))
        self.end_headers()
        self.wfile.write(resp.raw)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class GatewayServer:
    def __init__(self, server: ThreadingHTTPServer):
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, name="shop-gateway", daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(gateway: Gateway, host: str = "127.0.0.1", port: int = 0) -> GatewayServer:
    handler = type("BoundHandler", (_Handler,), {"gateway": gateway})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    return GatewayServer(server)


def describe_routes(routes: list[Route]) -> list[str]:
    return [f"{r.method:<7} {r.path:<45} {'public' if r.auth == 'NONE' else 'cognito'}  -> {r.function}"
            for r in sorted(routes, key=lambda r: (r.path, r.method))]


__all__ = ["CognitoAuthorizer", "CorsConfig", "Gateway", "GatewayResponse", "GatewayServer", "Route",
           "describe_routes", "load_routes", "serve"]
