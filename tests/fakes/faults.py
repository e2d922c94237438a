"""Planned crashes for the fakes: a step dying at a chosen point, so a test can replay it and check it is safe."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

When = Literal["before", "after"]


class Crash(Exception):
    """The process died at this point (a Lambda timeout, a lost connection): whatever was written before stays
    written, the caller never hears back, and the workflow retries the step."""


class Faults:
    """Crashes planned per operation name: ``before`` the operation does anything, or ``after`` it took effect
    (its answer is lost)."""

    def __init__(self) -> None:
        self._planned: dict[tuple[str, When], int] = defaultdict(int)

    def crash_next(self, operation: str, *, when: When = "before", times: int = 1) -> None:
        self._planned[(operation, when)] += times

    def check(self, operation: str, when: When) -> None:
        if self._planned[(operation, when)] > 0:
            self._planned[(operation, when)] -= 1
            raise Crash(f"crashed {when} {operation}")
