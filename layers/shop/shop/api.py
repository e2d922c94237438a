"""API Gateway plumbing shared by every HTTP function: resolver factory, error mapping, principals.

One exception handler per domain error class maps it to its HTTP status with a JSON body
``{"error": {"code", "message", "details"?}}``; request validation failures become 422 with a list of the
offending fields (``body.quantity``, ``query.limit``...).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths

from shop import errors as E

JSON = content_types.APPLICATION_JSON
MAX_BODY_BYTES = 64 * 1024
# 5xx messages never echo internals (table names, stack traces); the log keeps the details.
PUBLIC_5XX = {"dependency_failed": "a downstream service failed; retry later",
              "configuration_error": "the service is misconfigured"}


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


def _domain_handler(app: APIGatewayRestResolver, cls: type[E.DomainError]) -> None:
    def handle(exc: E.DomainError) -> Response:
        if exc.status >= 500:
            # never leak internals; the log keeps the details
            app_logger = getattr(app, "shop_logger", None)
            if app_logger is not None:
                app_logger.exception("request failed", extra={"error_code": exc.code})
            public = exc.message if isinstance(exc, E.ServiceBusy) else PUBLIC_5XX.get(exc.code, "internal error")
            return error_response(exc.status, {"error": {"code": exc.code, "message": public}})
        return error_response(exc.status, exc.body())

    handle.__name__ = f"handle_{cls.__name__}"
    app.exception_handler(cls)(handle)


def make_resolver(logger: Any = None) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    app.shop_logger = logger  # type: ignore[attr-defined]
    for cls in E.ALL_DOMAIN_ERRORS:
        _domain_handler(app, cls)

    @app.exception_handler(RequestValidationError)
    def handle_validation(exc: RequestValidationError) -> Response:
        return error_response(422, validation_body(exc))

    @app.exception_handler(json.JSONDecodeError)
    def handle_bad_json(exc: json.JSONDecodeError) -> Response:
        return error_response(400, {"error": {"code": "malformed_json",
                                              "message": f"request body is not valid JSON: {exc.msg}"}})

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


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _proxy_error(exc: E.DomainError) -> dict[str, Any]:
    return {"statusCode": exc.status, "headers": {"Content-Type": JSON}, "body": json.dumps(exc.body()),
            "isBase64Encoded": False}


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
            return _proxy_error(E.Unauthorized("authentication required"))
        if self.group is not None and self.group not in _parse_groups(claims.get("cognito:groups")):
            return _proxy_error(E.Forbidden(f"requires membership in group '{self.group}'"))
        return None


def http_handler(app: APIGatewayRestResolver, obs: Any, *guards: Guard) -> Handler:
    """The Lambda entry point of an HTTP function: Powertools logger (correlation id from the API Gateway
    request id), tracer and metrics around the guards and the resolver."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for guard in guards:
            blocked = guard.denied(event)
            if blocked is not None:
                return blocked
        return app.resolve(event, context)

    return obs.entrypoint(handler, correlation_paths.API_GATEWAY_REST)
