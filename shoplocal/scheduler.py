"""Fire the template's EventBridge schedule rules locally (moto never does).

Supports `rate(N minute|minutes|hour|hours|day|days)` and `cron(min hour day-of-month month day-of-week
year)` with `*`, `?`, numbers, lists, ranges and `/step` (names like MON are accepted for day-of-week and
JAN for month). The target is invoked in-process with a scheduled-event payload like EventBridge's.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shoplocal.patches import select_path

log = logging.getLogger("shoplocal.scheduler")

_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}


def parse_rate(expression: str) -> timedelta | None:
    m = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2).rstrip("s")
    return timedelta(**{f"{unit}s": n})


def _field(spec: str, lo: int, hi: int, names: dict[str, int] | None = None) -> set[int] | None:
    """Allowed values, or None for any ('*' or '?')."""
    if spec in ("*", "?"):
        return None
    values: set[int] = set()
    for item in spec.split(","):
        step = 1
        part = item
        if "/" in item:
            part, step_text = item.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = hi if "/" in spec else start
        values.update(range(start, end + 1, step))
    return values


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    return int(text)


@dataclass(frozen=True)
class Cron:
    minutes: set[int] | None
    hours: set[int] | None
    days: set[int] | None
    months: set[int] | None
    weekdays: set[int] | None  # 1 = Sunday, as in EventBridge

    @classmethod
    def parse(cls, expression: str) -> Cron | None:
        m = re.fullmatch(r"cron\((.+)\)", expression.strip())
        if not m:
            return None
        parts = m.group(1).split()
        if len(parts) != 6:
            raise ValueError(f"cron needs 6 fields: {expression}")
        return cls(_field(parts[0], 0, 59), _field(parts[1], 0, 23), _field(parts[2], 1, 31),
                   _field(parts[3], 1, 12, _MONTHS), _field(parts[4], 1, 7, _DAYS))

    def matches(self, t: datetime) -> bool:
        weekday = (t.isoweekday() % 7) + 1  # Monday=1 in isoweekday -> 2 here; Sunday -> 1
        return all(allowed is None or value in allowed for allowed, value in (
            (self.minutes, t.minute), (self.hours, t.hour), (self.days, t.day), (self.months, t.month),
            (self.weekdays, weekday)))

    def next_after(self, t: datetime) -> datetime:
        candidate = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(366 * 24 * 60):
            if self.matches(candidate):
                return candidate
            candidate += timedelta(minutes=1)
        raise ValueError("cron expression never fires within a year")


def scheduled_event(rule_arn: str, when: datetime, region: str = "us-east-1") -> dict[str, Any]:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
            "resources": [rule_arn], "detail": {}}


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What EventBridge hands the target: its constant Input, the InputPath of the event, or the event."""
    if target.get("Input"):
        return json.loads(target["Input"])
    if target.get("InputPath"):
        return select_path(event, target["InputPath"])
    return event


class Scheduler:
    def __init__(self, stack: Any, tick_seconds: float = 1.0):
        self.stack = stack
        self.tick = tick_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="shop-scheduler", daemon=True)
        self.next_run: dict[str, datetime] = {}
        self.fired: list[tuple[str, datetime]] = []

    def _next(self, expression: str, after: datetime, timezone: str = "UTC") -> datetime | None:
        """When the expression fires next (a cron read in ``timezone``, as EventBridge Scheduler does), or
        None (logged) for what this scheduler does not understand, e.g. cron's L, W and # forms."""
        rate = parse_rate(expression)
        if rate is not None:
            return after + rate
        try:
            cron = Cron.parse(expression)
            if cron is None:
                return None
            zone = ZoneInfo(timezone)
            return cron.next_after(after.astimezone(zone)).astimezone(UTC)
        except ValueError as exc:
            log.warning("schedule %s is not supported locally (%s)", expression, exc)
            return None

    def start(self) -> None:
        now = datetime.now(UTC)
        for rule in self.stack.deployment.schedules:
            nxt = self._next(rule.expression, now, rule.timezone)
            if nxt is None:
                log.warning("schedule %s (%s) is not understood and will not fire", rule.logical_id, rule.expression)
                continue
            self.next_run[rule.logical_id] = nxt
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)

    def fire(self, logical_id: str, when: datetime | None = None) -> list[Any]:
        """Deliver one scheduled event to every target of the rule now; returns the targets' results."""
        when = when or datetime.now(UTC)
        rule = next(r for r in self.stack.deployment.schedules if r.logical_id == logical_id)
        event = scheduled_event(self.stack.deployment.attributes[logical_id]["Arn"], when)
        results: list[Any] = []
        for target in rule.targets:
            arn = str(target["Arn"])
            payload = target_input(target, event)
            if ":lambda:" in arn:
                result, error = self.stack.invoker.invoke_as_lambda(arn, payload)
                if error is not None:
                    log.error("scheduled %s failed: %s", logical_id, error)
                results.append(result if error is None else error.payload())
            elif ":states:" in arn:
                results.append(self.stack.client("stepfunctions").start_execution(
                    stateMachineArn=arn, name=str(uuid.uuid4()), input=json.dumps(payload))["executionArn"])
            else:
                log.warning("scheduled %s: target %s is not a function or state machine; not delivered",
                            logical_id, arn)
        self.fired.append((logical_id, when))
        return results

    def _loop(self) -> None:
        rules = {r.logical_id: r for r in self.stack.deployment.schedules}
        while not self._stop.wait(self.tick):
            now = datetime.now(UTC)
            for lid, due in list(self.next_run.items()):
                if now >= due:
                    try:
                        self.fire(lid, due)
                    except Exception:
                        log.exception("scheduled rule %s failed", lid)
                    nxt = self._next(rules[lid].expression, now, rules[lid].timezone)
                    if nxt is None:
                        del self.next_run[lid]
                    else:
                        self.next_run[lid] = nxt
