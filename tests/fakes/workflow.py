"""Recording workflow client: the WorkflowClient port (shop.orders.ports) without Step Functions.

An execution starts once per name (a second start answers False, as ExecutionAlreadyExists does). Task tokens
are handed out by :meth:`RecordingWorkflow.token` (a workflow waiting on a task); each can be used once: the
first success or failure answers True, any later one or an unknown token False (TaskTimedOut / InvalidToken),
never an error. Every call is recorded.
"""

from __future__ import annotations

import itertools
from typing import Any

from shop.errors import DependencyFailed


class RecordingWorkflow:
    def __init__(self) -> None:
        self.executions: dict[str, tuple[str, dict[str, Any]]] = {}  # name -> (arn setting, input)
        self.start_calls: list[str] = []
        self.waiting: set[str] = set()
        self.outcomes: dict[str, tuple[str, Any]] = {}  # token -> ("success", output) | ("failure", error)
        self.sends: list[tuple[str, str, Any]] = []  # (token, "success" | "failure", output or error)
        self.outage = False
        self._ids = itertools.count(1)

    def start(self, arn_setting: str, name: str, payload: dict[str, Any]) -> bool:
        if self.outage:
            raise DependencyFailed("start workflow: the state machine service did not answer")
        self.start_calls.append(name)
        if name in self.executions:
            return False
        self.executions[name] = (arn_setting, payload)
        return True

    def token(self, label: str = "task") -> str:
        """A workflow now waits on a task with this token."""
        token = f"token-{label}-{next(self._ids)}"
        self.waiting.add(token)
        return token

    def _use(self, token: str, kind: str, value: Any) -> bool:
        self.sends.append((token, kind, value))
        if token not in self.waiting:
            return False
        self.waiting.discard(token)
        self.outcomes[token] = (kind, value)
        return True

    def send_success(self, token: str, output: dict[str, Any]) -> bool:
        return self._use(token, "success", output)

    def send_failure(self, token: str, error: str, cause: str) -> bool:
        return self._use(token, "failure", error)
