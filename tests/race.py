"""Races over real HTTP and the invariants that must hold after them (shared by the concurrency tests).

- ``make_shoppers``: logged-in shoppers, created in a thread pool.
- ``checkout_race``: every shopper checks out at the same moment (one ``requests.Session`` each, a barrier
  releases them together); a 503 service_busy is retried with the SAME Idempotency-Key, bounded.
- ``Sampler``: samples something (stock levels, a coupon's use count) every ~10 ms while a race runs.
- ``settle`` / ``warn_released``: wait until the placed orders leave payment; surface the released ones.
- ``assert_stock_conserved``: per warehouse, on_hand == available + reserved, nothing negative, the ledger
  sums to on_hand, and the live orders' allocations equal what is reserved plus what was committed (packed).
  Stock rows of one warehouse split into shards (sk ``WH#<wh>#S<i>``) are summed into that warehouse.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests
from boto3.dynamodb.types import TypeDeserializer

from tests.factories import ADDRESS, execution_arn, order_item, uid, wait_for

# statuses that no longer hold stock (nor a coupon use): the reservation was released
RELEASED = frozenset({"PAYMENT_FAILED", "EXPIRED", "CANCELLED"})
IN_PAYMENT = frozenset({"PENDING_PAYMENT", "PAYMENT_PROCESSING"})
_SHARD = re.compile(r"^(?P<wh>.+?)#S\d+$")
_plain = TypeDeserializer()


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as Python values (numbers as int where whole)."""
    def fix(v: Any) -> Any:
        if isinstance(v, Decimal):
            return int(v) if v == v.to_integral_value() else float(v)
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        return v
    return {k: fix(_plain.deserialize(v)) for k, v in item.items()}


@contextmanager
def timed(timings: dict[str, float], phase: str) -> Iterator[None]:
    """Adds the seconds spent inside to ``timings[phase]``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - started


# ------------------------------------------------------------------ shoppers and the race
def make_shoppers(stack: Any, n: int, *, workers: int = 4) -> list[Any]:
    """n logged-in Cognito shoppers (sign-up, confirm, login each), built in a thread pool.

    moto's Cognito is not thread-safe (a sign-up while another request walks the pool's users fails with
    500 "OrderedDict mutated during iteration"); botocore retries once, and a shopper whose creation still
    fails is made again (a new one: the half-made user is left behind). The pool gains little: moto runs in
    this process, so the work is bound by one interpreter (about 25 ms a shopper either way)."""
    from botocore.exceptions import ClientError

    def one(_: int) -> Any:
        for attempt in range(3):
            try:
                return stack.user()
            except ClientError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(n)))


@dataclass
class Answer:
    """The final answer one shopper got; ``busy`` counts the 503 service_busy answers retried before it."""

    shopper: Any
    key: str
    status: int
    body: dict[str, Any]
    busy: int = 0

    @property
    def error(self) -> dict[str, Any]:
        return dict(self.body.get("error") or {})


def checkout_race(stack: Any, shoppers: list[Any], *, busy_retries: int = 8, barrier_timeout: float = 60,
                  request_timeout: float = 180) -> list[Answer]:
    """All shoppers POST /checkout at the same moment over HTTP (a session and a thread each, released by
    one barrier). A 503 service_busy is what the service answers when stock exists but stays contended: the
    shopper retries it with the same Idempotency-Key (as a client must) up to ``busy_retries`` times, with
    jittered backoff. Answers are in the order of ``shoppers``."""
    barrier = threading.Barrier(len(shoppers))
    body: dict[str, Any] = {"shipping_address": ADDRESS, "payment_method_id": "pm_card_visa"}

    def buy(shopper: Any) -> Answer:
        key = f"race-{uid(16)}"
        headers = {"Authorization": f"Bearer {shopper.id_token}", "Idempotency-Key": key}
        with requests.Session() as http:
            barrier.wait(timeout=barrier_timeout)
            busy = 0
            while True:
                resp = http.post(f"{stack.base_url}/checkout", json=body, headers=headers, timeout=request_timeout)
                answer = Answer(shopper, key, resp.status_code, resp.json(), busy)
                if resp.status_code != 503 or answer.error.get("code") != "service_busy" or busy >= busy_retries:
                    return answer
                busy += 1
                time.sleep(random.uniform(0.05, 0.2) * busy)

    with ThreadPoolExecutor(max_workers=len(shoppers)) as pool:
        return list(pool.map(buy, shoppers))


def placed_orders(answers: list[Answer]) -> list[str]:
    """The order ids of the 201 answers, each the answer to its own request: the id is derived from the
    shopper and the Idempotency-Key, so no two shoppers were answered with one order."""
    from shop.checkout.service import order_id_for

    placed = [a.body["order_id"] for a in answers if a.status == 201]
    assert len(placed) == len(set(placed)), Counter(placed).most_common(3)
    for a in answers:
        if a.status == 201:
            assert a.body["order_id"] == order_id_for(a.shopper.user_id, a.key), (a.key, a.body["order_id"])
    return placed


class Sampler:
    """``sample()`` every ``interval`` seconds on a thread while inside ``running()``; ``samples`` keeps them."""

    def __init__(self, sample: Callable[[], Any], interval: float = 0.01):
        self.sample = sample
        self.interval = interval
        self.samples: list[Any] = []
        self._stop = threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.sample())
            time.sleep(self.interval)

    @contextmanager
    def running(self) -> Iterator[Sampler]:
        watcher = threading.Thread(target=self._run, name="race-sampler", daemon=True)
        watcher.start()
        try:
            yield self
        finally:
            self._stop.set()
            watcher.join(timeout=10)
        self.samples.append(self.sample())  # and once more when everything has answered


def stock_sampler(stack: Any, sku: str, interval: float = 0.01) -> Sampler:
    """Samples the SKU's stock rows (one consistent query: a snapshot, DynamoDB requests being serialized)."""
    return Sampler(lambda: stock_rows(stack, sku), interval)


def assert_never_oversold(samples: list[list[dict[str, Any]]], units: int) -> None:
    """At every sampled instant: no stock row negative or off balance, and at most ``units`` held."""
    assert len(samples) > 10, f"only {len(samples)} stock samples"
    for rows in samples:
        per_warehouse: dict[str, Counter[str]] = {}
        for row in rows:
            assert min(row["available"], row["reserved"], row["on_hand"]) >= 0, row
            level = per_warehouse.setdefault(row["warehouse"], Counter())
            for k in ("on_hand", "available", "reserved"):
                level[k] += row[k]
        for level in per_warehouse.values():  # (shard items summed into their level)
            assert level["on_hand"] == level["available"] + level["reserved"], rows
        held = sum(row["reserved"] + row["shipped"] for row in rows)
        assert held <= units, rows


# ------------------------------------------------------------------ after the race
def settle(stack: Any, order_ids: Iterable[str], timeout: float = 90) -> dict[str, str]:
    """Wait until every order has left payment (paid and on to fulfillment, or released); their statuses."""
    def status(oid: str) -> str:
        return str(order_item(stack, oid)["status"]["S"])

    return {oid: wait_for(lambda oid=oid: (st := status(oid)) not in IN_PAYMENT and st, timeout, f"{oid} to settle")
            for oid in order_ids}


def warn_released(stack: Any, released: Iterable[str], what: str = "unit") -> None:
    """A placed order whose payment failed under load gives back what it held; say so in the test summary (with
    the failed states of its workflow), so that a pattern of failures gets noticed."""
    for oid in sorted(released):
        causes = [json.dumps(v, default=str)[:300] for e in stack.execution_history(execution_arn(stack, oid))
                  for k, v in e.items() if "Failed" in k or "TimedOut" in k]
        warnings.warn(f"{oid} was placed but its payment failed under load and released its {what}: {causes}",
                      stacklevel=2)


def warehouse_of(shard_or_warehouse: str) -> str:
    """``wh`` for a shard ``wh#S<i>``, else unchanged."""
    found = _SHARD.match(shard_or_warehouse)
    return found["wh"] if found else shard_or_warehouse


def stock_rows(stack: Any, sku: str) -> list[dict[str, Any]]:
    """Every stock row of the SKU (one per warehouse, or several per warehouse when sharded): sk, warehouse
    (from the sk, shard suffix removed), on_hand, available, reserved, shipped (0 when absent)."""
    items = stack.client("dynamodb").query(
        TableName=stack.physical_id("InventoryTable"), ConsistentRead=True,
        KeyConditionExpression="pk = :p AND begins_with(sk, :wh)",
        ExpressionAttributeValues={":p": {"S": f"SKU#{sku}"}, ":wh": {"S": "WH#"}})["Items"]
    return [{"sk": i["sk"]["S"], "warehouse": warehouse_of(i["sk"]["S"].removeprefix("WH#")),
             **{k: int(i[k]["N"]) if k in i else 0 for k in ("on_hand", "available", "reserved", "shipped")}}
            for i in items]


def ledger_total(stack: Any, sku: str, ledger_id: str) -> int:
    """Sum of the stock movements of one level (shop.inventory.repository.ledger_total, run as the inventory
    function would)."""
    from shop.config import function_environment
    from shop.inventory import repository

    with function_environment(stack.function_env("InventoryFunction")):
        return repository.ledger_total(sku, ledger_id)


def held_by_orders(stack: Any, sku: str, orders: Iterable[str]) -> tuple[Counter[str], dict[str, str]]:
    """Units of the SKU per warehouse allocated to those of ``orders`` that were not released, read from the
    OrdersTable; and every order's status."""
    held: Counter[str] = Counter()
    statuses: dict[str, str] = {}
    for oid in dict.fromkeys(orders):
        order = plain(order_item(stack, oid))
        statuses[oid] = order["status"]
        if order["status"] in RELEASED:
            continue
        for line in order["lines"]:
            if line["sku"] == sku:
                for alloc in line["allocations"]:
                    held[warehouse_of(alloc["warehouse_id"])] += alloc["quantity"]
    return held, statuses


def assert_stock_conserved(stack: Any, sku: str, orders: Iterable[str]) -> dict[str, dict[str, int]]:
    """The SKU's stock is conserved, per warehouse (shard rows summed into their warehouse):

    - every row: nothing negative; per warehouse, on_hand == available + reserved (a packed parcel's units
      leave on_hand and reserved together, counted in ``shipped``; a sharded level's on_hand is on its level
      item, its available and reserved units on the level and its shard items);
    - on_hand == the sum of the warehouse's ledger (stock movements; true for levels created since the
      ledger exists, so for every level a test creates);
    - the units allocated to the live (not released) orders among ``orders`` == reserved + shipped: every
      reserved unit belongs to a live order and every live order's unit is reserved or already committed.

    ``orders`` must be every order ever placed for the SKU (any status: released ones are skipped). Returns
    the per warehouse figures (on_hand, available, reserved, shipped, held, ledger) for further checks."""
    rows = stock_rows(stack, sku)
    assert rows, f"no stock rows for {sku}"
    levels: dict[str, dict[str, int]] = {}
    ledger_ids: dict[str, set[str]] = {}
    for row in rows:
        assert min(row["on_hand"], row["available"], row["reserved"], row["shipped"]) >= 0, row
        level = levels.setdefault(row["warehouse"], Counter())
        for k in ("on_hand", "available", "reserved", "shipped"):
            level[k] += row[k]
        ledger_ids.setdefault(row["warehouse"], {row["warehouse"]})
    held, _ = held_by_orders(stack, sku, orders)
    assert set(held) <= set(levels), (dict(held), sorted(levels))
    for wh, level in levels.items():
        # a shard item holds available and reserved units, the level item on_hand for them all
        assert level["on_hand"] == level["available"] + level["reserved"], (wh, dict(level))
        level["held"] = held[wh]
        level["ledger"] = sum(ledger_total(stack, sku, lid) for lid in sorted(ledger_ids[wh]))
        figures = {wh: dict(level)}
        assert level["ledger"] == level["on_hand"], ("ledger != on_hand", figures)
        assert level["held"] == level["reserved"] + level["shipped"], ("orders' units != reserved + shipped",
                                                                       figures)
    return {wh: dict(level) for wh, level in levels.items()}


@dataclass
class RaceOutcome:
    """What a race left: the answers, the placed orders' final statuses, the live and the released ones."""

    answers: list[Answer]
    placed: list[str]
    final: dict[str, str] = field(default_factory=dict)

    @property
    def live(self) -> list[str]:
        return [oid for oid in self.placed if self.final[oid] not in RELEASED]

    @property
    def released(self) -> list[str]:
        return [oid for oid in self.placed if self.final[oid] in RELEASED]

    @property
    def statuses(self) -> Counter[int]:
        return Counter(a.status for a in self.answers)

    def refused(self) -> list[Answer]:
        return [a for a in self.answers if a.status != 201]


def run_checkout_race(stack: Any, shoppers: list[Any], *, settle_timeout: float = 90, what: str = "unit",
                      timings: dict[str, float] | None = None, **race: Any) -> RaceOutcome:
    """checkout_race, then wait for the placed orders to settle and warn about the released ones (seconds of
    the race and of the settling added to ``timings``)."""
    timings = {} if timings is None else timings
    with timed(timings, "race"):
        answers = checkout_race(stack, shoppers, **race)
    placed = placed_orders(answers)
    with timed(timings, "settle"):
        outcome = RaceOutcome(answers, placed, settle(stack, placed, settle_timeout))
    warn_released(stack, outcome.released, what)
    return outcome
