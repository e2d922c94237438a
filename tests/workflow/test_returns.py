"""The returns workflow (statemachines/returns.asl.json) executed by moto's ASL engine, and the rules of a return
request: only delivered lines, only within the window, never more than delivered; every step run twice
changes nothing more (one restock, one refund)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from shoplocal.stack import ROOT, STRIPE_KEY
from tests.factories import (
    checkout,
    deliver,
    entered_states,
    make_product,
    ok,
    open_task,
    order_view,
    put_in_cart,
    stock_of,
    wait_for,
    wait_paid,
)

pytestmark = pytest.mark.workflow


def delivered_order(stack: Any, admin: Any, staff: Any, quantity: int = 2) -> tuple[Any, str, Any]:
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 5}, price=2000)
    put_in_cart(stack, shopper.id_token, product.skus[0], quantity)
    order_id = ok(checkout(stack, shopper.id_token), 201)["order_id"]
    wait_paid(stack, order_id)
    deliver(stack, staff.id_token, shopper.id_token, order_id, product.warehouses[0])
    return shopper, order_id, product


def test_only_delivered_lines_within_the_window_and_never_more_than_delivered(stack, admin, staff):
    from shop.api import http_status
    from shop.config import function_environment
    from shop.returns import service
    from shop.returns.models import ReturnIn

    shopper, order_id, product = delivered_order(stack, admin, staff)
    sku = product.skus[0]
    unknown = stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token,
                            json={"lines": [{"sku": "NOT-IN-ORDER", "quantity": 1, "reason": "other"}]})
    assert unknown.status == 422 and unknown.json()["error"]["details"]["fields"][0]["field"] == "body.lines.0.sku"
    bad_reason = stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token,
                               json={"lines": [{"sku": sku, "quantity": 1, "reason": "bored"}]})
    assert bad_reason.status == 422
    body = ReturnIn.model_validate({"lines": [{"sku": sku, "quantity": 1, "reason": "damaged"}]})
    with function_environment(stack.function_env("OrdersFunction")), pytest.raises(Exception) as late:
        service.request_return(order_id, shopper.user_id, body, now=datetime.now(UTC) + timedelta(days=31))
    assert type(late.value).__name__ == "ReturnWindowClosed" and http_status(late.value) == 409
    first = ok(stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token,
                             json={"lines": [{"sku": sku, "quantity": 1, "reason": "damaged"}]}), 201)
    again = stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token,
                          json={"lines": [{"sku": sku, "quantity": 2, "reason": "damaged"}]})
    assert again.status == 422 and again.json()["error"]["details"]["returnable"] == 1  # one is already coming back
    assert stack.request("GET", f"/returns/{first['return_id']}", token=shopper.id_token).status == 200
    assert stack.request("GET", "/returns/ret_00000000000000000000", token=shopper.id_token).status == 404


def test_the_returns_workflow_restocks_and_refunds_once_however_often_its_steps_run(stack, admin, staff):
    shopper, order_id, product = delivered_order(stack, admin, staff)
    sku, wh = product.skus[0], product.warehouses[0]
    ret = ok(stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token,
                           json={"lines": [{"sku": sku, "quantity": 2, "reason": "wrong_item"}]}), 201)
    task = open_task(stack, staff.id_token, wh, order_id, "return")
    before = stock_of(stack, sku)[wh]
    ok(stack.request("POST", f"/warehouse/tasks/{task['task_id']}/complete", token=staff.id_token,
                     json={"inspected": [{"sku": sku, "sellable": 2, "damaged": 0}]}))
    machine = stack.physical_id("ReturnsStateMachine")
    arn = machine.replace(":stateMachine:", ":execution:") + ":" + ret["return_id"]
    done = stack.wait_execution(arn, timeout=60)
    assert done["status"] == "SUCCEEDED", done
    states = entered_states(stack.execution_history(arn))
    assert states == ["Approve", "IssueLabel", "AwaitGoods", "Restock", "Refund", "Refunded"]
    refunded = ok(stack.request("GET", f"/returns/{ret['return_id']}", token=shopper.id_token))
    assert refunded["status"] == "REFUNDED" and refunded["refunded"] == ret["refund_total"]
    after = stock_of(stack, sku)[wh]
    assert after["on_hand"] == before["on_hand"] + 2

    # each step again (a retried or replayed task): nothing more is restocked or refunded
    ids = {"order_id": order_id, "return_id": ret["return_id"]}
    for _ in range(2):
        assert stack.invoke("ReturnsFunction", {**ids, "action": "restock", "inspected": [
            {"sku": sku, "sellable": 2, "damaged": 0}]})["restocked"] is False
        assert stack.invoke("ReturnsFunction", {**ids, "action": "refund"})["status"] == "REFUNDED"
        assert stack.invoke("ReturnsFunction", {**ids, "action": "approve"})["status"] == "REFUNDED"
    assert stock_of(stack, sku)[wh] == after
    intent = order_view(stack, shopper.id_token, order_id)["payment"]["payment_intent_id"]
    refunds = requests.get(f"{stack.stripe_base}/v1/refunds", params={"payment_intent": intent}, timeout=10,
                           auth=(STRIPE_KEY, "")).json()["data"]
    assert [r["amount"] for r in refunds] == [ret["refund_total"]["amount"]]


def test_returns_sample_events_are_valid_task_inputs():
    from shop.returns.models import ReturnTask

    files = sorted((ROOT / "events" / "returns").glob("*.json"))
    assert files
    for path in files:
        assert ReturnTask.model_validate(json.loads(path.read_text())).action


def test_state_machine_sample_inputs_start_the_workflows(stack):
    """events/statemachines: the input each state machine is started with (checkout and the returns route do)."""
    for machine, name in (("OrderStateMachine", "order"), ("ReturnsStateMachine", "returns")):
        sample = json.loads((ROOT / "events" / "statemachines" / f"{name}.json").read_text())
        arn = stack.start_execution(machine, sample)
        done = stack.wait_execution(arn, timeout=60)
        # the sample order and return do not exist: the first task finds nothing and the execution fails there
        assert done["status"] == "FAILED" and entered_states(stack.execution_history(arn))[0] in (
            "TakePayment", "Approve"), done


def test_the_return_label_is_bought_through_the_carrier_port_and_stored_once_as_a_pdf(stack, admin, staff):
    shopper, order_id, product = delivered_order(stack, admin, staff, quantity=1)
    rid = ok(stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token,
                           json={"lines": [{"sku": product.skus[0], "quantity": 1, "reason": "wrong_item"}]}),
             201)["return_id"]
    got = wait_for(lambda: (v := ok(stack.request("GET", f"/returns/{rid}", token=shopper.id_token)))
                   ["status"] == "AWAITING_GOODS" and v, 30, "the return label")
    label = got["label"]
    assert label["label_key"] == f"labels/{order_id}/{rid}.pdf" and label["tracking_number"].startswith("SP")
    assert label["tracking_url"].endswith(label["tracking_number"])
    bucket, s3 = stack.physical_id("LabelsBucket"), stack.client("s3")
    stored = s3.get_object(Bucket=bucket, Key=label["label_key"])
    body = stored["Body"].read()
    assert stored["ContentType"] == "application/pdf" and body.startswith(b"%PDF-")
    assert label["tracking_number"].encode() in body

    # the step again (a redelivered task): the same label, the same one object, the return unchanged
    out = stack.invoke("ReturnsFunction", {"order_id": order_id, "return_id": rid, "action": "issue_label"})
    assert out["tracking_number"] == label["tracking_number"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"labels/{order_id}/{rid}")["Contents"]
    assert [o["Key"] for o in listed] == [label["label_key"]]
    assert s3.get_object(Bucket=bucket, Key=label["label_key"])["Body"].read() == body
    assert ok(stack.request("GET", f"/returns/{rid}", token=shopper.id_token))["label"] == label

    # the shopper prints it: a short-lived link to the same PDF; anyone else's request is 404
    link = ok(stack.request("GET", f"/returns/{rid}/label", token=shopper.id_token))
    assert link["tracking_number"] == label["tracking_number"] and link["content_type"] == "application/pdf"
    assert link["expires_in_seconds"] == 300 and link["order_id"] == order_id
    assert requests.get(link["url"], timeout=10).content == body
    assert stack.request("GET", f"/returns/{rid}/label", token=stack.user().id_token).status == 404
    assert stack.request("GET", "/returns/ret_00000000000000000000/label", token=shopper.id_token).status == 404
