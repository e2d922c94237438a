"""The ports of the order services (orders, and above them checkout, payments and orderflow): what they read
and write through, so a fast test tier can run their rules against in-memory fakes (tests/fakes) instead of a
local AWS stack.

Each port is a Protocol that the production module already satisfies as it is: the store is
shop.orders.repository (DynamoDB), the publisher shop.events (EventBridge; through ``_Bus``, which imports it on
the first publication), the workflow client shop.workflow (Step Functions). The services call
``ports.store.transition(...)`` instead of ``repository.transition(...)``: the attribute is looked up at call
time, so production wiring is the modules themselves and nothing changes for it. The event and workflow ports
are declared here, in the lowest context that uses them, so that every order service shares one seam (the root
modules import no context).

The domain errors a store raises (StatusConflict, RefundLimitExceeded, RefundContended, NotFound) are part of the
port: fakes raise the same classes from shop.orders.repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from shop import workflow
from shop.money import Money
from shop.orders import repository
from shop.orders.models import Order, OrderStatus


class OrderStore(Protocol):
    """The order item and the reservation it holds. Every write is conditional, as in DynamoDB: see
    shop.orders.repository for the conditions a fake must enforce."""

    def get_order(self, order_id: str, *, consistent: bool = True) -> Order | None: ...

    def require_order(self, order_id: str) -> Order: ...

    def list_for_customer(self, customer_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        ...

    def expired_pending(self, now_epoch: int, limit: int = 100,
                        start: dict[str, Any] | None = None) -> tuple[list[str], dict[str, Any] | None]: ...

    def transition(self, order_id: str, allowed_from: frozenset[OrderStatus] | set[OrderStatus], to: OrderStatus,
                   note: str | None = None, set_fields: dict[str, Any] | None = None) -> Order: ...

    def set_payment_intent(self, order_id: str, payment_intent_id: str) -> str: ...

    def release(self, order: Order, to: OrderStatus, sources: frozenset[OrderStatus], note: str | None = None,
                expired_before: int | None = None, set_fields: dict[str, Any] | None = None) -> bool: ...

    def set_auth_token(self, order_id: str, token: str) -> bool: ...

    def auth_token(self, order_id: str) -> str | None: ...

    def record_refund(self, order_id: str, refund_id: str, amount: Money, note: str) -> bool: ...

    def reserve_refund(self, order_id: str, key: str, amount: int, captured: int) -> bool: ...

    def reserve_rest(self, order_id: str, key: str, captured: int) -> int: ...

    def set_attributes(self, order_id: str, attrs: dict[str, Any]) -> None: ...


class EventPublisher(Protocol):
    """Puts built entries (shop.events.entry: validated against their contract) on the bus."""

    def publish(self, *entries: dict[str, Any]) -> None: ...


class WorkflowClient(Protocol):
    """Starts executions (once per name) and resumes or fails the ones waiting on a task token (a used token
    answers False)."""

    def start(self, arn_setting: str, name: str, payload: dict[str, Any]) -> bool: ...

    def send_success(self, token: str, output: dict[str, Any]) -> bool: ...

    def send_failure(self, token: str, error: str, cause: str) -> bool: ...


class _Bus:
    """shop.events, imported on the first publication: a service that never publishes (checkout) does not load
    the event contract at its cold start (issue 17)."""

    def publish(self, *entries: dict[str, Any]) -> None:
        from shop import events

        events.publish(*entries)


@dataclass
class OrderPorts:
    store: OrderStore
    events: EventPublisher
    workflow: WorkflowClient


# production wiring: the modules themselves, the bus through shop.events (a test tier replaces the attributes,
# tests/fakes.install)
ports = OrderPorts(store=repository, events=_Bus(), workflow=workflow)
