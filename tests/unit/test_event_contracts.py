"""Contract tests of the domain events (shop.event_contracts): every detail type has a model and a committed
JSON Schema; each committed schema version's example is accepted by every consumer that claims the type
(notifications, analytics, restock: their parsing paths, no AWS); every producer builds details that meet
the contract; ``shop.events.entry`` refuses the ones that do not and publishes the others byte for byte."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from pydantic import ValidationError
from shop import event_contracts as contracts
from shop import events
from shop.analytics import facts
from shop.analytics import models as analytics_models
from shop.config import function_environment
from shop.fulfillment import event_details as fulfillment_details
from shop.fulfillment.models import Shipment, ShipmentItem, ShipmentStatus, TaskKind, TaskStatus, WarehouseTask
from shop.inventory import restock
from shop.models import Address, Allocation, StockLevel, Totals
from shop.money import Money
from shop.notifications import service as notifications
from shop.notifications.templates import render
from shop.orders import event_details
from shop.orders.models import Order, OrderLine, OrderStatus, TimelineEntry
from shop.procurement import matching
from shop.procurement import service as procurement
from shop.procurement.models import PoLine, PoStatus, PoSubmittedEvent, PurchaseOrder, QuantityLine, StockLowEvent

from shoplocal import event_schemas
from shoplocal.demo_day import generate_day
from shoplocal.template import load_yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "events"
COMMITTED = sorted(SCHEMAS.glob("*.json"))
FILE_NAME = re.compile(r"^(?P<type>[A-Za-z]+)\.v(?P<version>[1-9][0-9]*)\.json$")
TZ = ZoneInfo("Europe/Berlin")
BUS = {"EVENT_BUS_NAME": "shop-events-test"}


def envelope(detail_type: str, detail: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """The event as EventBridge hands it to a Lambda target."""
    return {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": detail_type,
            "source": source or contracts.DETAIL_MODELS[detail_type].SOURCE, "account": "123456789012",
            "time": "2026-11-24T09:00:02Z", "region": "eu-central-1", "resources": [], "detail": detail}


# ------------------------------------------------------------------------------------------------ consumers
def _notifications(detail_type: str, event: dict[str, Any]) -> None:
    parsed = notifications.parse_event(event)
    assert type(parsed.detail) is contracts.DETAIL_MODELS[detail_type]
    detail = contracts.consumer_view(parsed.detail)
    email = render(detail_type, detail)
    assert email is not None, detail_type
    reference = detail["ticket_id"] if detail_type == "TicketAnswered" else detail["order_id"]
    assert reference in email.subject or reference in email.text


def _analytics(detail_type: str, event: dict[str, Any]) -> None:
    parsed = analytics_models.parse_event(event)
    assert type(parsed.detail) is contracts.DETAIL_MODELS[detail_type]
    fact = facts.fact_for(detail_type, contracts.consumer_view(parsed.detail), TZ)
    assert fact is not None, detail_type


def _restock(detail_type: str, event: dict[str, Any]) -> None:
    if detail_type == "PurchaseOrderSubmitted":  # the PO e-mailed to its supplier
        assert PoSubmittedEvent.model_validate(event).detail.po_id == event["detail"]["po_id"]
        return
    parsed = StockLowEvent.model_validate(event)
    assert parsed.detail.sku == event["detail"]["sku"]


# consumer -> (the detail types it claims, its parsing path)
CONSUMERS: dict[str, tuple[frozenset[str], Callable[[str, dict[str, Any]], None]]] = {
    "notifications": (frozenset(notifications.CLAIMS), _notifications),
    "analytics": (frozenset(facts.RECORDED), _analytics),
    "restock": (frozenset({"StockLow", "PurchaseOrderSubmitted"}), _restock),
}
# the function each consumer runs in, whose bus rule must deliver exactly what it claims
FUNCTIONS = {"notifications": "NotificationsFunction", "analytics": "AnalyticsFunction", "restock": "RestockFunction"}


def consume(detail_type: str, detail: dict[str, Any], source: str | None = None) -> list[str]:
    """Feed the event to every consumer that claims its type; the names of those consumers."""
    claimed = []
    for name, (claims, check) in CONSUMERS.items():
        if detail_type in claims:
            check(detail_type, envelope(detail_type, detail, source))
            claimed.append(name)
    return claimed


def schema_of(detail_type: str, version: int | None = None) -> dict[str, Any]:
    return json.loads((SCHEMAS / contracts.schema_file(detail_type, version)).read_text())


def conforms(detail_type: str, detail: dict[str, Any]) -> None:
    """The detail meets the current model (nothing undeclared) and the committed JSON Schema."""
    parsed = contracts.DETAIL_MODELS[detail_type].model_validate(detail)
    assert contracts.undeclared_fields(parsed) == []
    jsonschema.Draft202012Validator(schema_of(detail_type)).validate(detail)


# ------------------------------------------------------------------------------------------------ the catalogue
def test_every_detail_type_has_a_model_a_docstring_an_example_and_a_schema_file():
    assert events.DETAIL_TYPES == set(contracts.DETAIL_MODELS)
    assert len(contracts.DETAIL_MODELS) == 25  # OrderNeedsAttention (staff operations) is the 24th,
    # DeliveryNeedsAttention (proof of delivery) the 25th
    for detail_type, model in contracts.DETAIL_MODELS.items():
        assert model.__name__ == detail_type
        assert model.__doc__ and model.__doc__.startswith("Published "), detail_type
        assert model.VERSION == model.model_fields["schema_version"].default
        assert model.model_json_schema()["examples"], detail_type
        assert (SCHEMAS / f"{detail_type}.v{model.VERSION}.json").is_file(), detail_type
    for path in COMMITTED:
        found = FILE_NAME.match(path.name)
        assert found, f"{path.name}: not <DetailType>.v<N>.json"
        assert found["type"] in contracts.DETAIL_MODELS, path.name
        assert int(found["version"]) <= contracts.DETAIL_MODELS[found["type"]].VERSION, path.name


def test_the_committed_schemas_are_current():
    current = event_schemas.schemas()
    for name, schema in current.items():
        committed = json.loads((SCHEMAS / name).read_text())
        assert committed == json.loads(event_schemas.render(schema)), \
            f"{name}: run `python -m shoplocal events-schemas` and commit docs/events/"
        jsonschema.Draft202012Validator.check_schema(committed)


def test_docs_link_every_schema_file():
    text = (ROOT / "docs" / "events.md").read_text()
    for path in COMMITTED:
        assert f"events/{path.name}" in text, path.name


def test_the_contracts_module_imports_only_root_modules():
    tree = ast.parse(Path(contracts.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    ours = {m for m in imported if m == "shop" or m.startswith("shop.")}
    assert ours <= {"shop.models", "shop.money"}, ours


def test_the_bus_rules_deliver_to_each_consumer_what_it_claims():
    resources = load_yaml(ROOT / "template.yaml")["Resources"]
    for name, function in FUNCTIONS.items():
        claims = CONSUMERS[name][0]
        patterns = [e["Properties"]["Pattern"] for e in resources[function]["Properties"]["Events"].values()
                    if e["Type"] == "EventBridgeRule"]
        assert len(patterns) == 1, function
        assert set(patterns[0]["detail-type"]) == claims, function
        assert {contracts.DETAIL_MODELS[t].SOURCE for t in claims} <= set(patterns[0]["source"]), function


# ------------------------------------------------------------------------------------------------ consumers
@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem)
def test_each_committed_version_example_is_accepted_by_every_consumer_claiming_it(path):
    schema = json.loads(path.read_text())
    detail_type = schema["x-detail-type"]
    assert schema["examples"], path.name
    for example in schema["examples"]:
        jsonschema.Draft202012Validator(schema).validate(example)
        consume(detail_type, example, schema["x-source"])


def test_a_claimed_type_is_read_against_its_contract_an_unclaimed_one_is_not():
    detail = dict(contracts.OrderPaid.model_json_schema()["examples"][0])
    del detail["totals"]
    with pytest.raises(ValidationError):
        notifications.parse_event(envelope("OrderPaid", detail))
    with pytest.raises(ValidationError):
        analytics_models.parse_event(envelope("OrderPaid", detail))
    # OrderSplit: no email, not in the reports; only the dedupe key and the order id are checked
    relabelled = notifications.parse_event(envelope("OrderSplit", detail))
    assert isinstance(relabelled.detail, contracts.UnclaimedDetail)
    assert render("OrderSplit", contracts.consumer_view(relabelled.detail)) is None
    with pytest.raises(ValidationError):
        notifications.parse_event(envelope("OrderSplit", {**detail, "order_id": "not an order"}))


def test_consumers_read_unknown_keys_tolerantly():
    detail = {**contracts.ShipmentPacked.model_json_schema()["examples"][0], "parcel_colour": "brown"}
    parsed = notifications.parse_event(envelope("ShipmentPacked", detail))
    assert contracts.consumer_view(parsed.detail)["parcel_colour"] == "brown"
    assert contracts.undeclared_fields(parsed.detail) == ["parcel_colour"]  # what entry() refuses


def test_the_sample_events_meet_the_contract():
    """events/ holds the sample events of `python -m shoplocal invoke` and of the tests: fakes of producers."""
    checked = 0
    for path in sorted((ROOT / "events").rglob("*.json")):
        event = json.loads(path.read_text())
        if isinstance(event, dict) and event.get("detail-type") in contracts.DETAIL_MODELS:
            assert event["source"] == contracts.DETAIL_MODELS[event["detail-type"]].SOURCE, path
            conforms(event["detail-type"], event["detail"])
            assert consume(event["detail-type"], event["detail"]), path
            checked += 1
    assert checked >= 10


def test_the_demo_day_events_meet_the_contract():
    day_events, _ = generate_day(date(2026, 3, 10), 12, 3, [("MUG-1", "mug"), ("CUP-2", "cup"), ("BOWL-3", "bowl")], TZ)
    seen = set()
    for event in day_events:
        conforms(event["detail-type"], event["detail"])
        consume(event["detail-type"], event["detail"], event["source"])
        seen.add(event["detail-type"])
    assert {"OrderPlaced", "OrderPaid", "ShipmentShipped", "StockLow"} <= seen


# ------------------------------------------------------------------------------------------------ producers
def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


AT = "2026-11-24T09:00:02Z"
ORDER_ID = "ord_abcdefghijklmnopqrstuvwxyz"


def order(*, bare: bool = False) -> Order:
    """A paid order as the orders repository returns it; ``bare``: every optional part absent."""
    address = Address(name="Erika Mustermann", line1="Hauptstrasse 5", city="Berlin", postal_code="10115",
                      country="DE", **({} if bare else {"line2": "Hinterhaus", "region": "BE"}))
    return Order(
        order_id=ORDER_ID, customer_id="cus_1", email=None if bare else "shopper@example.com",
        status=OrderStatus.PAID,
        lines=[OrderLine(sku="MUG-BLUE-350", product_id="enamel-mug", name="Enamel mug", quantity=2,
                         unit_price=eur(1299), weight_grams=350, allocations=[Allocation(warehouse_id="berlin",
                                                                                         quantity=2)],
                         discount=None if bare else eur(100))],
        totals=Totals(subtotal=eur(2598), discount=eur(0), shipping=eur(490), tax=eur(0), total=eur(3088)),
        shipping_address=address, payment_method_id="pm_card_visa",
        payment_intent_id=None if bare else "pi_1", decline_code=None if bare else "insufficient_funds",
        created_at=AT, updated_at=AT, reservation_expires_at=1_800_000_000,
        timeline=[] if bare else [TimelineEntry(at=AT, status="PAID")])


def shipment(*, bare: bool = False) -> Shipment:
    tracked = {} if bare else {"carrier": "DHL", "tracking_number": "JJD0001", "package_weight_grams": 950,
                               "tracking_url": "https://track.example.com/JJD0001", "shipping_cost": eur(490),
                               "shipped_at": AT, "delivered_at": AT}
    return Shipment(shipment_id=f"shp_{ORDER_ID[4:]}_1", order_id=ORDER_ID, warehouse_id="berlin",
                    status=ShipmentStatus.PACKED, created_at=AT, updated_at=AT,
                    items=[ShipmentItem(sku="MUG-BLUE-350", name="Enamel mug", quantity=2, weight_grams=350)],
                    **tracked)


def task(*, bare: bool = False) -> WarehouseTask:
    done = {} if bare else {"status": TaskStatus.DONE, "completed_at": AT, "completed_by": "staff-1",
                            "result": {"picked": 2}}
    return WarehouseTask(**{"task_id": "tsk_1", "kind": TaskKind.PICK, "status": TaskStatus.OPEN,
                            "order_id": ORDER_ID, "shipment_id": f"shp_{ORDER_ID[4:]}_1", "warehouse_id": "berlin",
                            "checklist": [], "created_at": AT, "instructions": "pick", **done})


ORDER_BUILDERS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "order_placed": lambda bare: event_details.order_placed(order(bare=bare)),
    "order_paid": lambda bare: event_details.order_paid(order(bare=bare)),
    "payment_failed": lambda bare: event_details.payment_failed(order(bare=bare), "declined"),
    "order_split": lambda bare: fulfillment_details.order_split(order(bare=bare), [shipment(bare=bare)]),
    "shipment_packed": lambda bare: fulfillment_details.shipment_packed(order(bare=bare), shipment(bare=bare)),
    "shipment_shipped": lambda bare: fulfillment_details.shipment_shipped(order(bare=bare), shipment(bare=bare)),
    "shipment_tracking": lambda bare: fulfillment_details.shipment_tracking(
        "ShipmentException" if bare else "ShipmentInTransit", order(bare=bare), shipment(bare=bare), "cevt_1",
        None if bare else "Arrived at the sorting centre", None if bare else "Leipzig"),
    "shipment_delivered": lambda bare: fulfillment_details.shipment_delivered(order(bare=bare), shipment(bare=bare)),
    "order_delivered": lambda bare: event_details.order_delivered(order(bare=bare), AT),
    "order_cancelled": lambda bare: event_details.order_cancelled(order(bare=bare), "customer",
                                                                  None if bare else eur(3088)),
    "refund_issued": lambda bare: event_details.refund_issued(order(bare=bare), "re_1", eur(3088), "return",
                                                              f"{ORDER_ID}:full"),
    "task_changed": lambda bare: fulfillment_details.task_changed(
        "WarehouseTaskOpened" if bare else "WarehouseTaskCompleted", task(bare=bare)),
}


def test_every_builder_of_the_order_and_shipment_events_is_covered():
    helpers = {"base", "lines", "paid_at", "items", "occurred_now"}
    public = {n for module in (event_details, fulfillment_details) for n, f in vars(module).items()
              if callable(f) and getattr(f, "__module__", None) == module.__name__ and not n.startswith("_")}
    assert public - helpers == set(ORDER_BUILDERS)


def published(entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Check an entry as shop.events.publish sends it: the model's source, a detail that meets the contract."""
    detail_type = entry["DetailType"]
    assert entry["Source"] == contracts.DETAIL_MODELS[detail_type].SOURCE
    assert entry["EventBusName"] == BUS["EVENT_BUS_NAME"]
    detail = json.loads(entry["Detail"])
    conforms(detail_type, detail)
    assert detail["dedupe_key"].startswith(f"{detail_type}:")
    return detail_type, detail


@pytest.mark.parametrize("bare", [False, True], ids=["complete", "bare"])
@pytest.mark.parametrize("builder", sorted(ORDER_BUILDERS))
def test_order_event_builders_produce_details_that_every_consumer_accepts(builder, bare):
    with function_environment(BUS):
        detail_type, detail = published(ORDER_BUILDERS[builder](bare))
    consume(detail_type, detail)


def purchase_order(status: PoStatus = PoStatus.RECEIVED) -> PurchaseOrder:
    return PurchaseOrder(po_id="po_20261124_0001", supplier_id="mugs-and-more", warehouse_id="berlin", status=status,
                         lines=[PoLine(sku="MUG-BLUE-350", quantity=40, unit_cost=eur(450), contract_id="c-1",
                                       received=10), PoLine(sku="CUP-2", quantity=5, unit_cost=eur(300))],
                         currency="EUR", auto=True, created_at=AT, updated_at=AT)


def invoice_differences() -> list[dict[str, Any]]:
    """A disputed match with every kind of difference the invoice matching reports."""
    result = matching.match(
        [matching.PoLine(sku="MUG-BLUE-350", ordered=40, unit_cost=eur(450)),
         matching.PoLine(sku="CUP-2", ordered=5, unit_cost=eur(300))],
        {"MUG-BLUE-350": 10, "CUP-2": 5},
        [matching.InvoiceLine(sku="MUG-BLUE-350", quantity=12, unit_price=eur(480)),
         matching.InvoiceLine(sku="MUG-BLUE-350", quantity=1, unit_price=eur(450)),
         matching.InvoiceLine(sku="GONE-1", quantity=1, unit_price=eur(100)),
         matching.InvoiceLine(sku="CUP-2", quantity=5, unit_price=Money(amount=300, currency="USD"))])
    differences = result.to_dict()["differences"]
    assert {d["kind"] for d in differences} >= {"quantity", "price", "unknown_sku", "currency", "duplicate_line"}
    return differences


PROCUREMENT_EVENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "PurchaseOrderCreated": lambda: procurement._event("PurchaseOrderCreated", purchase_order(PoStatus.DRAFT)),
    "PurchaseOrderCreated (restock)": lambda: procurement._event(
        "PurchaseOrderCreated", purchase_order(PoStatus.DRAFT), cause="restock", available=2, reorder_point=3),
    "PurchaseOrderSubmitted": lambda: procurement._event("PurchaseOrderSubmitted", purchase_order(PoStatus.SUBMITTED)),
    "GoodsReceived": lambda: procurement._event(
        "GoodsReceived", purchase_order(), "dn-0001",
        receipt=[QuantityLine(sku="MUG-BLUE-350", quantity=10).model_dump()]),
    "SupplierReturned": lambda: procurement._event(
        "SupplierReturned", purchase_order(), "rn-0001",
        returned=[QuantityLine(sku="MUG-BLUE-350", quantity=1).model_dump()], reason="wrong_item"),
    "InvoiceMatched": lambda: procurement._event("InvoiceMatched", purchase_order(), "inv-1", invoice_id="inv-1",
                                                 differences=[]),
    "InvoiceDisputed": lambda: procurement._event("InvoiceDisputed", purchase_order(), "inv-2", invoice_id="inv-2",
                                                  differences=invoice_differences()),
    "InvoiceSettled": lambda: procurement._event("InvoiceSettled", purchase_order(), "inv-1", invoice_id="inv-1",
                                                 amount={"amount": 4500, "currency": "EUR"}),
    "StockLow": lambda: restock.stock_low(StockLevel(sku="MUG-BLUE-350", warehouse_id="berlin", on_hand=2,
                                                     available=1, reserved=1, reorder_point=3, reorder_quantity=10),
                                          f"order {ORDER_ID}"),
}


@pytest.mark.parametrize("name", sorted(PROCUREMENT_EVENTS))
def test_inventory_events_meet_the_contract(name):
    with function_environment(BUS):
        detail_type, detail = published(PROCUREMENT_EVENTS[name]())
    assert detail_type == name.split(" ")[0]
    consume(detail_type, detail)


# ------------------------------------------------------------------------------------------------ entry()
def test_entry_publishes_the_detail_as_built_with_its_dedupe_key():
    detail = {k: v for k, v in contracts.OrderDelivered.model_json_schema()["examples"][0].items()
              if k != "dedupe_key"}
    with function_environment(BUS):
        entry = events.entry("OrderDelivered", detail)
    assert entry["Detail"] == json.dumps({**detail, "dedupe_key": f"OrderDelivered:{detail['order_id']}"},
                                         sort_keys=True, default=str)
    assert entry["Source"] == "shop.orders" and entry["DetailType"] == "OrderDelivered"


@pytest.mark.parametrize("breakage", ["unknown_type", "missing_field", "wrong_type", "undeclared_field",
                                      "undeclared_nested_field", "wrong_source", "bad_order_id", "no_reference"])
def test_entry_refuses_a_detail_that_breaks_its_contract(breakage):
    detail = {k: v for k, v in contracts.OrderPaid.model_json_schema()["examples"][0].items() if k != "dedupe_key"}
    detail = json.loads(json.dumps(detail))
    detail_type, kwargs = "OrderPaid", {}
    if breakage == "unknown_type":
        detail_type = "OrderTeleported"
    elif breakage == "missing_field":
        del detail["payment_intent_id"]
    elif breakage == "wrong_type":
        detail["totals"]["total"]["amount"] = "52.32"
    elif breakage == "undeclared_field":
        detail["coupon"] = "WELCOME10"
    elif breakage == "undeclared_nested_field":
        detail["lines"][0]["colour"] = "blue"
    elif breakage == "wrong_source":
        kwargs = {"source": events.INVENTORY_SOURCE}
    elif breakage == "bad_order_id":
        detail["order_id"] = "o-1"
    else:
        del detail["order_id"]
    with function_environment(BUS), pytest.raises(events.InvalidEventDetail):
        events.entry(detail_type, detail, **kwargs)
