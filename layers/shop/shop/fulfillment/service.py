"""Fulfillment: splitting a paid order into shipments, warehouse tasks (pick, pack, carrier pickup) that the
workflow waits on, stock commit and shipping label at packing, and the carrier's tracking updates. Labels and
pickups go through the carrier port (shop.fulfillment.carrier): which carrier answers is configuration, not code
here or in the workflow.

Workflow steps (FulfillmentFunction) and routes (WarehouseFunction, WebhooksFunction) call these. Each one
is safe to repeat: conditional writes make a second run a no-op that reports the state reached, and events
are published again (consumers dedupe on their key).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shop import workflow
from shop.config import get_settings
from shop.errors import Conflict, InvalidInput, NotFound, ServiceBusy
from shop.fulfillment import repository as repo
from shop.fulfillment.models import (
    HANDED_OVER,
    SHIPMENT_FROM,
    CarrierEvent,
    DeliveryProof,
    LeftAt,
    PickupBooking,
    Shipment,
    ShipmentStatus,
    TaskCompletion,
    TaskKind,
    TaskStatus,
    TrackingEvent,
    WarehouseTask,
)
from shop.fulfillment.split import is_exchange_shipment, plan_shipments, task_id_for
from shop.orders import repository as orders_repo
from shop.orders import service as orders_service
from shop.orders.models import Order, OrderStatus

# The event bus, the event details and inventory's stock and restock code are imported by the steps and routes that
# publish or read stock, inside them: the warehouse's task list and label link load none of them (issue 17)
if TYPE_CHECKING:
    from shop.fulfillment import carrier
    from shop.models import Warehouse

S = OrderStatus
SH = ShipmentStatus
PACK_ATTEMPTS = 4

INSTRUCTIONS = {
    TaskKind.PICK: "Pick every listed item from its bin and complete the task with the picked quantities.",
    TaskKind.PACK: "Pack the picked items into one parcel, weigh it and complete the task with its weight.",
    TaskKind.PICKUP: "Hand the labelled parcel to the carrier; the carrier's pickup scan completes this task.",
    TaskKind.RETURN: "Receive the returned parcel, inspect every unit and complete the task with how many of "
                     "each SKU can be sold again and how many are damaged.",
}


class OrderNotShippable(Conflict):
    """The order was cancelled (or closed) while its fulfillment was under way."""

    code = "order_not_shippable"


def _order(order_id: str) -> Order:
    return orders_repo.require_order(order_id)


def shipments_of(order_id: str) -> list[Shipment]:
    return repo.order_items(order_id)[1]


def _in(shipments: list[Shipment], order_id: str, shipment_id: str) -> Shipment:
    found = next((s for s in shipments if s.shipment_id == shipment_id), None)
    if found is None:
        raise NotFound(f"shipment {shipment_id} of order {order_id} not found")
    return found


def _order_and_shipment(order_id: str, shipment_id: str) -> tuple[Order, Shipment]:
    """The order and one of its shipments, strongly consistent, in one query of the order's partition (instead
    of a read of each)."""
    order, shipments = repo.order_items(order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    return order, _in(shipments, order_id, shipment_id)


# ------------------------------------------------------------------ split
def split(order_id: str) -> dict[str, Any]:
    from shop import events
    from shop.fulfillment import event_details
    from shop.inventory import restock

    order = _order(order_id)
    levels = repo.stock_levels_at(sorted({ln.sku for ln in order.lines}),
                                  sorted({a.warehouse_id for ln in order.lines for a in ln.allocations}))
    shipments: list[Shipment] | None = None
    if order.status == S.PAID:
        bins = {(lv.sku, lv.warehouse_id): lv.bin or "" for lv in levels}
        planned = plan_shipments(order, bins, orders_repo.now_iso())
        if repo.save_split(order, planned):
            # this write split it (one transaction, conditional on PAID): the order is FULFILLING with exactly
            # these shipments, no need to read them back
            order, shipments = order.model_copy(update={"status": S.FULFILLING}), planned
    if shipments is None:  # split before (a retry) or no longer PAID: what is stored decides, in one query
        found, shipments = repo.order_items(order_id)
        if found is None:
            raise NotFound(f"order {order_id} not found")
        order = found
    if order.status in (S.CANCELLED, S.PAYMENT_FAILED, S.EXPIRED):
        raise OrderNotShippable(f"order {order_id} is {order.status.value}")
    if not shipments:
        raise Conflict(f"order {order_id} is {order.status.value} but has no shipments")
    # the sale may have taken a level to its reorder point: restock (published again on a retry)
    sold_from = {(ln.sku, a.warehouse_id) for ln in order.lines for a in ln.allocations}
    restock.publish_if_low([lv for lv in levels if (lv.sku, lv.warehouse_id) in sold_from], f"order {order_id}",
                           strict=True)
    events.publish(event_details.order_split(order, shipments))
    # each parcel's lines and the order's reservations for them ride along (the Map's items): opening its pick
    # and pack tasks, and completing the pack task, need no read of the order or the shipment
    return {"order_id": order_id, "shipments": [
        {"shipment_id": s.shipment_id, "warehouse_id": s.warehouse_id,
         "items": [i.model_dump(mode="json") for i in s.items],
         "allocations": [a.model_dump(mode="json", exclude_none=True) for a in repo.parcel_allocations(order, s)]}
        for s in shipments]}


def confirm_and_split(order_id: str, payment_intent_id: str | None) -> dict[str, Any]:
    """The workflow's ConfirmAndSplit step (issue 17: what ConfirmOrder and SplitOrder did, one state): the order
    PAID and OrderPaid published (shop.orders.service.confirm_paid: the confirmation email), then split.
    Each part is safe to repeat, so a retry after a crash between the two confirms nothing twice (the order
    is PAID already: OrderPaid published again, consumers dedupe) and splits once. An order the shopper
    cancelled meanwhile fails the step with OrderCancelledMeanwhile (before the split), one closed during the
    split with OrderNotShippable: both caught by the state machine. ``confirmation["changed"]``: this call
    made it PAID (the handler's metric; not in the step's output)."""
    confirmed = orders_service.confirm_paid_step(order_id, payment_intent_id)
    planned = split(order_id)
    return {"order_id": order_id, "confirmation": {"order_id": order_id, "status": str(confirmed["status"]),
                                                   "changed": bool(confirmed["changed"])},
            "shipments": planned["shipments"]}


# ------------------------------------------------------------------ tasks (workflow side)
CLOSED = frozenset({S.CANCELLED, S.PAYMENT_FAILED, S.EXPIRED})


def _new_task(kind: TaskKind, order_id: str, shipment_id: str, warehouse_id: str, checklist: list[Any], now: str, *,
              allocations: list[Any] | None = None, then: TaskKind | None = None) -> WarehouseTask:
    """A warehouse task of the parcel, OPEN, with its kind's instructions (the workflow's steps open them)."""
    return WarehouseTask(task_id=task_id_for(shipment_id, kind.value), kind=kind, status=TaskStatus.OPEN,
                         order_id=order_id, shipment_id=shipment_id, warehouse_id=warehouse_id, checklist=checklist,
                         created_at=now, instructions=INSTRUCTIONS[kind], allocations=allocations, then=then)


def _open_carried(order_id: str, shipment_id: str, kind: TaskKind, token: str,
                  carried: dict[str, Any], then: TaskKind | None = None) -> bool:
    """The first opening of a pick, pack or pickup task from what the workflow carries (the split's lines and
    warehouse: ``carried``), with no read: the task (and a pack's PICKING -> PACKING; a pickup's check that the
    label step booked it) in one transaction, conditional on the order not being closed. False, nothing
    written, when a condition failed (a retry, a cancelled order, a shipment moved on or not booked): the
    caller then reads and decides as it always did. A pick with ``then`` (PickAndPack) keeps the parcel's
    allocations for the pack task its completion opens."""
    from shop import events
    from shop.fulfillment import event_details

    allocations = carried.get("allocations") if TaskKind.PACK in (kind, then) else None
    task = _new_task(kind, order_id, shipment_id, carried["warehouse_id"], carried["items"], orders_repo.now_iso(),
                     allocations=allocations, then=then)
    change: dict[str, Any] | None = None
    if kind == TaskKind.PACK:
        change = repo.pack_started_action(order_id, shipment_id)
    elif kind == TaskKind.PICKUP:  # the label step booked the carrier's pickup (else: read, and book now)
        change = repo.pickup_booked_check(order_id, shipment_id)
    if not repo.store_task_checked(task, token, orders_repo.status_check_action(order_id, set(S) - CLOSED),
                                   change):
        return False
    events.publish(event_details.task_changed("WarehouseTaskOpened", task))
    return True


def open_task(order_id: str, shipment_id: str, kind: TaskKind, token: str,
              carried: dict[str, Any] | None = None, *, then: TaskKind | None = None) -> dict[str, Any]:
    """Create the warehouse task the workflow now waits on (its token stored with it). A retried step gives
    the open task the new token; a task done already resumes the workflow at once with its result.
    ``carried``: the shipment's split entry (shipment_id, warehouse_id, items) when the workflow passes it (a
    task is then opened without reading the order and the shipment; older executions do not).

    ``then`` (the PickAndPack state, issue 17: one waiting state for pick and pack): the pick task is stored
    with it, and its completion opens the pack task with the same token instead of resuming the workflow
    (:func:`_pick_then_pack`); the token is resumed by the pack's completion. A retried step gives its new
    token to the chain's current task: the pick while it is open, else the pack task (opened here as the Pack
    step would, should it be missing; a pack done already resumes at once with its result). Without ``then``
    (executions started on the definition with separate Pick and Pack states, the exchanges workflow) the pick
    completion resumes the workflow as before."""
    from shop import events
    from shop.fulfillment import event_details

    if then is not None and (kind, then) != (TaskKind.PICK, TaskKind.PACK):
        raise InvalidInput("then", f"a {kind.value} task is not followed by a {then.value} task")
    if (carried is not None and carried.get("items") and carried.get("shipment_id") == shipment_id
            and _open_carried(order_id, shipment_id, kind, token, carried, then)):
        return {"task_id": task_id_for(shipment_id, kind.value), "waiting": True}
    order, shipment = _order_and_shipment(order_id, shipment_id)
    if order.status in (S.CANCELLED, S.PAYMENT_FAILED, S.EXPIRED):
        workflow.send_failure(token, "OrderNotShippable", f"order {order_id} is {order.status.value}")
        return {"task_id": None, "waiting": False}
    now = orders_repo.now_iso()
    task = _new_task(kind, order_id, shipment_id, shipment.warehouse_id, shipment.items, now, then=then)
    # the shipment's change that comes with the task (PACKING; the pickup booking) and the task, in one
    # transaction the first time; one by one on a retry (or when the transaction finds either done)
    change: dict[str, Any] | None = None
    booking = book_pickup(shipment, save=False) if kind == TaskKind.PICKUP else None
    if kind == TaskKind.PACK and shipment.status == SH.PICKING:
        change = repo.pack_started_action(order_id, shipment_id)
    elif booking is not None:
        change = repo.pickup_booked_action(order_id, shipment_id, booking)
    stored_token: str | None
    if change is not None and repo.store_task_with(task, token, change):
        stored, stored_token = task, token
    else:
        if kind == TaskKind.PACK:
            repo.set_shipment_status(order_id, shipment_id, SHIPMENT_FROM[SH.PACKING], SH.PACKING)
        elif booking is not None:
            repo.save_pickup(order_id, shipment_id, booking)
        stored, stored_token = repo.store_task(task, token)
    if stored.status == TaskStatus.DONE and then is not None:
        # the chain moved on (its pick's completion opened the pack task in the same transaction): the token
        # goes to the pack task, or resumes at once when that is done too
        return open_task(order_id, shipment_id, then, token, carried)
    if stored.status == TaskStatus.DONE:
        workflow.send_success(token, task_output(stored))
        return {"task_id": stored.task_id, "waiting": False}
    if stored.status == TaskStatus.CANCELLED or stored_token is None:
        workflow.send_failure(token, "OrderNotShippable", f"task {stored.task_id} was cancelled")
        return {"task_id": stored.task_id, "waiting": False}
    events.publish(event_details.task_changed("WarehouseTaskOpened", stored))
    return {"task_id": stored.task_id, "waiting": True}


def task_output(task: WarehouseTask) -> dict[str, Any]:
    return {"task_id": task.task_id, "kind": task.kind.value, "completed_at": task.completed_at,
            "completed_by": task.completed_by, **(task.result or {})}


# ------------------------------------------------------------------ tasks (staff side)
def task_view(task: WarehouseTask) -> dict[str, Any]:
    return {"task_id": task.task_id, "kind": task.kind.value, "status": task.status.value,
            "order_id": task.order_id, "shipment_id": task.shipment_id, "warehouse_id": task.warehouse_id,
            "instructions": task.instructions,
            "checklist": [{"sku": i.sku, "name": i.name, "quantity": i.quantity, "bin": i.bin,
                           "weight_grams": i.weight_grams} for i in task.checklist],
            "created_at": task.created_at, "completed_at": task.completed_at, "completed_by": task.completed_by,
            "result": task.result}


def list_open_tasks(warehouse_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    tasks, next_cursor = repo.open_tasks(warehouse_id, limit, cursor)
    return {"warehouse_id": warehouse_id, "items": [task_view(t) for t in tasks], "next_cursor": next_cursor}


def _check_completion(task: WarehouseTask, body: TaskCompletion) -> dict[str, Any]:
    if task.kind == TaskKind.PICK:
        if body.picked is None:
            raise InvalidInput("picked", "a pick task is completed with the picked lines")
        picked: dict[str, int] = {}
        for line in body.picked:
            picked[line.sku] = picked.get(line.sku, 0) + line.quantity
        wanted: dict[str, int] = {}
        for item in task.checklist:
            wanted[item.sku] = wanted.get(item.sku, 0) + item.quantity
        if picked != wanted:
            raise InvalidInput("picked", "the picked quantities must match the checklist",
                               details={"expected": wanted, "picked": picked})
        return {"picked": [{"sku": k, "quantity": v} for k, v in sorted(picked.items())]}
    if task.kind == TaskKind.PACK:
        if body.package_weight_grams is None:
            raise InvalidInput("package_weight_grams", "a pack task is completed with the parcel's weight")
        items_weight = sum(i.weight_grams * i.quantity for i in task.checklist)
        if body.package_weight_grams < items_weight:
            raise InvalidInput("package_weight_grams",
                               f"the parcel cannot weigh less than its items ({items_weight} g)",
                               details={"items_weight_grams": items_weight})
        return {"package_weight_grams": body.package_weight_grams}
    if task.kind == TaskKind.RETURN:
        if body.inspected is None:
            raise InvalidInput("inspected", "a return task is completed with the inspected lines")
        got: dict[str, int] = {}
        for unit in body.inspected:
            got[unit.sku] = got.get(unit.sku, 0) + unit.sellable + unit.damaged
        expected = {i.sku: i.quantity for i in task.checklist}
        if got != expected:
            raise InvalidInput("inspected", "every returned unit is either sellable or damaged",
                               details={"expected": expected, "inspected": got})
        for i, unit in enumerate(body.inspected):
            if unit.damaged_refund is not None and unit.damaged == 0:
                raise InvalidInput(f"inspected.{i}.damaged_refund", "a refund decision is for damaged units only")
        # exclude_none: a line without a decision is stored (and resumes the workflow) as it always was
        return {"inspected": [ln.model_dump(mode="json", exclude_none=True)
                              for ln in sorted(body.inspected, key=lambda x: x.sku)]}
    raise Conflict(f"task {task.task_id} is completed by the carrier's pickup scan, not by staff",
                   details={"task_id": task.task_id, "kind": task.kind.value})


class OrderCancelled(Conflict):
    """A pick or pack task completed for an order that was cancelled first: nothing was packed."""

    code = "order_cancelled"


def _not_shippable(order_id: str, status: OrderStatus) -> Conflict:
    if status == S.CANCELLED:
        return OrderCancelled(f"order {order_id} was cancelled: put the items back",
                              details={"order_id": order_id, "status": status.value})
    return Conflict(f"order {order_id} is {status.value}: put the items back",
                    details={"order_id": order_id, "status": status.value})


SHIPPABLE = frozenset({S.FULFILLING, S.DISPATCHING})
SHIPPABLE_EXCHANGE = frozenset({S.SHIPPED, S.DELIVERED})


def _shippable(order: Order, shipment: Shipment) -> bool:
    """Whether the parcel may be picked and packed now: the order is being fulfilled, or the parcel is an
    exchange's replacement for an order that was shipped already (shop.returns.exchanges)."""
    return order.status in (SHIPPABLE_EXCHANGE if shipment.exchange_id else SHIPPABLE)


def _pack(task: WarehouseTask, result: dict[str, Any], staff_id: str, now: str) -> bool:
    """Completing an OPEN pack task commits the parcel (stock out, shipment PACKED, order DISPATCHING) in the
    same transaction as the task's DONE, conditional on the order being fulfillable: a cancellation racing
    it (conditional on the order not being DISPATCHING yet) either lands first, and this is refused with
    409 order_cancelled, or loses with 409 already_shipping. False when the task was no longer OPEN.
    A pack task that carries its parcel's allocations (opened from the workflow's split) is committed with no
    read first: the transaction's conditions decide (order FULFILLING/DISPATCHING, shipment PACKING)."""
    order: Order | str
    if task.allocations is not None and not is_exchange_shipment(task.shipment_id):
        order = task.order_id
        shipment = Shipment(shipment_id=task.shipment_id, order_id=task.order_id, warehouse_id=task.warehouse_id,
                            status=SH.PACKING, items=task.checklist, created_at=task.created_at,
                            updated_at=task.created_at)
    else:
        order, shipment = _order_and_shipment(task.order_id, task.shipment_id)
        if not _shippable(order, shipment):
            raise _not_shippable(task.order_id, order.status)
    for attempt in range(PACK_ATTEMPTS):
        try:
            outcome = repo.pack_shipment(order, shipment, int(result["package_weight_grams"]),
                                         task=(task.task_id, result, staff_id), now=now,
                                         allocations=task.allocations)
            break
        except ServiceBusy:  # met another write on the order (another parcel packed): try again, bounded
            found = repo.get_task(task.task_id)
            if found is not None and found[0].status != TaskStatus.OPEN:
                return False  # a concurrent completion did it
            if found is None or attempt + 1 == PACK_ATTEMPTS:
                raise
            time.sleep(random.uniform(0.02, 0.08) * (attempt + 1))
    if outcome == repo.PackOutcome.ORDER_NOT_SHIPPABLE:
        raise _not_shippable(task.order_id, _order(task.order_id).status)
    if outcome == repo.PackOutcome.ALREADY_PACKED:
        if isinstance(order, str):  # not read before: what is stored says where the parcel is
            shipment = repo.get_shipment(task.order_id, task.shipment_id)
        raise Conflict(f"parcel {task.shipment_id} is {shipment.status.value}, not being packed",
                       details={"task_id": task.task_id, "shipment_id": task.shipment_id})
    return outcome == repo.PackOutcome.PACKED


def _pick_then_pack(task: WarehouseTask, token: str | None, result: dict[str, Any],
                    staff_id: str) -> tuple[WarehouseTask, WarehouseTask | None]:
    """Completing an OPEN pick task of the PickAndPack state (``then`` pack) opens its pack task with the same
    workflow token instead of resuming the workflow, in ONE transaction (repo.finish_task_then_open): the pick
    DONE (conditional on OPEN and on the token read), the order's check (as a plain pick's: a cancellation
    landing first refuses it, one landing after finds the pack task and cancels it), the shipment PICKING ->
    PACKING and the pack task created as the Pack step creates it from the carried split entry (the pick task
    keeps its checklist and allocations). Returns (the pick task, the pack task this call opened); the pack task
    is None when the pick was no longer OPEN (a concurrent completion, a cancellation): the stored pick then
    answers. A retried step that gave the pick a new token meanwhile, or contention, makes it read and try again
    (bounded)."""
    statuses = SHIPPABLE_EXCHANGE if is_exchange_shipment(task.shipment_id) else SHIPPABLE
    order_check = orders_repo.status_check_action(task.order_id, statuses)
    for attempt in range(PACK_ATTEMPTS):
        now = orders_repo.now_iso()
        pack = _new_task(TaskKind.PACK, task.order_id, task.shipment_id, task.warehouse_id, task.checklist, now,
                         allocations=task.allocations)
        outcome: repo.TaskOutcome | None
        try:
            outcome = repo.finish_task_then_open(task.task_id, token, result, staff_id, now, order_check, pack,
                                                 repo.pack_started_action(task.order_id, task.shipment_id))
        except ServiceBusy:  # met another write on these items (a concurrent completion, a retried step)
            if attempt + 1 == PACK_ATTEMPTS:
                raise
            outcome = None
        if outcome == repo.TaskOutcome.DONE:
            done = task.model_copy(update={"status": TaskStatus.DONE, "result": result, "completed_by": staff_id,
                                           "completed_at": now})
            return done, pack
        if outcome == repo.TaskOutcome.ORDER_NOT_SHIPPABLE:
            raise _not_shippable(task.order_id, _order(task.order_id).status)
        found = repo.get_task(task.task_id)  # what is stored decides
        if found is None:
            raise NotFound(f"task {task.task_id} not found")
        if found[0].status != TaskStatus.OPEN:
            return found[0], None
        if outcome == repo.TaskOutcome.NEXT_NOT_OPENED:
            shipment = repo.get_shipment(task.order_id, task.shipment_id)
            raise Conflict(f"parcel {task.shipment_id} is {shipment.status.value}, not being picked",
                           details={"task_id": task.task_id, "shipment_id": task.shipment_id})
        task, token = found  # still OPEN: another token (a retried step), or contention
        if outcome is None:
            time.sleep(random.uniform(0.02, 0.08) * (attempt + 1))
    raise ServiceBusy(f"completing task {task.task_id}: the task keeps changing, retry shortly")


def complete_task(task_id: str, body: TaskCompletion, staff_id: str,
                  check: Callable[[WarehouseTask, TaskCompletion], None] | None = None) -> dict[str, Any]:
    """Staff complete a pick or pack task: it becomes DONE with the result and the workflow resumes (a pack
    task's completion commits the parcel's stock in the same write: see :func:`_pack`; a pick task of the
    PickAndPack state opens the pack task with the workflow's token instead: :func:`_pick_then_pack`, and a
    repeat of it resumes nothing either). Completing a DONE task again with the same result resumes the
    workflow again (a lost resume is repaired) and answers the same; a different result, or a cancelled task,
    is a 409. ``check`` validates an open task's completion against what another context knows (a return
    inspection's refund decisions against the return: shop.returns), raising InvalidInput before anything is
    written."""
    from shop import events
    from shop.fulfillment import event_details

    found = repo.get_task(task_id) if task_id.startswith("tsk_") else None
    if found is None:
        raise NotFound(f"task {task_id} not found")
    task, token_read = found
    result = _check_completion(task, body)
    if check is not None and task.status == TaskStatus.OPEN:
        check(task, body)
    if body.note:
        result["note"] = body.note
    changed = stale_token = False
    opened: WarehouseTask | None = None
    token: str | None
    if task.status == TaskStatus.OPEN and task.kind == TaskKind.PICK and task.then is not None:
        # PickAndPack: the pick's completion opens the pack task with the token (nothing to resume)
        task, opened = _pick_then_pack(task, token_read, result, staff_id)
        token, changed = None, opened is not None
    elif task.status == TaskStatus.OPEN and task.kind == TaskKind.PACK:
        now = orders_repo.now_iso()
        changed = _pack(task, result, staff_id, now)
        if changed:
            # this transaction made the task DONE: what is stored is known, no read back. The token is the one
            # read above unless a retried Pack step gave the task a new one meanwhile (the send below then
            # finds it gone, and the stored one is read once)
            task = task.model_copy(update={"status": TaskStatus.DONE, "result": result, "completed_by": staff_id,
                                           "completed_at": now})
            token, stale_token = token_read, True
        else:
            found = repo.get_task(task_id)
            if found is None:
                raise NotFound(f"task {task_id} not found")
            task, token = found
    elif task.status == TaskStatus.OPEN and task.kind == TaskKind.PICK:
        # DONE only while the order can ship, in one transaction (no read of the order first): the outcome
        # is known, the token the one read above (as for a pack)
        now = orders_repo.now_iso()
        statuses = SHIPPABLE_EXCHANGE if is_exchange_shipment(task.shipment_id) else SHIPPABLE
        outcome = repo.finish_task_if(task_id, result, staff_id, now,
                                      orders_repo.status_check_action(task.order_id, statuses))
        if outcome == repo.TaskOutcome.ORDER_NOT_SHIPPABLE:
            raise _not_shippable(task.order_id, _order(task.order_id).status)
        if outcome == repo.TaskOutcome.DONE:
            task = task.model_copy(update={"status": TaskStatus.DONE, "result": result, "completed_by": staff_id,
                                           "completed_at": now})
            token, changed, stale_token = token_read, True, True
        else:  # no longer OPEN (a concurrent completion, a cancellation): what is stored answers
            task, token, changed = repo.finish_task(task_id, TaskStatus.DONE, result=result, by=staff_id)
    else:
        task, token, changed = repo.finish_task(task_id, TaskStatus.DONE, result=result, by=staff_id)
    if task.status == TaskStatus.CANCELLED:
        raise OrderCancelled(f"task {task_id} was cancelled (the order was cancelled): put the items back",
                             details={"task_id": task_id, "status": task.status.value})
    if {k: v for k, v in (task.result or {}).items() if k != "note"} != {
            k: v for k, v in result.items() if k != "note"}:
        raise Conflict(f"task {task_id} was already completed with a different result",
                       details={"task_id": task_id, "result": task.result})
    # a chained task's token is the next task's (it resumes the workflow): a repeated completion sends nothing
    resumed = workflow.send_success(token, task_output(task)) if token and task.then is None else False
    if not resumed and stale_token:
        stored = repo.get_task(task_id)
        if stored is not None and stored[1] and stored[1] != token:
            resumed = workflow.send_success(stored[1], task_output(task))
    if changed or resumed:
        events.publish(event_details.task_changed("WarehouseTaskCompleted", task))
    if opened is not None:  # the pack task the pick's completion opened (what the Pack step published)
        events.publish(event_details.task_changed("WarehouseTaskOpened", opened))
    return {**task_view(task), "workflow_resumed": resumed}


# ------------------------------------------------------------------ packing: stock commit and label
def _commit(order: Order, shipment: Shipment, package_weight_grams: int) -> bool:
    """The parcel's stock commit (repo.commit_shipment: a no-op once PACKED); a cancelled order is
    OrderNotShippable (the workflow ends as cancelled meanwhile)."""
    try:
        return repo.commit_shipment(order, shipment, package_weight_grams)
    except Conflict as exc:
        current = _order(order.order_id)
        if current.status in (S.CANCELLED, S.PAYMENT_FAILED, S.EXPIRED):
            raise OrderNotShippable(f"order {order.order_id} is {current.status.value}") from exc
        raise


def commit_stock(order_id: str, shipment_id: str, package_weight_grams: int) -> dict[str, Any]:
    """The exchanges workflow's step (CommitReplacementStock); the order workflow commits in create_label."""
    order, shipment = _order_and_shipment(order_id, shipment_id)
    committed = _commit(order, shipment, package_weight_grams)
    return {"order_id": order_id, "shipment_id": shipment_id, "committed": committed}


def _ship_from(warehouse: Warehouse) -> carrier.Party:
    from shop.fulfillment import carrier  # the carrier port: label and pickup steps only (see create_label)

    return carrier.Party(name=warehouse.name, lines=(f"warehouse {warehouse.warehouse_id}",), country=warehouse.country)


def _ship_to(order: Order) -> carrier.Party:
    from shop.fulfillment import carrier  # the label step only (see create_label)

    a = order.shipping_address
    return carrier.Party(name=a.name, lines=tuple(x for x in (a.line1, a.line2, f"{a.postal_code} {a.city}",
                                                              a.region) if x), country=a.country)


def create_label(order_id: str, shipment_id: str, package_weight_grams: int | None = None) -> dict[str, Any]:
    """Buy the parcel's label through the configured carrier (shop.fulfillment.carrier, CARRIER), store its
    document in LabelsBucket, then record it on the shipment. The document is stored before the shipment
    links it, so a link never points at nothing; a retry after a crash between the two buys the same label
    again (the port's promise for the same shipment id) and finds the document stored (one object).

    ``package_weight_grams`` (the order workflow, from its pack task): first the stock commit that was the
    CommitStock step, in the same invocation: completing the pack task normally committed the parcel, and the
    shipment read here says so (no request); one still PACKING is committed now, a cancelled order's refused
    (OrderNotShippable).

    The carrier module (its label document, the shipping rates) is imported by the label and pickup steps only,
    not by the warehouse's and the webhooks' routes, which import this module too (issue 17)."""
    from shop import events
    from shop.fulfillment import event_details
    from shop.inventory.repository import known_warehouse

    order, shipment = _order_and_shipment(order_id, shipment_id)
    if package_weight_grams is not None:
        if _commit(order, shipment, package_weight_grams):
            shipment = shipment.model_copy(update={"status": SH.PACKED, "package_weight_grams": package_weight_grams})
    if shipment.tracking_number is None:
        weight = shipment.package_weight_grams or shipment.items_weight_grams
        origin = known_warehouse(shipment.warehouse_id)
        if origin is None:
            raise Conflict(f"warehouse {shipment.warehouse_id} of {shipment_id} is unknown: no label without "
                           "the parcel's origin", details={"warehouse_id": shipment.warehouse_id})
        from shop.fulfillment import carrier

        port = carrier.carrier_for(get_settings())
        bought = port.buy_label(carrier.LabelRequest(
            shipment_id=shipment_id, order_id=order_id, ship_from=_ship_from(origin), ship_to=_ship_to(order),
            weight_grams=weight, currency=order.totals.total.currency, origin_zone=origin.zone))
        label = bought.label
        key = repo.label_key(order_id, shipment_id, bought.extension)
        repo.store_label_document(key, bought.document, bought.content_type)
        fields = {"carrier": label.carrier, "tracking_number": label.tracking_number,
                  "tracking_url": port.tracking(label.tracking_number).url, "zone": label.zone,
                  "shipping_cost": label.cost.model_dump(), "label_key": key}
        # the carrier's pickup, booked now and recorded in the label's write: opening the pickup task (the next
        # state) then needs no read of the shipment (a parcel not yet PACKED is booked when that task opens)
        booking = book_pickup(shipment.model_copy(update={"tracking_number": label.tracking_number}), save=False)
        if booking is not None:
            fields["pickup"] = booking
        if repo.save_label(order_id, shipment, fields,
                           note=f"parcel {shipment_id}: {label.carrier} tracking {label.tracking_number}"):
            # recorded by this write: the shipment is what was read plus these fields (no read back)
            shipment = Shipment.model_validate({**shipment.model_dump(mode="json"), **fields})
        else:  # an earlier attempt recorded its label first: that one stays
            shipment = repo.get_shipment(order_id, shipment_id)
    events.publish(event_details.shipment_packed(order, shipment))
    return {"order_id": order_id, "shipment_id": shipment_id, "carrier": shipment.carrier,
            "tracking_number": shipment.tracking_number,
            "shipping_cost": shipment.shipping_cost.model_dump() if shipment.shipping_cost else None}


def book_pickup(shipment: Shipment, *, save: bool = True) -> dict[str, Any] | None:
    """Ask the carrier to collect a labelled parcel (once per shipment: a retry keeps the first booking). Done
    by the label step (recorded in the label's write), or when the workflow opens the pickup task of a parcel
    labelled without one; the carrier's pickup scan then completes that task. Returns the booking (None when
    there was nothing to book); ``save`` False leaves recording it to the caller (the label's write, or the
    task's transaction)."""
    from shop.inventory.repository import known_warehouse

    if shipment.pickup is not None or shipment.tracking_number is None or shipment.status != SH.PACKED:
        return None
    origin = known_warehouse(shipment.warehouse_id)
    if origin is None:
        return None  # create_label refused such a parcel already
    from shop.fulfillment import carrier  # the carrier port: label and pickup steps only (see create_label)

    booked = carrier.carrier_for(get_settings()).book_pickup(carrier.PickupRequest(
        shipment_id=shipment.shipment_id, warehouse_id=shipment.warehouse_id, ship_from=_ship_from(origin),
        tracking_number=shipment.tracking_number, ready_at=shipment.packed_at or orders_repo.now_iso()))
    booking = PickupBooking(confirmation=booked.confirmation, window_start=booked.window_start,
                            window_end=booked.window_end).model_dump(mode="json")
    if save:
        repo.save_pickup(shipment.order_id, shipment.shipment_id, booking)
    return booking


LABEL_LINK_SECONDS = 300


def label_link(shipment_id: str) -> dict[str, Any]:
    """Warehouse staff's link to a parcel's label document: a presigned URL valid LABEL_LINK_SECONDS (short:
    whoever holds it can open it without signing in)."""
    shipment = repo.find_shipment(shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} not found")
    if shipment.label_key is None:
        raise NotFound(f"shipment {shipment_id} has no label yet ({shipment.status.value})",
                       details={"shipment_id": shipment_id, "status": shipment.status.value})
    return {"shipment_id": shipment_id, "order_id": shipment.order_id, "warehouse_id": shipment.warehouse_id,
            "carrier": shipment.carrier, "tracking_number": shipment.tracking_number,
            "content_type": "application/pdf" if shipment.label_key.endswith(".pdf") else "application/octet-stream",
            "url": repo.label_link(shipment.label_key, LABEL_LINK_SECONDS), "expires_in_seconds": LABEL_LINK_SECONDS}


DELIVERED_FROM = frozenset({S.DISPATCHING, S.SHIPPED})  # the order's statuses its last delivery moves on


def _handed_over_note(target: OrderStatus, parcels: int) -> str:
    return f"all {parcels} parcel(s) " + ("delivered" if target == S.DELIVERED else "handed to the carrier")


def _all_handed_over_then(order: Order, target: OrderStatus, statuses: frozenset[ShipmentStatus],
                          shipments: list[Shipment]) -> bool:
    """After a shipment changed: when every shipment of the order is in ``statuses``, move the order to
    ``target`` (conditional; a concurrent update doing the same is fine). ``shipments``: the order's shipments
    read (consistently) after that change, so that of two parcels changing at once the later one sees both."""
    if not shipments or any(s.status not in statuses for s in shipments):
        return False
    sources = DELIVERED_FROM if target == S.DELIVERED else {S.DISPATCHING}
    try:
        orders_repo.transition(order.order_id, sources, target, note=_handed_over_note(target, len(shipments)))
    except orders_repo.StatusConflict:
        return False
    return True


def mark_shipped(order_id: str, shipment_id: str, picked_up_at: str | None = None) -> dict[str, Any]:
    """The carrier picked the parcel up: shipment SHIPPED; the order SHIPPED once every parcel is. The exchanges
    workflow's step (MarkReplacementShipped); an order's own parcels are handed over by the carrier's scan that
    completes their pickup task (:func:`_hand_over`), with no step after AwaitPickup."""
    from shop import events
    from shop.fulfillment import event_details

    at = picked_up_at or orders_repo.now_iso()
    repo.set_shipment_status(order_id, shipment_id, SHIPMENT_FROM[SH.SHIPPED], SH.SHIPPED, {"shipped_at": at})
    # after the write, one consistent query: the order and every parcel's status (the decision below)
    order, shipments = repo.order_items(order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    shipment = _in(shipments, order_id, shipment_id)
    _all_handed_over_then(order, S.SHIPPED, HANDED_OVER, shipments)
    events.publish(event_details.shipment_shipped(order, shipment))
    return {"order_id": order_id, "shipment_id": shipment_id, "status": shipment.status.value}


# ------------------------------------------------------------------ carrier webhook
def _resume_pickup(shipment: Shipment, occurred_at: str) -> bool:
    """The carrier has the parcel: complete the pickup task and resume the workflow waiting on it. A scan that
    comes before the workflow opened the task (the label is printed, the parcel handed over, the scan sent,
    and the workflow not yet there) stores the task as done: opening it then resumes the workflow at once."""
    from shop import events
    from shop.fulfillment import event_details

    task_id = task_id_for(shipment.shipment_id, TaskKind.PICKUP.value)
    task: WarehouseTask | None
    try:  # the usual case: the workflow opened the task and waits on it (one conditional write, no read first)
        task, token, changed = repo.finish_task(task_id, TaskStatus.DONE, result={"picked_up_at": occurred_at},
                                                by="carrier")
    except NotFound:
        task = None
    if task is not None and task.status == TaskStatus.OPEN:
        # the workflow created it between that write and its read: finish it now (the write decides)
        task, token, changed = repo.finish_task(task_id, TaskStatus.DONE, result={"picked_up_at": occurred_at},
                                                by="carrier")
    if task is None:
        now = orders_repo.now_iso()
        early = WarehouseTask(task_id=task_id, kind=TaskKind.PICKUP, status=TaskStatus.DONE,
                              order_id=shipment.order_id, shipment_id=shipment.shipment_id,
                              warehouse_id=shipment.warehouse_id, checklist=shipment.items, created_at=now,
                              instructions=INSTRUCTIONS[TaskKind.PICKUP], completed_at=now, completed_by="carrier",
                              result={"picked_up_at": occurred_at})
        if repo.put_done_task(early):
            events.publish(event_details.task_changed("WarehouseTaskCompleted", early))
            return False  # resumed when the workflow opens the task
        task, token, changed = repo.finish_task(task_id, TaskStatus.DONE, result={"picked_up_at": occurred_at},
                                                by="carrier")
    if changed:
        events.publish(event_details.task_changed("WarehouseTaskCompleted", task))
    return workflow.send_success(token, task_output(task)) if token else False


def _hand_over(order: Order, parcels: list[Shipment], shipment: Shipment, tracking: TrackingEvent) -> Shipment:
    """The carrier's pickup scan of an order's own parcel does what the workflow's MarkShipped step did (one
    state, one invocation and a read fewer per parcel): the shipment SHIPPED with the scan in its tracking, in
    one conditional write (a parcel no longer PACKED, scanned in transit first, only gets the scan added); the
    order SHIPPED once every parcel is handed over; ShipmentShipped published (again on a repeat: consumers
    dedupe). ``parcels``: the order's shipments read before the write."""
    from shop import events
    from shop.fulfillment import event_details

    order_id, shipment_id = order.order_id, shipment.shipment_id
    changed = repo.set_shipment_status(order_id, shipment_id, SHIPMENT_FROM[SH.SHIPPED], SH.SHIPPED,
                                       {"shipped_at": tracking.occurred_at}, event=tracking)
    if changed is None:
        repo.add_tracking_event(order_id, shipment_id, tracking)
    if changed is not None and [p.shipment_id for p in parcels] == [shipment_id]:
        shipments = [changed]  # the order's only parcel, shipped by this write: nothing else to read
    else:  # after the write, one consistent query: every parcel's status (whether the order is shipped)
        shipments = shipments_of(order_id)
    current = _in(shipments, order_id, shipment_id)
    if current.status in HANDED_OVER:
        _all_handed_over_then(order, S.SHIPPED, HANDED_OVER, shipments)
        events.publish(event_details.shipment_shipped(order, current))
    return current


def delivery_proof(event: CarrierEvent, signature_required: bool) -> DeliveryProof:
    """The proof of delivery of a ``delivered`` event, judged against the order: when the order asked for a
    signature, the parcel must have been handed to the recipient and signed for; anything else (nobody signed,
    left at the door, with a neighbour, at a parcel shop, or the carrier not saying where) is a delivery
    exception for staff. A delivery the carrier reports without a place but with a signature counts as handed
    over (a signature is given in person)."""
    signed = event.signed_by is not None
    handed_over = event.left_at == LeftAt.HANDED_TO_RECIPIENT or (event.left_at is None and signed)
    return DeliveryProof(signed_by=event.signed_by, left_at=event.left_at, proof_url=event.proof_url,
                         signature_required=signature_required,
                         signature_missing=signature_required and not (signed and handed_over))


def _delivery_findings(shipment: Shipment) -> dict[str, Any]:
    """What orderflow needs to decide on a delivery exception (shop.orderflow.deliveries): the parcel's stored
    proof, whatever event delivered it."""
    proof = shipment.delivery_proof
    if shipment.status != SH.DELIVERED or proof is None or not proof.signature_missing:
        return {}
    return {"signature_missing": True}


def carrier_event(event: CarrierEvent) -> dict[str, Any]:
    from shop import events
    from shop.fulfillment import event_details
    from shop.orders import event_details as order_events

    found = repo.tracking_lookup(event.tracking_number)
    if found is None:
        raise NotFound(f"tracking number {event.tracking_number} is not one of our parcels")
    order_id, shipment_id = found
    order, parcels = repo.order_items(order_id)  # the order and its shipments, one consistent query
    if order is None:
        raise NotFound(f"order {order_id} not found")
    shipment = _in(parcels, order_id, shipment_id)
    tracking = TrackingEvent(event_id=event.event_id, status=event.status, occurred_at=event.occurred_at,
                             description=event.description, location=event.location)
    if any(t.event_id == event.event_id for t in shipment.tracking):
        # a redelivery: nothing changes; the findings let orderflow repair a mark a crash may have lost
        return {"order_id": order_id, "shipment_id": shipment_id, "status": shipment.status.value,
                "duplicate": True, **_delivery_findings(shipment)}
    out: dict[str, Any] = {"order_id": order_id, "shipment_id": shipment_id}
    if event.status == "picked_up" and shipment.exchange_id is None:
        # resume first, then record the scan (the mark of a processed event: a retry after a crash between the
        # two resumes again, a no-op, and records it)
        out["workflow_resumed"] = _resume_pickup(shipment, event.occurred_at)
        out["status"] = _hand_over(order, parcels, shipment, tracking).status.value
        return out
    if event.status == "picked_up":  # an exchange's replacement: its workflow's MarkReplacementShipped marks it
        repo.add_tracking_event(order_id, shipment_id, tracking)
        out["workflow_resumed"] = _resume_pickup(shipment, event.occurred_at)
    elif event.status in ("in_transit", "exception"):
        to = SH.IN_TRANSIT if event.status == "in_transit" else SH.EXCEPTION
        changed = repo.set_shipment_status(order_id, shipment_id, SHIPMENT_FROM[to], to, event=tracking)
        if changed is None:
            repo.add_tracking_event(order_id, shipment_id, tracking)
        kind = "ShipmentInTransit" if to == SH.IN_TRANSIT else "ShipmentException"
        events.publish(event_details.shipment_tracking(kind, order, shipment, event.event_id, event.description,
                                                       event.location))
    else:  # delivered: the first delivered event's proof stays (a later one only adds to the tracking)
        proof = delivery_proof(event, bool(order.signature_required))
        fields = {"delivered_at": event.occurred_at,
                  "delivery_proof": proof.model_dump(mode="json", exclude_none=True)}
        changed, order_delivered = None, False
        if ([p.shipment_id for p in parcels] == [shipment_id] and shipment.exchange_id is None
                and shipment.status in SHIPMENT_FROM[SH.DELIVERED] and order.status in DELIVERED_FROM):
            # the order's only parcel: its delivery and the order's DELIVERED in one transaction (a request
            # fewer); when it does not commit (a condition failed, contention) nothing changed and the writes
            # below decide one by one as before
            changed = repo.deliver_with_order(order_id, shipment, SHIPMENT_FROM[SH.DELIVERED], fields, tracking,
                                              DELIVERED_FROM, _handed_over_note(S.DELIVERED, 1))
            order_delivered = changed is not None
        if changed is None:
            changed = repo.set_shipment_status(order_id, shipment_id, SHIPMENT_FROM[SH.DELIVERED], SH.DELIVERED,
                                               fields, event=tracking)
        if changed is None:
            repo.add_tracking_event(order_id, shipment_id, tracking)
        if shipment.status == SH.PACKED:  # delivered without a pickup scan: the pickup happened
            out["workflow_resumed"] = _resume_pickup(shipment, event.occurred_at)
        if changed is not None and [p.shipment_id for p in parcels] == [shipment_id]:
            # the order's only parcel, delivered by this write: nothing else to read (a parcel added later is an
            # exchange's replacement, which needs delivered units first and ships on its own)
            shipments = [changed]
        else:  # after the write, one consistent query: every parcel's status (whether the order is delivered)
            shipments = shipments_of(order_id)
        delivered = _in(shipments, order_id, shipment_id)
        if delivered.status == SH.DELIVERED:
            if shipment.status == SH.PACKED and shipment.exchange_id is None:
                # handed over and delivered in one: shipped too (the pickup's step used to publish it)
                events.publish(event_details.shipment_shipped(order, delivered))
            events.publish(event_details.shipment_delivered(order, delivered))
            if order_delivered or _all_handed_over_then(order, S.DELIVERED, frozenset({SH.DELIVERED}), shipments):
                events.publish(order_events.order_delivered(order, event.occurred_at, [
                    s.delivery_fields() for s in shipments]))
            elif shipment.status == SH.PACKED and shipment.exchange_id is None:
                _all_handed_over_then(order, S.SHIPPED, HANDED_OVER, shipments)  # the last parcel handed over
            out.update(_delivery_findings(delivered))
        out["status"] = delivered.status.value
        return out
    out["status"] = repo.get_shipment(order_id, shipment_id).status.value
    return out


# ------------------------------------------------------------------ cancellation
def cancel_open_work(order_id: str) -> None:
    """Cancel the shipments not yet packed and their tasks, failing the workflow tokens waiting on them (part
    of cancelling an order; idempotent: a token already failed is ignored)."""
    for shipment in shipments_of(order_id):
        repo.set_shipment_status(order_id, shipment.shipment_id, SHIPMENT_FROM[SH.CANCELLED], SH.CANCELLED)
        for kind in TaskKind:
            task_id = task_id_for(shipment.shipment_id, kind.value)
            if repo.get_task(task_id) is not None:
                task, token, _ = repo.finish_task(task_id, TaskStatus.CANCELLED, by="cancellation")
                if token and task.status == TaskStatus.CANCELLED:
                    # the workflow waiting on it ends (Catch OrderNotShippable -> CancelledMeanwhile)
                    workflow.send_failure(token, "OrderNotShippable", f"order {order_id} was cancelled")
