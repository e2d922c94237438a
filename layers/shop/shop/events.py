"""Domain events on the shop's EventBridge bus (data layer: the only module that calls put_events).

Every event is published AFTER the state change it reports has been written, and a step that is retried
publishes it again: delivery is at least once. Each detail carries a ``dedupe_key`` that is the same for
every publication of one fact (e.g. ``OrderPaid:ord_x``), so consumers (notifications, analytics) act once.
The contract of every detail type is a model in shop.event_contracts (told in docs/events.md, exported to
docs/events/): ``entry`` validates each detail against it, so a producer that drifts fails its tests instead
of a consumer failing in production.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from shop import aws, event_contracts
from shop.config import get_settings
from shop.errors import DependencyFailed

SOURCE = event_contracts.ORDERS_SOURCE
INVENTORY_SOURCE = event_contracts.INVENTORY_SOURCE

DETAIL_TYPES = frozenset(event_contracts.DETAIL_MODELS)


def require(*detail_types: str) -> frozenset[str]:
    """The detail types a producer module publishes, their models defined now, at its import (a family of
    shop.event_contracts is defined when first needed), so its first publication finds them; KeyError for a
    type the bus does not carry."""
    event_contracts.define(detail_types)
    return frozenset(detail_types)


class InvalidEventDetail(ValueError):
    """A producer built an event its contract does not allow (a bug: never the client's fault, never retried)."""


def validated(detail_type: str, detail: dict[str, Any], source: str = SOURCE) -> event_contracts.ContractDetail:
    """The detail (with its dedupe_key) checked against its type's model: known type, the model's source,
    every declared field valid, no undeclared field. Raises InvalidEventDetail."""
    model = event_contracts.DETAIL_MODELS.get(detail_type)
    if model is None:
        raise InvalidEventDetail(f"unknown event type {detail_type}")
    if source != model.SOURCE:
        raise InvalidEventDetail(f"{detail_type} is published with source {model.SOURCE}, not {source}")
    try:
        parsed = model.model_validate(detail)
    except ValidationError as exc:
        raise InvalidEventDetail(f"{detail_type} detail breaks its contract (shop.event_contracts): {exc}") from exc
    if undeclared := event_contracts.undeclared_fields(parsed):
        raise InvalidEventDetail(f"{detail_type} detail has fields its contract does not declare: {undeclared} "
                                 "(add them to shop.event_contracts and export the schemas)")
    return parsed


def entry(detail_type: str, detail: dict[str, Any], dedupe_suffix: str | None = None, *,
          subject: str | None = None, source: str = SOURCE) -> dict[str, Any]:
    """One event, its detail validated against its contract (InvalidEventDetail otherwise) and published as
    built (the model only checks); its dedupe key is "<type>:<subject or order id>[:<suffix>]"."""
    if detail_type not in DETAIL_TYPES:
        raise InvalidEventDetail(f"unknown event type {detail_type}")
    reference = subject or detail.get("order_id")
    if not reference:
        raise InvalidEventDetail(f"{detail_type}: no subject and no order_id to key the event on")
    key = f"{detail_type}:{reference}" + (f":{dedupe_suffix}" if dedupe_suffix else "")
    full = {**detail, "dedupe_key": key}
    validated(detail_type, full, source)
    return {"Source": source, "DetailType": detail_type, "EventBusName": get_settings().require("event_bus_name"),
            "Detail": json.dumps(full, sort_keys=True, default=str)}


def publish(*entries: dict[str, Any]) -> None:
    """Put the entries on the bus; any rejected entry raises DependencyFailed (the caller's retry publishes
    again, consumers dedupe)."""
    if not entries:
        return
    with aws.translate_common_errors("event publish"):
        resp = aws.client("events").put_events(Entries=list(entries))
    if resp.get("FailedEntryCount"):
        failed = [e.get("ErrorCode") for e in resp.get("Entries", []) if e.get("ErrorCode")]
        raise DependencyFailed(f"event bus rejected {len(failed)} event(s): {failed}")
