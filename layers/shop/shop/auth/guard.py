"""Group guard applied before request validation, so a caller outside the group gets 401/403 whatever
the body (the resolver validates bodies before route code runs). Routes still call shop.api.require_group."""

from __future__ import annotations

import json
from typing import Any

from shop.api import _parse_groups
from shop.errors import DomainError, Forbidden, Unauthorized


def _proxy(exc: DomainError) -> dict[str, Any]:
    return {"statusCode": exc.status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(exc.body()), "isBase64Encoded": False}


def denied(event: dict[str, Any], group: str, *, prefix: str = "/admin/") -> dict[str, Any] | None:
    """A 401/403 proxy response when the event targets a route under ``prefix`` and its caller is not
    in ``group``; None otherwise."""
    resource = str(event.get("resource") or event.get("path") or "")
    if not resource.startswith(prefix):
        return None
    ctx = event.get("requestContext") or {}
    claims = ((ctx.get("authorizer") or {}).get("claims")) or {}
    if not claims.get("sub"):
        return _proxy(Unauthorized("authentication required"))
    if group not in _parse_groups(claims.get("cognito:groups")):
        return _proxy(Forbidden(f"requires membership in group '{group}'"))
    return None
