"""API Gateway (REST API, v1 Lambda proxy integration) emulation built from the template's routes.

Requests become Lambda proxy events shaped like API Gateway's; protected routes are checked by a Cognito
user-pool authorizer (RS256 signature against the pool's JWKS, expiry, issuer, audience, token_use) before
the function runs, as API Gateway does; the function's proxy result becomes the HTTP response.

Behaviour mirrored from API Gateway (see docs/local-gateway.md):
- unknown path, or a method the matched resource does not define (any method, TRACE included): 403
  {"message": "Missing Authentication Token"}
- missing/invalid/expired/forged token on a protected route: 401 {"message": "Unauthorized"}, function not invoked
- body over 10 MB: 413 {"message": "Request Too Long"}
- handler exception or malformed proxy result: 502 {"message": "Internal server error"} (traceback logged)
- OPTIONS preflight answered from the API's Cors setting without invoking anything (SAM's mock integration)
- the gateway's own answers (the errors above) carry exactly the headers of the API's GatewayResponses;
  a function's answer is passed through as it is: no CORS header is added to it
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import socket
import threading
import time
import uuid
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

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
ACCOUNT_ID = "123456789012"
IMPLICIT_API = "ServerlessRestApi"  # SAM's logical id for the API of events without RestApiId
PROXY_RESULT_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})

HeadersIn = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]


# --------------------------------------------------------------------------- routes
@dataclass(frozen=True)
class Route:
    method: str  # upper case; "ANY" matches every method
    path: str  # resource path template, e.g. /products/{productId}
    function: str  # function logical id
    auth: str  # "COGNITO" or "NONE"
    api: str | None = None  # API logical id

    @property
    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s]

    def specificity(self) -> tuple[int, ...]:
        """Per segment: literal (2) beats {param} (1) beats {proxy+} (0); compared left to right."""
        return tuple(0 if s.endswith("+}") else 1 if s.startswith("{") else 2 for s in self.segments)

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters when ``path`` (as requested, percent-encoded or not) fits this template."""
        parts = [unquote(p) for p in path.split("/") if p]
        params: dict[str, str] = {}
        segs = self.segments
        for i, seg in enumerate(segs):
            if seg.startswith("{") and seg.endswith("+}"):
                if i >= len(parts):  # a greedy parameter needs at least one segment
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
    max_age: str = ""
    allow_credentials: bool = False

    def preflight_headers(self, methods: Iterable[str] = ()) -> dict[str, str]:
        """What SAM's generated OPTIONS mock integration answers; methods default to the resource's."""
        out = {"Access-Control-Allow-Origin": self.allow_origin}
        if self.allow_headers:
            out["Access-Control-Allow-Headers"] = self.allow_headers
        allow_methods = self.allow_methods or ",".join(sorted({*methods, "OPTIONS"}))
        out["Access-Control-Allow-Methods"] = allow_methods
        if self.max_age:
            out["Access-Control-Max-Age"] = self.max_age
        if self.allow_credentials:
            out["Access-Control-Allow-Credentials"] = "true"
        return out

    # kept for callers of the first version
    def headers(self) -> dict[str, str]:
        return self.preflight_headers()


@dataclass(frozen=True)
class GatewayResponseConfig:
    """One entry of the API's ``GatewayResponses``: headers (static ``'value'`` or ``method.request.header.X``)
    and an optional status override. ``ResponseTemplates``, ``Paths`` and ``QueryStrings`` are not emulated
    and make ``load_gateway_responses`` fail rather than answer differently from API Gateway."""

    headers: tuple[tuple[str, str], ...] = ()
    status: int | None = None

    def render(self, request_headers: Sequence[tuple[str, str]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, expr in self.headers:
            if expr.startswith("method.request.header."):
                wanted = expr.removeprefix("method.request.header.").lower()
                value = next((v for k, v in request_headers if k.lower() == wanted), None)
                if value is not None:
                    out[name] = value
            else:
                out[name] = _unquote_cors(expr)
        return out


def _gateway_response_from(api_id: str, response_type: str, value: Any) -> GatewayResponseConfig:
    if not isinstance(value, dict):
        raise ValueError(f"{api_id}.GatewayResponses.{response_type} must be a map")
    unsupported = set(value) - {"ResponseParameters", "StatusCode"}
    params = value.get("ResponseParameters") or {}
    unsupported |= {f"ResponseParameters.{k}" for k in set(params) - {"Headers"}}
    if unsupported:
        raise ValueError(f"{api_id}.GatewayResponses.{response_type}: {sorted(unsupported)} not emulated locally")
    headers: list[tuple[str, str]] = []
    for name, expr in (params.get("Headers") or {}).items():
        text = str(expr).strip()
        if not (text.startswith("method.request.header.") or (len(text) >= 2 and text[0] == text[-1] == "'")):
            raise ValueError(f"{api_id}.GatewayResponses.{response_type}.Headers.{name}: only 'static' values and "
                             "method.request.header.* are emulated locally")
        headers.append((str(name), text))
    status = value.get("StatusCode")
    return GatewayResponseConfig(tuple(headers), int(status) if status is not None else None)


@dataclass(frozen=True)
class GatewayResponses:
    """The API's customized gateway responses by type; an uncustomized type falls back to DEFAULT_4XX/5XX."""

    by_type: Mapping[str, GatewayResponseConfig] = field(default_factory=dict)

    def lookup(self, response_type: str, status: int) -> GatewayResponseConfig | None:
        found = self.by_type.get(response_type)
        if found is None:
            found = self.by_type.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX")
        return found


def load_gateway_responses(template_path: Path | str, api_id: str | None = None) -> GatewayResponses:
    """The ``GatewayResponses`` of the template's API (the one the routes use, ``api_id``, else the only one)."""
    template = load_yaml(Path(template_path))
    resources = template["Resources"]
    apis = {lid: r for lid, r in resources.items() if r.get("Type") == "AWS::Serverless::Api"}
    if api_id is None:
        if len(apis) > 1:
            raise ValueError(f"several APIs {sorted(apis)}: name the one the gateway serves")
        api_id = next(iter(apis), None)
    props = ((apis.get(api_id) or {}).get("Properties") or {}) if api_id else {}
    configured = props.get("GatewayResponses") or {}
    return GatewayResponses({str(t): _gateway_response_from(str(api_id), str(t), v) for t, v in configured.items()})


def _unquote_cors(value: Any) -> str:
    text = str(value if value is not None else "").strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


def _cors_from(value: Any) -> CorsConfig | None:
    if value is None:
        return None
    if isinstance(value, str):
        return CorsConfig(allow_origin=_unquote_cors(value))
    if isinstance(value, dict):
        return CorsConfig(
            allow_origin=_unquote_cors(value.get("AllowOrigin", "'*'")),
            allow_headers=_unquote_cors(value.get("AllowHeaders")),
            allow_methods=_unquote_cors(value.get("AllowMethods")),
            max_age=_unquote_cors(value.get("MaxAge")),
            allow_credentials=bool(value.get("AllowCredentials", False)),
        )
    raise ValueError(f"unsupported Cors setting {value!r}")


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return str(value) if value else None


def load_routes(template_path: Path | str) -> tuple[list[Route], CorsConfig | None]:
    """Routes (most specific first) and the CORS setting from the ORIGINAL SAM template."""
    template = load_yaml(Path(template_path))
    resources = template["Resources"]
    global_api = ((template.get("Globals") or {}).get("Api")) or {}
    apis: dict[str, dict[str, Any]] = {
        lid: {**global_api, **(r.get("Properties") or {})}
        for lid, r in resources.items() if r.get("Type") == "AWS::Serverless::Api"
    }
    routes: list[Route] = []
    for lid, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        for name, event in ((res.get("Properties") or {}).get("Events") or {}).items():
            if event.get("Type") != "Api":
                continue
            p = event.get("Properties") or {}
            api_id = _ref(p.get("RestApiId")) or IMPLICIT_API
            api_props = apis.get(api_id, global_api if api_id == IMPLICIT_API else None)
            if api_props is None:
                raise ValueError(f"{lid}.{name}: RestApiId {api_id} is not an AWS::Serverless::Api of the template")
            api_auth = api_props.get("Auth") or {}
            authorizer = (p.get("Auth") or {}).get("Authorizer", api_auth.get("DefaultAuthorizer"))
            if not authorizer or authorizer == "NONE":
                auth = "NONE"
            else:
                spec = (api_auth.get("Authorizers") or {}).get(authorizer)
                if not isinstance(spec, dict) or "UserPoolArn" not in spec:
                    raise ValueError(f"{lid}.{name}: authorizer {authorizer} is not a Cognito user-pool authorizer; "
                                     "the local gateway only emulates those")
                auth = "COGNITO"
            routes.append(Route(str(p["Method"]).upper(), "/" + str(p["Path"]).strip("/"), lid, auth, api_id))
            if api_id == IMPLICIT_API:
                apis.setdefault(IMPLICIT_API, global_api)
    cors: CorsConfig | None = None
    for api_id in sorted(apis):
        found = _cors_from(apis[api_id].get("Cors"))
        if found is not None and any(r.api == api_id for r in routes):
            cors = found
            break
    routes.sort(key=lambda r: r.specificity(), reverse=True)
    return routes, cors


def describe_routes(routes: list[Route]) -> list[str]:
    return [f"{r.method:<7} {r.path:<45} {'public' if r.auth == 'NONE' else 'cognito'}  -> {r.function}"
            for r in sorted(routes, key=lambda r: (r.path, r.method))]


# --------------------------------------------------------------------------- authorizer
class Unauthorized(Exception):
    """The token was missing or did not verify; API Gateway answers 401 without invoking the function."""


def _apigw_date(epoch: Any) -> str:
    """API Gateway renders exp/iat claims for REST APIs like "Wed May 20 19:01:35 UTC 2020"."""
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(int(epoch)))


def claims_for_event(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as a REST API Cognito authorizer passes them: every value a string, lists comma-joined."""
    out: dict[str, str] = {}
    for key, value in claims.items():
        if key in ("exp", "iat") and isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = _apigw_date(value)
        elif isinstance(value, list | tuple):
            out[key] = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, dict):
            out[key] = json.dumps(value, separators=(",", ":"))
        else:
            out[key] = str(value)
    return out


class CognitoAuthorizer:
    """Verifies Cognito ID tokens the way an API Gateway COGNITO_USER_POOLS authorizer does.

    The JWKS is fetched once and cached; a token signed with an unknown ``kid`` triggers one refetch (key
    rotation), at most every ``min_refetch_seconds`` so forged kids cannot turn into a request flood.
    """

    def __init__(self, jwks_url: str, issuer: str, audience: str, *, min_refetch_seconds: float = 5.0,
                 leeway_seconds: int = 0):
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.min_refetch_seconds = min_refetch_seconds
        self.leeway_seconds = leeway_seconds
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
        """Accepts "<token>" and "Bearer <token>"."""
        token = (header_value or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            raise Unauthorized("no token")
        return token

    def verify(self, token: str | None) -> dict[str, str]:
        """The token's claims as API Gateway puts them into requestContext.authorizer.claims; else Unauthorized."""
        raw = self.token_from_header(token)
        try:
            header = jwt.get_unverified_header(raw)
            if header.get("alg") != "RS256":
                raise Unauthorized(f"unexpected algorithm {header.get('alg')!r}")
            kid = header.get("kid")
            if not isinstance(kid, str) or not kid:
                raise Unauthorized("token without kid")
            claims = jwt.decode(
                raw, self._key(kid), algorithms=["RS256"], issuer=self.issuer, leeway=self.leeway_seconds,
                options={"verify_aud": False, "require": ["exp", "iat", "iss", "sub", "token_use"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(str(exc)) from exc
        if claims.get("token_use") != "id":
            raise Unauthorized("an ID token is required")
        if claims.get("aud") != self.audience:
            raise Unauthorized("token issued for another app client")
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


def _gateway_error(status: int, message: str, error_type: str, request_id: str,
                   extra: Mapping[str, str] | None = None) -> GatewayResponse:
    body = json.dumps({"message": message})
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id, "x-amzn-ErrorType": error_type,
               **(extra or {})}
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
                 authorizer: CognitoAuthorizer | None, cors: CorsConfig | None = None, stage: str = "local",
                 gateway_responses: GatewayResponses | None = None):
        self.routes = sorted(routes, key=lambda r: r.specificity(), reverse=True)
        self.invoke = invoke
        self.authorizer = authorizer
        self.cors = cors
        self.gateway_responses = gateway_responses or GatewayResponses()
        self.stage = stage
        # resources (path templates) in precedence order, each with its routes by method
        self._resources: dict[str, dict[str, Route]] = {}
        for route in self.routes:
            self._resources.setdefault(route.path, {})[route.method] = route

    def resource(self, path: str) -> tuple[str, dict[str, str]] | None:
        """The most specific resource whose template matches ``path`` and its path parameters."""
        for template, methods in self._resources.items():
            params = next(iter(methods.values())).match(path)
            if params is not None:
                return template, params
        return None

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """As API Gateway: the resource is chosen first, then its method (or ANY) - no fallback to others."""
        found = self.resource(path)
        if found is None:
            return None
        template, params = found
        methods = self._resources[template]
        route = methods.get(method.upper()) or methods.get("ANY")
        return (route, params) if route is not None else None

    def error(self, status: int, response_type: str, message: str, error_type: str, request_id: str,
              request_headers: Sequence[tuple[str, str]] = ()) -> GatewayResponse:
        """One of API Gateway's own answers, with the headers (and status) the API's GatewayResponses give its
        type (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html)
        or else DEFAULT_4XX / DEFAULT_5XX."""
        configured = self.gateway_responses.lookup(response_type, status)
        extra: dict[str, str] = {}
        if configured is not None:
            extra = configured.render(request_headers)
            status = configured.status or status
        return _gateway_error(status, message, error_type, request_id, extra)

    def handle(self, method: str, path: str, *, headers: HeadersIn | None = None,
               query: str | Mapping[str, Any] | None = None, body: str | bytes | None = None,
               source_ip: str = "127.0.0.1") -> GatewayResponse:
        method = method.upper()
        path, _, query_in_path = path.partition("?")
        path = "/" + path.lstrip("/")
        if query is None and query_in_path:
            query = query_in_path
        request_id = str(uuid.uuid4())
        pairs = _pairs(headers)
        raw_body = body.encode() if isinstance(body, str) else (body or b"")
        if len(raw_body) > MAX_BODY:
            return self.error(413, "REQUEST_TOO_LARGE", "Request Too Long", "RequestTooLarge", request_id, pairs)
        if method == "OPTIONS" and self.cors is not None:
            found_resource = self.resource(path)
            if found_resource is None:
                return self.error(403, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token",
                                  "MissingAuthenticationTokenException", request_id, pairs)
            methods = [m for m in self._resources[found_resource[0]] if m != "ANY"]
            # SAM's OPTIONS method: a mock integration answering the Cors headers, no auth, nothing invoked
            hdrs = {**self.cors.preflight_headers(methods), "Content-Type": "application/json",
                    "x-amzn-RequestId": request_id}
            return GatewayResponse(200, hdrs, "", b"")
        found = self.find(method, path)
        if found is None:
            return self.error(403, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token",
                              "MissingAuthenticationTokenException", request_id, pairs)
        route, params = found
        claims: dict[str, str] | None = None
        if route.auth == "COGNITO":
            if self.authorizer is None:
                log.error("%s %s needs a Cognito authorizer but the gateway has none", method, route.path)
                return self.error(500, "AUTHORIZER_CONFIGURATION_ERROR", "Internal server error",
                                  "AuthorizerConfigurationException", request_id, pairs)
            auth_header = next((v for k, v in pairs if k.lower() == "authorization"), None)
            try:
                claims = self.authorizer.verify(auth_header)
            except Unauthorized as exc:
                log.info("401 on %s %s: %s", method, path, exc)
                return self.error(401, "UNAUTHORIZED", "Unauthorized", "UnauthorizedException", request_id, pairs)
        event = self.event(route, method, path, params, pairs, query, raw_body, claims, source_ip, request_id)
        try:
            result = self.invoke(route.function, event)
        except Exception:
            log.exception("%s raised for %s %s (request %s)", route.function, method, path, request_id)
            return self.error(502, "DEFAULT_5XX", "Internal server error", "InternalServerErrorException",
                              request_id, pairs)
        try:
            return self.response(result, None, request_id)
        except MalformedProxyResponse as exc:
            log.error("%s returned a malformed Lambda proxy response for %s %s: %s; got %.500r",
                      route.function, method, path, exc, result)
            return self.error(502, "DEFAULT_5XX", "Internal server error", "InternalServerErrorException",
                              request_id, pairs)

    def event(self, route: Route, method: str, path: str, params: dict[str, str],
              headers: HeadersIn | None, query: str | Mapping[str, Any] | None,
              body: bytes, claims: dict[str, str] | None, source_ip: str = "127.0.0.1",
              request_id: str | None = None) -> dict[str, Any]:
        """The REST API Lambda proxy event (v1 payload) for a request already matched to ``route``."""
        pairs = _pairs(headers)
        if not any(k.lower() == "x-forwarded-for" for k, _ in pairs):
            pairs = [*pairs, ("X-Forwarded-For", source_ip)]
        if not any(k.lower() == "x-forwarded-proto" for k, _ in pairs):
            pairs = [*pairs, ("X-Forwarded-Proto", "http")]
        single: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        names: dict[str, str] = {}  # lower -> first spelling seen
        for k, v in pairs:
            name = names.setdefault(k.lower(), k)
            single[name] = v
            multi.setdefault(name, []).append(v)
        multi_query = _query(query)
        is_b64 = False
        text: str | None = None
        if body:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text, is_b64 = base64.b64encode(body).decode(), True
        now = time.time()
        user_agent = next((v for k, v in single.items() if k.lower() == "user-agent"), None)
        context: dict[str, Any] = {
            "accountId": ACCOUNT_ID,
            "resourceId": "local",
            "stage": self.stage,
            "requestId": request_id or str(uuid.uuid4()),
            "extendedRequestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "identity": {
                "cognitoIdentityPoolId": None, "accountId": None, "cognitoIdentityId": None, "caller": None,
                "accessKey": None, "sourceIp": source_ip, "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None, "userArn": None, "userAgent": user_agent, "user": None,
            },
            "path": f"/{self.stage}{path}",
            "resourcePath": route.path,
            "httpMethod": method,
            "apiId": route.api or "localapi",
            "protocol": "HTTP/1.1",
            "domainName": "localhost",
            "domainPrefix": "localhost",
        }
        if claims is not None:
            context["authorizer"] = {"claims": dict(claims)}
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": single or None,
            "multiValueHeaders": multi or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": dict(params) or None,
            "stageVariables": None,
            "requestContext": context,
            "body": text,
            "isBase64Encoded": is_b64,
        }

    @staticmethod
    def response(result: Any, extra_headers: Mapping[str, str] | None = None,
                 request_id: str | None = None) -> GatewayResponse:
        """Map a Lambda proxy result to the HTTP response; MalformedProxyResponse when API Gateway would 502."""
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
            if not _has(multi, str(k)):  # multiValueHeaders win for the same name, as in API Gateway
                multi[str(k)] = [str(v).lower() if isinstance(v, bool) else str(v)]
        for k, v in (extra_headers or {}).items():
            if not _has(multi, k):
                multi[k] = [v]
        if not _has(multi, "Content-Type"):
            multi["Content-Type"] = ["application/json"]
        if request_id and not _has(multi, "x-amzn-RequestId"):
            multi["x-amzn-RequestId"] = [request_id]
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
        request_id = str(uuid.uuid4())
        try:
            body = self._read_body()
            from shoplocal.static import static_response  # the console and /docs; None for API requests

            resp = static_response(self.command, path) or self.gateway.handle(
                self.command, path, headers=list(self.headers.items()), query=query, body=body,
                source_ip=self.client_address[0])
        except OverflowError:
            resp = self.gateway.error(413, "REQUEST_TOO_LARGE", "Request Too Long", "RequestTooLarge", request_id,
                                      list(self.headers.items()))
            self.close_connection = True  # the unread body makes the connection unusable
        except BadRequest as exc:
            resp = self.gateway.error(400, "BAD_REQUEST_BODY", str(exc), "BadRequestException", request_id,
                                      list(self.headers.items()))
            self.close_connection = True
        except Exception:
            log.exception("gateway failed on %s %s", self.command, self.path)
            resp = self.gateway.error(500, "DEFAULT_5XX", "Internal server error", "InternalServerErrorException",
                                      request_id, list(self.headers.items()))
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
        # Any other method (TRACE, CONNECT, PROPFIND...) goes to the gateway too, which answers it as API
        # Gateway does for a method the resource does not define (403), instead of http.server's 501.
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


__all__ = ["CognitoAuthorizer", "CorsConfig", "Gateway", "GatewayResponse", "GatewayResponseConfig", "GatewayResponses",
           "GatewayServer", "MalformedProxyResponse", "Route", "Unauthorized", "claims_for_event", "describe_routes",
           "load_gateway_responses", "load_routes", "serve"]
