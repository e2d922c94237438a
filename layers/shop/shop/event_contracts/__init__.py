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

The detail types' models live in one module per family (orders, shipments, warehouse, procurement, support:
``shop/event_contracts/<family>.py``), defined when a type of the family is first needed, not with this module:
a producer declares the types it publishes (``shop.events.require``) and a consumer the types it claims
(:func:`define`), both at their import, so a function defines the models of the few types it handles (defining
all of them was most of this module's share of every cold start; issue 17). ``DETAIL_MODELS`` and the module's
attributes (``event_contracts.OrderPaid``) load a family on first access.
"""

import importlib
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from shop.models import OrderId, SkuCode

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

class ParcelItem(Part):
    sku: SkuCode
    name: str
    quantity: int = Field(gt=0)

# where a carrier left a delivered parcel (shop.fulfillment.models.LeftAt)
LeftAtValue = Literal["handed_to_recipient", "door", "neighbour", "parcel_shop", "parcel_locker", "mailbox",
                      "reception", "safe_place"]
_EXAMPLE_PROOF: dict[str, Any] = {"signed_by": "E. Mustermann", "left_at": "handed_to_recipient",
                                  "proof_url": "https://pod.carrier.example/JJD0001234567890.png",
                                  "signature_required": True, "signature_missing": False}

# what a three-way match can find (shop.procurement.matching); the HTTP answer's model uses the same kinds
DifferenceKind = Literal["unknown_sku", "quantity", "price", "currency", "duplicate_line", "not_invoiced"]


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


# ------------------------------------------------------------------------------------------------ detail types
# every detail type the bus carries -> the family module that defines its model (the order is the export's)
_DETAIL_TYPES: dict[str, str] = {
    "OrderPlaced": "orders", "OrderPaid": "orders", "PaymentFailed": "orders", "OrderSplit": "orders",
    "ShipmentPacked": "shipments", "ShipmentShipped": "shipments", "ShipmentInTransit": "shipments",
    "ShipmentException": "shipments", "ShipmentDelivered": "shipments", "OrderDelivered": "orders",
    "OrderCancelled": "orders", "RefundIssued": "orders", "WarehouseTaskOpened": "warehouse",
    "WarehouseTaskCompleted": "warehouse", "StockLow": "warehouse", "PurchaseOrderCreated": "procurement",
    "PurchaseOrderSubmitted": "procurement", "GoodsReceived": "procurement", "SupplierReturned": "procurement",
    "InvoiceMatched": "procurement", "InvoiceDisputed": "procurement", "InvoiceSettled": "procurement",
    "TicketAnswered": "support", "OrderNeedsAttention": "orders", "DeliveryNeedsAttention": "shipments",
}
# the parts defined with a family (importable from this module like the detail types)
_PARTS: dict[str, str] = {"LineItem": "orders", "PlannedShipment": "orders", "DeliveryOfParcel": "orders",
                          "PoLineState": "procurement", "SkuQuantity": "procurement",
                          "InvoiceDifference": "procurement"}


def _family_member(name: str, family: str) -> type[BaseModel]:
    member: type[BaseModel] = getattr(importlib.import_module(f"{__name__}.{family}"), name)
    return member


class _DetailModels(Mapping[str, type["ContractDetail"]]):
    """Detail type -> its model, the type's family imported on first access (membership needs no import)."""

    def __getitem__(self, detail_type: str) -> type["ContractDetail"]:
        model = _family_member(detail_type, _DETAIL_TYPES[detail_type])
        assert issubclass(model, ContractDetail)
        return model

    def __contains__(self, detail_type: object) -> bool:
        return detail_type in _DETAIL_TYPES

    def __iter__(self) -> Iterator[str]:
        return iter(_DETAIL_TYPES)

    def __len__(self) -> int:
        return len(_DETAIL_TYPES)


DETAIL_MODELS: Mapping[str, type["ContractDetail"]] = _DetailModels()


def define(detail_types: Iterable[str]) -> None:
    """Define the models of these detail types now: a producer or consumer calls it at its import with the types
    it handles, so the first event it publishes or reads finds them defined. KeyError for a type the bus does not
    carry (a typo fails the import, not the first event)."""
    for family in sorted({_DETAIL_TYPES[t] for t in detail_types}):
        importlib.import_module(f"{__name__}.{family}")


def __getattr__(name: str) -> Any:
    """``event_contracts.OrderPaid`` and ``from shop.event_contracts import OrderPaid``: the family's class."""
    family = _DETAIL_TYPES.get(name) or _PARTS.get(name)
    if family is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _family_member(name, family)


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

    # built per detail type when a consumer first parses one (ShopEvent[<detail model>]); the generic itself is
    # never validated, so building it at import was wasted on every function that publishes or consumes events
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

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
    model_config = ConfigDict(extra="ignore", defer_build=True)  # consumers only (issue 17): publishers never parse
    detail_type: str = Field(alias="detail-type", min_length=1)


def parse_event(event: Mapping[str, Any], claims: Collection[str] | None = None) -> "ShopEvent[EventDetail]":
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
