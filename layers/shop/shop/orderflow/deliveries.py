"""Delivery exceptions: a parcel of an order that asked for a signature, delivered without one.

The order records at checkout whether its value asks for the recipient's signature (``signature_required``,
SIGNATURE_REQUIRED_ABOVE); fulfillment judges each ``delivered`` carrier event against it and keeps the finding
with the parcel's proof of delivery (shop.fulfillment.service.delivery_proof: nobody signed, or the parcel was
not handed to the recipient). Here such a finding reaches staff the way a failed workflow does
(shop.orderflow.attention): the order keeps its status (the goods did arrive somewhere; the return window
runs) and gets an ``attention`` of kind ``delivery`` with a marker in the NEEDS_ATTENTION partition, listed by
GET /admin/orders?status=NEEDS_ATTENTION, and DeliveryNeedsAttention is published.

Once per parcel: the attention's ``reference`` is ``delivery:<shipment_id>`` and the marking is conditional on
it (orders.repository.mark_attention), so the same report again (a redelivered webhook, another ``delivered``
event for the parcel) changes nothing and publishes nothing. A redelivery after a crash between the parcel's
write and the mark finds the finding on the parcel and marks it then.
"""

from __future__ import annotations

from typing import Any

from shop import events as shop_events
from shop.fulfillment import repository as fulfillment_repo
from shop.fulfillment.models import Shipment
from shop.money import format_money
from shop.orders import event_details
from shop.orders import repository as orders_repo
from shop.orders.models import Order
from shop.orders.ports import ports as order_ports

PUBLISHED = shop_events.require("DeliveryNeedsAttention")
REASON = "delivered_without_signature"
ERROR = "DeliveryException"


def reference(shipment_id: str) -> str:
    return f"delivery:{shipment_id}"


def cause(order: Order, shipment: Shipment) -> str:
    proof = shipment.delivery_proof
    where = proof.left_at.value.replace("_", " ") if proof and proof.left_at else "no place given"
    who = f"signed by {proof.signed_by}" if proof and proof.signed_by else "nobody signed"
    total = order.totals.total
    return (f"parcel {shipment.shipment_id} was delivered without the signature the order "
            f"({format_money(total.amount, total.currency)}) asked for: {who}, left at: {where}")


def attention_of(order: Order, shipment: Shipment, at: str) -> dict[str, Any]:
    return {"kind": "delivery", "error": ERROR, "reason": REASON, "cause": cause(order, shipment),
            "shipment_id": shipment.shipment_id, "reference": reference(shipment.shipment_id), "at": at}


def needs_attention(order: Order, shipment: Shipment, attention: dict[str, Any]) -> dict[str, Any]:
    proof = shipment.proof_fields()
    return shop_events.entry("DeliveryNeedsAttention", {
        **event_details.base(order), "status": order.status.value, "shipment_id": shipment.shipment_id,
        "tracking_number": shipment.tracking_number, "reason": REASON, "cause": attention["cause"],
        "total": order.totals.total.model_dump(), "signed_by": proof["signed_by"], "left_at": proof["left_at"],
        "proof_url": proof["proof_url"]}, dedupe_suffix=shipment.shipment_id)


def on_delivered(order_id: str, shipment_id: str) -> bool:
    """A parcel reported delivered without the signature its order asked for (fulfillment's finding): mark the
    order as needing attention and publish DeliveryNeedsAttention, once per parcel. True when marked now."""
    order, shipments = fulfillment_repo.order_items(order_id)  # one consistent read
    shipment = next((s for s in shipments if s.shipment_id == shipment_id), None)
    if order is None or shipment is None or shipment.delivery_proof is None \
            or not shipment.delivery_proof.signature_missing:
        return False
    attention = attention_of(order, shipment, orders_repo.now_iso())
    if not orders_repo.mark_attention(order, attention):
        return False
    order_ports.events.publish(needs_attention(order, shipment, attention))
    return True
