"""Customer returns and per-line refunds.

Request (POST /orders/{orderId}/returns): the order's owner, for lines of parcels that were delivered, within
RETURN_WINDOW_DAYS of the delivery, never more units than were delivered minus those already being returned.
That limit is a condition of the write: the return is created in one transaction with the order's per-line
returned counters (``returned + units <= delivered``), so of concurrent requests for the same units one wins
and the others get 409 ``return_quantity_exceeded`` (422 ``invalid_input`` when the counter already shows it).
A rejected return gives its units back in the transaction of its status change.
Each line's refund is fixed then: its share of the price after discounts (sale and coupon shares are recorded
per order line at checkout) plus the tax on that, rounded half-up; shipping is not refunded.

The returns workflow (statemachines/returns.asl.json) then: approves it (policy: every request that passed
those rules is approved), issues a return label, opens one return task in one warehouse (the parcel's: the
warehouse that shipped the first line) and waits for staff to report how many units are sellable or damaged,
puts the sellable ones back on the shelf of that warehouse (with their ledger movement; never more than the
return's units) and records what the inspection decided the return gives back (shop.returns.decisions: a
sellable unit its full price share, a damaged one what staff chose: full, partial or none), refunds that through
Stripe (a partial refund, once: keyed on the return, and counted
on the order's refunded total, under ``refunded + amount <= captured``, before Stripe is asked) and
publishes RefundIssued, which emails the shopper. Every step is conditional on the return's status, so a
retried step changes nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from shop import events, workflow
from shop.config import get_settings
from shop.errors import Conflict, InvalidInput, NotFound
from shop.fulfillment import repository as fulfillment_repo
from shop.fulfillment.models import (
    ShipmentItem,
    ShipmentStatus,
    TaskKind,
    TaskStatus,
    WarehouseTask,
)
from shop.inventory.repository import known_warehouse
from shop.money import Money, round_half_up
from shop.orders import event_details
from shop.orders import repository as orders_repo
from shop.orders.models import Order, OrderLine, TimelineEntry
from shop.returns import decisions
from shop.returns import repository as repo
from shop.returns.models import CustomerReturn, ReturnIn, ReturnLine, ReturnLineIn, ReturnStatus
from shop.returns.views import view
from shop.timeutil import read_utc

R = ReturnStatus
OPEN = {R.REQUESTED, R.APPROVED, R.AWAITING_GOODS, R.INSPECTED, R.REFUNDED, R.SHIPPING_REPLACEMENT, R.EXCHANGED}


class ReturnWindowClosed(Conflict):
    code = "return_window_closed"


def line_refund(order: Order, line: OrderLine, quantity: int) -> Money:
    gross = line.unit_price.amount * quantity
    share = round_half_up(line.discount.amount * quantity, line.quantity) if line.discount else 0
    net = gross - share
    tax = round_half_up(net * (order.tax_rate_bps or 0), 10_000)
    return Money(amount=net + tax, currency=line.unit_price.currency)


def views_of_order(order_id: str) -> list[dict[str, Any]]:
    """Every return of an order, oldest first, as :func:`view` shows it (the staff order view composes them in
    functions/orderflow_admin: returns is no dependency of shop.orderflow)."""
    return [view(r) for r in sorted(repo.of_order(order_id), key=lambda r: r.created_at)]


def request_return(order_id: str, customer_id: str, body: ReturnIn, now: datetime | None = None) -> dict[str, Any]:
    order, lines, counters = returnable_lines(order_id, customer_id, body.lines, now)
    total = sum((ln.refund for ln in lines), Money.zero(order.totals.total.currency))
    stamp = orders_repo.now_iso()
    ret = CustomerReturn(return_id=f"ret_{uuid.uuid4().hex[:20]}", order_id=order_id, customer_id=customer_id,
                         email=order.email, status=R.REQUESTED, lines=lines, refund_total=total, note=body.note,
                         created_at=stamp, updated_at=stamp, timeline=[TimelineEntry(at=stamp, status="REQUESTED")])
    # the limit itself is the condition of the write: returned + units <= delivered, per line
    repo.create(ret, counters)
    workflow.start("returns_state_machine_arn", ret.return_id, {"return_id": ret.return_id, "order_id": order_id})
    return view(ret)


def returnable_lines(order_id: str, customer_id: str, wanted_lines: Sequence[ReturnLineIn], now: datetime | None = None,
                     field: Callable[[int, str], str] = lambda i, name: f"lines.{i}.{name}",
                     ) -> tuple[Order, list[ReturnLine], dict[str, tuple[int, int, int]]]:
    """The order and the return lines for ``wanted_lines`` (a return's lines, or an exchange's one line), with
    the counters :func:`shop.returns.repository.create` writes under ``returned + units <= delivered``: only
    delivered units (never an exchange's replacement parcel), within the window, never more than are left.
    ``field`` names a wanted line's field in errors."""
    now = now or datetime.now(UTC)
    # one query: the order record (with its returned counters) and its shipments
    found = orders_repo.read_order_collection(order_id) if order_id.startswith("ord_") else None
    order = found.order if found is not None else None
    if found is None or order is None or order.customer_id != customer_id:
        raise NotFound(f"order {order_id} not found")
    window = timedelta(days=get_settings().return_window_days)
    delivered: dict[str, tuple[int, str, datetime]] = {}  # sku -> (units delivered, warehouse, latest delivery)
    for s in fulfillment_repo.shipments_in(found.items):
        if s.status != ShipmentStatus.DELIVERED or not s.delivered_at or s.exchange_id:
            continue
        try:
            at = read_utc(s.delivered_at)  # stored before carrier times were checked: no zone is UTC
        except ValueError:
            at = read_utc(s.updated_at)  # an unreadable delivery time: the parcel's last change stands in
        for item in s.items:
            units, _, last = delivered.get(item.sku, (0, s.warehouse_id, at))
            delivered[item.sku] = (units + item.quantity, s.warehouse_id, max(last, at))
    counted = found.returned
    # returns written before the order kept counters are read only when a requested line has no counter yet
    legacy = {} if all(w.sku in counted for w in wanted_lines) else _legacy_returning(order_id)
    lines: list[ReturnLine] = []
    by_sku = {ln.sku: ln for ln in order.lines}
    for i, wanted in enumerate(wanted_lines):
        if wanted.sku not in delivered:
            raise InvalidInput(field(i, "sku"), f"{wanted.sku} was not delivered with order {order_id}")
        units, warehouse, delivered_at = delivered[wanted.sku]
        if now - delivered_at > window:
            raise ReturnWindowClosed(f"{wanted.sku} was delivered on {delivered_at.date()}: returns are accepted "
                                     f"for {window.days} days", details={"sku": wanted.sku,
                                                                         "delivered_at": delivered_at.isoformat()})
        already = counted.get(wanted.sku, legacy.get(wanted.sku, 0))
        left = max(units - already, 0)
        if wanted.quantity > left:
            raise InvalidInput(field(i, "quantity"), f"only {left} unit(s) of {wanted.sku} can still be returned",
                               details={"returnable": left})
        line = by_sku[wanted.sku]
        lines.append(ReturnLine(sku=wanted.sku, name=line.name, quantity=wanted.quantity, reason=wanted.reason,
                                warehouse_id=warehouse, weight_grams=line.weight_grams,
                                refund=line_refund(order, line, wanted.quantity)))
    return order, lines, {ln.sku: (ln.quantity, delivered[ln.sku][0],
                                   0 if ln.sku in counted else legacy.get(ln.sku, 0)) for ln in lines}


def _legacy_returning(order_id: str) -> dict[str, int]:
    """Units per SKU under returns written before the order kept returned counters (read only to seed a
    counter that does not exist yet; once it exists the counter alone decides)."""
    returning: dict[str, int] = {}
    for earlier in repo.of_order(order_id):
        if earlier.status in OPEN:
            for ln in earlier.lines:
                returning[ln.sku] = returning.get(ln.sku, 0) + ln.quantity
    return returning


def get_for_customer(return_id: str, customer_id: str) -> dict[str, Any]:
    order_id = repo.order_of(return_id) if return_id.startswith("ret_") else None
    ret = repo.get(order_id, return_id) if order_id else None
    if ret is None or ret.customer_id != customer_id:
        raise NotFound(f"return {return_id} not found")
    return view(ret)


LABEL_LINK_SECONDS = 300


def label_link_for_customer(return_id: str, customer_id: str) -> dict[str, Any]:
    """The shopper's link to print the return label: a presigned URL valid LABEL_LINK_SECONDS (short: whoever
    holds it can open it without signing in). Someone else's or an unknown return, or one whose label is not
    issued yet (or was issued before labels were documents), is 404."""
    order_id = repo.order_of(return_id) if return_id.startswith("ret_") else None
    ret = repo.get(order_id, return_id) if order_id else None
    if ret is None or ret.customer_id != customer_id:
        raise NotFound(f"return {return_id} not found")
    key = (ret.label or {}).get("label_key")
    if ret.label is None or not key:
        raise NotFound(f"return {return_id} has no label document yet ({ret.status.value})",
                       details={"return_id": return_id, "status": ret.status.value})
    return {"return_id": return_id, "order_id": ret.order_id, "carrier": ret.label["carrier"],
            "tracking_number": ret.label["tracking_number"],
            "content_type": "application/pdf" if str(key).endswith(".pdf") else "application/octet-stream",
            "url": fulfillment_repo.label_link(str(key), LABEL_LINK_SECONDS), "expires_in_seconds": LABEL_LINK_SECONDS}


# ------------------------------------------------------------------ workflow steps
def _ret(order_id: str, return_id: str) -> CustomerReturn:
    found = repo.get(order_id, return_id)
    if found is None:
        raise NotFound(f"return {return_id} not found")
    return found


def approve(order_id: str, return_id: str) -> dict[str, Any]:
    ret = _ret(order_id, return_id)
    repo.transition(ret, {R.REQUESTED}, R.APPROVED, "approved: delivered lines within the return window")
    return {"return_id": return_id, "status": _ret(order_id, return_id).status.value, "kind": ret.kind}


def issue_label(order_id: str, return_id: str) -> dict[str, Any]:
    """Buy the return label through the carrier port (CARRIER, as outbound parcels do), store its document in
    LabelsBucket (``labels/<order>/<return>.pdf``) before the return links it, then record it. The return id is the
    port's idempotency key: a retried step buys the same label and finds the document stored (one object).
    The carrier module is imported by this step only, not by the return routes (issue 17)."""
    from shop.fulfillment import carrier

    ret = _ret(order_id, return_id)
    order = orders_repo.require_order(order_id)
    weight = sum(ln.weight_grams * ln.quantity for ln in ret.lines)
    # the parcel travels from the shopper back to the inspecting warehouse: priced on that route
    a = order.shipping_address
    shopper = carrier.Party(name=a.name, lines=tuple(x for x in (a.line1, a.line2, f"{a.postal_code} {a.city}",
                                                                 a.region) if x), country=a.country)
    receiving = ret.lines[0].warehouse_id
    warehouse = known_warehouse(receiving)
    inspecting = (carrier.Party(name=warehouse.name, lines=(f"warehouse {warehouse.warehouse_id}", "returns"),
                                country=warehouse.country) if warehouse is not None
                  else carrier.Party(name="Returns", lines=(f"warehouse {receiving}",), country=a.country))
    port = carrier.carrier_for(get_settings())
    bought = port.buy_label(carrier.LabelRequest(shipment_id=return_id, order_id=order_id, ship_from=shopper,
                                                 ship_to=inspecting, weight_grams=weight,
                                                 currency=ret.refund_total.currency))
    label = bought.label
    key = fulfillment_repo.label_key(order_id, return_id, bought.extension)
    fulfillment_repo.store_label_document(key, bought.document, bought.content_type)
    repo.transition(ret, {R.APPROVED}, R.AWAITING_GOODS, f"return label {label.tracking_number}",
                    fields={"label": {"carrier": label.carrier, "tracking_number": label.tracking_number,
                                      "tracking_url": port.tracking(label.tracking_number).url,
                                      "cost": label.cost.model_dump(), "label_key": key}})
    return {"return_id": return_id, "tracking_number": label.tracking_number}


def task_id_for(return_id: str) -> str:
    return f"tsk_{return_id.removeprefix('ret_')}_return"


def open_inspection(order_id: str, return_id: str, token: str) -> dict[str, Any]:
    """One warehouse receives and inspects the whole parcel (repo.inspecting_warehouse: the one that shipped
    the first line); the workflow waits on the task. Its sellable units are restocked there."""
    ret = _ret(order_id, return_id)
    checklist = [ShipmentItem(sku=ln.sku, name=ln.name, quantity=ln.quantity, weight_grams=ln.weight_grams)
                 for ln in ret.lines]
    task = WarehouseTask(task_id=task_id_for(return_id), kind=TaskKind.RETURN, status=TaskStatus.OPEN,
                         order_id=order_id, shipment_id=return_id, warehouse_id=repo.inspecting_warehouse(ret),
                         checklist=checklist, created_at=orders_repo.now_iso(),
                         instructions="Receive the returned parcel, inspect every unit and complete the task with "
                                      "how many of each SKU can be sold again and how many are damaged.")
    stored, stored_token = fulfillment_repo.store_task(task, token)
    if stored.status == TaskStatus.DONE:
        workflow.send_success(token, {"task_id": stored.task_id, **(stored.result or {})})
    return {"task_id": stored.task_id, "waiting": stored_token is not None}


def restock(order_id: str, return_id: str, inspected: list[dict[str, Any]]) -> dict[str, Any]:
    """Sellable units back on the shelf of the inspecting warehouse, once (conditional on AWAITING_GOODS), never
    more than the return line's units (the task's completion checks it too; a report above it is refused)."""
    ret = _ret(order_id, return_id)
    sellable: dict[str, int] = {}
    for i in inspected:
        sellable[str(i["sku"])] = sellable.get(str(i["sku"]), 0) + int(i["sellable"])
    returned = {ln.sku: ln.quantity for ln in ret.lines}
    for sku, units in sellable.items():
        if units < 0 or units > returned.get(sku, 0):
            raise InvalidInput("inspected", f"{units} sellable unit(s) of {sku}, {returned.get(sku, 0)} returned",
                               details={"sku": sku, "sellable": units, "returned": returned.get(sku, 0)})
    # the inspection decides the refund (shop.returns.decisions), stored in the same write as the restock
    decided = decisions.decide(ret, inspected)
    due = decisions.refund_due(ret, decided)
    moved = repo.transition(ret, {R.AWAITING_GOODS}, R.INSPECTED,
                            f"received: {sum(sellable.values())} unit(s) back in stock, {due.amount} to refund",
                            fields={"inspection": decided, "refund_due": due.model_dump()},
                            extra=repo.restock_actions(ret, sellable))
    return {"return_id": return_id, "restocked": moved, "units": sum(sellable.values())}


def refund(order_id: str, return_id: str) -> dict[str, Any]:
    """Refund the return's lines once. The amount is first counted on the order (refunded + amount <= captured,
    once per refund key: a condition in the write), only then is Stripe asked (idempotent on the same key), then
    the return becomes REFUNDED. A retried step counts nothing twice and refunds nothing twice; an order without
    room for the refund is refused before any money moves (RefundLimitExceeded: the return needs attention)."""
    ret = _ret(order_id, return_id)
    order = orders_repo.require_order(order_id)
    if ret.status == R.INSPECTED:
        # what the inspection decided (returns inspected before decisions existed: every line in full)
        due = ret.refund_due if ret.refund_due is not None else ret.refund_total
        if due.amount == 0:  # every damaged unit decided "none", nothing sellable: no money moves
            repo.transition(ret, {R.INSPECTED}, R.REFUNDED, "nothing to refund: decided at inspection",
                            fields={"refunded": due.model_dump()})
            return _refund_answer(_ret(order_id, return_id))
        if order.payment_intent_id is None:
            raise Conflict(f"order {order_id} has no payment to refund")
        key = f"{order_id}:{return_id}"
        orders_repo.reserve_refund(order_id, key, due.amount, order.totals.total.amount)
        from shop.payments import stripe_adapter  # Stripe: the refund step only, not the routes' cold starts

        done = stripe_adapter.refund(order.payment_intent_id, due, key)
        repo.transition(ret, {R.INSPECTED}, R.REFUNDED, f"refunded {done.amount}",
                        fields={"refund_id": done.refund_id, "refunded": done.amount.model_dump()})
        ret = _ret(order_id, return_id)
    if ret.status == R.REFUNDED and ret.refund_id and ret.refunded:
        events.publish(event_details.refund_issued(order, ret.refund_id, ret.refunded, "return",
                                                   f"{order_id}:{return_id}"))
    return _refund_answer(ret)


def _refund_answer(ret: CustomerReturn) -> dict[str, Any]:
    return {"return_id": ret.return_id, "status": ret.status.value, "refund_id": ret.refund_id,
            "refunded": ret.refunded.model_dump() if ret.refunded else None}


def reject(order_id: str, return_id: str, note: str) -> bool:
    """Close a return that was not received (before inspection): REJECTED, and its units go back to the order's
    returnable units in the same transaction. Once: a second call finds it REJECTED and writes nothing."""
    ret = _ret(order_id, return_id)
    units: dict[str, int] = {}
    for ln in ret.lines:
        units[ln.sku] = units.get(ln.sku, 0) + ln.quantity
    return repo.transition(ret, {R.REQUESTED, R.APPROVED, R.AWAITING_GOODS}, R.REJECTED, note,
                           extra=[orders_repo.uncount_returned_action(order_id, units)])
