"""Orders whose workflow failed: marked as needing attention, and retried by staff.

Marking: EventBridge delivers Step Functions' "Execution Status Change" of the order workflow (FAILED, TIMED_OUT,
ABORTED: template.yaml OrderAdminFunction). A FAILED execution that ended in PaymentFailed or FulfillmentFailed is
a business outcome the workflow settled itself (the stock was released, the money refunded); every other end
(NeedsAttention, PaymentNeedsAttention, ReleaseFailed, an unexpected error, a timeout, an abort) leaves something
for a person. The order keeps its business status and gets an ``attention`` (error, cause, execution) and a marker
in the status index's NEEDS_ATTENTION partition, in one transaction (once per execution: a redelivered event
changes nothing); OrderNeedsAttention is published (again on a redelivery: consumers dedupe on the execution).

Retry (POST /admin/orders/{orderId}/retry), by the order's status:
- PENDING_PAYMENT, PAYMENT_PROCESSING, PAID, FULFILLING (no parcel packed): a new execution of the order workflow
  from its start, named ``<order>-retry-<n>`` (a double click starts it once). Every step up to packing is safe
  to repeat: the charge reads the recorded intent's outcome instead of charging again, the confirmation and the
  split are conditional on the status, a warehouse task already done resumes at once.
- CANCELLED: the cancellation's compensation is run again (shop.orderflow.cancellation: it redoes exactly what is
  missing: open work cancelled, the refund paid once, OrderCancelled published).
- DISPATCHING, SHIPPED (a parcel is packed) and the closed PAYMENT_FAILED, EXPIRED, DELIVERED: 409 not_retryable
  with the reason: a new execution would try to pack packed parcels; a person settles these (refund, return).
"""

from __future__ import annotations

import json
from typing import Any

from shop import events as shop_events
from shop import workflow
from shop.config import get_settings
from shop.errors import Conflict, NotFound
from shop.orders import event_details
from shop.orders import repository as orders_repo
from shop.orders.models import Order, OrderStatus
from shop.orders.ports import ports as order_ports
from shop.orders.workflow_contracts import order_workflow_input

PUBLISHED = shop_events.require("OrderNeedsAttention")
S = OrderStatus
SETTLED_BY_THE_WORKFLOW = frozenset({"PaymentFailed", "FulfillmentFailed"})
WORKFLOW_ENDS = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
RESTARTABLE = frozenset({S.PENDING_PAYMENT, S.PAYMENT_PROCESSING, S.PAID, S.FULFILLING})
WHY_NOT = {
    S.DISPATCHING: "a parcel is packed: a new execution would try to pack it again; settle the order by hand "
                   "(the carrier, a refund or a return)",
    S.SHIPPED: "every parcel is with the carrier: the workflow has nothing left to redo; settle the order by hand",
    S.DELIVERED: "the order was delivered: nothing left for the workflow to do",
    S.PAYMENT_FAILED: "the order is closed (payment failed, stock released): nothing left for the workflow to do",
    S.EXPIRED: "the order is closed (expired, stock released): nothing left for the workflow to do",
}


class NotRetryable(Conflict):
    code = "not_retryable"


def order_of_execution(name: str, raw_input: str | None) -> str | None:
    """The order an execution works on: its input's order_id (checkout and retries start it with one), else its
    name (``<order>`` or ``<order>-retry-<n>``)."""
    try:
        data = json.loads(raw_input) if raw_input else None
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("order_id"), str):
        return str(data["order_id"])
    candidate = name.split("-retry-", 1)[0]
    return candidate if candidate.startswith("ord_") else None


def needs_attention(order: Order, attention: dict[str, Any], execution_name: str) -> dict[str, Any]:
    return shop_events.entry("OrderNeedsAttention", {
        **event_details.base(order), "status": order.status.value, "error": attention["error"],
        "cause": attention["cause"], "workflow_status": attention["workflow_status"],
        "execution_arn": attention["execution_arn"]}, execution_name)


def on_execution_ended(detail: dict[str, Any]) -> dict[str, Any]:
    """Mark the order of an order-workflow execution that ended without settling it (see the module doc)."""
    status, arn = str(detail.get("status") or ""), str(detail.get("executionArn") or "")
    if status not in WORKFLOW_ENDS or not arn:
        return {"marked": False, "reason": f"not a failed execution ({status or 'no status'})"}
    error, cause, raw_input = detail.get("error"), detail.get("cause"), detail.get("input")
    name = str(detail.get("name") or arn.rsplit(":", 1)[-1])
    if (status == "FAILED" and not error) or raw_input is None:  # the event may leave them out: ask
        described = workflow.describe(arn)
        error, cause = error or described.get("error"), cause or described.get("cause")
        raw_input = raw_input if raw_input is not None else described.get("input")
    if status == "FAILED" and error in SETTLED_BY_THE_WORKFLOW:
        return {"marked": False, "reason": f"{error}: settled by the workflow"}
    order_id = order_of_execution(name, raw_input)
    order = order_ports.store.get_order(order_id) if order_id else None
    if order is None:
        return {"marked": False, "reason": f"no order for execution {name}"}
    attention = {"error": str(error or f"States.{status}"), "cause": (str(cause)[:2000] if cause else None),
                 "workflow_status": status, "execution_arn": arn, "at": orders_repo.now_iso()}
    marked = orders_repo.mark_attention(order, attention)
    order_ports.events.publish(needs_attention(order, attention, name))
    return {"marked": marked, "order_id": order.order_id, "error": attention["error"]}


def execution_arn(name: str) -> str:
    machine = get_settings().require("order_state_machine_arn")
    return machine.replace(":stateMachine:", ":execution:") + ":" + name


def retry(order_id: str, staff_id: str) -> dict[str, Any]:
    order = order_ports.store.get_order(order_id) if order_id.startswith("ord_") else None
    ops = orders_repo.order_ops(order_id) if order else None
    if order is None or ops is None:
        raise NotFound(f"order {order_id} not found")
    attention = ops.attention
    if attention is None:
        raise NotRetryable(f"order {order_id} is not marked as needing attention (its workflow did not fail, or "
                           "a retry already dealt with it)",
                           details={"order_id": order_id, "status": order.status.value,
                                    "last_retry": ops.last_retry})
    if order.status == S.CANCELLED:
        from shop.orderflow import cancellation  # a rare retry's module, not the handler's cold start (issue 17)

        cancellation.cancel(order_id, reason=order.cancel_reason or "fulfillment_failed")
        action, arn, note = "compensated", None, "the cancellation's release and refund were completed"
    elif order.status in RESTARTABLE:
        name = f"{order_id}-retry-{ops.workflow_retries + 1}"
        order_ports.workflow.start("order_state_machine_arn", name, order_workflow_input(order_id))  # once per name
        action, arn, note = "restarted", execution_arn(name), f"workflow restarted as {name}"
    else:
        raise NotRetryable(f"order {order_id} cannot be retried: {WHY_NOT[order.status]}",
                           details={"order_id": order_id, "status": order.status.value,
                                    "error": attention.get("error")})
    orders_repo.clear_attention(order_id, attention["execution_arn"], {
        "at": orders_repo.now_iso(), "by": staff_id, "action": action, "execution_arn": arn, "note": note})
    current = order_ports.store.require_order(order_id)
    return {"order_id": order_id, "status": current.status.value, "action": action, "execution_arn": arn}


class NotMarked(Conflict):
    code = "not_marked"


def resolve(order_id: str, note: str, staff_id: str) -> dict[str, Any]:
    """Clear a needs-attention mark by hand (POST /admin/orders/{orderId}/attention/resolve): for what a retry
    cannot settle (a packed parcel, a delivery without the signature) once a person has dealt with it. The order's
    status is unchanged; the note goes into the staff history. The write is conditional on the very mark that was
    read, so two staff resolving at once clear it once and the second is told it is gone (409 not_marked)."""
    order = order_ports.store.get_order(order_id) if order_id.startswith("ord_") else None
    ops = orders_repo.order_ops(order_id) if order else None
    if order is None or ops is None:
        raise NotFound(f"order {order_id} not found")
    mark = ops.attention
    gone = NotMarked(f"order {order_id} is not marked as needing attention (nothing to resolve, or someone "
                     "resolved or retried it first)", details={"order_id": order_id, "status": order.status.value})
    if mark is None:
        raise gone
    if not orders_repo.resolve_attention(order_id, mark, {"at": orders_repo.now_iso(), "by": staff_id,
                                                           "note": note}):
        raise gone
    return {"order_id": order_id, "status": order.status.value, "resolved": mark, "note": note, "by": staff_id}
