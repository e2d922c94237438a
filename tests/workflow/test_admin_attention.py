"""Orders whose workflow failed (shop.orderflow.attention): Step Functions' "Execution Status Change" event of a
failed order execution marks the order as needing attention (its status unchanged, listed under
NEEDS_ATTENTION, once per execution however often the event comes), a workflow failure the workflow settled
itself (PaymentFailed) marks nothing, and POST /admin/orders/{orderId}/retry restarts a restartable order as a
new execution (the order then goes on to be paid) and refuses one whose parcel is packed, saying why; such a mark
is cleared by hand with a note (POST /admin/orders/{orderId}/attention/resolve), once.

moto's Step Functions emits no status-change events: the test sends the event AWS would send (its detail from
DescribeExecution) to the default bus, where the template's rule delivers it to OrderAdminFunction."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.factories import (
    checkout,
    checkout_with_payments_broken,
    execution_arn,
    execution_status_change,
    ok,
    pick_and_pack,
    prepare_checkout,
    wait_for,
    wait_status,
)

pytestmark = [pytest.mark.workflow, pytest.mark.audited]  # the invariant audit runs around each test


def rule_matches(stack: Any, event: dict[str, Any]) -> bool:
    """Whether the deployed rule of OrderAdminFunction (its OrderWorkflowEnded event) takes this event. (Putting it
    on the default bus locally would also reach WorkflowFailedRule, whose SNS target moto cannot deliver.)"""
    events = stack.client("events")
    rule = next(r for r in events.list_rules()["Rules"] if "OrderWorkflowEnded" in r["Name"])
    pattern = json.loads(rule["EventPattern"])
    detail = event["detail"]
    return (event["source"] in pattern["source"] and event["detail-type"] in pattern["detail-type"]
            and detail["status"] in pattern["detail"]["status"]
            and detail["stateMachineArn"] in pattern["detail"]["stateMachineArn"])


def attention_ids(api: Any) -> list[str]:
    return [o["order_id"] for o in api("GET", "/admin/orders", query={"status": "NEEDS_ATTENTION",
                                                                      "limit": "100"})["items"]]


def test_a_failed_workflow_marks_the_order_once_and_a_retry_restarts_it(stack: Any, admin: Any, api: Any) -> None:
    prep = prepare_checkout(stack, admin, "attention-retry", quantity=1)
    arn = execution_arn(stack, prep.order_id)
    done = checkout_with_payments_broken(stack, prep)  # whether money was taken is unknown
    assert done["status"] == "FAILED" and done["error"] == "PaymentNeedsAttention"
    before = api("GET", f"/admin/orders/{prep.order_id}")
    assert before["needs_attention"] is None

    # the template's rule takes the execution's end to OrderAdminFunction; EventBridge delivers at least once
    event = execution_status_change(stack, arn)
    assert rule_matches(stack, event)
    first, again = (stack.invoke("OrderAdminFunction", event) for _ in range(2))
    assert first == {"marked": True, "order_id": prep.order_id, "error": "PaymentNeedsAttention"}
    assert again["marked"] is False and again["order_id"] == prep.order_id  # already marked: nothing changes
    wait_for(lambda: prep.order_id in attention_ids(api), 10, "the order to be listed as needing attention")
    view = api("GET", f"/admin/orders/{prep.order_id}")
    assert view["status"] == before["status"]  # the business status is kept
    attention = view["needs_attention"]
    assert attention["error"] == "PaymentNeedsAttention" and attention["workflow_status"] == "FAILED"
    assert attention["execution_arn"] == arn and "payment" in (attention["cause"] or "").lower()
    assert [t["kind"] for t in view["timeline"]].count("attention") == 1  # marked once
    listed = next(o for o in api("GET", "/admin/orders", query={"status": "NEEDS_ATTENTION", "limit": "100"})["items"]
                  if o["order_id"] == prep.order_id)
    assert listed["needs_attention"] == attention

    # retry: a new execution, named once per attempt; the order goes on to be paid and split
    retried = api("POST", f"/admin/orders/{prep.order_id}/retry")
    assert retried["action"] == "restarted" and retried["execution_arn"] == f"{arn}-retry-1"
    wait_status(stack, prep.shopper.id_token, prep.order_id, "FULFILLING", timeout=60)
    assert prep.order_id not in attention_ids(api)
    view = api("GET", f"/admin/orders/{prep.order_id}")
    assert view["needs_attention"] is None and view["workflow"]["retries"] == 1
    assert view["workflow"]["last_retry"]["by"] == admin.user_id
    assert view["payment"]["captured"] == view["totals"]["total"]
    refused = api("POST", f"/admin/orders/{prep.order_id}/retry", expect=409)
    assert refused["error"]["code"] == "not_retryable"


def test_a_failure_the_workflow_settled_is_not_marked(stack: Any, admin: Any, api: Any) -> None:
    prep = prepare_checkout(stack, admin, "attention-declined", quantity=1)
    assert checkout(stack, prep.shopper.id_token, prep.key, payment_method_id="pm_card_chargeCustomerFail").status \
        == 201
    done = stack.wait_execution(execution_arn(stack, prep.order_id), timeout=60)
    assert done["error"] == "PaymentFailed"
    event = execution_status_change(stack, execution_arn(stack, prep.order_id))
    assert rule_matches(stack, event)  # delivered (the function tells the settled failures apart)
    answer = stack.invoke("OrderAdminFunction", event)
    assert answer["marked"] is False and "settled by the workflow" in answer["reason"]
    assert prep.order_id not in attention_ids(api)


def test_a_retry_is_refused_with_the_reason_once_a_parcel_is_packed(stack: Any, admin: Any, api: Any,
                                                                    staff: Any) -> None:
    prep = prepare_checkout(stack, admin, "attention-packed", quantity=1)
    assert checkout(stack, prep.shopper.id_token, prep.key).status == 201
    wait_status(stack, prep.shopper.id_token, prep.order_id, "FULFILLING", timeout=60)
    pick_and_pack(stack, staff.id_token, prep.order_id, prep.product.warehouses[0])
    wait_status(stack, prep.shopper.id_token, prep.order_id, "DISPATCHING", timeout=30)
    arn = execution_arn(stack, prep.order_id)
    # as AWS reports a fulfillment failure after packing (the execution itself is still waiting here)
    event = execution_status_change(stack, arn)
    event["detail"].update(status="FAILED", error="NeedsAttention", cause="label service down for good")
    assert stack.invoke("OrderAdminFunction", event)["marked"] is True
    refused = api("POST", f"/admin/orders/{prep.order_id}/retry", expect=409)
    assert refused["error"]["code"] == "not_retryable" and "packed" in refused["error"]["message"]
    view = ok(stack.request("GET", f"/admin/orders/{prep.order_id}", token=api.token))
    assert view["needs_attention"]["cause"] == "label service down for good" and view["status"] == "DISPATCHING"

    # what a retry cannot settle a person settles, then clears the mark by hand with a note; the status is kept
    blank = api("POST", f"/admin/orders/{prep.order_id}/attention/resolve", json={"note": "   "}, expect=422)
    assert "body.note" in json.dumps(blank)
    assert prep.order_id in attention_ids(api)  # a refused request clears nothing
    note = "label bought by hand at the carrier's desk; parcel handed over"
    resolved = api("POST", f"/admin/orders/{prep.order_id}/attention/resolve", json={"note": note})
    assert resolved["resolved"]["cause"] == "label service down for good" and resolved["note"] == note
    assert resolved["status"] == "DISPATCHING" and resolved["by"] == admin.user_id
    view = api("GET", f"/admin/orders/{prep.order_id}")
    assert view["needs_attention"] is None and view["status"] == "DISPATCHING"
    assert view["workflow"]["retries"] == 0  # resolving is not a retry
    assert [(t["kind"], t.get("note")) for t in view["timeline"] if t["kind"] == "resolved"] == [("resolved", note)]
    assert prep.order_id not in attention_ids(api)
    again = api("POST", f"/admin/orders/{prep.order_id}/attention/resolve", json={"note": note}, expect=409)
    assert again["error"]["code"] == "not_marked"
