"""Labels through the carrier port on the local stack (issue 16 item 8): the order workflow's AwaitPickup step
(the label step merged into it, issue 17) first buys the label from the configured carrier (CARRIER, default the
local simulation), stores its PDF once in LabelsBucket and links it on the shipment, then opens the pickup task;
the carrier's pickup is booked with the label; warehouse staff get a short-lived link to the PDF
(GET /warehouse/shipments/{id}/label), shoppers do not. A retried label step (a crash after the document was
stored, a redelivered task) finds the same object. With a second carrier registered and selected, the same
workflow runs unchanged and only that carrier is asked."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from shop.config import Settings
from shop.fulfillment import carrier

from tests.factories import (
    DynamoFault,
    checkout,
    dynamodb_faults,
    entered_states,
    execution_arn,
    history,
    make_product,
    ok,
    order_view,
    pick_and_pack,
    put_in_cart,
    wait_for,
    wait_paid,
    wait_status,
)

pytestmark = [pytest.mark.workflow, pytest.mark.audited]  # the invariant audit runs around each test


def paid_order(stack: Any, admin: Any) -> tuple[Any, Any, str]:
    product = make_product(stack, admin.id_token, stock={"a": 3})
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    order_id = ok(checkout(stack, shopper.id_token), 201)["order_id"]
    wait_paid(stack, order_id)
    return shopper, product, order_id


def shipment_item(stack: Any, order_id: str, shipment_id: str) -> dict[str, Any]:
    from shop.dynamo import from_item

    raw = stack.client("dynamodb").get_item(TableName=stack.physical_id("OrdersTable"), ConsistentRead=True, Key={
        "pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": f"SHIPMENT#{shipment_id}"}})["Item"]
    return dict(from_item(raw))


def label_objects(stack: Any, order_id: str) -> list[dict[str, Any]]:
    listed = stack.client("s3").list_objects_v2(Bucket=stack.physical_id("LabelsBucket"), Prefix=f"labels/{order_id}/")
    return list(listed.get("Contents", []))


def wait_pickup_task_opened(stack: Any, order_id: str, shipment_id: str) -> dict[str, Any]:
    return dict(wait_for(lambda: (s := shipment_item(stack, order_id, shipment_id)).get("pickup") and s, 30,
                         f"the pickup of {shipment_id} to be booked"))


def end_workflow(stack: Any, shopper: Any, order_id: str, tracking: str) -> None:
    ok(stack.carrier_webhook(tracking, "delivered"))
    wait_status(stack, shopper.id_token, order_id, "DELIVERED")
    wait_for(lambda: stack.client("stepfunctions").describe_execution(
        executionArn=execution_arn(stack, order_id))["status"] == "SUCCEEDED", 30, "the order workflow to end")


def test_a_packed_parcel_has_one_label_document_that_warehouse_staff_can_open(stack, admin, staff):
    shopper, product, order_id = paid_order(stack, admin)
    pick_and_pack(stack, staff.id_token, order_id, product.warehouses[0])
    view = wait_for(lambda: (v := order_view(stack, shopper.id_token, order_id))["shipments"][0]["tracking_number"]
                    and v, 30, "the label")
    parcel = view["shipments"][0]
    shipment_id, tracking = parcel["shipment_id"], parcel["tracking_number"]
    assert tracking == carrier.tracking_number_for(shipment_id)  # the local carrier: today's simulation
    assert "label_key" not in parcel  # the shopper's view does not expose the warehouse's document

    stored = wait_pickup_task_opened(stack, order_id, shipment_id)
    key = f"labels/{order_id}/{shipment_id}.pdf"
    assert stored["label_key"] == key
    assert stored["pickup"]["confirmation"].startswith("PU") and stored["pickup"]["window_start"]
    [obj] = label_objects(stack, order_id)
    assert obj["Key"] == key

    answer = ok(stack.request("GET", f"/warehouse/shipments/{shipment_id}/label", token=staff.id_token))
    assert answer["shipment_id"] == shipment_id and answer["tracking_number"] == tracking
    assert answer["content_type"] == "application/pdf" and 0 < answer["expires_in_seconds"] <= 900
    pdf = requests.get(answer["url"], timeout=30)  # what the browser opens: the presigned URL
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and tracking.encode() in pdf.content
    assert b"(SHIP TO)" in pdf.content and b"(WEIGHT " in pdf.content

    # shoppers (even the parcel's own) get 403, strangers 401, unknown or unlabelled parcels 404 naming the id
    path = f"/warehouse/shipments/{shipment_id}/label"
    assert stack.request("GET", path, token=shopper.id_token).status == 403
    assert stack.request("GET", path).status == 401
    missing = stack.request("GET", "/warehouse/shipments/shp_nosuchorder_1/label", token=staff.id_token)
    assert missing.status == 404 and "shp_nosuchorder_1" in missing.json()["error"]["message"]
    assert stack.request("GET", "/warehouse/shipments/garbage/label", token=staff.id_token).status == 404

    # the label step delivered again (Step Functions delivers at least once): the same label, the same object
    again = stack.invoke("FulfillmentFunction", {"action": "create_label", "order_id": order_id,
                                                 "shipment_id": shipment_id})
    assert again["tracking_number"] == tracking
    [after] = label_objects(stack, order_id)
    assert (after["ETag"], after["LastModified"]) == (obj["ETag"], obj["LastModified"])
    end_workflow(stack, shopper, order_id, tracking)


def test_a_parcel_still_being_packed_has_no_label_yet(stack, admin, staff):
    shopper, product, order_id = paid_order(stack, admin)
    shipment_id = wait_for(lambda: order_view(stack, shopper.id_token, order_id)["shipments"], 30,
                           "the split")[0]["shipment_id"]
    early = stack.request("GET", f"/warehouse/shipments/{shipment_id}/label", token=staff.id_token)
    assert early.status == 404 and shipment_id in early.json()["error"]["message"]
    assert label_objects(stack, order_id) == []
    pick_and_pack(stack, staff.id_token, order_id, product.warehouses[0])
    tracking = wait_for(lambda: order_view(stack, shopper.id_token, order_id)["shipments"][0]["tracking_number"],
                        30, "the label")
    end_workflow(stack, shopper, order_id, tracking)


def test_the_sample_event_is_routed_and_answered(stack):
    """events/fulfillment_warehouse/shipment_label.json (`make invoke`): the sample's shipment does not exist."""
    event = json.loads((Path(__file__).resolve().parents[2] / "events" / "fulfillment_warehouse" /
                        "shipment_label.json").read_text())
    result = stack.invoke("WarehouseFunction", event)
    assert result["statusCode"] == 404, result
    assert "shp_sampleorderaaaaaaaaaaaaaaa_1" in json.loads(result["body"])["error"]["message"]


def test_a_label_step_that_fails_after_storing_the_document_is_retried_onto_the_same_object(stack, admin, staff):
    """The shipment's label write fails once (contention) after the PDF was stored: the workflow retries
    AwaitPickup, which buys the same label again and finds the document there: one object, linked once."""
    shopper, product, order_id = paid_order(stack, admin)

    def label_write(request: dict[str, Any]) -> bool:
        update = (request.get("TransactItems") or [{}])[0].get("Update") or {}
        return bool(update.get("Key", {}).get("pk", {}).get("S") == f"ORDER#{order_id}"
                    and "tracking_number" in str(update.get("ConditionExpression")))

    fault = DynamoFault("transact_write_items", "TransactionCanceledException", label_write,
                        reason="TransactionConflict")
    with dynamodb_faults(fault):
        pick_and_pack(stack, staff.id_token, order_id, product.warehouses[0])
        tracking = wait_for(lambda: order_view(stack, shopper.id_token, order_id)["shipments"][0]["tracking_number"],
                            30, "the label")
    assert fault.injected == 1
    events = history(stack, order_id)
    assert entered_states(events).count("AwaitPickup") == 1
    # the failed attempt, retried (the label is bought by the pickup step's own invocation: a lambda:invoke
    # step's failure is a TaskFailed)
    assert sum(1 for e in events if e.get("type") in ("LambdaFunctionFailed", "TaskFailed")) >= 1
    [obj] = label_objects(stack, order_id)
    shipment_id = order_view(stack, shopper.id_token, order_id)["shipments"][0]["shipment_id"]
    assert shipment_item(stack, order_id, shipment_id)["label_key"] == obj["Key"]
    end_workflow(stack, shopper, order_id, tracking)


# ---------------------------------------------------------------- a second carrier behind the same port
@dataclass
class RecordingCarrier:
    """A carrier that records what fulfillment asks of it (and answers like a real one would: its own
    tracking numbers, its own document)."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return "RecordingPost"

    def _record(self, what: str, about: str) -> None:
        with self.lock:
            self.calls.append((what, about))

    def buy_label(self, request: carrier.LabelRequest) -> carrier.PurchasedLabel:
        self._record("buy_label", request.shipment_id)
        number = "RC" + carrier.tracking_number_for(request.shipment_id)[2:]
        label = carrier.Label(carrier=self.name, tracking_number=number, tracking_url=f"https://rp.example/{number}",
                              zone="flat", cost=carrier.LocalCarrier(Settings()).buy_label(request).label.cost,
                              weight_grams=request.weight_grams)
        return carrier.PurchasedLabel(label=label, document=b"%PDF-1.4\n% recorded " + number.encode() + b"\n%%EOF\n")

    def tracking(self, tracking_number: str) -> carrier.Tracking:
        self._record("tracking", tracking_number)
        return carrier.Tracking(url=f"https://rp.example/track/{tracking_number}", status="label_created")

    def book_pickup(self, request: carrier.PickupRequest) -> carrier.PickupBooked:
        self._record("book_pickup", request.shipment_id)
        return carrier.PickupBooked(confirmation=f"RP-{request.tracking_number}", window_start=request.ready_at,
                                    window_end=request.ready_at)


@pytest.fixture
def recording(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingCarrier]:
    """CARRIER=recording for FulfillmentFunction (its environment in the local runtime) while the test runs."""
    recorder = RecordingCarrier()
    monkeypatch.setitem(carrier.CARRIERS, "recording", lambda settings: recorder)
    env = stack.invoker.spec("FulfillmentFunction").environment
    monkeypatch.setitem(env, "CARRIER", "recording")
    yield recorder


def test_the_workflow_talks_only_to_the_carrier_port(stack, admin, staff, recording):
    shopper, product, order_id = paid_order(stack, admin)
    pick_and_pack(stack, staff.id_token, order_id, product.warehouses[0])
    parcel = wait_for(lambda: (s := order_view(stack, shopper.id_token, order_id)["shipments"][0])["tracking_number"]
                      and s, 30, "the label")
    shipment_id, tracking = parcel["shipment_id"], parcel["tracking_number"]
    assert tracking.startswith("RC") and tracking != carrier.tracking_number_for(shipment_id)
    assert parcel["carrier"] == "RecordingPost" and parcel["tracking_url"] == f"https://rp.example/track/{tracking}"
    stored = wait_pickup_task_opened(stack, order_id, shipment_id)
    assert stored["pickup"]["confirmation"] == f"RP-{tracking}"
    assert recording.calls == [("buy_label", shipment_id), ("tracking", tracking), ("book_pickup", shipment_id)]

    answer = ok(stack.request("GET", f"/warehouse/shipments/{shipment_id}/label", token=staff.id_token))
    assert requests.get(answer["url"], timeout=30).content == b"%PDF-1.4\n% recorded " + tracking.encode() + \
        b"\n%%EOF\n"  # the carrier's own document, stored as it came

    end_workflow(stack, shopper, order_id, tracking)  # its tracking number drives the same webhook
    states = entered_states(history(stack, order_id))
    for state in ("PickAndPack", "AwaitPickup"):
        assert states.count(state) == 1, (state, states)
