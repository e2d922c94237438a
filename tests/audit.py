"""A system-wide invariant audit of a running local stack (a test helper; issue 12).

``audit(stack)`` reads the ground truth straight from the stack, not through the API: one snapshot of the
DynamoDB tables involved (Orders, Inventory, Procurement, Promotions; see ``snapshot``) and localstripe's charges
and refunds (its HTTP API, the stack's test key). It raises one AssertionError listing every violation of:

- stock: per level (shard items summed into it) ``on_hand == available + reserved``, every figure >= 0;
  ``reserved + shipped`` == the units allocated to live orders (orders not released); the ledger sums to
  on_hand for every level whose ledger starts with its opening count (levels created since the ledger exists);
- money: per localstripe charge, refunds <= captured; per order, what its records say was refunded (order
  refund + its returns' refunds) <= its total;
- returns: per order and SKU, returned units (returns not rejected) <= delivered units; per return, restocked
  units <= its returned units, and restocked only in the warehouse that inspected the parcel;
- order status agrees with its shipments (no parcel before fulfillment, a packed parcel means shipping started,
  DELIVERED means every parcel delivered, CANCELLED means none packed);
- purchase orders: per line received <= ordered and returned <= received; invoiced units (MATCHED and SETTLED
  invoices) <= received net of returns; settled value <= the value of what was received net of returns (at
  most the PO's unit cost plus the matching's price tolerance a unit), and only matched invoices are settled;
- coupons: ``used`` == the redemption items of live orders holding the coupon (per customer likewise), and
  every live order with a coupon has its redemption.

The stack is shared by all tests of a worker, so the audit covers the whole stack (damage done by an earlier
test shows too). Writes are atomic, but a few facts span two writes (a Stripe refund and the return recording
it, a shipment and its order's status): a violation is only reported when it is still there once the stack is
quiet (no function running, no asynchronous delivery pending, no invocation finishing) or after ``settle``
seconds, so transitional states never raise and real damage always does.

Wiring (tests/conftest.py): around every test marked ``audited``, ``before_audited_test`` takes a baseline when
tests that are not audited ran since the last audit (some fabricate inconsistent records on purpose: a
reservation without an order, legacy double invoices; those are shown as a warning, not blamed on the test),
and ``after_test`` runs the audit, failing on violations about subjects not reported before (``check``).
"""

from __future__ import annotations

import re
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from shoplocal.stack import STRIPE_KEY
from tests.race import RELEASED, plain, warehouse_of

PACKED_OR_LATER = frozenset({"PACKED", "SHIPPED", "IN_TRANSIT", "EXCEPTION", "DELIVERED"})
HANDED_OVER = frozenset({"SHIPPED", "IN_TRANSIT", "EXCEPTION", "DELIVERED"})
BEFORE_SPLIT = frozenset({"PENDING_PAYMENT", "PAYMENT_PROCESSING", "PAID", "PAYMENT_FAILED", "EXPIRED"})
SHIPPING_STARTED = frozenset({"DISPATCHING", "SHIPPED", "DELIVERED"})
INVOICED = frozenset({"MATCHED", "SETTLED"})
# an invoice line matches within this price tolerance (shop.procurement.service.TOLERANCE): the most a settled
# invoice may ask per unit is the PO's unit cost plus this
PRICE_TOLERANCE_BPS, PRICE_TOLERANCE_MINOR = 100, 1


# ------------------------------------------------------------------ reading the stack
def scan(stack: Any, logical_id: str) -> Iterator[dict[str, Any]]:
    """Every item of a table (consistent, paginated), as Python values."""
    ddb = stack.client("dynamodb")
    args: dict[str, Any] = {"TableName": stack.physical_id(logical_id), "ConsistentRead": True}
    while True:
        page = ddb.scan(**args)
        for item in page["Items"]:
            yield plain(item)
        if "LastEvaluatedKey" not in page:
            return
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def stripe_list(stack: Any, what: str) -> list[dict[str, Any]]:
    resp = requests.get(f"{stack.stripe_base}/v1/{what}", params={"limit": 1_000_000}, auth=(STRIPE_KEY, ""),
                        timeout=30)
    resp.raise_for_status()
    return list(resp.json()["data"])


def _amount(money: Any) -> int:
    return int(money["amount"]) if isinstance(money, dict) and "amount" in money else 0


# ------------------------------------------------------------------ the checks
def stock_violations(inventory: list[dict[str, Any]], orders: list[dict[str, Any]],
                     exchanges: list[dict[str, Any]] | None = None) -> list[str]:
    out: list[str] = []
    levels: dict[tuple[str, str], Counter[str]] = {}
    ledgers: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for item in inventory:
        pk, sk = str(item["pk"]), str(item["sk"])
        if pk.startswith("SKU#") and sk.startswith("WH#"):
            key = (pk.removeprefix("SKU#"), warehouse_of(sk.removeprefix("WH#")))
            figures = {k: int(item.get(k, 0)) for k in ("on_hand", "available", "reserved", "shipped")}
            if min(figures.values()) < 0:
                out.append(f"stock {pk} {sk}: negative figure {figures}")
            level = levels.setdefault(key, Counter())
            for k, v in figures.items():
                level[k] += v
        elif pk.startswith("LEDGER#"):
            sku, _, wh = pk.removeprefix("LEDGER#").rpartition("#")
            ledgers[(sku, wh)].append(item)
    held: Counter[tuple[str, str]] = Counter()
    for order in orders:
        if order["status"] in RELEASED:
            continue
        for line in order.get("lines") or []:
            for alloc in line.get("allocations") or []:
                held[(line["sku"], warehouse_of(alloc["warehouse_id"]))] += int(alloc["quantity"])
    for item in exchanges or []:  # an exchange's replacement holds its units until released
        held[(item["replacement_sku"], warehouse_of(item["warehouse_id"]))] += int(item["quantity"])
    for key in sorted(set(levels) | set(held)):
        level = levels.get(key, Counter())
        sku, wh = key
        if key not in levels:
            out.append(f"stock {sku}@{wh}: live orders hold {held[key]} unit(s) of a level that does not exist")
            continue
        if level["on_hand"] != level["available"] + level["reserved"]:
            out.append(f"stock {sku}@{wh}: on_hand {level['on_hand']} != available {level['available']} + "
                       f"reserved {level['reserved']}")
        if held[key] != level["reserved"] + level["shipped"]:
            out.append(f"stock {sku}@{wh}: live orders hold {held[key]} unit(s) but reserved {level['reserved']} + "
                       f"shipped {level['shipped']} = {level['reserved'] + level['shipped']}")
        moves = ledgers.get(key, [])
        if any(m.get("kind") == "count" and m.get("reason") == "opening count" for m in moves):
            total = sum(int(m.get("delta", 0)) for m in moves)
            if total != level["on_hand"]:
                out.append(f"stock {sku}@{wh}: ledger sums to {total}, on_hand is {level['on_hand']}")
    return out


def orders_table_exchanges(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The exchanges (shop.returns.exchanges) among the items given whose replacement is reserved and not
    released: their units are held (reserved, then shipped) like an order's allocation."""
    return [ex for it in items if str(it.get("sk", "")).startswith("RETURN#")
            and isinstance(ex := it.get("exchange"), dict) and ex.get("reserved") and not ex.get("released")
            and ex.get("warehouse_id")]


def order_violations(orders_table: list[dict[str, Any]], inventory: list[dict[str, Any]],
                     charges: list[dict[str, Any]], refunds: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    orders: dict[str, dict[str, Any]] = {}
    shipments: dict[str, list[dict[str, Any]]] = defaultdict(list)
    returns: dict[str, list[dict[str, Any]]] = defaultdict(list)
    tasks: dict[str, dict[str, Any]] = {}
    for item in orders_table:
        pk, sk = str(item["pk"]), str(item["sk"])
        if pk.startswith("ORDER#"):
            oid = pk.removeprefix("ORDER#")
            if sk == "ORDER":
                orders[oid] = item
            elif sk.startswith("SHIPMENT#"):
                shipments[oid].append(item)
            elif sk.startswith("RETURN#"):
                returns[oid].append(item)
        elif pk.startswith("TASK#"):
            tasks[pk.removeprefix("TASK#")] = item

    # money at the payment provider: refunds never exceed the captured charge
    refunded_per_charge: Counter[str] = Counter()
    for r in refunds:
        if r.get("status") in (None, "succeeded", "pending"):
            refunded_per_charge[str(r.get("charge"))] += int(r.get("amount") or 0)
    for ch in charges:
        captured = int(ch.get("amount") or 0) if ch.get("captured") and ch.get("status") == "succeeded" else 0
        if refunded_per_charge[ch["id"]] > captured:
            out.append(f"stripe charge {ch['id']} (payment intent {ch.get('payment_intent')}): refunded "
                       f"{refunded_per_charge[ch['id']]} > captured {captured}")

    # restocks per return, from the ledger (a customer_return movement names its return)
    restocked: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for item in inventory:
        if str(item["pk"]).startswith("LEDGER#") and item.get("kind") == "customer_return" and item.get("ref"):
            sku, _, wh = str(item["pk"]).removeprefix("LEDGER#").rpartition("#")
            restocked[str(item["ref"])][(sku, wh)] += int(item.get("delta", 0))

    for oid, order in sorted(orders.items()):
        status = order["status"]
        total = _amount((order.get("totals") or {}).get("total"))
        # an exchange's replacement parcel ships after the order was delivered: it is no part of the order's status
        parcels = [s for s in shipments.get(oid, []) if not s.get("exchange_id")]
        states = [str(s["status"]) for s in parcels]
        # status agrees with the shipments
        if status in BEFORE_SPLIT and parcels:
            out.append(f"order {oid} {status}: has shipments {states}")
        elif status == "FULFILLING" and (not parcels or any(s in PACKED_OR_LATER for s in states)):
            out.append(f"order {oid} FULFILLING: shipments {states}")
        elif status == "DISPATCHING" and not any(s in PACKED_OR_LATER for s in states):
            out.append(f"order {oid} DISPATCHING: no packed parcel in {states}")
        elif status == "SHIPPED" and not (states and all(s in HANDED_OVER for s in states)):
            out.append(f"order {oid} SHIPPED: shipments {states}")
        elif status == "DELIVERED" and not (states and all(s == "DELIVERED" for s in states)):
            out.append(f"order {oid} DELIVERED: shipments {states}")
        elif status == "CANCELLED" and any(s in PACKED_OR_LATER for s in states):
            out.append(f"order {oid} CANCELLED: a parcel was packed {states}")
        if any(s in PACKED_OR_LATER for s in states) and status not in SHIPPING_STARTED:
            out.append(f"order {oid} {status}: shipments {states} left the shelf")

        # refunds recorded on the order and its returns never exceed what it paid
        recorded = _amount(order.get("refunded")) + sum(_amount(r.get("refunded")) + _amount(
            (r.get("exchange") or {}).get("refunded")) for r in returns.get(oid, []))
        if recorded > total:
            out.append(f"order {oid}: refunds recorded {recorded} > total {total}")

        # returned <= delivered, restocked <= returned (per return), restocked where inspected
        delivered: Counter[str] = Counter()
        for s in parcels:
            if s["status"] == "DELIVERED":
                for it in s.get("items") or []:
                    delivered[it["sku"]] += int(it["quantity"])
        returned: Counter[str] = Counter()
        for ret in returns.get(oid, []):
            if ret.get("status") == "REJECTED":
                continue
            rid = str(ret["sk"]).removeprefix("RETURN#")
            lines: Counter[str] = Counter()
            for ln in ret.get("lines") or []:
                lines[ln["sku"]] += int(ln["quantity"])
            returned.update(lines)
            for ins in ret.get("inspection") or []:
                if int(ins.get("sellable", 0)) + int(ins.get("damaged", 0)) > lines[ins.get("sku")]:
                    out.append(f"return {rid} of {oid}: inspected {ins} more than the {lines[ins.get('sku')]} "
                               f"returned")
            back = restocked.get(rid, Counter())
            per_sku: Counter[str] = Counter()
            for (sku, wh), units in back.items():
                per_sku[sku] += units
            for sku, units in per_sku.items():
                if units > lines[sku]:
                    out.append(f"return {rid} of {oid}: {units} unit(s) of {sku} restocked, {lines[sku]} returned")
            task = tasks.get(f"tsk_{rid.removeprefix('ret_')}_return")
            for (sku, wh), units in back.items():
                if units and task is not None and task.get("warehouse_id") != wh:
                    out.append(f"return {rid} of {oid}: {units} unit(s) of {sku} restocked in {wh}, inspected in "
                               f"{task.get('warehouse_id')}")
        for sku, units in returned.items():
            if units > delivered[sku]:
                out.append(f"order {oid}: {units} unit(s) of {sku} returned, {delivered[sku]} delivered")
    return out


def procurement_violations(items: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    pos: dict[str, dict[str, Any]] = {}
    invoices: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        pk, sk = str(item["pk"]), str(item["sk"])
        if pk.startswith("PO#"):
            if sk == "PO":
                pos[pk.removeprefix("PO#")] = item
            elif sk.startswith("INVOICE#"):
                invoices[pk.removeprefix("PO#")].append(item)
    for po_id, po in sorted(pos.items()):
        net: Counter[str] = Counter()
        value = 0
        for ln in po.get("lines") or []:
            qty, rec, back = int(ln["quantity"]), int(ln.get("received", 0)), int(ln.get("returned", 0))
            if rec > qty or back > rec or min(rec, back) < 0:
                out.append(f"PO {po_id} {ln['sku']}: ordered {qty}, received {rec}, returned {back}")
            net[ln["sku"]] += rec - back
            cost = _amount(ln.get("unit_cost"))
            value += (rec - back) * (cost + max(PRICE_TOLERANCE_MINOR, -(-cost * PRICE_TOLERANCE_BPS // 10_000)))
        invoiced: Counter[str] = Counter()
        settled = 0
        for inv in invoices.get(po_id, []):
            status = inv.get("status")
            if status in INVOICED:
                for ln in inv.get("lines") or []:
                    invoiced[ln["sku"]] += int(ln["quantity"])
            if status == "SETTLED":
                settled += _amount(inv.get("invoice_total"))
                if inv.get("differences"):
                    out.append(f"PO {po_id} invoice {inv['sk']}: settled with differences {inv['differences']}")
        for sku, units in invoiced.items():
            if units > net[sku]:
                out.append(f"PO {po_id} {sku}: {units} unit(s) invoiced (matched/settled), {net[sku]} received net "
                           f"of returns")
        if settled > value:
            out.append(f"PO {po_id}: settled {settled} > value received net of returns (price tolerance "
                       f"included) {value}")
    return out


def coupon_violations(promotions: list[dict[str, Any]], orders_table: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    orders = {str(i["pk"]).removeprefix("ORDER#"): i for i in orders_table
              if str(i["pk"]).startswith("ORDER#") and i["sk"] == "ORDER"}
    coupons: dict[str, dict[str, Any]] = {}
    by_customer: dict[tuple[str, str], int] = {}
    redemptions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in promotions:
        pk, sk = str(item["pk"]), str(item["sk"])
        if not pk.startswith("COUPON#"):
            continue
        code = pk.removeprefix("COUPON#")
        if sk == "COUPON":
            coupons[code] = item
        elif sk.startswith("CUSTOMER#"):
            by_customer[(code, sk.removeprefix("CUSTOMER#"))] = int(item.get("used", 0))
        elif sk.startswith("ORDER#"):
            redemptions[code].append(item)
    for code, coupon in sorted(coupons.items()):
        held = redemptions.get(code, [])
        if int(coupon.get("used", 0)) != len(held):
            out.append(f"coupon {code}: used {coupon.get('used', 0)} != {len(held)} redemption(s)")
        per_customer = Counter(str(r.get("customer_id")) for r in held)
        for (c, customer), used in by_customer.items():
            if c == code and used != per_customer[customer]:
                out.append(f"coupon {code} customer {customer}: used {used} != {per_customer[customer]} "
                           f"redemption(s)")
        for r in held:
            oid = str(r["sk"]).removeprefix("ORDER#")
            order = orders.get(oid)
            if order is None or order.get("coupon_code") != code or order["status"] in RELEASED:
                out.append(f"coupon {code}: redemption by {oid}, which does not hold it "
                           f"({order and (order.get('coupon_code'), order['status'])})")
    for oid, order in sorted(orders.items()):
        held_code = order.get("coupon_code")
        if held_code and order["status"] not in RELEASED and \
                not any(str(r["sk"]) == f"ORDER#{oid}" for r in redemptions.get(held_code, [])):
            out.append(f"order {oid} {order['status']}: holds coupon {held_code} without a redemption")
    return out


TABLES = ("InventoryTable", "OrdersTable", "ProcurementTable", "PromotionsTable")


def _stored_items(table: Any) -> list[Any]:
    """Every item of a moto table, in the order they were stored."""
    if table.range_key_attr:
        return [item for bucket in table.items.values() for item in bucket.values()]
    return list(table.items.values())


def snapshot(stack: Any) -> dict[str, list[dict[str, Any]]]:
    """Every item of the audited tables at one instant. The local stack runs moto in this process and
    serializes its DynamoDB requests (shoplocal.patches.DYNAMODB_LOCK): holding that lock while copying moto's
    tables gives a snapshot no transaction is half-way through, across all tables, and in milliseconds (a
    Scan through moto's HTTP API costs ~10 ms an item). Falls back to consistent scans otherwise."""
    try:
        from moto.dynamodb.models import dynamodb_backends

        from shoplocal.deploy import ACCOUNT_ID
        from shoplocal.patches import DYNAMODB_LOCK
        from shoplocal.stack import REGION

        backend = dynamodb_backends[ACCOUNT_ID][REGION]
        with DYNAMODB_LOCK:  # every item, as stored (moto's all_items would also sort them: seconds late in a run)
            return {lid: [stored_plain(item) for item in _stored_items(backend.get_table(stack.physical_id(lid)))]
                    for lid in TABLES}
    except Exception:  # not an in-process moto: read through the API
        return {lid: list(scan(stack, lid)) for lid in TABLES}


_WHOLE = re.compile(r"-?[0-9]{1,38}")  # an N that DynamoDB's decimal context reads exactly, with no fraction
_SIMPLE = frozenset({"S", "N", "BOOL", "NULL", "M", "L"})


class _Unusual(Exception):
    """A value stored_plain leaves to the general route (sets, binary, anything not a DynamoType)."""


_dynamo_type: list[Any] = []  # moto's DynamoType (imported on first use: not every test process loads moto)


def _plain_value(value: Any) -> Any:
    if type(value) is not _dynamo_type[0] or value.type not in _SIMPLE:
        raise _Unusual
    kind = value.type
    raw = value.value
    if kind == "S" or kind == "BOOL" or kind == "NULL":
        return None if kind == "NULL" else raw
    if kind == "N":
        if type(raw) is str and _WHOLE.fullmatch(raw):
            return int(raw)
        raise _Unusual
    if kind == "M" and type(raw) is dict:
        return {k: _plain_value(v) for k, v in raw.items()}
    if kind == "L" and type(raw) is list:
        return [_plain_value(v) for v in raw]
    raise _Unusual


def stored_plain(item: Any) -> dict[str, Any]:
    """``plain(item.to_json()["Attributes"])`` of a moto item (what the audit read before), in one walk over the
    stored values instead of three (moto's JSON with a deep copy of every map, boto3's deserializer, then the
    numbers made int): strings, whole numbers, booleans, nulls, maps and lists; an item holding anything else
    (a fraction or exponent, a set, binary) takes that route. Snapshots are taken holding the DynamoDB lock and
    the tables grow over a run: this was most of the audit's time."""
    if not _dynamo_type:
        from moto.dynamodb.models.dynamo_type import DynamoType

        _dynamo_type.append(DynamoType)
    try:
        return {k: _plain_value(v) for k, v in item.attrs.items()}
    except _Unusual:
        return plain(item.to_json()["Attributes"])


def violations(stack: Any) -> list[str]:
    """Every violated invariant of the stack's current state (one read of each source)."""
    tables = snapshot(stack)
    inventory, orders_table = tables["InventoryTable"], tables["OrdersTable"]
    procurement, promotions = tables["ProcurementTable"], tables["PromotionsTable"]
    charges, refunds = stripe_list(stack, "charges"), stripe_list(stack, "refunds")
    orders = [i for i in orders_table if str(i["pk"]).startswith("ORDER#") and i["sk"] == "ORDER"]
    return [*stock_violations(inventory, orders, orders_table_exchanges(orders_table)),
            *order_violations(orders_table, inventory, charges, refunds),
            *procurement_violations(procurement), *coupon_violations(promotions, orders_table)]


# ------------------------------------------------------------------ quiescence
def _busy(stack: Any) -> int:
    """Function invocations running now (execution environments out of their idle pool)."""
    invoker = stack.invoker
    with invoker._lock:
        return sum(n - len(invoker._idle.get(fid, [])) for fid, n in invoker._created.items())


def _progress(stack: Any) -> tuple[int, int, int]:
    from shoplocal import patches

    with patches._pending_lock:
        pending = len(patches._pending)
    return _busy(stack), pending, len(stack.invoker.invocations)


def wait_quiet(stack: Any, timeout: float = 20, window: float = 1.0) -> bool:
    """Wait until nothing ran for ``window`` seconds: no function running, no EventBridge delivery pending,
    no invocation finished (so no execution moved: every step is a function). False after ``timeout``.

    A workflow waiting for a task token (a warehouse task, 3-D Secure) is quiet: it writes nothing until
    someone acts."""
    deadline = time.monotonic() + timeout
    last = _progress(stack)
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = _progress(stack)
        if now != last or now[0] or now[1]:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= window:
            return True
    return False


def subject(violation: str) -> str:
    """What a violation is about (``stock SKU@wh``, ``order ord_...``): the text before its first colon."""
    return violation.partition(":")[0]


def audit(stack: Any, *, settle: float = 20, ignore: Iterable[str] = ()) -> list[str]:
    """Raise AssertionError listing every invariant violated by the stack's state, except those about a
    subject in ``ignore``; returns the ignored violations still there.

    A violation seen while the stack is busy is checked again once the stack is quiet (or after ``settle``
    seconds) and reported only if it is still there, so a transitional state never raises."""
    skip = set(ignore)
    found = violations(stack)
    if any(subject(v) not in skip for v in found):  # only a new one is worth waiting for the stack to settle
        wait_quiet(stack, timeout=settle)
        found = violations(stack)
    new = [v for v in found if subject(v) not in skip]
    if new:
        raise AssertionError(f"invariant audit: {len(new)} violation(s)\n  " + "\n  ".join(new))
    return [v for v in found if subject(v) in skip]


@dataclass
class _Worker:
    known: set[str] = field(default_factory=set)  # subjects already reported or found before an audited test
    dirty: bool = True  # a test not audited ran since the last audit (it may have left records on purpose)


_workers: dict[int, _Worker] = {}


def _worker(stack: Any) -> _Worker:
    return _workers.setdefault(id(stack), _Worker())


def before_audited_test(stack: Any) -> None:
    """When tests that are not audited ran since the last audit, the violations they left are this test's
    baseline: not its fault (some tests fabricate inconsistent records on purpose, e.g. a reservation with no
    order, or legacy double invoices a fix must tolerate). They are shown as a warning, once each."""
    state = _worker(stack)
    if not state.dirty:
        return
    found = [v for v in violations(stack) if subject(v) not in state.known]
    if found:
        warnings.warn("invariant audit: left by tests that are not audited (not failing this test):\n  "
                      + "\n  ".join(found), stacklevel=2)
    state.known.update(subject(v) for v in found)
    state.dirty = False


def after_test(stack: Any, audited: bool) -> None:
    """After an audited test: the audit, failing on violations about new subjects. After any other test that
    used the stack: the next audited test takes a baseline first."""
    state = _worker(stack)
    if not audited:
        state.dirty = True
        return
    check(stack)


def check(stack: Any) -> None:
    """The audit of an audited test (also the fuzz's per-step invariant): violations about subjects already
    reported or in the baseline are not reported again, so one damaged record fails the test that damaged
    it, not every later test of the worker."""
    state = _worker(stack)
    try:
        audit(stack, ignore=state.known)
    except AssertionError as failure:
        state.known.update(subject(line.strip()) for line in str(failure).splitlines()[1:])
        raise
