"""Domain errors, free of HTTP: shop.api (the HTTP border) maps each class to its status and answer.

An :class:`InvalidInput` names the offending field relative to the input the operation acts on ("quantity",
"lines.0.sku", "cursor"; "" for the input as a whole); the border adds where that input arrived
("body.quantity", "query.cursor"). So do ``details["field"]`` entries of other errors.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "internal_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = self.details
        return {"error": err}


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class OutOfStock(Conflict):
    """Checkout cannot reserve every line; details name each SKU short of stock."""

    code = "out_of_stock"


class InvalidInput(DomainError):
    """Input that is well-formed but violates a business rule; names the field."""

    code = "invalid_input"

    def __init__(self, field: str, message: str, *, details: dict[str, Any] | None = None):
        super().__init__(f"{field}: {message}" if field else message,
                         details={"fields": [{"field": field, "message": message}], **(details or {})})
        self.field = field
        self.reason = message  # the message without the field, for the border to name the field its own way


class PayloadTooLarge(InvalidInput):
    """An input over its size limit, refused before it is parsed; names the field ("": the input as a whole)."""

    code = "payload_too_large"

    def __init__(self, limit_bytes: int, field: str = ""):
        super().__init__(field, f"is larger than {limit_bytes} bytes", details={"limit_bytes": limit_bytes})
        self.limit_bytes = limit_bytes


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class ServiceBusy(DomainError):
    """Throttling or sustained contention: the client may retry."""

    code = "service_busy"


class TooManyRequests(DomainError):
    """The caller is sending too many requests or failed attempts (an abuse limit, e.g. Cognito's code limits):
    a 429; unlike ServiceBusy the shop is fine, this caller should slow down."""

    code = "too_many_requests"


class DependencyFailed(DomainError):
    """A downstream service (payment provider, identity provider) failed unexpectedly."""

    code = "dependency_failed"


class ConfigurationError(DomainError):
    code = "configuration_error"


class PaymentDeclined(DomainError):
    code = "payment_declined"
