"""Powertools Logger, Tracer and Metrics for a function, one namespace for the whole shop.

Each handler module calls ``observability("catalog")`` once; constructing these reads no AWS client.
Every business event is a metric (``metrics.add_metric(name=..., unit=MetricUnit.Count, value=1)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "ServerlessShop"


@dataclass(frozen=True)
class Observability:
    logger: Logger
    tracer: Tracer
    metrics: Metrics

    def entrypoint(self, fn: Callable[[Any, Any], Any], correlation_id_path: str | None = None) -> Any:
        """A Lambda handler with Powertools around it: logger (Lambda context, correlation id), tracer
        and metrics flushed once per invocation."""
        return self.logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)(
            self.tracer.capture_lambda_handler(self.metrics.log_metrics(fn)))

    def count(self, name: str, value: int = 1) -> None:
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def observability(service: str) -> Observability:
    return Observability(
        logger=Logger(service=service),
        tracer=Tracer(service=service),
        metrics=Metrics(namespace=NAMESPACE, service=service),
    )
