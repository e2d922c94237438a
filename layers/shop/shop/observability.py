"""Powertools Logger, Tracer and Metrics for a function, one namespace for the whole shop, and the function's
configuration contract.

Each handler module calls ``observability("catalog", needs=(...), optional=(...))`` once: the settings its
code path reads (shop.config.Needs). Constructing these reads no AWS client and no environment; the entry
point checks the declared settings on the first invocation (a cold start), never at import.
Every business event is a metric (``metrics.add_metric(name=..., unit=MetricUnit.Count, value=1)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from shop import config
from shop.config import Needs
from shop.errors import ConfigurationError

NAMESPACE = "ServerlessShop"
# X-Ray subsegments for the AWS calls only: Powertools' default patches every library the X-Ray SDK supports
# that is installed (requests, httpx, sqlite3, ...), importing each at a traced cold start (issue 17).
TRACED_MODULES = ("botocore",)


def is_http(event: Any) -> bool:
    """An API Gateway proxy request (what the reports function routes on too)."""
    return isinstance(event, dict) and "httpMethod" in event


def _misconfigured_answer(exc: ConfigurationError) -> dict[str, Any]:
    """The 500 configuration_error an HTTP caller gets, with the public body shop.api gives every configuration
    error (the log names the variables; the client learns nothing internal)."""
    from shop import api  # HTTP functions only, and only on this path

    return api.proxy_error(exc)


@dataclass(frozen=True)
class Observability:
    logger: Logger
    tracer: Tracer
    metrics: Metrics
    service: str = ""
    needs: Needs = field(default_factory=Needs)

    def entrypoint(self, fn: Callable[[Any, Any], Any], correlation_id_path: str | None = None) -> Any:
        """A Lambda handler with Powertools around it: logger (Lambda context, correlation id), tracer
        and metrics flushed once per invocation. Until an invocation finds the declared settings in place, each
        one checks them first (so once per execution environment when all is well): a missing one fails it with
        a ConfigurationError naming the variable, which an HTTP caller sees as 500 configuration_error."""
        configured = False

        def checked(event: Any, context: Any) -> Any:
            nonlocal configured
            if not configured:
                try:
                    self.needs.check(self.service)
                except ConfigurationError as exc:
                    self.logger.error("function misconfigured", extra={"error_code": exc.code, "reason": str(exc)})
                    if is_http(event):
                        return _misconfigured_answer(exc)
                    raise
                configured = True
            return fn(event, context)

        return self.logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)(
            self.tracer.capture_lambda_handler(self.metrics.log_metrics(checked)))

    def count(self, name: str, value: int = 1) -> None:
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def observability(service: str, *, needs: Iterable[str] = (), optional: Iterable[str] = ()) -> Observability:
    """``needs``: the settings the function's environment must supply; ``optional``: the other settings its code
    reads, whose code default applies unless the environment sets them (shop.config.Needs)."""
    return Observability(
        logger=Logger(service=service),
        tracer=Tracer(service=service, patch_modules=TRACED_MODULES),
        metrics=Metrics(namespace=NAMESPACE, service=service),
        service=service,
        needs=config.needs(*needs, optional=optional),
    )
