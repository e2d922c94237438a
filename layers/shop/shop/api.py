"""API Gateway plumbing shared by every HTTP function: resolver factory, error mapping, principals.

One exception handler per domain error class maps it to its HTTP status (``STATUS``: the domain errors know no
HTTP) with a JSON body ``{"error": {"code", "message", "details"?}}``. Services name a field relative to the
input they act on (``quantity``, ``lines.0.sku``, ``cursor``); the handler adds where the route takes it from
(``body.quantity``, ``query.cursor``, ``path.sku``: see ``FieldLocations``). Request validation failures become
422 with a list of the offending fields (``body.quantity``, ``query.limit``...). A body that is not JSON (or
too deeply nested to parse, or holding an integer of more digits than Python converts) is 400
``malformed_json``, one of another media type 415 ``unsupported_media_type``. Before anything parses it,
``http_handler`` refuses a body over ``MAX_BODY_BYTES`` (413 ``payload_too_large``), one that is not UTF-8
(400) and a multipart one (415). Each of these names the offending field (``body``, ``header.Content-Type``)
in ``details.fields``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel

from shop import errors as E
from shop import idempotency

JSON = content_types.APPLICATION_JSON
# Largest request body an HTTP function accepts (API Gateway itself allows 10 MB). The biggest legitimate
# body, a product with its SKUs or a purchase order with its lines, is a few kB; anything larger is refused
# with 413 payload_too_large before it is parsed.
MAX_BODY_BYTES = 64 * 1024
# 5xx messages never echo internals (table names, stack traces); the log keeps the details.
PUBLIC_5XX = {"dependency_failed": "a downstream service failed; retry later",
              "configuration_error": "the service is misconfigured"}


def parse_json(text: str | bytes) -> Any:
    """``json.loads`` for request bodies: every way a body cannot be read is a ``json.JSONDecodeError``.
    Python refuses to convert an integer of more than 4,300 digits (``sys.get_int_max_str_digits``) with a bare
    ValueError and gives up on deep nesting with a RecursionError, which would otherwise escape as a 500; both
    become the same error as any other unreadable body.
    The resolver of every HTTP function and the signed webhooks parse with this."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
        reason = "a number has too many digits"
        cause: Exception = exc
    except RecursionError as exc:  # some 20,000 levels of nesting
        reason, cause = "nested too deeply", exc
    doc = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    raise json.JSONDecodeError(reason, doc, 0) from cause


def error_response(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body))


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc if p != "__root__")


def validation_body(exc: RequestValidationError) -> dict[str, Any]:
    fields = [
        {"field": _field_name(err.get("loc", ())), "message": str(err.get("msg", "invalid"))}
        for err in exc.errors()
    ]
    names = ", ".join(f["field"] for f in fields) or "request"
    return {"error": {"code": "validation_error", "message": f"invalid request: {names}",
                      "details": {"fields": fields}}}


def malformed_body(message: str) -> dict[str, Any]:
    """400: the body cannot be read at all (not JSON, not UTF-8); the field is the body itself."""
    return {"error": {"code": "malformed_json", "message": message,
                      "details": {"fields": [{"field": "body", "message": message}]}}}


# The HTTP status of each domain error; a subclass not listed answers as its nearest listed ancestor
# (OutOfStock and every other Conflict 409, PayloadTooLarge 413 although it is an InvalidInput).
STATUS: dict[type[E.DomainError], int] = {
    E.DomainError: 500,
    E.NotFound: 404,
    E.Conflict: 409,
    E.InvalidInput: 422,
    E.PayloadTooLarge: 413,
    E.Unauthorized: 401,
    E.Forbidden: 403,
    E.ServiceBusy: 503,
    E.TooManyRequests: 429,
    E.DependencyFailed: 502,
    E.ConfigurationError: 500,
    E.PaymentDeclined: 402,
}


def http_status(exc: E.DomainError | type[E.DomainError]) -> int:
    """The status of a domain error (or class): that of the most specific class in ``STATUS``."""
    cls = exc if isinstance(exc, type) else type(exc)
    return next(STATUS[c] for c in cls.__mro__ if c in STATUS)


Locate = Callable[[str], str]


def _as_named(field: str) -> str:
    return field


def public_body(exc: E.DomainError, locate: Locate = _as_named) -> dict[str, Any]:
    """The body a client gets for a domain error: a 5xx never echoes internals (the log keeps the details).
    ``locate`` turns each field the error names (the InvalidInput's field, ``details`` entries ``"field"``)
    into where the request carried it; by default they stay as named."""
    if http_status(exc) >= 500:
        public = exc.message if isinstance(exc, E.ServiceBusy) else PUBLIC_5XX.get(exc.code, "internal error")
        return {"error": {"code": exc.code, "message": public}}
    body = exc.body()
    err = body["error"]
    if isinstance(exc, E.InvalidInput):
        where = locate(exc.field)
        if where != exc.field:
            err["message"] = f"{where}: {exc.reason}" if where else exc.reason
    if "details" in err:
        err["details"] = _located(err["details"], locate)
    return body


def _located(value: Any, locate: Locate) -> Any:
    """A copy of ``details`` with every ``"field"`` entry (at any depth) passed through ``locate``."""
    if isinstance(value, dict):
        return {k: locate(v) if k == "field" and isinstance(v, str) else _located(v, locate) for k, v in value.items()}
    if isinstance(value, list):
        return [_located(v, locate) for v in value]
    return value


# ---------------------------------------------------------------- where a route's input fields arrive

LOCATIONS_ATTR = "__shop_field_locations__"
Where = str | None  # "body", "query", "path", "header"; None: the field is answered as the service named it


def field_locations[F: Callable[..., Any]](default: Where = None, **fields: Where) -> Callable[[F], F]:
    """Per-route override of ``FieldLocations`` for what the route's signature cannot tell: ``fields`` maps a
    field's first name to where it arrives (None: answer it as named), ``default`` places every field the
    signature does not know (and the input as a whole, the field ""), e.g. ``default="body"`` for a route that
    parses its raw body itself. Marks the function; put it below the route decorator."""

    def mark(func: F) -> F:
        setattr(func, LOCATIONS_ATTR, (default, dict(fields)))
        return func

    return mark


@dataclass(frozen=True)
class FieldLocations:
    """Where each input field of one route arrives, read from the route function's signature as Powertools
    parsed it: a path parameter is ``path.<name>``, a ``Query()`` one ``query.<alias>``, a ``Header()`` one
    ``header.<alias>``, a field of the pydantic body model ``body.<field>`` (the input as a whole, "", is
    ``body``); anything else stays as named (``cart``, ``header.Idempotency-Key``). A ``field_locations``
    mark on the function comes first."""

    params: dict[str, tuple[str, str]]  # parameter name or alias -> (location, alias)
    body_fields: frozenset[str]
    has_body: bool
    overrides: dict[str, Where]
    default: Where = None

    @classmethod
    def of(cls, route: Any) -> FieldLocations:
        cached = getattr(route, "_shop_field_locations", None)
        if isinstance(cached, FieldLocations):
            return cached
        dependant = route.dependant
        params: dict[str, tuple[str, str]] = {}
        for where, found in (("header", dependant.header_params), ("query", dependant.query_params),
                             ("path", dependant.path_params)):  # a path parameter wins a name clash
            for param in found:
                params[param.name] = params[param.alias] = (where, param.alias)
        body_fields: set[str] = set()
        bodies = list(dependant.body_params)
        if len(bodies) == 1 and isinstance(bodies[0].type_, type) and issubclass(bodies[0].type_, BaseModel):
            for name, info in bodies[0].type_.model_fields.items():
                body_fields.update({name, info.alias or name})
        elif len(bodies) > 1:  # several body parameters: each is one key of the body
            for param in bodies:
                params[param.name] = params[param.alias] = ("body", param.alias)
        default, overrides = getattr(route.func, LOCATIONS_ATTR, (None, {}))
        found_locations = cls(params, frozenset(body_fields), bool(bodies), overrides, default)
        route._shop_field_locations = found_locations
        return found_locations

    def __call__(self, field: str) -> str:
        head, dot, rest = field.partition(".")
        name = head
        if head in self.overrides:
            where = self.overrides[head]
        elif head in self.params:
            where, name = self.params[head]
        elif head in self.body_fields or (not field and self.has_body):
            where = "body"
        else:
            where = self.default
        if where is None:
            return field
        return ".".join(part for part in (where, name) if part) + dot + rest


def _route_locate(app: APIGatewayRestResolver) -> Locate:
    route = app.context.get("_route")
    if route is None or getattr(route, "func", None) is None:
        return _as_named
    return FieldLocations.of(route)


def _domain_handler(app: APIGatewayRestResolver, cls: type[E.DomainError]) -> None:
    def handle(exc: E.DomainError) -> Response:
        status = http_status(exc)
        if status >= 500:
            app_logger = getattr(app, "shop_logger", None)
            if app_logger is not None:
                app_logger.exception("request failed", extra={"error_code": exc.code})
        return error_response(status, public_body(exc, _route_locate(app)))

    handle.__name__ = f"handle_{cls.__name__}"
    app.exception_handler(cls)(handle)


def make_resolver(logger: Any = None) -> APIGatewayRestResolver:
    """The REST resolver (the HTTP API's Lambda events keep payload format 1.0) with the shop's error mapping.
    It writes no CORS header: the HTTP API's CorsConfiguration (template.yaml, ShopHttpApi) answers every preflight
    itself and adds the CORS headers to every answer, ignoring any a function returns."""
    # an answer that does not match its route's response model is the server's fault: 500, never a 422
    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_json,
                                 response_validation_error_http_code=500)
    app.shop_logger = logger  # type: ignore[attr-defined]
    for cls in STATUS:
        _domain_handler(app, cls)

    @app.exception_handler(RequestValidationError)
    def handle_validation(exc: RequestValidationError) -> Response:
        unreadable = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
        if unreadable is not None:  # the body is not JSON at all: 400, not a field-by-field 422
            reason = (unreadable.get("ctx") or {}).get("error") or unreadable.get("msg") or "invalid"
            return error_response(400, malformed_body(f"request body is not valid JSON: {reason}"))
        return error_response(422, validation_body(exc))

    # registered explicitly: it is also a NotImplementedError, which the catch-all below would turn into a 500
    @app.exception_handler(RequestUnsupportedContentType)
    def handle_unsupported_content_type(exc: RequestUnsupportedContentType) -> Response:
        return error_response(415, unsupported_media_type(_header(app.current_event.raw_event, "content-type")))

    @app.exception_handler(json.JSONDecodeError)
    def handle_bad_json(exc: json.JSONDecodeError) -> Response:
        return error_response(400, malformed_body(f"request body is not valid JSON: {exc.msg}"))

    @app.exception_handler(RecursionError)
    def handle_too_deep(exc: RecursionError) -> Response:
        # json.loads gives up on nesting some 20,000 levels deep (40 kB): that is bad input, not a server fault
        if "JSON" in str(exc):
            return error_response(400, malformed_body("request body is not valid JSON: nested too deeply"))
        return handle_unexpected(exc)

    @app.exception_handler(ResponseValidationError)
    def handle_bad_answer(exc: ResponseValidationError) -> Response:
        # the function's answer broke its published contract: log which fields, tell the client nothing more
        if logger is not None:
            logger.error("answer does not match its response model",
                         extra={"errors": [{"loc": e.get("loc"), "type": e.get("type")} for e in exc.errors()]})
        return error_response(500, {"error": {"code": "internal_error", "message": "internal error"}})

    @app.not_found
    def handle_not_found(exc: Exception) -> Response:
        return error_response(404, {"error": {"code": "route_not_found",
                                              "message": f"no route {app.current_event.http_method} "
                                                         f"{app.current_event.path}"}})

    @app.exception_handler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        if logger is not None:
            logger.exception("unhandled error")
        return error_response(500, {"error": {"code": "internal_error", "message": "internal error"}})

    return app


@dataclass(frozen=True)
class Principal:
    """The signed-in caller, from the authorizer's claims: user id, e-mail and groups."""

    user_id: str
    email: str | None
    groups: frozenset[str]

    def is_in(self, group: str) -> bool:
        return group in self.groups


def _parse_groups(raw: Any) -> frozenset[str]:
    """cognito:groups reaches Lambda as a list, a JSON list, "a,b" or "[a b]" depending on the path."""
    if raw is None or raw == "":
        return frozenset()
    if isinstance(raw, list):
        return frozenset(str(g) for g in raw)
    text = str(raw).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return frozenset(str(g) for g in parsed)
        except json.JSONDecodeError:
            text = text[1:-1]
    return frozenset(g for g in text.replace(",", " ").split() if g)


def principal(app: APIGatewayRestResolver) -> Principal:
    """The Cognito user the API Gateway authorizer verified; 401 when the route was reached without one."""
    ctx = app.current_event.request_context
    claims = (ctx.authorizer.claims if ctx.authorizer else None) or {}
    sub = claims.get("sub")
    if not sub:
        raise E.Unauthorized("authentication required")
    return Principal(user_id=str(sub), email=claims.get("email"), groups=_parse_groups(claims.get("cognito:groups")))


def require_group(app: APIGatewayRestResolver, group: str) -> Principal:
    who = principal(app)
    if not who.is_in(group):
        raise E.Forbidden(f"requires membership in group '{group}'")
    return who


KEY_RE = re.compile(idempotency.IDEMPOTENCY_KEY_PATTERN)
KEY_RULE = "8..64 characters of A-Z a-z 0-9 _ -"


def idempotency_key(app: APIGatewayRestResolver, *, required: bool = False) -> str | None:
    """The request's ``Idempotency-Key`` header (any case), checked: 422 naming ``header.Idempotency-Key`` when
    it is malformed, or missing where ``required``."""
    key = _header(app.current_event.raw_event, "idempotency-key")
    if not key:
        if required:
            raise E.InvalidInput("header.Idempotency-Key", f"is required ({KEY_RULE})")
        return None
    if not KEY_RE.match(key):
        raise E.InvalidInput("header.Idempotency-Key", f"must be {KEY_RULE}")
    return key


def once_per_key(app: APIGatewayRestResolver, caller: Principal, operation: str, body: Any,
                 work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Serve a state-changing request once per (operation, caller, Idempotency-Key): a double click or a retry
    with the same key gets the first answer's body again (see ``shop.idempotency.once_per_request``)."""
    data = body.model_dump(mode="json") if hasattr(body, "model_dump") else body
    return idempotency.once_per_request(work, operation=operation, caller=caller.user_id,
                                        key=idempotency_key(app), body=data, lambda_context=app.lambda_context)


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def proxy_error(exc: E.DomainError) -> dict[str, Any]:
    """A domain error as a Lambda proxy response, for answers given outside the resolver."""
    return _proxy_response(http_status(exc), public_body(exc))


def _proxy_response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": JSON}, "body": json.dumps(body),
            "isBase64Encoded": False}


def unsupported_media_type(content_type: str | None) -> dict[str, Any]:
    message = f"send the body as application/json, not {content_type}"
    return {"error": {"code": "unsupported_media_type", "message": message,
                      "details": {"fields": [{"field": "header.Content-Type", "message": message}]}}}


def _header(event: dict[str, Any], name: str) -> str | None:
    headers = event.get("headers") or {}
    return next((str(v) for k, v in headers.items() if str(k).lower() == name.lower()), None)


def body_refused(event: dict[str, Any], max_body_bytes: int = MAX_BODY_BYTES) -> dict[str, Any] | None:
    """Checks on the raw body before anything parses it: 413 over ``max_body_bytes``; 400 when it is not
    UTF-8 text (API Gateway hands such a body over base64-encoded, and every route reads JSON or a form);
    415 for multipart (no route takes it, and the parser fails on a malformed one); else None."""
    body = event.get("body")
    if not body or not isinstance(body, str):
        return None
    if event.get("isBase64Encoded"):
        if len(body) * 3 // 4 > max_body_bytes + 2:  # certainly too large: do not decode it
            return proxy_error(E.PayloadTooLarge(max_body_bytes, "body"))
        try:
            raw = base64.b64decode(body, validate=True)
            raw.decode("utf-8")
        except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
            return _proxy_response(400, malformed_body("request body is not UTF-8 text"))
        size = len(raw)
    else:
        size = len(body.encode("utf-8", "surrogatepass"))
    if size > max_body_bytes:
        return proxy_error(E.PayloadTooLarge(max_body_bytes, "body"))
    content_type = _header(event, "content-type")
    if content_type and content_type.strip().lower().startswith("multipart/"):
        return _proxy_response(415, unsupported_media_type(content_type))
    return None


@dataclass(frozen=True)
class Guard:
    """Access check on the raw event, before the resolver validates the request: a caller without access
    gets 401/403 whatever the body, and learns nothing of the route's validation rules.
    Routes still check their principal themselves (defence in depth)."""

    prefix: str = "/"
    group: str | None = None  # None: any signed-in user

    def denied(self, event: dict[str, Any]) -> dict[str, Any] | None:
        resource = str(event.get("resource") or event.get("path") or "")
        if not resource.startswith(self.prefix):
            return None
        claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("claims")) or {}
        if not claims.get("sub"):
            return proxy_error(E.Unauthorized("authentication required"))
        if self.group is not None and self.group not in _parse_groups(claims.get("cognito:groups")):
            return proxy_error(E.Forbidden(f"requires membership in group '{self.group}'"))
        return None


def http_handler(app: APIGatewayRestResolver, obs: Any, *guards: Guard,
                 max_body_bytes: int = MAX_BODY_BYTES) -> Handler:
    """The Lambda entry point of an HTTP function: Powertools logger (correlation id from the API Gateway
    request id), tracer and metrics around the guards, the body checks (size, UTF-8) and the resolver."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for guard in guards:
            blocked = guard.denied(event)
            if blocked is not None:
                return blocked
        refused = body_refused(event, max_body_bytes)
        if refused is not None:
            return refused
        return app.resolve(event, context)

    return obs.entrypoint(handler, correlation_paths.API_GATEWAY_REST)
