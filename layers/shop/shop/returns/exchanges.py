"""Exchanges: delivered units of one order line sent back for another SKU of the same product (another size or
colour: a product's SKUs are its variants, shop.models.Sku), through statemachines/exchanges.asl.json (the returns
workflow's steps and task function, plus the exchange's own and fulfillment's parcel steps).

An exchange is a return (``kind`` "exchange", one line) with an :class:`~shop.returns.models.Exchange`:
- request (POST /orders/{orderId}/exchanges): the rules of a return request (delivered, within the window, never
  more units than delivered minus those already returned or exchanged: the same counters, a condition of the
  write), and the replacement must be another active SKU of the same catalog product, in the order's currency,
  with stock somewhere (409 ``out_of_stock`` naming ``replacement_sku`` otherwise);
- approve: the replacement is reserved (one transaction with the status change: the level's ``available >= q``
  is its condition) in the warehouse that receives the parcel when it has the units, else the first by
  priority; none left: REJECTED and the units go back to the order's returnable units, nothing else written.
  A dearer replacement is then charged the difference (a second PaymentIntent through the payments adapter,
  keyed on the exchange, recorded before it is confirmed); declined: the reservation is released, REJECTED;
- after the inspection (restock as for returns): the exchange is accepted unless staff decided that damaged
  units give back less than in full (``partial`` or ``none``: shop.returns.decisions). Refused: the
  reservation is released and a charged difference refunded (idempotent compensation), then the return's own
  refund step pays what the inspection decided. Accepted: a cheaper replacement's difference is refunded (the
  order's refund path: counted under refunded <= captured before Stripe is asked), the replacement parcel is
  created for fulfillment and ships like an order's parcel (pick, pack, label, carrier pickup), then EXCHANGED.

Money: the difference is the replacement's catalog price minus the returned line's unit price, per unit, plus the
order's tax rate on that; the line's discount stays with the shopper (an equal price moves no money) and a refund
never exceeds what the returned units paid.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from shop import aws, events, workflow
from shop.catalog.repository import get_skus
from shop.errors import Conflict, InvalidInput, NotFound
from shop.fulfillment import repository as fulfillment_repo
from shop.fulfillment.models import Shipment, ShipmentItem, ShipmentStatus
from shop.fulfillment.split import exchange_shipment_id
from shop.inventory import repository as inventory
from shop.money import Money, round_half_up
from shop.orders import event_details
from shop.orders import repository as orders_repo
from shop.orders.models import Order, OrderLine, TimelineEntry
from shop.payments import stripe_adapter
from shop.returns import repository as repo
from shop.returns import service
from shop.returns.models import CustomerReturn, Exchange, ExchangeIn, ReturnLineIn, ReturnStatus

R = ReturnStatus


class OutOfStock(Conflict):
    """No warehouse has the replacement's units (at the request: nothing is written)."""

    code = "out_of_stock"


# ------------------------------------------------------------------ pricing (pure)
def price_difference(order: Order, line: OrderLine, replacement_price: Money, quantity: int) -> Money:
    """What the swap costs the shopper (above zero) or gives back (below zero), in minor units: per unit the
    replacement's price minus the line's unit price, plus the order's tax on it (rounded half away from zero,
    once). A refund is capped at what the returned units paid (their share after discounts, plus tax)."""
    if replacement_price.currency != line.unit_price.currency:
        raise InvalidInput("replacement_sku", f"the order was paid in {line.unit_price.currency}",
                           details={"currency": line.unit_price.currency})
    net = (replacement_price.amount - line.unit_price.amount) * quantity
    amount = net + round_half_up(net * (order.tax_rate_bps or 0), 10_000)
    if amount < 0:
        amount = max(amount, -service.line_refund(order, line, quantity).amount)
    return Money(amount=amount, currency=line.unit_price.currency)


def accepted(inspection: list[dict[str, Any]] | None) -> bool:
    """An inspected exchange goes ahead unless staff decided some damaged units give back less than in full."""
    return all(int(e.get("damaged", 0)) == 0 or (e.get("damaged_refund") or {}).get("decision", "full") == "full"
               for e in inspection or [])


# ------------------------------------------------------------------ request
def _pool_available(level: Any) -> int:
    """Units an exchange can reserve from a level: its own item (a sharded level's pool), never its shards."""
    if level.shards:
        return next((s.available for s in level.slots if s.shard is None), 0)
    return int(level.available)


def request_exchange(order_id: str, customer_id: str, body: ExchangeIn, now: datetime | None = None) -> dict[str, Any]:
    if body.replacement_sku == body.sku:
        raise InvalidInput("replacement_sku", "choose another SKU than the one sent back")
    wanted = ReturnLineIn(sku=body.sku, quantity=body.quantity, reason=body.reason)
    order, lines, counters = service.returnable_lines(order_id, customer_id, [wanted], now,
                                                      field=lambda _i, name: name)
    skus = get_skus([body.sku, body.replacement_sku])
    original, replacement = skus.get(body.sku), skus.get(body.replacement_sku)
    if replacement is None:
        raise InvalidInput("replacement_sku", f"{body.replacement_sku} is not in the catalog")
    if original is None or original.product_id != replacement.product_id:
        raise InvalidInput("replacement_sku", f"{body.replacement_sku} is not a variant of the product of {body.sku}",
                           details={"product_id": original.product_id if original else None})
    if not replacement.active:
        raise InvalidInput("replacement_sku", f"{body.replacement_sku} is not sold any more")
    line = next(ln for ln in order.lines if ln.sku == body.sku)
    difference = price_difference(order, line, replacement.price, body.quantity)
    available = sum(_pool_available(lv) for lv in inventory.stock_levels([body.replacement_sku]).get(
        body.replacement_sku, []))
    if available < body.quantity:
        raise OutOfStock(f"only {available} unit(s) of {body.replacement_sku} in stock",
                         details={"field": "replacement_sku", "sku": body.replacement_sku, "available": available})
    stamp = orders_repo.now_iso()
    exchange = Exchange(replacement_sku=replacement.sku, replacement_name=replacement.name, quantity=body.quantity,
                        weight_grams=replacement.weight_grams, unit_price=replacement.price, difference=difference)
    ret = CustomerReturn(return_id=f"ret_{uuid.uuid4().hex[:20]}", order_id=order_id, customer_id=customer_id,
                         email=order.email, status=R.REQUESTED, lines=lines, refund_total=lines[0].refund,
                         note=body.note, created_at=stamp, updated_at=stamp, kind="exchange", exchange=exchange,
                         timeline=[TimelineEntry(at=stamp, status="REQUESTED",
                                                 note=f"exchange for {replacement.sku}")])
    repo.create(ret, counters)  # returned + units <= delivered is the condition of this write
    workflow.start("exchanges_state_machine_arn", ret.return_id, {"return_id": ret.return_id, "order_id": order_id})
    return service.view(ret)


# ------------------------------------------------------------------ workflow steps
def _ret(order_id: str, return_id: str) -> CustomerReturn:
    found = repo.get(order_id, return_id)
    if found is None:
        raise NotFound(f"return {return_id} not found")
    return found


def _ex(ret: CustomerReturn) -> Exchange:
    if ret.exchange is None:
        raise Conflict(f"return {ret.return_id} is no exchange")
    return ret.exchange


def _dump(ex: Exchange, **changes: Any) -> dict[str, Any]:
    return ex.model_copy(update=changes).model_dump(mode="json", exclude_none=True)


def _units(ret: CustomerReturn) -> dict[str, int]:
    return {ln.sku: ln.quantity for ln in ret.lines}


def approve(order_id: str, return_id: str) -> dict[str, Any]:
    """Returns are approved as they always were; an exchange reserves its replacement, then charges a dearer
    one's difference. Each part once (conditional on the status and the exchange's records)."""
    ret = _ret(order_id, return_id)
    if ret.kind != "exchange":
        return service.approve(order_id, return_id)
    if ret.status == R.REQUESTED:
        _reserve(ret)
        ret = _ret(order_id, return_id)
    ex = _ex(ret)
    if ret.status == R.APPROVED and ex.difference.amount > 0 and ex.charged is None:
        _charge(ret)
        ret = _ret(order_id, return_id)
    return {"return_id": return_id, "status": ret.status.value, "kind": ret.kind}


def _reserve(ret: CustomerReturn) -> None:
    ex = _ex(ret)
    receiving = repo.inspecting_warehouse(ret)
    known = inventory.warehouses(max_age=inventory.WAREHOUSES_MAX_AGE_SECONDS)
    levels = [lv for lv in inventory.stock_levels([ex.replacement_sku]).get(ex.replacement_sku, [])
              if _pool_available(lv) >= ex.quantity and lv.warehouse_id in known]
    levels.sort(key=lambda lv: (lv.warehouse_id != receiving, known[lv.warehouse_id].priority, lv.warehouse_id))
    now = orders_repo.now_iso()
    for level in levels:
        try:
            repo.transition(ret, {R.REQUESTED}, R.APPROVED,
                            f"approved: {ex.quantity} x {ex.replacement_sku} reserved in {level.warehouse_id}",
                            fields={"exchange": _dump(ex, warehouse_id=level.warehouse_id, reserved=True)},
                            extra=[inventory.reserve_action(ex.replacement_sku, level.warehouse_id, ex.quantity,
                                                            None, now)])
            return
        except aws.TransactionCancelled as exc:  # that level's units went meanwhile: the next one
            if len(exc.codes) < 2 or exc.codes[1] != "ConditionalCheckFailed":
                raise
    # nothing could be reserved: the exchange ends here and its units can be returned or exchanged again
    repo.transition(ret, {R.REQUESTED}, R.REJECTED, f"{ex.replacement_sku} is out of stock",
                    fields={"exchange": _dump(ex, outcome="out_of_stock")},
                    extra=[orders_repo.uncount_returned_action(ret.order_id, _units(ret))])


def _charge(ret: CustomerReturn) -> None:
    """The difference as a second charge of the order's card, without the shopper (off-session): checkout saved
    the card to the order's Stripe customer (shop.payments.stripe_adapter.create_intent), and this intent names
    both. The intent is created unconfirmed, recorded on the exchange (a lost race cancels its own), then
    confirmed; a retry confirms the recorded one. An order paid before cards were saved has no customer: its
    payment method is tried as it is (Stripe refuses a card used once without a customer: declined)."""
    ex = _ex(ret)
    order = orders_repo.require_order(ret.order_id)
    key = f"{ret.order_id}:{ret.return_id}"
    saved = stripe_adapter.saved_card(order.payment_intent_id) if order.payment_intent_id else None
    intent_id = ex.charge_intent_id
    if intent_id is None:
        customer, method = saved if saved else (None, order.payment_method_id)
        created = stripe_adapter.create_intent(ret.order_id, ex.difference, method, key=key, customer=customer)
        if isinstance(created, stripe_adapter.ChargeResult):
            _not_paid(ret, created.decline_code)
            return
        if repo.update_exchange(ret, R.APPROVED, _dump(ex, charge_intent_id=created), unless="charge_intent_id"):
            intent_id = created
        else:
            stripe_adapter.cancel_intent(created)
            ret = _ret(ret.order_id, ret.return_id)
            intent_id = _ex(ret).charge_intent_id
            if intent_id is None or ret.status != R.APPROVED:
                return
    result = stripe_adapter.confirm_intent(intent_id, off_session=saved is not None)
    ret = _ret(ret.order_id, ret.return_id)
    ex = _ex(ret)
    if result.status == "succeeded":
        repo.update_exchange(ret, R.APPROVED, _dump(ex, charged=ex.difference),
                             note=f"charged the difference of {ex.difference.amount}", unless="charged")
        return
    stripe_adapter.abandon_intent(intent_id)  # never charged later for an exchange that did not happen
    _not_paid(ret, result.decline_code)


def _not_paid(ret: CustomerReturn, decline_code: str | None) -> None:
    """The difference could not be charged: the reservation goes back and the exchange ends (REJECTED, its
    units returnable again), in one transaction; a second run finds it REJECTED and writes nothing."""
    ex = _ex(ret)
    extra = [orders_repo.uncount_returned_action(ret.order_id, _units(ret))]
    if ex.reserved and ex.warehouse_id:
        extra.append(inventory.release_action(ex.replacement_sku, ex.warehouse_id, ex.quantity))
    repo.transition(ret, {R.APPROVED}, R.REJECTED, f"the difference could not be charged ({decline_code})",
                    fields={"exchange": _dump(ex, released=True, outcome=f"payment_declined:{decline_code}")},
                    extra=extra)


def restock(order_id: str, return_id: str, inspected: list[dict[str, Any]]) -> dict[str, Any]:
    """The return's restock (sellable units back on the shelf, the inspection's decisions recorded); for an
    exchange, also whether it goes ahead (:func:`accepted`), read from what was stored."""
    out = service.restock(order_id, return_id, inspected)
    ret = _ret(order_id, return_id)
    if ret.kind == "exchange":
        out["exchange_accepted"] = accepted(ret.inspection)
    return out


def release_replacement(order_id: str, return_id: str) -> dict[str, Any]:
    """Compensation when the inspection refuses the exchange: the reservation goes back (once: the exchange's
    ``released`` is the condition of that write) and a charged difference is refunded (keyed: once). The
    return stays INSPECTED for its refund step to pay what the inspection decided."""
    ret = _ret(order_id, return_id)
    ex = _ex(ret)
    released = False
    if ex.reserved and ex.warehouse_id and not ex.released:
        released = repo.update_exchange(
            ret, R.INSPECTED, _dump(ex, released=True, outcome="refused_at_inspection"),
            note=f"exchange refused at inspection: {ex.quantity} x {ex.replacement_sku} released", unless="released",
            extra=[inventory.release_action(ex.replacement_sku, ex.warehouse_id, ex.quantity)])
        ret = _ret(order_id, return_id)
        ex = _ex(ret)
    if ex.released and ex.charged and ex.charge_intent_id and ex.charge_refund_id is None:
        done = stripe_adapter.refund(ex.charge_intent_id, ex.charged, f"{order_id}:{return_id}:charge")
        repo.update_exchange(ret, ret.status, _dump(ex, charge_refund_id=done.refund_id),
                             note=f"the charged difference of {ex.charged.amount} refunded", unless="charge_refund_id")
    return {"return_id": return_id, "released": released}


def settle_difference(order_id: str, return_id: str) -> dict[str, Any]:
    """An accepted exchange for a cheaper SKU: the difference is refunded on the order's payment, counted first
    on the order (refunded + amount <= captured, once per key), then Stripe (idempotent on the same key)."""
    ret = _ret(order_id, return_id)
    ex = _ex(ret)
    if ret.status == R.INSPECTED and ex.difference.amount < 0 and ex.refund_id is None:
        order = orders_repo.require_order(order_id)
        if order.payment_intent_id is None:
            raise Conflict(f"order {order_id} has no payment to refund")
        key = f"{order_id}:{return_id}"
        amount = Money(amount=-ex.difference.amount, currency=ex.difference.currency)
        orders_repo.reserve_refund(order_id, key, amount.amount, order.totals.total.amount)
        done = stripe_adapter.refund(order.payment_intent_id, amount, key)
        repo.update_exchange(ret, R.INSPECTED, _dump(ex, refund_id=done.refund_id, refunded=done.amount),
                             note=f"refunded the difference of {done.amount.amount}", unless="refund_id")
        events.publish(event_details.refund_issued(order, done.refund_id, done.amount, "exchange", key))
        ex = _ex(_ret(order_id, return_id))
    return {"return_id": return_id, "difference": ex.difference.model_dump(),
            "charged": ex.charged.model_dump() if ex.charged else None,
            "refunded": ex.refunded.model_dump() if ex.refunded else None}


def ship_replacement(order_id: str, return_id: str) -> dict[str, Any]:
    """The replacement parcel enters fulfillment (created PICKING in the order, from the warehouse holding its
    reservation) in the transaction that moves the exchange to SHIPPING_REPLACEMENT; the workflow then runs
    fulfillment's own pick, pack, label and pickup steps on it."""
    ret = _ret(order_id, return_id)
    ex = _ex(ret)
    shipment_id = exchange_shipment_id(order_id, return_id)
    if ret.status == R.INSPECTED:
        if not ex.warehouse_id or ex.released:
            raise Conflict(f"exchange {return_id} holds no reservation to ship")
        level = inventory.get_stock(ex.replacement_sku, ex.warehouse_id)
        now = orders_repo.now_iso()
        parcel = Shipment(shipment_id=shipment_id, order_id=order_id, warehouse_id=ex.warehouse_id,
                          status=ShipmentStatus.PICKING, created_at=now, updated_at=now, exchange_id=return_id,
                          items=[ShipmentItem(sku=ex.replacement_sku, name=ex.replacement_name, quantity=ex.quantity,
                                              weight_grams=ex.weight_grams,
                                              bin=(level.bin if level and level.bin else "UNASSIGNED"))])
        repo.transition(ret, {R.INSPECTED}, R.SHIPPING_REPLACEMENT, f"replacement parcel {shipment_id} to pick",
                        fields={"exchange": _dump(ex, shipment_id=shipment_id)},
                        extra=[fulfillment_repo.new_shipment_action(parcel)])
    return {"return_id": return_id, "order_id": order_id, "shipment_id": shipment_id}


def complete_exchange(order_id: str, return_id: str) -> dict[str, Any]:
    """The replacement is with the carrier: EXCHANGED (once)."""
    ret = _ret(order_id, return_id)
    repo.transition(ret, {R.SHIPPING_REPLACEMENT}, R.EXCHANGED, "replacement handed to the carrier")
    return {"return_id": return_id, "status": _ret(order_id, return_id).status.value}
