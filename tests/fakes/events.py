"""Recording event publisher: the EventPublisher port (shop.orders.ports) keeping what would go on the bus."""

from __future__ import annotations

import json
from typing import Any

from shop import events
from shop.errors import DependencyFailed


class RecordingPublisher:
    """Each entry is checked against its contract again (shop.events.validated, as a consumer would read it)
    and kept in order. ``outage`` makes publishing fail as a rejected put_events does."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.outage = False

    def publish(self, *entries: dict[str, Any]) -> None:
        if self.outage:
            raise DependencyFailed(f"event bus rejected {len(entries)} event(s): ['InternalFailure']")
        for entry in entries:
            events.validated(entry["DetailType"], json.loads(entry["Detail"]), entry["Source"])
        self.entries.extend(entries)

    @property
    def types(self) -> list[str]:
        return [e["DetailType"] for e in self.entries]

    def details(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        return [json.loads(e["Detail"]) for e in self.entries if detail_type in (None, e["DetailType"])]

    def facts(self) -> set[str]:
        """The distinct facts published (dedupe keys): what consumers act on, however often each was sent."""
        return {d["dedupe_key"] for d in self.details()}
