"""API Gateway HTTP API emulation (Lambda proxy integrations, payload format 1.0) built from the template's routes.

Requests become payload format 1.0 events as an HTTP API sends them; routes protected by the API's JWT
authorizer (the Cognito user pool as issuer) are checked before the function runs (RS256 signature against the
pool's JWKS, exp/nbf/iat, iss, aud or client_id); the function's answer becomes the HTTP response, with the CORS
headers of the API's CorsConfiguration.

Behaviour mirrored from an HTTP API (sources and the choices made where AWS is not documented: docs/local-gateway.md):
- no route for the path and method: 404 {"message": "Not Found"}
- missing token on a protected route: 401 {"message": "Unauthorized"}; an invalid one (bad signature, expired,
  other issuer or audience): the same plus ``www-authenticate: Bearer scope="" error="invalid_token" ...``;
  the function is not invoked
- body over 10 MB: 413 {"message": "Request Entity Too Large"}
- handler exception or malformed Lambda result: 500 {"message": "Internal Server Error"} (traceback logged)
- CORS: every preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered by the gateway itself,
  204, with the configured headers only when the origin, method and requested headers are allowed; a function's
  answer gets Access-Control-Allow-Origin (and Expose-Headers / Allow-Credentials) for an allowed Origin, and any
  Access-Control-* header the function set is dropped. The gateway's own errors get no CORS header.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import jwt
import requests

from shoplocal.template import load_yaml

log = logging.getLogger("shoplocal.gateway")

MAX_BODY = 10 * 1024 * 1024  # an HTTP API's payload limit
ACCOUNT_ID = "123456789012"
STAGE = "$default"  # the only stage emulated: paths have no stage prefix
IMPLICIT_API = "ServerlessHttpApi"  # SAM's logical id for the HTTP API of events without ApiId
PAYLOAD_FORMAT = "1.0"
PROXY_RESULT_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})

HeadersIn = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]
Resolve = Callable[[Any], Any]


# --------------------------------------------------------------------------- routes
@dataclass(frozen=True)
class Route:
    method: str  # upper case; "ANY" matches every method
    path: str  # route path, e.g. /products/{productId}
    function: str  # function logical id
    auth: str  # "JWT" (the API's JWT authorizer on the Cognito pool) or "NONE"
    api: str | None = None  # API logical id

    @property
    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s]

    @property
    def key(self) -> str:
        """The route key, e.g. "GET /products/{productId}"."""
        return f"{self.method} {self.path}"

    @property
    def greedy(self) -> bool:
        return bool(self.segments) and self.segments[-1].endswith("+}")

    def specificity(self) -> tuple[int, ...]:
        """Per segment: literal (2) beats {param} (1) beats {proxy+} (0); compared left to right."""
        return tuple(0 if s.endswith("+}") else 1 if s.startswith("{") else 2 for s in self.segments)

    def priority(self, method: str) -> tuple[int, tuple[int, ...], int]:
        """An HTTP API's choice among matching routes: a route without a greedy variable first, then the most
        specific path, then the method named over ANY."""
        return (0 if self.greedy else 1, self.specificity(), 1 if self.method == method else 0)

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters (URL-decoded) when ``path`` fits this route's path."""
        parts = [unquote(p) for p in path.split("/") if p]
        params: dict[str, str] = {}
        segs = self.segments
        for i, seg in enumerate(segs):
            if seg.startswith("{") and seg.endswith("+}"):
                if i >= len(parts):  # a greedy variable needs at least one segment
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
    """An HTTP API's CorsConfiguration. Origins, methods and headers as configured; "*" allows any."""

    allow_origins: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    def allow_origin(self, origin: str | None) -> str | None:
        """The Access-Control-Allow-Origin value for ``origin``: the origin itself if listed, "*" when any origin
        is allowed (the origin itself with credentials), else None (no CORS header at all)."""
        if not origin:
            return None
        if origin in self.allow_origins:
            return origin
        if "*" in self.allow_origins:
            return origin if self.allow_credentials else "*"
        return None

    def preflight_headers(self, origin: str | None, method: str | None,
                          requested_headers: str | None) -> dict[str, str]:
        """The headers of the gateway's preflight answer: none unless origin, method and every requested header
        are allowed (then the browser is told what is allowed)."""
        allowed = self.allow_origin(origin)
        if allowed is None or not method:
            return {}
        methods = {m.upper() for m in self.allow_methods}
        if "*" not in methods and method.upper() not in methods:
            return {}
        wanted = {h.strip().lower() for h in (requested_headers or "").split(",") if h.strip()}
        headers = {h.lower() for h in self.allow_headers}
        if "*" not in headers and not wanted <= headers:
            return {}
        out = {"Access-Control-Allow-Origin": allowed,
               "Access-Control-Allow-Methods": ",".join(self.allow_methods)}
        if self.allow_headers:
            out["Access-Control-Allow-Headers"] = ",".join(self.allow_headers)
        if self.max_age is not None:
            out["Access-Control-Max-Age"] = str(self.max_age)
        if self.allow_credentials:
            out["Access-Control-Allow-Credentials"] = "true"
        return out

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """What the gateway adds to a function's answer for a request from ``origin``."""
        allowed = self.allow_origin(origin)
        if allowed is None:
            return {}
        out = {"Access-Control-Allow-Origin": allowed}
        if self.expose_headers:
            out["Access-Control-Expose-Headers"] = ",".join(self.expose_headers)
        if self.allow_credentials:
            out["Access-Control-Allow-Credentials"] = "true"
        return out


@dataclass(frozen=True)
class JwtConfig:
    """The JWT authorizer the routes use: the token is read from ``identity_header``."""

    issuer: str
    audience: tuple[str, ...]
    identity_header: str = "Authorization"


@dataclass(frozen=True)
class HttpApiSpec:
    routes: list[Route]
    cors: CorsConfig | None
    jwt: JwtConfig | None


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return str(value) if value else None


def template_defaults(template: Mapping[str, Any], region: str = "us-east-1") -> Resolve:
    """Resolves what an HTTP API's settings use without a deployment: the deployer's resolver
    (shoplocal.deploy.Resolver) over the parameters' defaults, a resource's Ref being its logical id. An
    intrinsic that needs a deployed resource (Fn::GetAtt) fails loudly."""
    from shoplocal.deploy import Deployment, Resolver

    params = {k: str(v.get("Default", "")) for k, v in (template.get("Parameters") or {}).items()}
    deployment = Deployment(stack_name="local", region=region, parameters=params,
                            physical={lid: lid for lid in template.get("Resources") or {}})
    return Resolver(dict(template), deployment).resolve


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ValueError(f"{what} must be a list of strings, got {value!r}")
    return tuple(str(v) for v in value)


CORS_KEYS = frozenset({"AllowOrigins", "AllowHeaders", "AllowMethods", "ExposeHeaders", "MaxAge", "AllowCredentials"})


def _cors_from(api_id: str, value: Any, resolve: Resolve) -> CorsConfig | None:
    if value is None or value is False:
        return None
    if value is True:  # SAM: every origin, no other header
        return CorsConfig(allow_origins=("*",))
    if not isinstance(value, dict):
        raise ValueError(f"{api_id}.CorsConfiguration {value!r}: only a map or true is emulated")
    unknown = set(value) - CORS_KEYS
    if unknown:
        raise ValueError(f"{api_id}.CorsConfiguration: {sorted(unknown)} not emulated locally")
    v = resolve(value)
    max_age = v.get("MaxAge")
    return CorsConfig(
        allow_origins=_strings(v.get("AllowOrigins"), f"{api_id}.CorsConfiguration.AllowOrigins"),
        allow_headers=_strings(v.get("AllowHeaders"), f"{api_id}.CorsConfiguration.AllowHeaders"),
        allow_methods=tuple(m.upper() for m in _strings(v.get("AllowMethods"), f"{api_id}.AllowMethods")),
        expose_headers=_strings(v.get("ExposeHeaders"), f"{api_id}.CorsConfiguration.ExposeHeaders"),
        max_age=int(max_age) if max_age is not None else None,
        allow_credentials=bool(v.get("AllowCredentials", False)),
    )


def _jwt_from(where: str, name: str, spec: Any, resolve: Resolve) -> JwtConfig:
    if not isinstance(spec, dict) or not isinstance(spec.get("JwtConfiguration"), dict):
        raise ValueError(f"{where}: authorizer {name} is not a JWT authorizer (JwtConfiguration); the local "
                         "gateway only emulates those")
    unsupported = set(spec) - {"JwtConfiguration", "IdentitySource"}
    if unsupported:
        raise ValueError(f"{where}: authorizer {name}: {sorted(unsupported)} not emulated locally")
    conf = resolve(spec["JwtConfiguration"])
    issuer = conf.get("issuer")
    audience = _strings(conf.get("audience"), f"{where}: authorizer {name} audience")
    if not isinstance(issuer, str) or not issuer or not audience:
        raise ValueError(f"{where}: authorizer {name} needs a JwtConfiguration issuer and audience")
    source = str(resolve(spec.get("IdentitySource", "$request.header.Authorization")))
    if not source.startswith("$request.header.") or "," in source:
        raise ValueError(f"{where}: authorizer {name}: identity source {source!r} not emulated (one header only)")
    return JwtConfig(issuer, audience, source.removeprefix("$request.header."))


API_KEYS_EMULATED = frozenset({"CorsConfiguration", "Auth", "DefaultRouteSettings", "AccessLogSettings", "StageName",
                               "Description", "Tags", "RouteSettings", "FailOnWarnings", "Name"})


def load_api(template_path: Path | str, resolve: Resolve | None = None) -> HttpApiSpec:
    """Routes (most specific first), CORS and JWT authorizer of the template's HTTP API, from the ORIGINAL SAM
    template; ``resolve`` resolves intrinsic functions (default: the template's parameter defaults)."""
    template = load_yaml(Path(template_path))
    resolve = resolve or template_defaults(template)
    resources = template["Resources"]
    global_api = ((template.get("Globals") or {}).get("HttpApi")) or {}
    apis: dict[str, dict[str, Any]] = {
        lid: {**global_api, **(r.get("Properties") or {})}
        for lid, r in resources.items() if r.get("Type") == "AWS::Serverless::HttpApi"
    }
    routes: list[Route] = []
    jwts: dict[str, JwtConfig] = {}
    for lid, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        for name, event in ((res.get("Properties") or {}).get("Events") or {}).items():
            if event.get("Type") == "Api":
                raise ValueError(f"{lid}.{name}: a REST API event (Type: Api); the local gateway emulates an HTTP API")
            if event.get("Type") != "HttpApi":
                continue
            where = f"{lid}.{name}"
            p = event.get("Properties") or {}
            version = str(p.get("PayloadFormatVersion", "2.0"))  # SAM's default for HttpApi events
            if version != PAYLOAD_FORMAT:
                raise ValueError(f"{where}: PayloadFormatVersion {version}; only {PAYLOAD_FORMAT} is emulated "
                                 "(the functions read REST-shaped events)")
            if "Path" not in p or "Method" not in p:
                raise ValueError(f"{where}: the $default route (no Path/Method) is not emulated locally")
            unsupported = set(p) - {"ApiId", "PayloadFormatVersion", "Path", "Method", "Auth", "TimeoutInMillis"}
            unsupported |= {f"Auth.{k}" for k in set(p.get("Auth") or {}) - {"Authorizer"}}
            if unsupported:
                raise ValueError(f"{where}: {sorted(unsupported)} not emulated locally")
            api_id = _ref(p.get("ApiId")) or IMPLICIT_API
            if api_id == IMPLICIT_API:
                apis.setdefault(IMPLICIT_API, global_api)
            api_props = apis.get(api_id)
            if api_props is None:
                raise ValueError(f"{where}: ApiId {api_id} is not an AWS::Serverless::HttpApi of the template")
            api_auth = api_props.get("Auth") or {}
            authorizer = (p.get("Auth") or {}).get("Authorizer", api_auth.get("DefaultAuthorizer"))
            auth = "NONE"
            if authorizer and authorizer != "NONE":
                spec = (api_auth.get("Authorizers") or {}).get(authorizer)
                jwts[f"{api_id}.{authorizer}"] = _jwt_from(where, str(authorizer), spec, resolve)
                auth = "JWT"
            routes.append(Route(str(p["Method"]).upper(), "/" + str(p["Path"]).strip("/"), lid, auth, api_id))
    used = sorted({r.api for r in routes if r.api})
    if len(used) > 1:
        raise ValueError(f"routes on several HTTP APIs {used}: the local gateway serves one")
    if len(set(jwts.values())) > 1:
        raise ValueError(f"several JWT authorizers {sorted(jwts)}: the local gateway emulates one")
    cors: CorsConfig | None = None
    if used:
        props = apis[used[0]]
        unknown = set(props) - API_KEYS_EMULATED
        if unknown:
            raise ValueError(f"{used[0]}: {sorted(unknown)} not emulated locally")
        auth_keys = set(props.get("Auth") or {}) - {"DefaultAuthorizer", "Authorizers"}
        if auth_keys:
            raise ValueError(f"{used[0]}.Auth: {sorted(auth_keys)} not emulated locally")
        if props.get("StageName") not in (None, STAGE):
            raise ValueError(f"{used[0]}: stage {props['StageName']!r}; only the $default stage is emulated")
        cors = _cors_from(used[0], props.get("CorsConfiguration"), resolve)
    routes.sort(key=lambda r: r.specificity(), reverse=True)
    return HttpApiSpec(routes, cors, next(iter(jwts.values()), None))


def load_routes(template_path: Path | str) -> tuple[list[Route], CorsConfig | None]:
    """The routes and CORS of the template's HTTP API, intrinsics resolved with the parameters' defaults."""
    spec = load_api(template_path)
    return spec.routes, spec.cors


def describe_routes(routes: list[Route]) -> list[str]:
    return [f"{r.method:<7} {r.path:<45} {'public' if r.auth == 'NONE' else 'jwt'}  -> {r.function}"
            for r in sorted(routes, key=lambda r: (r.path, r.method))]


# --------------------------------------------------------------------------- authorizer
class Unauthorized(Exception):
    """The token was missing or did not verify: 401 without invoking the function. ``description`` is what an
    HTTP API's www-authenticate header states for an invalid token (None when there was no token)."""

    def __init__(self, description: str | None):
        super().__init__(description or "no token")
        self.description = description


def _claim_text(value: Any) -> str:
    """One claim as a JWT authorizer renders it for payload format 1.0 (Go's formatting of the decoded JSON):
    strings as they are, numbers in decimal, booleans true/false, lists "[a b]", objects "map[k:v]"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_claim_text(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def claims_for_event(claims: Mapping[str, Any]) -> dict[str, str]:
    """The verified token's claims as requestContext.authorizer.claims: every value a string."""
    return {str(k): _claim_text(v) for k, v in claims.items()}


class JwtAuthorizer:
    """Verifies a bearer JWT the way an HTTP API's JWT authorizer does (no token_use check: Cognito ID and access
    tokens both pass when their aud, or client_id without aud, is in the audience).

    The JWKS is fetched once and cached; a token signed with an unknown ``kid`` triggers one refetch (key
    rotation), at most every ``min_refetch_seconds`` so forged kids cannot turn into a request flood.
    """

    def __init__(self, jwks_url: str, issuer: str, audience: Sequence[str], *, identity_header: str = "Authorization",
                 min_refetch_seconds: float = 5.0):
        if isinstance(audience, str):
            raise TypeError("audience is a list of client ids")
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = tuple(audience)
        self.identity_header = identity_header
        self.min_refetch_seconds = min_refetch_seconds
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def _fetch(self) -> None:
        try:
            resp = requests.get(self.jwks_url, timeout=5)
            resp.raise_for_status()
            keys: dict[str, Any] = {}
            for k in resp.json().get("keys", []):
                if k.get("kty") == "RSA" and k.get("kid"):
                    keys[str(k["kid"])] = jwt.PyJWK(k, algorithm="RS256").key
        except (requests.RequestException, ValueError, jwt.PyJWTError) as exc:
            log.warning("could not load JWKS from %s: %s", self.jwks_url, exc)
            raise Unauthorized("signing keys unavailable") from exc
        finally:
            self._fetched_at = time.monotonic()
        self._keys = keys

    def _key(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys:
                stale = self._fetched_at is None or time.monotonic() - self._fetched_at >= self.min_refetch_seconds
                if stale:
                    self._fetch()
            if kid not in self._keys:
                raise Unauthorized("unknown signing key")
            return self._keys[kid]

    @staticmethod
    def token_from_header(header_value: str | None) -> str:
        """The identity source holds the token alone or prefixed with "Bearer "."""
        token = (header_value or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            raise Unauthorized(None)
        return token

    def verify(self, header_value: str | None) -> dict[str, str]:
        """The token's claims as requestContext.authorizer.claims; else Unauthorized."""
        raw = self.token_from_header(header_value)
        try:
            header = jwt.get_unverified_header(raw)
            if header.get("alg") != "RS256":
                raise Unauthorized(f"signing method {header.get('alg')} is invalid")
            kid = header.get("kid")
            if not isinstance(kid, str) or not kid:
                raise Unauthorized("token has no kid")
            claims = jwt.decode(raw, self._key(kid), algorithms=["RS256"], issuer=self.issuer, leeway=0,
                                options={"verify_aud": False, "require": ["exp", "iat", "iss"]})
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthorized("the token does not have a valid issuer") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        aud = claims.get("aud")  # evaluated when present; client_id only without aud
        candidates = (aud if isinstance(aud, list) else [aud]) if aud is not None else [claims.get("client_id")]
        if not any(isinstance(c, str) and c in self.audience for c in candidates):
            raise Unauthorized("the token does not have a valid audience")
        return claims_for_event(claims)


# --------------------------------------------------------------------------- gateway
@dataclass
class GatewayResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    raw: bytes = b""
    multi_headers: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.raw and self.body:
            self.raw = self.body.encode()
        if not self.multi_headers:
            self.multi_headers = {k: [v] for k, v in self.headers.items()}

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


def _has(headers: Mapping[str, Any], name: str) -> bool:
    return any(k.lower() == name.lower() for k in headers)


def request_id() -> str:
    """An id shaped like an HTTP API's (apigw-requestid, e.g. "Mc7UVioPPHcEKPA=")."""
    return base64.b64encode(os.urandom(10)).decode()


def gateway_error(status: int, message: str, req_id: str, extra: Mapping[str, str] | None = None) -> GatewayResponse:
    """One of the HTTP API's own answers: {"message": ...}, never a CORS header."""
    body = json.dumps({"message": message})
    headers = {"Content-Type": "application/json", "apigw-requestid": req_id, **(extra or {})}
    return GatewayResponse(status, headers, body, body.encode())


class MalformedProxyResponse(ValueError):
    pass


def _pairs(headers: HeadersIn | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        out: list[tuple[str, str]] = []
        for k, v in headers.items():
            if isinstance(v, str) or not isinstance(v, Sequence):
                out.append((str(k), str(v)))
            else:
                out.extend((str(k), str(x)) for x in v)
        return out
    return [(str(k), str(v)) for k, v in headers]


def _first(pairs: Sequence[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in pairs if k.lower() == name.lower()), None)


def _query(query: str | Mapping[str, Any] | None) -> dict[str, list[str]]:
    multi: dict[str, list[str]] = {}
    if isinstance(query, str):
        for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=True):
            multi.setdefault(k, []).append(v)
    elif query:
        for k, v in query.items():
            if v is None:
                continue
            multi[str(k)] = [str(x) for x in v] if isinstance(v, list | tuple) else [str(v)]
    return multi


class Gateway:
    def __init__(self, routes: list[Route], invoke: Callable[[str, dict[str, Any]], Any],
                 authorizer: JwtAuthorizer | None, cors: CorsConfig | None = None):
        self.routes = sorted(routes, key=lambda r: r.specificity(), reverse=True)
        self.invoke = invoke
        self.authorizer = authorizer
        self.cors = cors

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """An HTTP API's route selection: among the routes whose path fits and whose method is ``method`` or
        ANY, one without a greedy variable first, then the most specific path, then the named method."""
        method = method.upper()
        best: tuple[Route, dict[str, str]] | None = None
        for route in self.routes:
            if route.method not in (method, "ANY"):
                continue
            params = route.match(path)
            if params is not None and (best is None or route.priority(method) > best[0].priority(method)):
                best = (route, params)
        return best

    def handle(self, method: str, path: str, *, headers: HeadersIn | None = None,
               query: str | Mapping[str, Any] | None = None, body: str | bytes | None = None,
               source_ip: str = "127.0.0.1") -> GatewayResponse:
        method = method.upper()
        path, _, query_in_path = path.partition("?")
        path = "/" + path.lstrip("/")
        if query is None and query_in_path:
            query = query_in_path
        req_id = request_id()
        pairs = _pairs(headers)
        raw_body = body.encode() if isinstance(body, str) else (body or b"")
        if len(raw_body) > MAX_BODY:
            return gateway_error(413, "Request Entity Too Large", req_id)
        origin = _first(pairs, "Origin")
        wanted_method = _first(pairs, "Access-Control-Request-Method")
        if self.cors is not None and method == "OPTIONS" and origin and wanted_method:
            # the API's CORS answers every preflight itself, on any path: no route, no authorizer, nothing invoked
            hdrs = self.cors.preflight_headers(origin, wanted_method, _first(pairs, "Access-Control-Request-Headers"))
            return GatewayResponse(204, {**hdrs, "apigw-requestid": req_id}, "", b"")
        found = self.find(method, path)
        if found is None:
            return gateway_error(404, "Not Found", req_id)
        route, params = found
        claims: dict[str, str] | None = None
        if route.auth != "NONE":
            if self.authorizer is None:
                log.error("%s needs a JWT authorizer but the gateway has none", route.key)
                return gateway_error(500, "Internal Server Error", req_id)
            try:
                claims = self.authorizer.verify(_first(pairs, self.authorizer.identity_header))
            except Unauthorized as exc:
                log.info("401 on %s %s: %s", method, path, exc)
                extra = None
                if exc.description is not None:
                    extra = {"www-authenticate": f'Bearer scope="" error="invalid_token" '
                                                 f'error_description="{exc.description}"'}
                return gateway_error(401, "Unauthorized", req_id, extra)
        event = self.event(route, method, path, params, pairs, query, raw_body, claims, source_ip, req_id)
        try:
            result = self.invoke(route.function, event)
        except Exception:
            log.exception("%s raised for %s %s (request %s)", route.function, method, path, req_id)
            return gateway_error(500, "Internal Server Error", req_id)
        try:
            resp = self.response(result, req_id)
        except MalformedProxyResponse as exc:
            log.error("%s returned a malformed Lambda proxy response for %s %s: %s; got %.500r",
                      route.function, method, path, exc, result)
            return gateway_error(500, "Internal Server Error", req_id)
        return self.with_cors(resp, origin)

    def with_cors(self, resp: GatewayResponse, origin: str | None) -> GatewayResponse:
        """A function's answer as the client gets it when the API has CORS: the function's own Access-Control-*
        headers dropped, the configured ones added for an allowed origin."""
        if self.cors is None:
            return resp
        multi = {k: v for k, v in resp.multi_headers.items() if not k.lower().startswith("access-control-")}
        multi.update({k: [v] for k, v in self.cors.response_headers(origin).items()})
        return GatewayResponse(resp.status, {k: ", ".join(v) for k, v in multi.items()}, resp.body, resp.raw, multi)

    def event(self, route: Route, method: str, path: str, params: dict[str, str],
              headers: HeadersIn | None, query: str | Mapping[str, Any] | None,
              body: bytes, claims: dict[str, str] | None, source_ip: str = "127.0.0.1",
              req_id: str | None = None) -> dict[str, Any]:
        """The payload format 1.0 event of an HTTP API for a request already matched to ``route``."""
        pairs = [(k.lower(), v) for k, v in _pairs(headers)]  # an HTTP API lower-cases header names
        present = {k for k, _ in pairs}
        for name, value in (("x-forwarded-for", source_ip), ("x-forwarded-port", "443"),
                            ("x-forwarded-proto", "https")):
            if name not in present:
                pairs.append((name, value))
        single: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for k, v in pairs:
            single[k] = v  # the last value, as in the documented example
            multi.setdefault(k, []).append(v)
        multi_query = _query(query)
        is_b64 = False
        text: str | None = None
        if body:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text, is_b64 = base64.b64encode(body).decode(), True
        now = time.time()
        req_id = req_id or request_id()
        context: dict[str, Any] = {
            "accountId": ACCOUNT_ID,
            "apiId": route.api or "localapi",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "extendedRequestId": req_id,
            "httpMethod": method,
            "identity": {
                "accessKey": None, "accountId": None, "caller": None, "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None, "cognitoIdentityId": None, "cognitoIdentityPoolId": None,
                "principalOrgId": None, "sourceIp": source_ip, "user": None, "userAgent": single.get("user-agent"),
                "userArn": None,
            },
            "path": path,
            "protocol": "HTTP/1.1",
            "requestId": req_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": route.key,
            "resourcePath": route.path,
            "stage": STAGE,
        }
        if claims is not None:
            context["authorizer"] = {"claims": dict(claims), "scopes": None}
        return {
            "version": PAYLOAD_FORMAT,
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": single or None,
            "multiValueHeaders": multi or None,
            # the first value, as in the documented example (multiValueQueryStringParameters has them all)
            "queryStringParameters": {k: v[0] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "requestContext": context,
            "pathParameters": dict(params) or None,
            "stageVariables": None,
            "body": text,
            "isBase64Encoded": is_b64,
        }

    @staticmethod
    def response(result: Any, req_id: str | None = None) -> GatewayResponse:
        """Map a payload 1.0 Lambda result to the HTTP response; MalformedProxyResponse when the API would 500."""
        if not isinstance(result, dict):
            raise MalformedProxyResponse(f"result is a {type(result).__name__}, not an object")
        extra = set(result) - PROXY_RESULT_KEYS
        if extra:
            raise MalformedProxyResponse(f"unexpected keys {sorted(extra)}")
        status = result.get("statusCode")
        if isinstance(status, str) and status.isdigit():
            status = int(status)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise MalformedProxyResponse(f"statusCode {status!r} is not an HTTP status")
        single = result.get("headers") or {}
        multi_in = result.get("multiValueHeaders") or {}
        if not isinstance(single, dict) or not isinstance(multi_in, dict):
            raise MalformedProxyResponse("headers and multiValueHeaders must be objects")
        multi: dict[str, list[str]] = {}
        for k, values in multi_in.items():
            if not isinstance(values, list):
                raise MalformedProxyResponse(f"multiValueHeaders[{k!r}] is not a list")
            multi[str(k)] = [str(v) for v in values]
        for k, v in single.items():
            if isinstance(v, dict | list):
                raise MalformedProxyResponse(f"headers[{k!r}] is not a scalar")
            if not _has(multi, str(k)):  # multiValueHeaders win for the same name
                multi[str(k)] = [str(v).lower() if isinstance(v, bool) else str(v)]
        if not _has(multi, "Content-Type"):
            multi["Content-Type"] = ["application/json"]
        if req_id and not _has(multi, "apigw-requestid"):
            multi["apigw-requestid"] = [req_id]
        body = result.get("body")
        if body is not None and not isinstance(body, str):
            raise MalformedProxyResponse(f"body is a {type(body).__name__}, not a string")
        is_b64 = result.get("isBase64Encoded", False)
        if not isinstance(is_b64, bool):
            raise MalformedProxyResponse("isBase64Encoded must be a boolean")
        if is_b64 and body:
            try:
                raw = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise MalformedProxyResponse("body is not valid base64") from exc
        else:
            raw = (body or "").encode()
        headers = {k: ", ".join(v) for k, v in multi.items()}
        return GatewayResponse(status, headers, raw.decode("utf-8", "replace"), raw, multi)


# --------------------------------------------------------------------------- HTTP server
class BadRequest(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "shop-local-gateway"
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    # TCP_NODELAY: headers and body go out as two writes; with Nagle on, a keep-alive client's delayed ACK
    # held every response back ~40 ms
    disable_nagle_algorithm = True
    gateway: Gateway

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise BadRequest("malformed chunked body") from exc
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise OverflowError
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        try:
            length = int(raw_length)
        except ValueError as exc:
            raise BadRequest("invalid Content-Length") from exc
        if length < 0:
            raise BadRequest("invalid Content-Length")
        if length > MAX_BODY:
            raise OverflowError
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        target = self.path
        if "://" in target:  # absolute-form request target
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        path, _, query = target.partition("?")
        req_id = request_id()
        try:
            body = self._read_body()
            from shoplocal.static import static_response  # the console and /docs; None for API requests

            resp = static_response(self.command, path) or self.gateway.handle(
                self.command, path, headers=list(self.headers.items()), query=query, body=body,
                source_ip=self.client_address[0])
        except OverflowError:
            resp = gateway_error(413, "Request Entity Too Large", req_id)
            self.close_connection = True  # the unread body makes the connection unusable
        except BadRequest as exc:
            log.info("400 on %s %s: %s", self.command, self.path, exc)
            resp = gateway_error(400, "Bad Request", req_id)
            self.close_connection = True
        except Exception:
            log.exception("gateway failed on %s %s", self.command, self.path)
            resp = gateway_error(500, "Internal Server Error", req_id)
        self._write(resp)

    def _write(self, resp: GatewayResponse) -> None:
        self.send_response(resp.status)
        for k, values in resp.multi_headers.items():
            if k.lower() in ("content-length", "transfer-encoding", "connection"):
                continue
            for v in values:
                self.send_header(k, v)
        no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
        self.send_header("Content-Length", "0" if resp.status in (204, 304) else str(len(resp.raw)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not no_body:
            self.wfile.write(resp.raw)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, CONNECT, PROPFIND...) goes to the gateway too, which answers it as an HTTP
        # API does for a method no route defines (404), instead of http.server's 501.
        if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 512  # listen backlog: bursts of hundreds of parallel connections

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]):
        super().__init__(address, handler)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End idle keep-alive connections so no thread keeps serving after shutdown."""
        with self.connections_lock:
            open_now = list(self.connections)
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class GatewayServer:
    def __init__(self, server: _Server, host: str):
        self.server = server
        self.host = "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104 - only rewriting for the URL
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                       name="shop-gateway", daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.server.close_connections()
        self.thread.join(timeout=5)


def serve(gateway: Gateway, host: str = "127.0.0.1", port: int = 0) -> GatewayServer:
    """Serve ``gateway`` over HTTP/1.1 (keep-alive, one thread per connection) until ``.shutdown()``."""
    handler = type("BoundHandler", (_Handler,), {"gateway": gateway})
    return GatewayServer(_Server((host, port), handler), host)


__all__ = ["CorsConfig", "Gateway", "GatewayResponse", "GatewayServer", "HttpApiSpec", "JwtAuthorizer", "JwtConfig",
           "MalformedProxyResponse", "Route", "Unauthorized", "claims_for_event", "describe_routes", "gateway_error",
           "load_api", "load_routes", "serve", "template_defaults"]
