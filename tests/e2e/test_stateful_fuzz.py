"""Stateful fuzzing over HTTP (issue 12): random sequences of state-changing calls by several users, each step
followed by the system-wide invariant audit (tests/audit.py).

Shoppers fill carts and check out (sometimes the same checkout twice at once: a double click), cancel, return
delivered lines (sometimes twice at once); warehouse staff pick and pack, the carrier delivers, staff inspect
returns (which refunds them through localstripe); the buyer creates, submits and receives purchase orders and
records and settles supplier invoices (sometimes the same invoice twice, or a second invoice for the same
goods). Hypothesis drives the order of the steps; the run is seeded (``SEED``) and bounded (few examples,
few steps, no shrinking) so the module stays within about a minute and a half on two cores.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.audit import _worker, audit
from tests.factories import ADDRESS, eur, make_product, open_task, order_view, uid, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.audited]  # and the audit after every step (an invariant)

SHOPPERS = 3
SEED = 20261201


class World:
    """What the machine acts on, made once per module: users, a product with two SKUs in one warehouse (few
    units, so shoppers compete), a supplier with a contract for the first SKU."""

    def __init__(self, stack: Any, admin: Any, staff: Any):
        self.stack, self.admin, self.staff = stack, admin, staff
        self.done: Counter[str] = Counter()  # what the run got to do (a fuzz that never pays proves little)
        self.baseline: set[str] = set()  # violations about these subjects were there before the run
        self.steps: list[str] = []  # the current example's steps, for the report
        self.failures: list[str] = []  # the first failure (then every later step does nothing)
        self.shoppers = [stack.user() for _ in range(SHOPPERS)]
        self.product = make_product(stack, admin.id_token, stock={"a": 6}, price=2500, n_skus=2)
        self.wh = self.product.warehouses[0]
        self.supplier = f"sup-{uid()}"
        self.call("PUT", f"/admin/suppliers/{self.supplier}", admin.id_token, json={
            "name": "Fuzz Supplies", "email": "fuzz@example.com", "currency": "EUR"})
        today = datetime.now(UTC).date()
        self.call("PUT", f"/admin/suppliers/{self.supplier}/contracts/c-fuzz", admin.id_token, json={
            "sku": self.product.skus[0], "unit_cost": eur(900), "lead_time_days": 1, "min_order_quantity": 1,
            "valid_from": str(today - timedelta(days=1)), "valid_to": str(today + timedelta(days=30))})

    def call(self, method: str, path: str, token: str | None, **kw: Any) -> tuple[int, Any]:
        resp = self.stack.request(method, path, token=token, **kw)
        assert resp.status < 500, (method, path, resp.status, resp.body)
        return resp.status, (resp.json() if resp.body else None)

    def at_once(self, method: str, path: str, token: str, body: Any, n: int = 2,
                headers: dict[str, str] | None = None) -> list[tuple[int, Any]]:
        """The same request n times at the same moment over HTTP (the double click)."""
        barrier = threading.Barrier(n)
        hdrs = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", **(headers or {})}

        def one(_: int) -> tuple[int, Any]:
            with requests.Session() as http:
                barrier.wait(timeout=60)
                resp = http.request(method, f"{self.stack.base_url}{path}", data=json.dumps(body), headers=hdrs,
                                    timeout=120)
            assert resp.status_code < 500, (method, path, resp.status_code, resp.text)
            return resp.status_code, resp.json() if resp.text else None

        with ThreadPoolExecutor(max_workers=n) as pool:
            return list(pool.map(one, range(n)))


_world: dict[str, World] = {}


def step(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A rule that records its call, and turns a failure into a recorded one: the run stops acting (later
    steps do nothing) and the test fails after the machine with the steps that led there. Raising inside
    Hypothesis instead would make it replay the example against a stack that has moved on (reported as a
    flaky strategy, hiding the failure)."""
    @functools.wraps(fn)
    def run(self: Any, **kwargs: Any) -> Any:
        w = self.w
        if w.failures:
            return None
        w.steps.append(f"{fn.__name__}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})")
        try:
            return fn(self, **kwargs)
        except Exception as failure:  # an assertion, a timeout, a broken connection: all end the run
            w.failures.append(f"{type(failure).__name__}: {failure}\nafter the steps:\n  " + "\n  ".join(w.steps))
            return None
    return run


class ShopMachine(RuleBasedStateMachine):
    orders = Bundle("orders")
    delivered = Bundle("delivered")
    returns = Bundle("returns")
    pos = Bundle("pos")

    def __init__(self) -> None:
        super().__init__()
        self.w = _world["w"]

    @initialize(target=delivered)
    @step
    def a_delivered_order(self) -> Any:
        """Every run starts with one delivered order (so returns, inspections and refunds get their turn)."""
        self.w.steps.clear()
        self._restock()
        order = self.checkout(who=0, sku=0, qty=1, twice=False)
        return self.fulfil_and_deliver(order=order)

    def _restock(self) -> None:
        """Tops the SKUs up when the run sold them down (a stock count, recorded in the ledger)."""
        for sku in self.w.product.skus:
            levels = self.w.call("GET", f"/admin/inventory/{sku}", self.w.admin.id_token)[1]["levels"]
            level = next(lv for lv in levels if lv["warehouse_id"] == self.w.wh)
            if level["available"] < 4:
                self.w.call("PUT", f"/admin/inventory/{sku}/{self.w.wh}", self.w.admin.id_token,
                            json={"on_hand": level["on_hand"] + 6})

    # ---------------------------------------------------------------- shoppers

    @rule(target=orders, who=st.integers(0, SHOPPERS - 1), sku=st.integers(0, 1), qty=st.integers(1, 2),
          twice=st.booleans())
    @step
    def checkout(self, who: int, sku: int, qty: int, twice: bool) -> Any:
        """Puts a line in the cart (next to what it holds) and checks out."""
        shopper = self.w.shoppers[who]
        self.w.call("PUT", f"/cart/items/{self.w.product.skus[sku]}", shopper.id_token, json={"quantity": qty})
        body = {"shipping_address": ADDRESS, "payment_method_id": "pm_card_visa"}
        key = {"Idempotency-Key": f"fuzz-{uid(16)}"}
        if twice:
            answers = self.w.at_once("POST", "/checkout", shopper.id_token, body, headers=key)
        else:
            answers = [self.w.call("POST", "/checkout", shopper.id_token, json=body, headers=key)]
        placed = {b["order_id"] for s, b in answers if s in (200, 201)}
        assert len(placed) <= 1, answers  # one Idempotency-Key, one order
        if not placed:
            return None
        self.w.done["checkout"] += 1
        return (who, placed.pop())

    @rule(order=orders)
    @step
    def cancel(self, order: Any) -> None:
        if order is not None:
            who, oid = order
            self.w.call("POST", f"/orders/{oid}/cancel", self.w.shoppers[who].id_token)

    # ---------------------------------------------------------------- warehouse and carrier
    def _status(self, who: int, oid: str) -> str:
        return str(order_view(self.w.stack, self.w.shoppers[who].id_token, oid)["status"])

    @rule(target=delivered, order=consumes(orders))
    @step
    def fulfil_and_deliver(self, order: Any) -> Any:
        if order is None:
            return None
        who, oid = order
        token = self.w.shoppers[who].id_token
        status = wait_for(lambda: (s := self._status(who, oid)) not in ("PENDING_PAYMENT", "PAYMENT_PROCESSING",
                                                                         "PAID") and s, 60, f"{oid} to settle")
        if status != "FULFILLING":
            return None
        staff = self.w.staff.id_token
        pick = open_task(self.w.stack, staff, self.w.wh, oid, "pick")
        picked = [{"sku": i["sku"], "quantity": i["quantity"]} for i in pick["checklist"]]
        s, _ = self.w.call("POST", f"/warehouse/tasks/{pick['task_id']}/complete", staff, json={"picked": picked})
        if s != 200:  # cancelled meanwhile
            return None
        pack = open_task(self.w.stack, staff, self.w.wh, oid, "pack")
        weight = sum(i["weight_grams"] * i["quantity"] for i in pack["checklist"]) + 100
        s, _ = self.w.call("POST", f"/warehouse/tasks/{pack['task_id']}/complete", staff,
                           json={"package_weight_grams": weight})
        if s != 200:
            return None
        tracking = wait_for(lambda: order_view(self.w.stack, token, oid)["shipments"][0]["tracking_number"], 30,
                            "the label")
        resp = self.w.stack.carrier_webhook(tracking, "delivered")
        assert resp.status == 200, resp.body
        wait_for(lambda: self._status(who, oid) == "DELIVERED", 30, f"{oid} delivered")
        self.w.done["delivered"] += 1
        return order

    @rule(target=returns, order=delivered, twice=st.booleans())
    @step
    def request_return(self, order: Any, twice: bool) -> Any:
        if order is None:
            return None
        who, oid = order
        token = self.w.shoppers[who].id_token
        view = order_view(self.w.stack, token, oid)
        line = view["lines"][0]
        body = {"lines": [{"sku": line["sku"], "quantity": line["quantity"], "reason": "changed_mind"}]}
        if twice:
            answers = self.w.at_once("POST", f"/orders/{oid}/returns", token, body)
        else:
            answers = [self.w.call("POST", f"/orders/{oid}/returns", token, json=body)]
        self.w.done["return_tried"] += 1
        self.w.done.update(f"return_{s}" for s, _ in answers)
        made = [b["return_id"] for s, b in answers if s == 201]
        assert len(made) <= 1, f"one delivered line returned {len(made)} times at once: {answers}"
        if not made:
            return None
        self.w.done["return"] += 1
        return (who, oid, made[0])

    @rule(ret=consumes(returns), damaged=st.booleans())
    @step
    def inspect_return(self, ret: Any, damaged: bool) -> None:
        if ret is None:
            return
        who, oid, rid = ret
        task = open_task(self.w.stack, self.w.staff.id_token, self.w.wh, oid, "return")
        [item] = task["checklist"]
        bad = 1 if damaged else 0
        s, _ = self.w.call("POST", f"/warehouse/tasks/{task['task_id']}/complete", self.w.staff.id_token, json={
            "inspected": [{"sku": item["sku"], "sellable": item["quantity"] - bad, "damaged": bad}]})
        assert s == 200
        token = self.w.shoppers[who].id_token
        wait_for(lambda: self.w.call("GET", f"/returns/{rid}", token)[1]["status"] == "REFUNDED", 60,
                 f"{rid} refunded")
        self.w.done["refund"] += 1

    # ---------------------------------------------------------------- procurement
    @rule(target=pos, qty=st.integers(1, 6))
    @step
    def create_and_submit_po(self, qty: int) -> Any:
        admin = self.w.admin.id_token
        s, po = self.w.call("POST", "/admin/purchase-orders", admin, json={
            "supplier_id": self.w.supplier, "warehouse_id": self.w.wh,
            "lines": [{"sku": self.w.product.skus[0], "quantity": qty}]})
        assert s == 201, po
        s, _ = self.w.call("POST", f"/admin/purchase-orders/{po['po_id']}/submit", admin)
        assert s == 200
        return (po["po_id"], qty)

    @rule(po=pos, part=st.integers(1, 6), note=st.sampled_from(["dn-1", "dn-2"]))
    @step
    def receive(self, po: Any, part: int, note: str) -> None:
        po_id, qty = po
        self.w.call("POST", f"/admin/purchase-orders/{po_id}/receipts", self.w.admin.id_token, json={
            "receipt_id": note, "lines": [{"sku": self.w.product.skus[0], "quantity": min(part, qty)}]})

    @rule(po=pos, inv=st.sampled_from(["inv-1", "inv-2"]), twice=st.booleans())
    @step
    def invoice_and_settle(self, po: Any, inv: str, twice: bool) -> None:
        po_id, _ = po
        admin = self.w.admin.id_token
        _, view = self.w.call("GET", f"/admin/purchase-orders/{po_id}", admin)
        received = view["lines"][0]["received"] - view["lines"][0].get("returned", 0)
        if received <= 0:
            return
        body = {"invoice_id": inv, "lines": [{"sku": self.w.product.skus[0], "quantity": received,
                                              "unit_price": eur(900)}]}
        if twice:
            self.w.at_once("POST", f"/admin/purchase-orders/{po_id}/invoices", admin, body)
        else:
            self.w.call("POST", f"/admin/purchase-orders/{po_id}/invoices", admin, json=body)
        self.w.call("POST", f"/admin/purchase-orders/{po_id}/invoices/{inv}/settle", admin)
        self.w.done["invoice"] += 1

    # ---------------------------------------------------------------- after every step
    @invariant()
    @step
    def records_and_money_agree(self) -> None:
        audit(self.w.stack, ignore=self.w.baseline)



def test_random_sequences_of_calls_keep_every_invariant(stack: Any, admin: Any, staff: Any) -> None:
    _world["w"] = w = World(stack, admin, staff)
    w.baseline = set(_worker(stack).known)  # what earlier tests left is not this run's doing (tests/audit.py)
    try:
        # seeded (reproducible) rather than derandomized: a derandomized run starts from the simplest examples
        # and, this bounded, never reaches returns or invoices
        run_state_machine_as_test(seed(SEED)(ShopMachine), settings=settings(
            max_examples=6, stateful_step_count=12, deadline=None, database=None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate], print_blob=False,
            suppress_health_check=list(HealthCheck)))
        print(f"stateful fuzz did: {dict(w.done)}")
        assert not w.failures, w.failures[0]
        assert w.done["checkout"] and w.done["delivered"], f"the seeded run never got far: {dict(w.done)}"
    finally:
        _world.clear()
