"""Staff order operations: the order list with filters, any order in full, and cancel / refund / note on behalf of
the shop (functions/orderflow_admin; the needs-attention marking and retry: shop.orderflow.attention).

The list is served by indexes, never a scan (template.yaml OrdersTable):
- status: OrdersByStatus (``status_pk`` = STATUS#<status>, ``created_at``), written with the status in the same
  write (orders.repository.to_record / status_update_action); one Query, the date range in its key condition;
- NEEDS_ATTENTION: the same index, partition STATUS#NEEDS_ATTENTION holds one marker item per order whose workflow
  failed (written with the order's ``attention`` in one transaction); the orders are read in one batch;
- customer e-mail: the address is looked up in Cognito (the auth context) and the customer's orders read from the
  ByCustomer index (customer_id, created_at); status and SKU are filters on that small partition. The customer's
  orders are found under their current address, whatever address an order was placed with;
- date range alone (or no filter): the status index across the statuses, merged newest first (one Query per status,
  each bounded by the page size; one index instead of a second time-bucketed one, because CloudFormation adds at
  most one index to a table per stack update);
- SKU: a filter (``contains(skus, :sku)``) on whichever bounded query the other filters chose. An order's SKUs are
  fixed at checkout and few, so the order carries them as a set; a per-line projection item would add a write per
  line to the checkout transaction (the hot path) for a rare staff query.
Pages use the shared cursor (shop.dynamo: an index key, checked against the index's key schema); a filtered page
may hold fewer than ``limit`` orders while more follow.

Refunds are counted on the order before the provider is asked (orders.repository.reserve_refund: ``refunded +
amount <= captured`` is the write's condition, so two concurrent refunds can never add up to more than was
captured), paid through the payments adapter under a key derived from the request's Idempotency-Key (a double
click refunds once), then recorded with a REFUNDED entry in the shopper's timeline and RefundIssued published.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date
from typing import TYPE_CHECKING, Any

from shop.dynamo import decode_cursor, encode_cursor, key_schema
from shop.errors import Conflict, InvalidInput, NotFound
from shop.fulfillment import repository as fulfillment_repo
from shop.money import Money
from shop.orderflow import views
from shop.orderflow.admin_contracts import RefundIn
from shop.orders import repository as orders_repo
from shop.orders import service as orders
from shop.orders.models import Order, OrderStatus
from shop.orders.ports import ports as order_ports
from shop.payments.errors import RefundRefused
from shop.timeutil import parse_aware

if TYPE_CHECKING:
    from shop.payments.ports import PaymentGateway

BUSINESS_STATUSES = tuple(s.value for s in OrderStatus)
MAX_ROUNDS = 5  # queries a filtered single-partition page may take to fill itself
STORED = "%Y-%m-%dT%H:%M:%S.%fZ"  # how created_at is written (orders.repository.now_iso)
Row = orders_repo.OpsRow
Page = tuple[list[Row], str | None]


class NotCaptured(Conflict):
    code = "not_captured"


# ------------------------------------------------------------------ list
def bound(text: str | None, field: str, *, end: bool) -> str | None:
    """A date (the whole day) or a date-time with a zone, as a created_at bound (UTC, as stored)."""
    if not text:
        return None
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise InvalidInput(field, "must be a date (2026-12-01) or a date-time with a time zone") from None
        return f"{day.isoformat()}T23:59:59.999999Z" if end else f"{day.isoformat()}T00:00:00.000000Z"
    return parse_aware(text, field).astimezone(UTC).strftime(STORED)


def _single(fetch: Callable[[int, dict[str, Any] | None], tuple[list[Row], dict[str, Any] | None]], limit: int,
            start: dict[str, Any] | None) -> Page:
    """One page of one index partition: a filtered query reads ``Limit`` items and keeps fewer, so it is asked
    again (at most MAX_ROUNDS) for what the page still lacks. The cursor is DynamoDB's own LastEvaluatedKey."""
    page: list[Row] = []
    last = start
    for _ in range(MAX_ROUNDS):
        found, last = fetch(limit - len(page), last)
        page.extend(found)
        if last is None or len(page) >= limit:
            break
    return page, encode_cursor(last)


def _index_key(order: Order) -> dict[str, Any]:
    return orders_repo.status_index_key(order)


def _merged(limit: int, start: dict[str, Any] | None, lower: str | None, upper: str | None,
            sku: str | None) -> Page:
    """Every status partition queried (newest first, each at most limit + 1 items, created before the cursor's
    instant) and merged. With a filter a partition may stop early (its LastEvaluatedKey): nothing older than the
    newest such stop is certain yet, so the page ends there and the cursor resumes below it."""
    older_than = start["created_at"]["S"] if start else None
    top = min(upper, older_than) if upper and older_than else (upper or older_than)
    candidates: list[Row] = []
    frontier: dict[str, Any] | None = None  # the newest LastEvaluatedKey
    for status in BUSINESS_STATUSES:
        found, last = orders_repo.status_index_page(status, limit=limit + 1, lower=lower, upper=top, sku=sku)
        candidates.extend(r for r in found if older_than is None or r[0].created_at < older_than)
        if last is not None and (frontier is None or last["created_at"]["S"] > frontier["created_at"]["S"]):
            frontier = last
    certain = sorted((r for r in candidates if frontier is None or r[0].created_at >= frontier["created_at"]["S"]),
                     key=lambda r: (r[0].created_at, r[0].order_id), reverse=True)
    page = certain[:limit]
    if len(certain) > limit:
        return page, encode_cursor(_index_key(page[-1][0]))
    return page, encode_cursor(frontier)  # None: every partition is exhausted


def _start(cursor: str | None, index: str, partition: tuple[str, str] | None) -> dict[str, Any] | None:
    start = decode_cursor(cursor, "cursor", key_schema(index))
    if start is not None and partition is not None and start[partition[0]] != {"S": partition[1]}:
        raise InvalidInput("cursor", "not a cursor of this list (filters changed?)")
    return start


def list_orders(*, status: str | None, email: str | None, created_from: str | None, created_to: str | None,
                sku: str | None, limit: int, cursor: str | None,
                customers_of: Callable[[str], list[str]]) -> dict[str, Any]:
    lower, upper = bound(created_from, "from", end=False), bound(created_to, "to", end=True)
    if lower and upper and lower > upper:
        raise InvalidInput("from", "must not be after to")
    if email:
        found = customers_of(email)
        if not found:
            return {"items": [], "next_cursor": None}
        customer_id = found[0]
        start = _start(cursor, "ByCustomer", ("customer_id", customer_id))
        page, next_cursor = _single(lambda n, s: orders_repo.customer_orders_page(
            customer_id, limit=n, start=s, lower=lower, upper=upper, status=status, sku=sku), limit, start)
    elif status:
        start = _start(cursor, orders_repo.STATUS_INDEX, ("status_pk", orders_repo.status_pk(status)))
        page, next_cursor = _single(lambda n, s: orders_repo.status_index_page(
            status, limit=n, start=s, lower=lower, upper=upper, sku=sku), limit, start)
    else:
        page, next_cursor = _merged(limit, _start(cursor, orders_repo.STATUS_INDEX, None), lower, upper, sku)
    return {"items": [summary(o, attention) for o, attention in page], "next_cursor": next_cursor}


def summary(order: Order, attention: dict[str, Any] | None) -> dict[str, Any]:
    return {"order_id": order.order_id, "status": order.status.value, "customer_id": order.customer_id,
            "email": order.email, "created_at": order.created_at, "updated_at": order.updated_at,
            "totals": order.totals.model_dump(mode="json"), "item_count": sum(ln.quantity for ln in order.lines),
            "skus": sorted({ln.sku for ln in order.lines}), "payment_status": orders.payment_status(order),
            "needs_attention": attention}


# ------------------------------------------------------------------ one order
def captured(order: Order) -> Money:
    """What the shopper was charged: the order's total once the payment succeeded (captured at once), else 0."""
    total = order.totals.total
    return total if order.payment_status == "succeeded" and order.payment_intent_id else Money.zero(total.currency)


ReturnsOf = Callable[[str], list[dict[str, Any]]]  # an order's returns as the returns context shows them


def return_view(ret: dict[str, Any]) -> dict[str, Any]:
    """A return (shop.returns.service.view) as the staff order view lists it."""
    return {"return_id": ret["return_id"], "status": ret["status"],
            "lines": [{k: ln[k] for k in ("sku", "name", "quantity", "reason", "refund")} for ln in ret["lines"]],
            "refund_total": ret["refund_total"], "refund_id": ret.get("refund_id"), "refunded": ret.get("refunded"),
            "created_at": ret["created_at"], "updated_at": ret["updated_at"]}


def _refunds(order: Order, ops: orders_repo.OrderOps, rets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if order.refund_id:
        at = next((t.at for t in reversed(order.timeline) if t.status == "REFUNDED"), None)
        out.append({"refund_id": order.refund_id, "amount": order.refunded.model_dump() if order.refunded else None,
                    "source": "cancellation", "reason": order.cancel_reason, "at": at})
    for ret in rets:
        if ret.get("refund_id"):
            at = next((t["at"] for t in reversed(ret.get("timeline") or []) if t.get("status") == "REFUNDED"),
                      ret["updated_at"])
            out.append({"refund_id": ret["refund_id"], "amount": ret.get("refunded"), "source": "return",
                        "reason": "return", "at": at, "return_id": ret["return_id"]})
    out.extend({"refund_id": r["refund_id"], "amount": r["amount"], "source": "staff", "reason": r.get("reason"),
                "at": r.get("at"), "by": r.get("by")} for r in ops.staff_refunds)
    return sorted(out, key=lambda r: r["at"] or "")


def _timeline(order: Order, ops: orders_repo.OrderOps) -> list[dict[str, Any]]:
    own = [{"at": t.at, "kind": "status", "status": t.status, **({"note": t.note} if t.note else {})}
           for t in order.timeline]
    staff = [{"at": e["at"], "kind": e["kind"], **({"note": e["note"]} if e.get("note") else {}),
              **({"by": e["by"]} if e.get("by") else {})} for e in ops.ops_log if e.get("kind") != "note"]
    return sorted(own + staff, key=lambda e: e["at"])


def detail(order_id: str, returns_of: ReturnsOf) -> dict[str, Any]:
    collection = orders_repo.read_order_collection(order_id) if order_id.startswith("ord_") else None
    order = collection.order if collection else None
    ops = orders_repo.order_ops(order_id) if order else None
    if order is None or collection is None or ops is None:
        raise NotFound(f"order {order_id} not found")
    shipments = fulfillment_repo.shipments_in(collection.items)
    rets = returns_of(order_id)
    paid = captured(order)
    refunded = Money(amount=ops.refunded_amount, currency=paid.currency)
    view = orders.order_view(order)
    return {
        "order_id": order.order_id, "status": order.status.value, "customer_id": order.customer_id,
        "email": order.email, "created_at": order.created_at, "updated_at": order.updated_at,
        "coupon_code": order.coupon_code, "cancel_reason": order.cancel_reason,
        "lines": view["lines"], "totals": view["totals"], "shipping_address": view["shipping_address"],
        "payment": {"status": view["payment"]["status"], "payment_intent_id": order.payment_intent_id,
                    "payment_method_id": order.payment_method_id, "decline_code": order.decline_code,
                    "captured": paid.model_dump(), "refunded": refunded.model_dump(),
                    "refundable": Money(amount=max(paid.amount - ops.refunded_amount, 0),
                                        currency=paid.currency).model_dump()},
        "shipments": [views.shipment_view(s) for s in shipments],
        "returns": [return_view(r) for r in rets],
        "refunds": _refunds(order, ops, rets),
        "timeline": _timeline(order, ops),
        "notes": ops.staff_notes,
        "needs_attention": ops.attention,
        "workflow": {"retries": ops.workflow_retries, "last_retry": ops.last_retry},
        **({"signature_required": order.signature_required} if order.signature_required is not None else {}),
    }


# ------------------------------------------------------------------ actions
def cancel(order_id: str, returns_of: ReturnsOf, cancel_order: Callable[..., Any]) -> dict[str, Any]:
    """The shopper's cancellation (same rules: refused once a parcel is packed; same compensation: stock released,
    payment refunded in full, OrderCancelled), on the shop's behalf. ``cancel_order`` is
    shop.orderflow.cancellation.cancel, which the route imports when it runs (its payment service and workflow
    ports are no cost of the staff's reads at a cold start; issue 17)."""
    cancel_order(order_id, reason="staff")
    return detail(order_id, returns_of)


def refund(order_id: str, body: RefundIn, request_key: str, staff_id: str, gateway: PaymentGateway) -> dict[str, Any]:
    """A staff refund through ``gateway`` (shop.payments.ports' gateway, which the route imports when it runs: the
    payment adapter is no cost of the staff's reads at a cold start; issue 17)."""
    order = order_ports.store.get_order(order_id) if order_id.startswith("ord_") else None
    if order is None:
        raise NotFound(f"order {order_id} not found")
    paid = captured(order)
    if paid.amount == 0 or order.payment_intent_id is None:
        raise NotCaptured(f"order {order_id} has no captured payment to refund",
                          details={"order_id": order_id, "status": order.status.value})
    if body.amount.currency != paid.currency:
        raise InvalidInput("amount.currency", f"must be the order's currency {paid.currency}")
    if body.amount.amount <= 0:
        raise InvalidInput("amount.amount", "must be positive")
    key = f"{order_id}:staff:{request_key}"
    # the limit is the write's condition: refunded + amount <= captured (RefundLimitExceeded: nothing paid)
    orders_repo.reserve_refund(order_id, key, body.amount.amount, paid.amount)
    try:
        done = gateway.refund(order.payment_intent_id, body.amount, key)
    except RefundRefused:
        orders_repo.release_refund(order_id, key, body.amount.amount)  # nothing was paid: uncount it
        raise
    at = orders_repo.now_iso()
    orders_repo.record_staff_refund(order_id, key, {
        "refund_id": done.refund_id, "amount": done.amount.model_dump(), "reason": body.reason, "at": at,
        "by": staff_id, "key": key}, f"refunded {done.amount} ({body.reason})")
    from shop.orders import event_details  # the order events' contract: loaded by a refund only (issue 17)

    order_ports.events.publish(event_details.refund_issued(order, done.refund_id, done.amount, "staff", key))
    ops = orders_repo.order_ops(order_id)
    refunded = ops.refunded_amount if ops else body.amount.amount
    return {"order_id": order_id, "refund_id": done.refund_id, "amount": done.amount.model_dump(),
            "reason": body.reason, "status": done.status,
            "refunded": Money(amount=refunded, currency=paid.currency).model_dump(),
            "refundable": Money(amount=max(paid.amount - refunded, 0), currency=paid.currency).model_dump()}


def add_note(order_id: str, text: str, author_id: str, author_email: str | None) -> dict[str, Any]:
    if not order_id.startswith("ord_"):
        raise NotFound(f"order {order_id} not found")
    note = {"note_id": f"note_{uuid.uuid4().hex[:20]}", "at": orders_repo.now_iso(), "author_id": author_id,
            "author_email": author_email, "text": text}
    orders_repo.add_staff_note(order_id, note)
    return note
