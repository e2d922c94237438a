"""The published language of the shop's domain events: one model per EventBridge detail type, shared by the
producers (``shop.events.entry`` validates every detail against its model before it is published) and the
consumers (notifications, analytics, restock: ``parse_event`` reads the envelope and the detail types they
claim). docs/events.md tells the story; docs/events/<DetailType>.v<N>.json are the exported JSON Schemas.

A root module: it imports only other root modules (shop.models, shop.money), never a bounded context, so any
context may depend on it.

Compatibility rules:

- A model says what producers publish today: every key they always send is required (nullable where they
  send null); keys they send only sometimes are optional.
- Details are read tolerantly: a key a model does not declare is kept, not refused (``extra="allow"``), so
  adding an optional key is a compatible change within a version. Producers may not send undeclared keys
  (``undeclared_fields``; entry() refuses them), so the model stays the whole truth about what is sent.
- Removing or renaming a key, or changing its type or meaning, makes a new version: bump the model's
  ``VERSION`` and ``schema_version`` and export the schemas again (``python -m shoplocal events-schemas``).
  The files of earlier versions stay committed, and the contract tests feed their examples to every consumer
  that claims the type for as long as they stay.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from shop.models import Address, OrderId, SkuCode, Slug, Totals
from shop.money import Money

ORDERS_SOURCE = "shop.orders"
INVENTORY_SOURCE = "shop.inventory"

# what the producers' clocks write (seconds, or microseconds as in procurement and support), always UTC
UtcTimestamp = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")]


# ------------------------------------------------------------------------------------------------ examples
_EXAMPLE_ORDER = "ord_sampleorderaaaaaaaaaaaaaaa"
_EXAMPLE_SHIPMENT = "shp_sampleorderaaaaaaaaaaaaaaa_1"
_EXAMPLE_AT = "2026-11-24T09:00:02Z"
_ORDER_FIELDS: dict[str, Any] = {"order_id": _EXAMPLE_ORDER, "customer_id": "cus_sample0001",
                                 "email": "shopper@example.com", "occurred_at": _EXAMPLE_AT}


def _eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


_TOTALS = {"subtotal": _eur(4397), "discount": _eur(0), "shipping": _eur(490), "tax": _eur(835),
           "total": _eur(5232)}
_LINES = [{"sku": "MUG-BLUE-350", "product_id": "enamel-mug", "name": "Enamel mug, blue", "quantity": 2,
           "unit_price": _eur(1299)},
          {"sku": "C40-WALNUT", "product_id": "coaster-set", "name": "Walnut coaster set", "quantity": 1,
           "unit_price": _eur(1799)}]
_ITEMS = [{"sku": "MUG-BLUE-350", "name": "Enamel mug, blue", "quantity": 2}]
_PO_FIELDS: dict[str, Any] = {"po_id": "po_20261124_0001", "supplier_id": "mugs-and-more", "warehouse_id": "berlin",
              "status": "SUBMITTED", "auto": False, "occurred_at": "2026-11-24T09:00:02.000000Z",
              "lines": [{"sku": "MUG-BLUE-350", "quantity": 40, "unit_cost": _eur(450), "contract_id": "c-2026",
                         "received": 0, "returned": 0, "invoiced": 0}]}


def _example(detail_type: str, reference: str, suffix: str | None = None, **fields: Any) -> ConfigDict:
    """A detail as its producer publishes it (the schema's ``examples``; the contract tests feed it to every
    consumer that claims the type)."""
    key = f"{detail_type}:{reference}" + (f":{suffix}" if suffix else "")
    return ConfigDict(json_schema_extra={"examples": [{**fields, "dedupe_key": key}]})


# ------------------------------------------------------------------------------------------------ parts
class Part(BaseModel):
    """A nested object of a detail; read tolerantly like the detail itself. Its validator, like every detail's,
    is built on first use (once per process), not at import: a function uses a few of the contract's forty-odd
    models, and building them all was most of a consumer's cold import (issue 17)."""

    model_config = ConfigDict(extra="allow", defer_build=True)


class LineItem(Part):
    sku: SkuCode
    product_id: Slug
    name: str
    quantity: int = Field(gt=0)
    unit_price: Money


class ParcelItem(Part):
    sku: SkuCode
    name: str
    quantity: int = Field(gt=0)


class PlannedShipment(Part):
    shipment_id: str
    warehouse_id: Slug
    items: list[ParcelItem]


class PoLineState(Part):
    """A purchase order line as it stands after the change the event reports."""

    sku: SkuCode
    quantity: int = Field(gt=0)
    unit_cost: Money
    contract_id: str | None
    received: int = Field(ge=0)
    returned: int = Field(ge=0)
    invoiced: int = Field(ge=0, description="units of matched or settled invoices")


class SkuQuantity(Part):
    sku: SkuCode
    quantity: int = Field(gt=0)


# where a carrier left a delivered parcel (shop.fulfillment.models.LeftAt)
LeftAtValue = Literal["handed_to_recipient", "door", "neighbour", "parcel_shop", "parcel_locker", "mailbox",
                      "reception", "safe_place"]
_EXAMPLE_PROOF: dict[str, Any] = {"signed_by": "E. Mustermann", "left_at": "handed_to_recipient",
                                  "proof_url": "https://pod.carrier.example/JJD0001234567890.png",
                                  "signature_required": True, "signature_missing": False}

# what a three-way match can find (shop.procurement.matching); the HTTP answer's model uses the same kinds
DifferenceKind = Literal["unknown_sku", "quantity", "price", "currency", "duplicate_line", "not_invoiced"]


class InvoiceDifference(Part):
    sku: str | None = Field(description="null for a difference of the whole invoice")
    kind: DifferenceKind
    expected: Money | int | str = Field(description="units, a unit cost, or a currency code, as ``kind`` says")
    invoiced: Money | int | str
    message: str


# ------------------------------------------------------------------------------------------------ bases
class EventDetail(BaseModel):
    """What a consumer may rely on in the detail of any event of the bus, whatever its type (built on first
    use, as Part)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    dedupe_key: str = Field(min_length=1, description="identical for every publication of one fact: act once "
                                                      "per key (added by shop.events.entry)")


class UnclaimedDetail(EventDetail):
    """The detail of a type the consumer does not read (it answers that it has nothing to do): only the
    dedupe key and, when present, a well-formed order id are checked."""

    order_id: OrderId | None = None


class ContractDetail(EventDetail):
    """Base of the typed details: the fields every detail type carries."""

    VERSION: ClassVar[int] = 1
    SOURCE: ClassVar[str] = ORDERS_SOURCE

    schema_version: Literal[1] = Field(1, description="absent in version 1 details; sent from version 2 on")
    occurred_at: UtcTimestamp = Field(description="when the producer recorded the fact (ISO-8601 UTC)")


class OrderFact(ContractDetail):
    """A fact about one order, with the shopper it concerns."""

    order_id: OrderId
    customer_id: str
    email: str | None = Field(description="the shopper's address; null when the order has none")


# ------------------------------------------------------------------------------------------------ orders
class OrderPlaced(OrderFact):
    """Published once the order is stored and its stock reserved (the payment step starts; no email)."""

    model_config = _example("OrderPlaced", _EXAMPLE_ORDER, **_ORDER_FIELDS, totals=_TOTALS, lines=_LINES)

    totals: Totals
    lines: list[LineItem]


class OrderPaid(OrderFact):
    """Published when the payment succeeded and the order is PAID (order confirmation email)."""

    model_config = _example("OrderPaid", _EXAMPLE_ORDER, **_ORDER_FIELDS, totals=_TOTALS, lines=_LINES,
                            paid_at=_EXAMPLE_AT, payment_intent_id="pi_sample000000",
                            shipping_address={"name": "Erika Mustermann", "line1": "Hauptstrasse 5",
                                              "city": "Berlin", "postal_code": "10115", "country": "DE"})

    totals: Totals
    lines: list[LineItem]
    paid_at: str | None = Field(description="the PAID entry of the order's timeline")
    payment_intent_id: str | None
    shipping_address: Address = Field(description="null members are left out")


class PaymentFailed(OrderFact):
    """Published when the payment did not complete and the order is closed PAYMENT_FAILED, its stock released
    (payment failed email)."""

    model_config = _example("PaymentFailed", _EXAMPLE_ORDER, **_ORDER_FIELDS, reason="declined",
                            decline_code="insufficient_funds", total=_eur(5232))

    reason: str = Field(description="declined, authentication_timeout, error, ...")
    decline_code: str | None
    total: Money


class OrderSplit(OrderFact):
    """Published when the paid order is split into one shipment per warehouse (no email)."""

    model_config = _example("OrderSplit", _EXAMPLE_ORDER, **_ORDER_FIELDS, shipments=[
        {"shipment_id": _EXAMPLE_SHIPMENT, "warehouse_id": "berlin", "items": _ITEMS}])

    shipments: list[PlannedShipment]


class DeliveryOfParcel(Part):
    """One parcel's delivery with its proof (OrderDelivered ``deliveries``)."""

    shipment_id: str
    delivered_at: str | None
    signed_by: str | None = None
    left_at: LeftAtValue | None = None
    proof_url: str | None = None
    signature_required: bool = False
    signature_missing: bool = False


class OrderDelivered(OrderFact):
    """Published when the last shipment of the order is delivered (no email: each shipment had its own).

    Schema version 1, additive: ``deliveries`` (each parcel's proof of delivery) is sent since proof of delivery
    was recorded; details published before lack it."""

    model_config = _example("OrderDelivered", _EXAMPLE_ORDER, **_ORDER_FIELDS, delivered_at=_EXAMPLE_AT,
                            deliveries=[{"shipment_id": _EXAMPLE_SHIPMENT, "delivered_at": _EXAMPLE_AT,
                                         **_EXAMPLE_PROOF}])

    delivered_at: str = Field(description="as the carrier reported it")
    deliveries: list[DeliveryOfParcel] | None = Field(
        None, description="each parcel's delivery and proof; absent in details published before it was added")


class OrderCancelled(OrderFact):
    """Published when the order is cancelled (by the shopper, or because it could not be fulfilled), its
    stock released and what was charged refunded (cancellation email)."""

    model_config = _example("OrderCancelled", _EXAMPLE_ORDER, **_ORDER_FIELDS, reason="customer",
                            refund=_eur(5232))

    reason: str = Field(description="customer, fulfillment_failed, ...")
    refund: Money | None = Field(description="what this cancellation refunded (what was left after earlier staff "
                                             "refunds); null when nothing had been charged or nothing was left")


class RefundIssued(OrderFact):
    """Published when money went back to the shopper: a cancellation's refund (what was left of the charge), a
    return's or a staff refund (refund email)."""

    model_config = _example("RefundIssued", _EXAMPLE_ORDER, "ord_sampleorderaaaaaaaaaaaaaaa:full",
                            **_ORDER_FIELDS, refund_id="re_sample000000", amount=_eur(5232), reason="customer",
                            payment_intent_id="pi_sample000000")

    refund_id: str
    amount: Money
    reason: str
    payment_intent_id: str | None


class OrderNeedsAttention(OrderFact):
    """Published when the order's workflow ended in a failure a person must settle (NeedsAttention,
    PaymentNeedsAttention, ReleaseFailed, a timeout, an abort): the order keeps its status and is listed as
    needing attention until staff retry it (POST /admin/orders/{orderId}/retry). No shopper email."""

    model_config = _example("OrderNeedsAttention", _EXAMPLE_ORDER, "ord_sampleorderaaaaaaaaaaaaaaa", **_ORDER_FIELDS,
                            status="DISPATCHING", error="NeedsAttention",
                            cause="Fulfillment failed after a parcel was packed: the order needs a person.",
                            workflow_status="FAILED",
                            execution_arn="arn:aws:states:eu-central-1:123456789012:execution:orders:"
                                          "ord_sampleorderaaaaaaaaaaaaaaa")

    status: str = Field(description="the order's business status, unchanged by the failure")
    error: str = Field(description="the execution's error: NeedsAttention, PaymentNeedsAttention, ReleaseFailed, "
                                   "States.Timeout, ...")
    cause: str | None
    workflow_status: Literal["FAILED", "TIMED_OUT", "ABORTED"]
    execution_arn: str


# ------------------------------------------------------------------------------------------------ shipments
class ShipmentPacked(OrderFact):
    """Published when a parcel is packed and labelled: its stock left the shelf (shipment email with
    tracking)."""

    model_config = _example("ShipmentPacked", _EXAMPLE_ORDER, _EXAMPLE_SHIPMENT, **_ORDER_FIELDS,
                            shipment_id=_EXAMPLE_SHIPMENT, warehouse_id="berlin", carrier="DHL",
                            tracking_number="JJD0001234567890", tracking_url="https://track.example.com/JJD0001234567890",
                            package_weight_grams=950, shipping_cost=_eur(490), items=_ITEMS)

    shipment_id: str
    warehouse_id: Slug
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    package_weight_grams: int | None
    shipping_cost: Money | None
    items: list[ParcelItem]


class ShipmentShipped(OrderFact):
    """Published when the carrier picked the parcel up (no email)."""

    model_config = _example("ShipmentShipped", _EXAMPLE_ORDER, _EXAMPLE_SHIPMENT, **_ORDER_FIELDS,
                            shipment_id=_EXAMPLE_SHIPMENT, warehouse_id="berlin", carrier="DHL",
                            tracking_number="JJD0001234567890", tracking_url=None, shipped_at=_EXAMPLE_AT,
                            paid_at=_EXAMPLE_AT, units=2)

    shipment_id: str
    warehouse_id: Slug
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    shipped_at: str | None
    paid_at: str | None
    units: int = Field(ge=0, description="units in the parcel")


class _ShipmentTracking(OrderFact):
    shipment_id: str
    tracking_number: str | None
    description: str | None = Field(description="the carrier's text")
    location: str | None


class ShipmentInTransit(_ShipmentTracking):
    """Published for each in-transit scan the carrier reports (no email)."""

    model_config = _example("ShipmentInTransit", _EXAMPLE_ORDER, "cevt_0001", **_ORDER_FIELDS,
                            shipment_id=_EXAMPLE_SHIPMENT, tracking_number="JJD0001234567890",
                            description="Arrived at the sorting centre", location="Leipzig")


class ShipmentException(_ShipmentTracking):
    """Published when the carrier reports a delivery problem (delivery problem email)."""

    model_config = _example("ShipmentException", _EXAMPLE_ORDER, "cevt_0002", **_ORDER_FIELDS,
                            shipment_id=_EXAMPLE_SHIPMENT, tracking_number="JJD0001234567890",
                            description="Address not found", location="Berlin")


class ShipmentDelivered(OrderFact):
    """Published when the carrier reports a parcel delivered (delivered email)."""

    model_config = _example("ShipmentDelivered", _EXAMPLE_ORDER, _EXAMPLE_SHIPMENT, **_ORDER_FIELDS,
                            shipment_id=_EXAMPLE_SHIPMENT, warehouse_id="berlin", carrier="DHL",
                            tracking_number="JJD0001234567890", delivered_at=_EXAMPLE_AT, **_EXAMPLE_PROOF)

    shipment_id: str
    warehouse_id: Slug
    carrier: str | None
    tracking_number: str | None
    delivered_at: str | None = Field(description="as the carrier reported it")
    # schema version 1, additive (proof of delivery): sent since it was recorded; absent in details before
    signed_by: str | None = Field(None, description="the name the recipient signed with; null: nobody signed")
    left_at: LeftAtValue | None = Field(None, description="where the carrier left the parcel; null: not said")
    proof_url: str | None = Field(None, description="photo or signature image at the carrier (https)")
    signature_required: bool = Field(False, description="the order asked for a signature (its value)")
    signature_missing: bool = Field(False, description="required but not given: a DeliveryNeedsAttention follows")


class DeliveryNeedsAttention(OrderFact):
    """Published when a parcel of an order that asked for a signature (its value above the shop's threshold)
    was delivered without one: nobody signed, or it was not handed to the recipient. The order keeps its
    status and is listed under GET /admin/orders?status=NEEDS_ATTENTION. No shopper email."""

    model_config = _example("DeliveryNeedsAttention", _EXAMPLE_ORDER, _EXAMPLE_SHIPMENT, **_ORDER_FIELDS,
                            status="DELIVERED", shipment_id=_EXAMPLE_SHIPMENT, tracking_number="JJD0001234567890",
                            reason="delivered_without_signature",
                            cause="parcel shp_sampleorderaaaaaaaaaaaaaaa_1 was delivered without a signature "
                                  "(left at door); the order (EUR 249.00) asked for one",
                            total=_eur(24900), signed_by=None, left_at="door", proof_url=None)

    status: str = Field(description="the order's business status, unchanged")
    shipment_id: str
    tracking_number: str | None
    reason: Literal["delivered_without_signature"] = Field(
        description="delivered_without_signature: nobody signed, or the parcel was not handed to the recipient")
    cause: str = Field(description="what staff read")
    total: Money = Field(description="the order's total, which asked for the signature")
    signed_by: str | None
    left_at: LeftAtValue | None
    proof_url: str | None


# ------------------------------------------------------------------------------------------------ warehouse
class _WarehouseTask(ContractDetail):
    order_id: OrderId
    task_id: str
    kind: Literal["pick", "pack", "pickup", "return"]
    status: Literal["OPEN", "DONE", "CANCELLED"]
    shipment_id: str = Field(description="the return id for return tasks")
    warehouse_id: Slug
    created_at: str
    completed_at: str | None
    completed_by: str | None


_TASK: dict[str, Any] = {"order_id": _EXAMPLE_ORDER, "task_id": "tsk_sample0001", "kind": "pick",
                         "shipment_id": _EXAMPLE_SHIPMENT, "warehouse_id": "berlin", "created_at": _EXAMPLE_AT,
                         "occurred_at": _EXAMPLE_AT}


class WarehouseTaskOpened(_WarehouseTask):
    """Published when a pick, pack, pickup or return task is opened for the warehouse staff (no email)."""

    model_config = _example("WarehouseTaskOpened", _EXAMPLE_ORDER, "tsk_sample0001", **_TASK, status="OPEN",
                            completed_at=None, completed_by=None)


class WarehouseTaskCompleted(_WarehouseTask):
    """Published when a warehouse task is done, or cancelled with its order (no email)."""

    model_config = _example("WarehouseTaskCompleted", _EXAMPLE_ORDER, "tsk_sample0001", **_TASK, status="DONE",
                            completed_at=_EXAMPLE_AT, completed_by="staff-0001")


# ------------------------------------------------------------------------------------------------ inventory
class StockLow(ContractDetail):
    """Published when a stock level with a reorder quantity falls to its reorder point or below (available +
    incoming): after a sale, a stock count or adjustment, a return to the supplier, a closed purchase order.
    The Restock function consumes it."""

    SOURCE: ClassVar[str] = INVENTORY_SOURCE
    model_config = _example("StockLow", "C40-BLACK:berlin", "2", sku="C40-BLACK", warehouse_id="berlin",
                            available=2, incoming=0, reorder_point=3, reorder_quantity=10,
                            cause=f"order {_EXAMPLE_ORDER}", occurred_at=_EXAMPLE_AT)

    sku: SkuCode
    warehouse_id: Slug
    available: int = Field(ge=0)
    incoming: int = Field(ge=0)
    reorder_point: int = Field(ge=0)
    reorder_quantity: int = Field(ge=0)
    cause: str = Field(description="what changed the level")


class _PurchaseOrderFact(ContractDetail):
    """A fact about one purchase order, with the order as it stands after it."""

    SOURCE: ClassVar[str] = INVENTORY_SOURCE

    po_id: str
    supplier_id: Slug
    warehouse_id: Slug
    status: Literal["DRAFT", "SUBMITTED", "PARTIALLY_RECEIVED", "RECEIVED", "CLOSED", "CANCELLED"]
    auto: bool = Field(description="created by the automatic restock")
    lines: list[PoLineState]


class PurchaseOrderCreated(_PurchaseOrderFact):
    """Published when a draft purchase order is created, by an admin or by the automatic restock."""

    model_config = _example("PurchaseOrderCreated", "po_20261124_0001",
                            **{**_PO_FIELDS, "status": "DRAFT", "auto": True}, cause="restock", available=2,
                            reorder_point=3)

    cause: Literal["restock"] | None = Field(None, description="sent by the automatic restock only")
    available: int | None = Field(None, description="restock only: available units when it ordered")
    reorder_point: int | None = Field(None, description="restock only")


class PurchaseOrderSubmitted(_PurchaseOrderFact):
    """Published when a purchase order is sent to the supplier (its units count as incoming)."""

    model_config = _example("PurchaseOrderSubmitted", "po_20261124_0001", **_PO_FIELDS)


class GoodsReceived(_PurchaseOrderFact):
    """Published when a delivery of the supplier is received (once per delivery note)."""

    model_config = _example("GoodsReceived", "po_20261124_0001", "dn-0001",
                            **{**_PO_FIELDS, "status": "PARTIALLY_RECEIVED"},
                            receipt=[{"sku": "MUG-BLUE-350", "quantity": 10}])

    receipt: list[SkuQuantity]


class SupplierReturned(_PurchaseOrderFact):
    """Published when goods go back to the supplier (once per return note)."""

    model_config = _example("SupplierReturned", "po_20261124_0001", "rn-0001",
                            **{**_PO_FIELDS, "status": "RECEIVED"}, returned=[{"sku": "MUG-BLUE-350", "quantity": 1}],
                            reason="damaged")

    returned: list[SkuQuantity]
    reason: Literal["damaged", "wrong_item", "other"]


class _InvoiceRecorded(_PurchaseOrderFact):
    invoice_id: str
    differences: list[InvoiceDifference]


class InvoiceMatched(_InvoiceRecorded):
    """Published when a supplier invoice matches the purchase order and the receipts (three-way match)."""

    model_config = _example("InvoiceMatched", "po_20261124_0001", "inv-0001", **{**_PO_FIELDS, "status": "RECEIVED"},
                            invoice_id="inv-0001", differences=[])


class InvoiceDisputed(_InvoiceRecorded):
    """Published when a supplier invoice does not match: its differences are listed."""

    model_config = _example("InvoiceDisputed", "po_20261124_0001", "inv-0002", **{**_PO_FIELDS, "status": "RECEIVED"},
                            invoice_id="inv-0002", differences=[
                                {"sku": "MUG-BLUE-350", "kind": "price", "expected": _eur(450),
                                 "invoiced": _eur(480), "message": "SKU MUG-BLUE-350 is invoiced at 480 EUR per unit "
                                                                   "but the agreed cost is 450 EUR"}])


class InvoiceSettled(_PurchaseOrderFact):
    """Published when a matched invoice is paid (once)."""

    model_config = _example("InvoiceSettled", "po_20261124_0001", "inv-0001", **{**_PO_FIELDS, "status": "RECEIVED"},
                            invoice_id="inv-0001", amount=_eur(18000))

    invoice_id: str
    amount: Money = Field(description="the invoice's total")


# ------------------------------------------------------------------------------------------------ support
class TicketAnswered(ContractDetail):
    """Published when staff answer a support ticket (support answer email)."""

    model_config = _example("TicketAnswered", "tkt_0123456789abcdef0123", "msg_0123456789abcdef0123",
                            ticket_id="tkt_0123456789abcdef0123", subject="Where is my parcel?",
                            order_id=_EXAMPLE_ORDER, customer_id="cus_sample0001", email="shopper@example.com",
                            answer="Your parcel left our warehouse yesterday.",
                            answered_at="2026-11-26T14:30:00.000000Z", occurred_at="2026-11-26T14:30:00.000000Z")

    ticket_id: str
    subject: str
    order_id: OrderId | None = Field(description="null when the ticket is not about an order")
    customer_id: str
    email: str | None
    answer: str = Field(description="the staff message")
    answered_at: str


DETAIL_MODELS: dict[str, type[ContractDetail]] = {m.__name__: m for m in (
    OrderPlaced, OrderPaid, PaymentFailed, OrderSplit, ShipmentPacked, ShipmentShipped, ShipmentInTransit,
    ShipmentException, ShipmentDelivered, OrderDelivered, OrderCancelled, RefundIssued, WarehouseTaskOpened,
    WarehouseTaskCompleted, StockLow, PurchaseOrderCreated, PurchaseOrderSubmitted, GoodsReceived, SupplierReturned,
    InvoiceMatched, InvoiceDisputed, InvoiceSettled, TicketAnswered, OrderNeedsAttention,
    DeliveryNeedsAttention)}


def detail_model(detail_type: str) -> type[ContractDetail]:
    """The model of a detail type; KeyError for a type the bus does not carry."""
    return DETAIL_MODELS[detail_type]


def undeclared_fields(value: Any, path: str = "") -> list[str]:
    """Keys of a validated detail (or of its nested parts) that its model does not declare: read tolerantly
    by consumers, but a producer that sends one has drifted from the contract."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        found += [f"{path}{key}" for key in (value.model_extra or {})]
        for name in type(value).model_fields:
            found += undeclared_fields(getattr(value, name), f"{path}{name}.")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += undeclared_fields(item, f"{path}{i}.")
    return found


# ------------------------------------------------------------------------------------------------ envelope
class ShopEvent[DetailT: EventDetail](BaseModel):
    """An event of the shop's bus as EventBridge delivers it to a target, its detail typed. The fields of
    Powertools' EventBridgeModel, declared here: importing it builds every model of Powertools' parser
    (about a fifth of a bare boto3 import at each cold start of a consumer; issue 17)."""

    model_config = ConfigDict(populate_by_name=True)

    version: str
    id: str
    source: str
    account: str
    time: datetime
    region: str
    resources: list[str]
    detail_type: str = Field(alias="detail-type", min_length=1)
    detail: DetailT
    replay_name: str | None = Field(None, alias="replay-name")

    @field_validator("detail", mode="before")
    @classmethod
    def _scheduler_detail(cls, v: Any, info: ValidationInfo) -> Any:
        """EventBridge Scheduler sends an empty detail as the string '{}' (as Powertools' model reads it)."""
        return {} if info.data.get("source") == "aws.scheduler" and v == "{}" else v


class _DetailType(BaseModel):
    model_config = ConfigDict(extra="ignore")
    detail_type: str = Field(alias="detail-type", min_length=1)


def parse_event(event: Mapping[str, Any], claims: Collection[str] | None = None) -> ShopEvent[EventDetail]:
    """The envelope with its detail validated against its type's model when the consumer ``claims`` the type
    (None: every type of the contract), else as an :class:`UnclaimedDetail` (the consumer will ignore it).
    A malformed event raises pydantic's ValidationError (retrying cannot fix it)."""
    detail_type = _DetailType.model_validate(event).detail_type
    model: type[EventDetail] = UnclaimedDetail
    if detail_type in DETAIL_MODELS and (claims is None or detail_type in claims):
        model = DETAIL_MODELS[detail_type]
    return ShopEvent[model].model_validate(event)  # type: ignore[valid-type]


def consumer_view(detail: EventDetail) -> dict[str, Any]:
    """The parsed detail as the plain JSON object a consumer's rules read (keys as sent, values normalized)."""
    return detail.model_dump(mode="json", exclude_unset=True)


# ------------------------------------------------------------------------------------------------ JSON Schemas
def schema_file(detail_type: str, version: int | None = None) -> str:
    return f"{detail_type}.v{version or DETAIL_MODELS[detail_type].VERSION}.json"


def json_schema(detail_type: str) -> dict[str, Any]:
    """The JSON Schema of the current version of a detail type (what docs/events/ publishes)."""
    model = DETAIL_MODELS[detail_type]
    schema = model.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema_file(detail_type),
            **schema, "title": detail_type, "x-detail-type": detail_type, "x-source": model.SOURCE,
            "x-version": model.VERSION}


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every detail type's current version."""
    return {schema_file(t): json_schema(t) for t in sorted(DETAIL_MODELS)}
