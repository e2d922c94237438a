"""The inspection outcome decides a return's refund (shop.returns.decisions), run through the returns state machine:
sellable units give back their full price share, damaged ones what staff decided at inspection (here one line
partially, one not at all). A decision above the paid share is refused before the task is done. The money audit:
what Stripe refunded == what the order counts as refunded == the sum of the decisions."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from shoplocal.stack import STRIPE_KEY
from tests.factories import (
    checkout,
    deliver,
    entered_states,
    make_product,
    ok,
    open_task,
    order_item,
    order_view,
    put_in_cart,
    stock_of,
    wait_paid,
)

pytestmark = [pytest.mark.workflow, pytest.mark.audited]  # the invariant audit runs around each test


def test_a_partial_and_a_none_decision_are_what_the_workflow_refunds(stack: Any, admin: Any, staff: Any) -> None:
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 9}, price=2000, n_skus=2)
    kept, broken = product.skus
    wh = product.warehouses[0]
    put_in_cart(stack, shopper.id_token, kept, 3)
    put_in_cart(stack, shopper.id_token, broken, 1)
    order_id = ok(checkout(stack, shopper.id_token), 201)["order_id"]
    wait_paid(stack, order_id)
    deliver(stack, staff.id_token, shopper.id_token, order_id, wh)

    ret = ok(stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token, json={"lines": [
        {"sku": kept, "quantity": 3, "reason": "not_as_described"},
        {"sku": broken, "quantity": 1, "reason": "damaged"}]}), 201)
    full = {ln["sku"]: ln["refund"]["amount"] for ln in ret["lines"]}
    currency = ret["refund_total"]["currency"]
    task = open_task(stack, staff.id_token, wh, order_id, "return")
    before = stock_of(stack, kept)[wh]
    complete = f"/warehouse/tasks/{task['task_id']}/complete"

    # of the kept SKU: 1 sellable, 2 damaged at 300 each; the broken one: damaged, nothing back
    decided = {"inspected": [
        {"sku": kept, "sellable": 1, "damaged": 2,
         "damaged_refund": {"decision": "partial", "amount_per_unit": {"amount": 300, "currency": currency},
                            "reason": "scratched, still works"}},
        {"sku": broken, "sellable": 0, "damaged": 1,
         "damaged_refund": {"decision": "none", "reason": "broken by use, not in transit"}}]}

    # refused before anything is written: above the paid share, another currency, a decision for no damage
    over = {"inspected": [dict(decided["inspected"][0], damaged_refund={
        "decision": "partial", "amount": {"amount": full[kept], "currency": currency}, "reason": "x"}),
        decided["inspected"][1]]}
    r = stack.request("POST", complete, token=staff.id_token, json=over)
    assert r.status == 422, r.body
    assert [f["field"] for f in r.json()["error"]["details"]["fields"]] == [
        "body.inspected.0.damaged_refund.amount.amount"]
    other = {"inspected": [dict(decided["inspected"][0], damaged_refund={
        "decision": "partial", "amount_per_unit": {"amount": 1, "currency": "USD"}, "reason": "x"}),
        decided["inspected"][1]]}
    assert stack.request("POST", complete, token=staff.id_token, json=other).status == 422
    no_damage = {"inspected": [{"sku": kept, "sellable": 3, "damaged": 0,
                                "damaged_refund": {"decision": "none", "reason": "x"}}, decided["inspected"][1]]}
    assert stack.request("POST", complete, token=staff.id_token, json=no_damage).status == 422
    no_reason = {"inspected": [dict(decided["inspected"][0], damaged_refund={"decision": "none"}),
                               decided["inspected"][1]]}
    assert stack.request("POST", complete, token=staff.id_token, json=no_reason).status == 422
    assert open_task(stack, staff.id_token, wh, order_id, "return")["status"] == "OPEN"

    ok(stack.request("POST", complete, token=staff.id_token, json=decided))
    machine = stack.physical_id("ReturnsStateMachine")
    arn = machine.replace(":stateMachine:", ":execution:") + ":" + ret["return_id"]
    done = stack.wait_execution(arn, timeout=60)
    assert done["status"] == "SUCCEEDED", done
    assert entered_states(stack.execution_history(arn)) == [
        "Approve", "IssueLabel", "AwaitGoods", "Restock", "Refund", "Refunded"]

    # sellable: its full share (the first of 3 units); damaged: 2 x 300; the broken line: 0
    from shop.money import round_half_up

    expected = round_half_up(full[kept], 3) + 2 * 300
    assert expected < ret["refund_total"]["amount"]

    seen = ok(stack.request("GET", f"/returns/{ret['return_id']}", token=shopper.id_token))
    assert seen["status"] == "REFUNDED"
    assert seen["refund_due"] == {"amount": expected, "currency": currency}
    assert seen["refunded"] == {"amount": expected, "currency": currency}
    by_sku = {i["sku"]: i for i in seen["inspection"]}
    assert by_sku[kept]["refund"]["amount"] == expected and by_sku[broken]["refund"]["amount"] == 0
    assert by_sku[broken]["damaged_refund"] == {"decision": "none", "reason": "broken by use, not in transit"}
    assert stock_of(stack, kept)[wh]["on_hand"] == before["on_hand"] + 1  # only the sellable unit is restocked

    # staff see the same per line
    staff_view = ok(stack.request("GET", f"/admin/returns/{ret['return_id']}", token=admin.id_token))
    lines = {ln["sku"]: ln for ln in staff_view["lines"]}
    assert (lines[kept]["sellable"], lines[kept]["damaged"], lines[kept]["refund_due"]["amount"]) == (1, 2, expected)
    assert lines[broken]["damaged_refunds"] == [{"decision": "none", "reason": "broken by use, not in transit"}]
    assert lines[broken]["refund_due"]["amount"] == 0 and staff_view["inspecting_warehouse_id"] == wh

    # the money audit: Stripe's refunds == the order's refunded counter == the sum of the decisions
    intent = order_view(stack, shopper.id_token, order_id)["payment"]["payment_intent_id"]
    refunds = requests.get(f"{stack.stripe_base}/v1/refunds", params={"payment_intent": intent}, timeout=10,
                           auth=(STRIPE_KEY, "")).json()["data"]
    decisions_sum = sum(i["refund"]["amount"] for i in seen["inspection"])
    assert sum(r["amount"] for r in refunds) == int(order_item(stack, order_id)["refunded_amount"]["N"]) \
        == decisions_sum == expected

    # the steps again (a retried task): nothing more is refunded
    ids = {"order_id": order_id, "return_id": ret["return_id"]}
    assert stack.invoke("ReturnsFunction", {**ids, "action": "refund"})["refunded"]["amount"] == expected
    assert stack.invoke("ReturnsFunction", {**ids, "action": "restock",
                                            "inspected": decided["inspected"]})["restocked"] is False
    assert int(order_item(stack, order_id)["refunded_amount"]["N"]) == expected
