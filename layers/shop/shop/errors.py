"""Domain errors. Each one maps to exactly one HTTP status in shop.api (one handler per class)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 500
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
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class OutOfStock(Conflict):
    """Checkout cannot reserve every line; details name each SKU short of stock."""

    code = "out_of_stock"


class InvalidInput(DomainError):
    """Input that is well-formed but violates a business rule; names the field."""

    status = 422
    code = "invalid_input"

    def __init__(self, field: str, message: str, *, details: dict[str, Any] | None = None):
        super().__init__(f"{field}: {message}", details={"fields": [{"field": field, "message": message}],
                                                       **(details or {})})
        self.field = field


class PayloadTooLarge(InvalidInput):
    """A request body over the route's size limit; refused before it is parsed (names the field ``body``)."""

    status = 413
    code = "payload_too_large"

    def __init__(self, limit_bytes: int, field: str = "body"):
        super().__init__(field, f"is larger than {limit_bytes} bytes", details={"limit_bytes": limit_bytes})
        self.limit_bytes = limit_bytes


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class ServiceBusy(DomainError):
    """Throttling or sustained contention: the client may retry."""

    status = 503
    code = "service_busy"


class DependencyFailed(DomainError):
    """A downstream service (payment provider, identity provider) failed unexpectedly."""

    status = 502
    code = "dependency_failed"


class ConfigurationError(DomainError):
    status = 500
    code = "configuration_error"


class PaymentDeclined(DomainError):
    status = 402
    code = "payment_declined"


ALL_DOMAIN_ERRORS: tuple[type[DomainError], ...] = (
    NotFound, Conflict, OutOfStock, InvalidInput, PayloadTooLarge, Unauthorized, Forbidden, ServiceBusy,
    DependencyFailed, ConfigurationError, PaymentDeclined,
)
