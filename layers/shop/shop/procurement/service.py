"""Procurement use cases: suppliers and contracts, purchase orders from draft to closed, automatic restock,
receiving goods, returns to the supplier, and supplier invoices (three-way match, then settlement).

Purchase order statuses: DRAFT -> SUBMITTED -> PARTIALLY_RECEIVED -> RECEIVED -> CLOSED, or CANCELLED
before anything arrived (a partially received order is CLOSED instead: the rest will not come). Submitting
counts the ordered units as incoming at the PO's warehouse; receiving moves them to on-hand; closing or
cancelling removes what will not arrive from incoming. Every change is conditional on the PO's version and
is one transaction with the stock and the ledger movements it causes, so nothing is half-written.
Receipts, returns and invoices are idempotent on their ids (the supplier's delivery note, return note and
invoice number): the same id again returns the first result, the same id with other content is a 409.
Invoices are matched against what is left to invoice; a MATCHED one is counted on the PO (per line
``invoiced``, ``invoiced_amount``) and a settlement adds to ``settled_amount``, each in the same transaction
as the invoice record and under conditions that keep invoiced <= received - returned and settled <= invoiced.

A submitted PO is e-mailed to its supplier by the consumer of PurchaseOrderSubmitted (shop.procurement.
supplier_mail, once per PO). The supplier's confirmed delivery day is recorded on the PO (:func:`confirm`).
The automatic restock submits its PO itself while the supplier's monthly ``auto_submit_limit`` allows
(:func:`restock`); over it, or without a limit, the PO stays DRAFT for a human.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from shop.errors import Conflict, InvalidInput, NotFound
from shop.money import Money, format_money
from shop.procurement import repository as repo
from shop.procurement.models import (
    HAS_GOODS,
    PO_TRANSITIONS,
    RECEIVING,
    Contract,
    InvoiceStatus,
    PoEvent,
    PoLine,
    PoStatus,
    PurchaseOrder,
    Supplier,
)

if TYPE_CHECKING:
    from shop.models import StockLevel
    from shop.procurement import matching
    from shop.procurement.requests import (
        ConfirmationIn,
        ContractIn,
        InvoiceIn,
        PurchaseOrderIn,
        ReceiptIn,
        SupplierIn,
        SupplierReturnIn,
    )

P = PoStatus
_PUBLISHES = ("PurchaseOrderCreated", "PurchaseOrderSubmitted", "GoodsReceived", "SupplierReturned",
              "InvoiceMatched", "InvoiceDisputed", "InvoiceSettled")


@cache
def tolerance() -> matching.Tolerance:
    """An invoice line matches within this tolerance (``TOLERANCE``). The matching rules load with the first
    invoice: the other routes and the restock consumer never match one (issue 17)."""
    from shop.procurement import matching

    return matching.Tolerance(quantity_units=0, price_bps=100, price_minor_units=1)


def __getattr__(name: str) -> Any:
    if name == "TOLERANCE":  # the module constant it was before the matching rules were imported on first use
        return tolerance()
    if name == "PUBLISHED":
        # what this module publishes (events.require, which defines the types' contracts), made on first access:
        # the event bus's module is imported by the use cases that publish, so the read routes, suppliers,
        # contracts and confirmations load neither it nor the event contracts (issue 17); the first publication
        # finds its contract through shop.event_contracts.DETAIL_MODELS, which imports it then
        from shop import events

        return events.require(*_PUBLISHES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class OverReceipt(Conflict):
    code = "over_receipt"


class InvoiceDisputed(Conflict):
    code = "invoice_disputed"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def today() -> date:
    return datetime.now(UTC).date()


def _event(kind: str, po: PurchaseOrder, suffix: str | None = None, **extra: Any) -> dict[str, Any]:
    from shop import events  # see __getattr__ (PUBLISHED)
    detail = {"po_id": po.po_id, "supplier_id": po.supplier_id, "warehouse_id": po.warehouse_id,
              "status": po.status.value, "auto": po.auto, "occurred_at": now_iso(),
              "lines": [ln.model_dump(mode="json") for ln in po.lines], **extra}
    return events.entry(kind, detail, suffix, subject=po.po_id, source=events.INVENTORY_SOURCE)


# ------------------------------------------------------------------ suppliers and contracts
def put_supplier(supplier_id: str, body: SupplierIn) -> dict[str, Any]:
    if body.auto_submit_limit is not None and body.auto_submit_limit.currency != body.currency:
        raise InvalidInput("auto_submit_limit.currency", f"the supplier invoices in {body.currency}")
    supplier = Supplier(supplier_id=supplier_id, updated_at=now_iso(), **body.model_dump())
    repo.put_supplier(supplier)
    return supplier.model_dump(mode="json")


def list_suppliers() -> dict[str, Any]:
    return {"items": [s.model_dump(mode="json") for s in sorted(repo.list_suppliers(), key=lambda s: s.supplier_id)]}


def _supplier(supplier_id: str) -> Supplier:
    found = repo.get_supplier(supplier_id)
    if found is None:
        raise NotFound(f"supplier {supplier_id} not found")
    return found


def put_contract(supplier_id: str, contract_id: str, body: ContractIn) -> dict[str, Any]:
    supplier = _supplier(supplier_id)
    if body.unit_cost.currency != supplier.currency:
        raise InvalidInput("unit_cost.currency", f"the supplier invoices in {supplier.currency}")
    contract = Contract(contract_id=contract_id, supplier_id=supplier_id, **body.model_dump())
    repo.put_contract(contract)
    return contract.model_dump(mode="json")


def list_contracts(sku: str) -> dict[str, Any]:
    day = today()
    found = sorted(repo.contracts_for(sku), key=lambda c: (c.supplier_id, c.contract_id))
    return {"sku": sku, "items": [{**c.model_dump(mode="json"), "valid_today": c.valid_on(day)} for c in found]}


def best_contract(contracts: list[Contract], suppliers: dict[str, Supplier], day: date) -> Contract | None:
    """The contract to restock from: valid on ``day`` with an active supplier; the lowest unit cost, then
    the shortest lead time, then the smallest minimum order, then ids (deterministic)."""
    valid = [c for c in contracts if c.valid_on(day) and (s := suppliers.get(c.supplier_id)) and s.active]
    return min(valid, key=lambda c: (c.unit_cost.amount, c.lead_time_days, c.min_order_quantity, c.supplier_id,
                                     c.contract_id), default=None)


# ------------------------------------------------------------------ views
def po_view(po: PurchaseOrder, records: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    total = sum((ln.unit_cost.times(ln.quantity) for ln in po.lines), Money.zero(po.currency))
    view = {**po.model_dump(mode="json", exclude={"version"}),
            "lines": [{**ln.model_dump(mode="json"), "outstanding": ln.outstanding, "received_net": ln.received_net,
                       "invoiceable": ln.invoiceable} for ln in po.lines],
            "total": total.model_dump(),
            "invoiced_amount": Money(amount=po.invoiced_amount, currency=po.currency).model_dump(),
            "settled_amount": Money(amount=po.settled_amount, currency=po.currency).model_dump()}
    if records is not None:
        view.update(records)
    return view


def _po(po_id: str) -> PurchaseOrder:
    found = repo.get_po(po_id) if po_id.startswith("po_") else None
    if found is None:
        raise NotFound(f"purchase order {po_id} not found")
    return found


def get_po(po_id: str) -> dict[str, Any]:
    return {**po_view(_po(po_id), repo.po_records(po_id)), "supplier_mail": repo.get_mail(po_id)}


def list_pos(status: PoStatus, limit: int, cursor: str | None) -> dict[str, Any]:
    pos, next_cursor = repo.list_pos(status.value, limit, cursor)
    return {"items": [po_view(p) for p in pos], "next_cursor": next_cursor}


def _check_transition(po: PurchaseOrder, to: PoStatus) -> None:
    if to not in PO_TRANSITIONS[po.status]:
        raise Conflict(f"purchase order {po.po_id} is {po.status.value} and cannot become {to.value}",
                       details={"po_id": po.po_id, "status": po.status.value})


def _write(before: PurchaseOrder, after: PurchaseOrder, note: str, extra: list[dict[str, Any]],
           now: str) -> None:
    try:
        repo.transact([repo.po_update_action(before, after, note, now), *extra], "purchase order")
    except repo.TransactionFailed as exc:
        if exc.codes and exc.codes[0] == "ConditionalCheckFailed":
            raise Conflict(f"purchase order {before.po_id} changed meanwhile; reload and retry",
                           details={"po_id": before.po_id}) from exc
        raise Conflict(f"purchase order {before.po_id} could not be updated: {exc.codes}",
                       details={"po_id": before.po_id, "codes": exc.codes}) from exc


def _guard_releases(po: PurchaseOrder) -> list[dict[str, Any]]:
    """An automatic PO that ends frees its stock level for the next automatic restock."""
    return [repo.guard_delete_action(ln.sku, po.warehouse_id, po.po_id) for ln in po.lines] if po.auto else []


# ------------------------------------------------------------------ create, submit, cancel, close
def _new_po(supplier: Supplier, warehouse_id: str, lines: list[PoLine], *, auto: bool, lead_days: int,
            now: str) -> PurchaseOrder:
    expected = (datetime.now(UTC) + timedelta(days=lead_days)).strftime("%Y-%m-%d")
    return PurchaseOrder(po_id=f"po_{uuid.uuid4().hex[:20]}", supplier_id=supplier.supplier_id,
                         warehouse_id=warehouse_id, status=P.DRAFT, lines=lines, currency=supplier.currency,
                         auto=auto, expected_at=expected, created_at=now, updated_at=now,
                         timeline=[{"at": now, "status": "DRAFT", "note": "automatic restock" if auto else "created"}])


def create_po(body: PurchaseOrderIn) -> dict[str, Any]:
    from shop import events  # see __getattr__ (PUBLISHED)
    from shop.inventory import repository as inventory  # imported by the routes that move stock only (issue 17)
    supplier = _supplier(body.supplier_id)
    if not supplier.active:
        raise Conflict(f"supplier {supplier.supplier_id} is not active", details={"field": "supplier_id"})
    if inventory.get_warehouse(body.warehouse_id) is None:
        raise InvalidInput("warehouse_id", f"warehouse {body.warehouse_id} does not exist")
    day, lines, lead = today(), [], 0
    for i, ln in enumerate(body.lines):
        contract = min((c for c in repo.contracts_for(ln.sku) if c.supplier_id == supplier.supplier_id
                        and c.valid_on(day)), key=lambda c: c.unit_cost.amount, default=None)
        cost = ln.unit_cost or (contract.unit_cost if contract else None)
        if cost is None:
            raise InvalidInput(f"lines.{i}.unit_cost",
                               f"no valid contract with {supplier.supplier_id} for {ln.sku}: give the unit cost")
        if cost.currency != supplier.currency:
            raise InvalidInput(f"lines.{i}.unit_cost.currency", f"the supplier invoices in {supplier.currency}")
        if contract and ln.quantity < contract.min_order_quantity:
            raise InvalidInput(f"lines.{i}.quantity",
                               f"the contract's minimum order is {contract.min_order_quantity} units")
        lead = max(lead, contract.lead_time_days if contract else 0)
        lines.append(PoLine(sku=ln.sku, quantity=ln.quantity, unit_cost=cost,
                            contract_id=contract.contract_id if contract else None))
    now = now_iso()
    po = _new_po(supplier, body.warehouse_id, lines, auto=False, lead_days=lead, now=now)
    repo.transact([repo.put_new_po_action(po)], "create purchase order")
    events.publish(_event("PurchaseOrderCreated", po))
    return po_view(po)


def restock(sku: str, warehouse_id: str) -> dict[str, Any]:
    """The consumer of StockLow: at most one open automatic PO per stock level. Re-reads the level (the
    event may be stale or repeated); picks the best valid contract; orders max(reorder quantity, the
    contract's minimum). Concurrent triggers race on a guard item: one creates the PO, the others get it."""
    from shop import events  # see __getattr__ (PUBLISHED)
    from shop.inventory import repository as inventory
    level = inventory.get_stock(sku, warehouse_id)
    if level is None or not level.needs_restock:
        return {"created": False, "reason": "the stock level does not need restocking", "po_id": None}
    existing = repo.guard_of(sku, warehouse_id)
    if existing is not None:
        return {"created": False, "reason": "an automatic purchase order is already open", "po_id": existing}
    suppliers = {s.supplier_id: s for s in repo.list_suppliers()}
    contract = best_contract(repo.contracts_for(sku), suppliers, today())
    if contract is None:
        return {"created": False, "reason": f"no valid supplier contract for {sku}", "po_id": None}
    quantity = max(level.reorder_quantity, contract.min_order_quantity)
    now = now_iso()
    supplier = suppliers[contract.supplier_id]
    po = _new_po(supplier, warehouse_id,
                 [PoLine(sku=sku, quantity=quantity, unit_cost=contract.unit_cost, contract_id=contract.contract_id)],
                 auto=True, lead_days=contract.lead_time_days, now=now)
    open_already = {"created": False, "reason": "an automatic purchase order is already open"}
    submitted, why_draft = None, "no auto-submit limit for the supplier: waiting for a human"
    if supplier.auto_submit_limit is not None:
        try:
            submitted, why_draft = _auto_submit(po, supplier, supplier.auto_submit_limit, now)
        except _AlreadyOpen:
            return {**open_already, "po_id": repo.guard_of(sku, warehouse_id)}
    if submitted is None:
        first = PoEvent(at=now, status="DRAFT", note=f"automatic restock: {why_draft}")
        po = po.model_copy(update={"timeline": [first]})
        try:
            repo.transact([repo.guard_put_action(sku, warehouse_id, po.po_id, now), repo.put_new_po_action(po)],
                          "automatic purchase order")
        except repo.TransactionFailed as exc:
            if exc.codes and exc.codes[0] == "ConditionalCheckFailed":
                return {**open_already, "po_id": repo.guard_of(sku, warehouse_id)}
            raise
    created = [_event("PurchaseOrderCreated", po, cause="restock", available=level.available,
                      reorder_point=level.reorder_point)]
    events.publish(*created, *([_event("PurchaseOrderSubmitted", submitted)] if submitted else []))
    return {"created": True, "po_id": po.po_id, "quantity": quantity, "contract_id": contract.contract_id,
            "submitted": submitted is not None, "note": why_draft if submitted is None else None}


class _AlreadyOpen(Exception):
    """Another automatic PO holds the stock level's guard."""


def spend_period(now: str) -> str:
    """The auto-submit limit's period: the calendar month (UTC) of ``now``, "YYYY-MM"."""
    return now[:7]


def _auto_submit(po: PurchaseOrder, supplier: Supplier, limit: Money, now: str) -> tuple[PurchaseOrder | None, str]:
    """Create the automatic PO already SUBMITTED (its units incoming, the supplier's spend of the month raised)
    in one transaction whose condition on the spend item keeps the month's auto-submitted total within the
    limit, whatever other restocks of the supplier commit meanwhile. (None, why) when the limit does not
    allow it: the caller creates it DRAFT instead. _AlreadyOpen when the guard is taken."""
    from shop.inventory import repository as inventory
    total = sum(ln.unit_cost.amount * ln.quantity for ln in po.lines)
    period = spend_period(now)

    def over(used: int | None) -> str:
        left = "" if used is None else f"what is left ({format_money(max(0, limit.amount - used), limit.currency)}) of "
        return (f"{format_money(total, po.currency)} is over {left}the auto-submit limit of "
                f"{format_money(limit.amount, limit.currency)} per month for {supplier.supplier_id}: "
                "waiting for a human")

    if limit.currency != po.currency or total > limit.amount:
        return None, over(None)
    note = (f"submitted automatically: {format_money(total, po.currency)} within the auto-submit limit of "
            f"{format_money(limit.amount, limit.currency)} per month")
    after = po.model_copy(update={"status": P.SUBMITTED, "auto_submitted": True, "timeline": [
        *po.timeline, PoEvent(at=now, status=P.SUBMITTED.value, note=note)]})
    guards = [repo.guard_put_action(ln.sku, po.warehouse_id, po.po_id, now) for ln in po.lines]
    actions = [*guards, repo.put_new_po_action(after),
               repo.spend_action(supplier.supplier_id, period, total, limit.amount, limit.currency, po.po_id),
               *[inventory.incoming_action(ln.sku, po.warehouse_id, ln.quantity, now) for ln in po.lines]]
    try:
        repo.transact(actions, "automatic purchase order (submitted)")
    except repo.TransactionFailed as exc:
        codes = exc.codes or []
        if any(c == "ConditionalCheckFailed" for c in codes[:len(guards)]):
            raise _AlreadyOpen() from exc
        if len(codes) > len(guards) + 1 and codes[len(guards) + 1] == "ConditionalCheckFailed":
            return None, over(repo.spent(supplier.supplier_id, period))
        raise
    return after, note


def submit(po_id: str) -> dict[str, Any]:
    """DRAFT -> SUBMITTED; PurchaseOrderSubmitted has the supplier e-mailed (once per PO). Submitting an order
    that is SUBMITTED already publishes the event again while its e-mail is not recorded (the first
    publication may have been lost): the mail's own dedupe makes that harmless."""
    from shop import events  # see __getattr__ (PUBLISHED)
    from shop.inventory import repository as inventory
    po = _po(po_id)
    if po.status == P.SUBMITTED:
        if repo.get_mail(po_id) is None:
            events.publish(_event("PurchaseOrderSubmitted", po))
        return po_view(po)
    _check_transition(po, P.SUBMITTED)
    after = po.model_copy(update={"status": P.SUBMITTED})
    now = now_iso()
    _write(po, after, "sent to the supplier",
           [inventory.incoming_action(ln.sku, po.warehouse_id, ln.quantity, now) for ln in po.lines], now)
    events.publish(_event("PurchaseOrderSubmitted", after))
    return po_view(after)


CONFIRMABLE = (P.SUBMITTED, P.PARTIALLY_RECEIVED)


def confirm(po_id: str, body: ConfirmationIn) -> dict[str, Any]:
    """The supplier's confirmation of a submitted PO: the day it will deliver. The same day again changes
    nothing (``changed`` False); another day replaces it and the timeline keeps both (suppliers move dates).
    Only while goods are outstanding (SUBMITTED, PARTIALLY_RECEIVED): 409 otherwise."""
    po = _po(po_id)
    day = body.confirmed_delivery_date.isoformat()
    if po.status not in CONFIRMABLE:
        raise Conflict(f"purchase order {po_id} is {po.status.value}: a delivery date can be confirmed only while "
                       "goods are outstanding (SUBMITTED or PARTIALLY_RECEIVED)",
                       details={"po_id": po_id, "status": po.status.value})
    before = po.confirmed_delivery_date.isoformat() if po.confirmed_delivery_date else None
    note = f"supplier confirmed delivery on {day}" + (f" (was {before})" if before and before != day else "")
    if body.note:
        note += f": {body.note}"
    changed = before != day and repo.confirm_delivery(po_id, day, note, now_iso(), tuple(s.value for s in CONFIRMABLE))
    after = _po(po_id)
    if not changed and (after.confirmed_delivery_date is None or after.confirmed_delivery_date.isoformat() != day):
        # the write's condition failed on the status: the PO was closed or cancelled meanwhile
        raise Conflict(f"purchase order {po_id} is {after.status.value}: a delivery date can be confirmed only "
                       "while goods are outstanding", details={"po_id": po_id, "status": after.status.value})
    return {**po_view(after), "changed": changed}


def cancel(po_id: str) -> dict[str, Any]:
    from shop.inventory import repository as inventory
    po = _po(po_id)
    if po.status == P.CANCELLED:
        return po_view(po)
    _check_transition(po, P.CANCELLED)
    after = po.model_copy(update={"status": P.CANCELLED})
    now = now_iso()
    stock = [inventory.incoming_action(ln.sku, po.warehouse_id, -ln.quantity, now) for ln in po.lines] \
        if po.status == P.SUBMITTED else []
    _write(po, after, "cancelled", [*stock, *_guard_releases(po)], now)
    return po_view(after)


def close(po_id: str) -> dict[str, Any]:
    """Nothing more will arrive: what is outstanding leaves incoming."""
    from shop.inventory import repository as inventory
    from shop.inventory.restock import publish_if_low
    po = _po(po_id)
    if po.status == P.CLOSED:
        return po_view(po)
    _check_transition(po, P.CLOSED)
    after = po.model_copy(update={"status": P.CLOSED})
    now = now_iso()
    stock = [inventory.incoming_action(ln.sku, po.warehouse_id, -ln.outstanding, now)
             for ln in po.lines if ln.outstanding]
    _write(po, after, "closed", [*stock, *_guard_releases(po)], now)
    publish_if_low([lv for ln in po.lines if (lv := inventory.get_stock(ln.sku, po.warehouse_id))], "po closed")
    return po_view(after)


# ------------------------------------------------------------------ receiving and returns
def _replay(po_id: str, kind: str, record_id: str, lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    found = repo.get_record(po_id, kind, record_id)
    if found is None:
        return None
    if sorted((ln["sku"], ln["quantity"]) for ln in found["lines"]) != sorted(
            (ln["sku"], ln["quantity"]) for ln in lines):
        raise Conflict(f"{kind.lower()} {record_id} was already recorded with other lines",
                       details={"recorded": found["lines"]})
    return found


def receive(po_id: str, body: ReceiptIn) -> dict[str, Any]:
    """Goods arrived at the PO's warehouse: on-hand up, incoming down, the PO partially or fully received.
    More than ordered is refused (409 over_receipt, naming each line)."""
    from shop import events  # see __getattr__ (PUBLISHED)
    from shop.inventory import repository as inventory
    lines = [ln.model_dump() for ln in body.lines]
    if (done := _replay(po_id, "RECEIPT", body.receipt_id, lines)) is not None:
        return {**get_po(po_id), "receipt": done, "replayed": True}
    po = _po(po_id)
    if po.status not in RECEIVING:
        raise Conflict(f"purchase order {po_id} is {po.status.value}: goods can be received only once it is "
                       "submitted and until it is fully received or closed",
                       details={"po_id": po_id, "status": po.status.value})
    over, updated = [], {ln.sku: ln for ln in po.lines}
    for i, got in enumerate(body.lines):
        line = updated.get(got.sku)
        if line is None:
            raise InvalidInput(f"lines.{i}.sku", f"{got.sku} is not on purchase order {po_id}")
        if got.quantity > line.outstanding:
            over.append({"field": f"lines.{i}.quantity", "sku": got.sku, "received": got.quantity,
                         "outstanding": line.outstanding})
        updated[got.sku] = line.model_copy(update={"received": line.received + got.quantity})
    if over:
        raise OverReceipt("more received than ordered: " + ", ".join(
            f"{o['sku']} {o['received']} of {o['outstanding']} outstanding" for o in over), details={"lines": over})
    new_lines = [updated[ln.sku] for ln in po.lines]
    status = P.RECEIVED if all(ln.outstanding == 0 for ln in new_lines) else P.PARTIALLY_RECEIVED
    after = po.model_copy(update={"status": status, "lines": new_lines})
    now = now_iso()
    record = {"receipt_id": body.receipt_id, "lines": lines, "note": body.note, "received_at": now}
    ref = f"{po_id}/{body.receipt_id}"
    stock = [a for got in body.lines
             for a in inventory.receive_actions(got.sku, po.warehouse_id, got.quantity, now, ref)]
    guards = _guard_releases(po) if status == P.RECEIVED else []
    try:
        _write(po, after, f"received {body.receipt_id}",
               [repo.record_put_action(po_id, "RECEIPT", body.receipt_id, record), *stock, *guards], now)
    except Conflict:
        if (done := _replay(po_id, "RECEIPT", body.receipt_id, lines)) is not None:  # a concurrent duplicate
            return {**get_po(po_id), "receipt": done, "replayed": True}
        raise
    events.publish(_event("GoodsReceived", after, body.receipt_id, receipt=lines))
    return {**get_po(po_id), "receipt": record, "replayed": False}


def return_to_supplier(po_id: str, body: SupplierReturnIn) -> dict[str, Any]:
    """Damaged or wrong goods go back: on-hand down (only units not reserved by orders), recorded on the PO
    (never more than was received, and never units a matched invoice already covers: those need a credit
    note from the supplier, so invoiced <= received - returned always holds). The PO write is conditional on
    the version read, which every invoice that counts units bumps."""
    from shop import events  # see __getattr__ (PUBLISHED)
    from shop.inventory import repository as inventory
    from shop.inventory.restock import publish_if_low
    lines = [ln.model_dump() for ln in body.lines]
    if (done := _replay(po_id, "RETURN", body.return_id, lines)) is not None:
        return {**get_po(po_id), "return": done, "replayed": True}
    po = _po(po_id)
    if po.status not in HAS_GOODS:
        raise Conflict(f"purchase order {po_id} is {po.status.value}: nothing was received to return",
                       details={"po_id": po_id, "status": po.status.value})
    updated = {ln.sku: ln for ln in po.lines}
    for i, back in enumerate(body.lines):
        line = updated.get(back.sku)
        if line is None:
            raise InvalidInput(f"lines.{i}.sku", f"{back.sku} is not on purchase order {po_id}")
        if back.quantity > line.received_net:
            raise Conflict(f"only {line.received_net} units of {back.sku} were received (net of returns)",
                           details={"field": f"lines.{i}.quantity", "received_net": line.received_net})
        if back.quantity > line.invoiceable:  # invoiced units stay: a credit note from the supplier first
            raise Conflict(f"{line.invoiced} of the {line.received_net} units of {back.sku} received (net of returns) "
                           f"are already invoiced: only {line.invoiceable} can go back to the supplier",
                           details={"field": f"lines.{i}.quantity", "received_net": line.received_net,
                                    "invoiced": line.invoiced, "returnable": line.invoiceable})
        level = inventory.get_stock(back.sku, po.warehouse_id)
        if level is None or level.available < back.quantity:
            raise Conflict(f"only {level.available if level else 0} units of {back.sku} are not reserved by "
                           "orders in the warehouse", details={"field": f"lines.{i}.quantity"})
        updated[back.sku] = line.model_copy(update={"returned": line.returned + back.quantity})
    after = po.model_copy(update={"lines": [updated[ln.sku] for ln in po.lines]})
    now = now_iso()
    record = {"return_id": body.return_id, "lines": lines, "reason": body.reason, "note": body.note,
              "returned_at": now}
    stock = [a for back in body.lines for a in inventory.supplier_return_actions(
        back.sku, po.warehouse_id, back.quantity, now, f"{po_id}/{body.return_id}", body.reason)]
    try:
        _write(po, after, f"returned {body.return_id} ({body.reason})",
               [repo.record_put_action(po_id, "RETURN", body.return_id, record), *stock], now)
    except Conflict:
        if (done := _replay(po_id, "RETURN", body.return_id, lines)) is not None:
            return {**get_po(po_id), "return": done, "replayed": True}
        raise
    events.publish(_event("SupplierReturned", after, body.return_id, returned=lines, reason=body.reason))
    publish_if_low([lv for back in body.lines if (lv := inventory.get_stock(back.sku, po.warehouse_id))],
                   "supplier return")
    return {**get_po(po_id), "return": record, "replayed": False}


# ------------------------------------------------------------------ invoices
ATTEMPTS = 5  # a write that lost a race is matched again on what is there now, this many times at most


class InvoiceOverLimit(Conflict):
    code = "invoice_over_limit"


def _units(lines: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for ln in lines:
        out[ln["sku"]] = out.get(ln["sku"], 0) + int(ln["quantity"])
    return out


def _replay_invoice(po_id: str, invoice_id: str, invoice_lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    found = repo.get_record(po_id, "INVOICE", invoice_id)
    if found is None:
        return None
    if found["lines"] != invoice_lines:
        raise Conflict(f"invoice {invoice_id} was already recorded with other lines",
                       details={"recorded": found["lines"]})
    return {**found, "replayed": True}


def record_invoice(po_id: str, body: InvoiceIn) -> dict[str, Any]:
    """Three-way match (PO price, received net of returns, invoice) against what is left to invoice: units
    that an earlier MATCHED invoice covers are not matched again. Stored MATCHED or DISPUTED with the
    differences listed. A MATCHED invoice is counted on the PO (per line ``invoiced``, ``invoiced_amount``)
    in the same transaction, conditioned on invoiced <= received - returned per line; a DISPUTED one counts
    nothing. Two invoices for the same goods, however they race: one MATCHED, the other DISPUTED. The same
    invoice id again returns the stored result."""
    from shop import events  # see __getattr__ (PUBLISHED)
    invoice_lines = [ln.model_dump(mode="json") for ln in body.lines]
    for _ in range(ATTEMPTS):
        if (done := _replay_invoice(po_id, body.invoice_id, invoice_lines)) is not None:
            return done
        po = _po(po_id)
        if po.status not in HAS_GOODS:
            raise Conflict(f"purchase order {po_id} is {po.status.value}: nothing was received to invoice",
                           details={"po_id": po_id, "status": po.status.value})
        from shop.procurement import matching  # invoices only (see tolerance)

        result = matching.match(
            [matching.PoLine(sku=ln.sku, ordered=ln.quantity, unit_cost=ln.unit_cost) for ln in po.lines],
            {ln.sku: ln.received_net for ln in po.lines},
            [matching.InvoiceLine(sku=ln.sku, quantity=ln.quantity, unit_price=ln.unit_price) for ln in body.lines],
            tolerance(),
            already_invoiced={ln.sku: ln.invoiced for ln in po.lines})
        matched = result.status == InvoiceStatus.MATCHED
        record = {"invoice_id": body.invoice_id, "po_id": po_id, "supplier_id": po.supplier_id,
                  "lines": invoice_lines, **result.to_dict(), "counted": matched, "recorded_at": now_iso()}
        actions = [repo.record_put_action(po_id, "INVOICE", body.invoice_id, record)]
        if matched:
            actions.append(repo.invoice_counters_action(po, _units(invoice_lines), result.invoice_total.amount, 0))
        try:
            repo.transact(actions, "record invoice")
        except repo.TransactionFailed:
            continue  # recorded concurrently (replayed above), or the PO changed: match again on what is there
        kind = "InvoiceMatched" if matched else "InvoiceDisputed"
        events.publish(_event(kind, po, body.invoice_id, invoice_id=body.invoice_id,
                              differences=record["differences"]))
        return {**record, "replayed": False}
    raise Conflict(f"purchase order {po_id} keeps changing; retry the invoice", details={"po_id": po_id})


def settle(po_id: str, invoice_id: str) -> dict[str, Any]:
    """Pay a matched invoice (once). A disputed one is refused with its differences. Settling adds the
    invoice's total to the PO's ``settled_amount`` in the same transaction as MATCHED -> SETTLED, conditioned
    on settled <= invoiced, so the goods of a PO are never paid twice. An invoice matched before the
    counters existed is counted in that same transaction (or refused if its goods are invoiced already)."""
    from shop import events  # see __getattr__ (PUBLISHED)
    for _ in range(ATTEMPTS):
        po = _po(po_id)  # the PO before the invoice: counters never ahead of the record read after them
        found = repo.get_record(po_id, "INVOICE", invoice_id)
        if found is None:
            raise NotFound(f"invoice {invoice_id} of purchase order {po_id} not found")
        if found["status"] == InvoiceStatus.DISPUTED:
            raise InvoiceDisputed(f"invoice {invoice_id} does not match the order and receipts: resolve the "
                                  "differences with the supplier first",
                                  details={"differences": found["differences"]})
        if found["status"] != InvoiceStatus.MATCHED:
            return found  # SETTLED already
        amount = int(found["invoice_total"]["amount"])
        legacy = not found.get("counted")
        units = _units(found["lines"]) if legacy else {}
        over = [{"sku": sku, "invoiced": n, "invoiceable": ln.invoiceable if ln else 0}
                for sku, n in units.items() if (ln := po.line(sku)) is None or n > ln.invoiceable]
        if over:
            raise InvoiceOverLimit(f"the goods of invoice {invoice_id} are already invoiced by another invoice",
                                   details={"lines": over})
        invoiced = po.invoiced_amount + (amount if legacy else 0)
        if po.settled_amount + amount > invoiced:
            raise InvoiceOverLimit(f"settling invoice {invoice_id} would pay more than was invoiced on {po_id}",
                                   details={"invoiced_amount": invoiced, "settled_amount": po.settled_amount,
                                            "amount": amount})
        try:
            repo.transact([repo.settle_invoice_action(po_id, invoice_id, now_iso(), count=legacy),
                           repo.invoice_counters_action(po, units, amount if legacy else 0, amount)],
                          "settle invoice")
        except repo.TransactionFailed:
            continue  # settled concurrently (returned above) or the PO changed: check again
        events.publish(_event("InvoiceSettled", po, invoice_id, invoice_id=invoice_id, amount=found["invoice_total"]))
        settled = repo.get_record(po_id, "INVOICE", invoice_id)
        assert settled is not None
        return settled
    raise Conflict(f"purchase order {po_id} keeps changing; retry the settlement", details={"po_id": po_id})


def level_for(sku: str, warehouse_id: str) -> StockLevel | None:
    from shop.inventory import repository as inventory
    return inventory.get_stock(sku, warehouse_id)
