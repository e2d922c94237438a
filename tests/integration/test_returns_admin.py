"""Staff's returns queue (functions/returns_admin): GET /admin/returns?status= is one Query of the status index
(OrdersByStatus, RETURN#<status>), newest first, paged with the shared cursor; every status change moves the
index attribute in the same write;
GET /admin/returns/{returnId} shows one return. Admin group only (a shopper or warehouse user gets 403)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.factories import (
    checkout,
    deliver,
    hooked,
    make_product,
    ok,
    put_in_cart,
    wait_for,
    wait_paid,
    wrapped_dynamodb,
)

pytestmark = pytest.mark.integration


def _returns(stack: Any, admin: Any, staff: Any, n: int) -> tuple[Any, str, list[dict[str, Any]], str]:
    """n returns (one unit each) of one delivered order, created in order."""
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 5}, price=1500)
    sku, wh = product.skus[0], product.warehouses[0]
    put_in_cart(stack, shopper.id_token, sku, n)
    order_id = ok(checkout(stack, shopper.id_token), 201)["order_id"]
    wait_paid(stack, order_id)
    deliver(stack, staff.id_token, shopper.id_token, order_id, wh)
    made = [ok(stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token, json={
        "lines": [{"sku": sku, "quantity": 1, "reason": "changed_mind"}]}), 201) for _ in range(n)]
    return shopper, order_id, made, wh


def _queue(stack: Any, token: str, **query: str) -> Any:
    return stack.request("GET", "/admin/returns", token=token, query=query)


def test_the_queue_lists_a_status_newest_first_by_index_and_follows_each_status_change(
        stack: Any, admin: Any, staff: Any) -> None:
    shopper, order_id, made, wh = _returns(stack, admin, staff, 2)
    ids = [r["return_id"] for r in made]
    for rid in ids:  # the workflow issues the label: AWAITING_GOODS
        wait_for(lambda rid=rid: ok(stack.request("GET", f"/returns/{rid}", token=shopper.id_token))[
            "status"] == "AWAITING_GOODS", 30, f"{rid} awaiting goods")

    # the index, not a scan: every DynamoDB call of the queue is a Query of the status index
    calls: list[tuple[str, dict[str, Any]]] = []
    inside = threading.local()

    class Spy:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            fn = getattr(self._inner, name)
            if not getattr(inside, "active", False) or name.startswith("_") or name in ("meta", "exceptions"):
                return fn

            def call(**kw: Any) -> Any:
                calls.append((name, kw))
                return fn(**kw)
            return call

    def mark(logical_id: str, _event: dict[str, Any]) -> None:
        inside.active = logical_id == "ReturnsAdminFunction"

    seen: list[str] = []
    with hooked(stack, mark), wrapped_dynamodb(Spy):
        cursor = None
        while True:
            page = ok(_queue(stack, admin.id_token, status="AWAITING_GOODS", limit="1",
                             **({"cursor": cursor} if cursor else {})))
            assert page["status"] == "AWAITING_GOODS" and len(page["items"]) <= 1
            seen += [i["return_id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
    assert {n for n, _ in calls} == {"query"} and all(kw["IndexName"] == "OrdersByStatus" for _, kw in calls)
    assert "scan" not in {n for n, _ in calls}
    mine = [rid for rid in seen if rid in ids]
    assert mine == list(reversed(ids))  # newest first (the queue may hold other tests' returns)
    created = [i["created_at"] for i in ok(_queue(stack, admin.id_token, status="AWAITING_GOODS",
                                                  limit="100"))["items"]]
    assert created == sorted(created, reverse=True)
    first = next(i for i in ok(_queue(stack, admin.id_token, status="AWAITING_GOODS", limit="100"))["items"]
                 if i["return_id"] == ids[0])
    assert first["order_id"] == order_id and first["units"] == 1 and first["customer_id"] == shopper.user_id

    # the inspection moves it out of AWAITING_GOODS and on to REFUNDED: the index follows every change
    task = wait_for(lambda: next((t for t in ok(stack.request("GET", f"/warehouse/{wh}/tasks", token=staff.id_token,
                                                               query={"limit": "100"}))["items"]
                                  if t["shipment_id"] == ids[0]), None), 30, "the return task")
    sku = task["checklist"][0]["sku"]
    ok(stack.request("POST", f"/warehouse/tasks/{task['task_id']}/complete", token=staff.id_token, json={
        "inspected": [{"sku": sku, "sellable": 0, "damaged": 1,
                       "damaged_refund": {"decision": "none", "reason": "water damage"}}]}))

    def listed(status: str) -> set[str]:
        return {i["return_id"] for i in ok(_queue(stack, admin.id_token, status=status, limit="100"))["items"]}

    wait_for(lambda: ids[0] in listed("REFUNDED"), 60, "the return in the REFUNDED queue")
    assert ids[0] not in listed("AWAITING_GOODS") and ids[0] not in listed("INSPECTED")
    assert ids[1] in listed("AWAITING_GOODS")

    # decided "none" and nothing sellable: REFUNDED with nothing refunded, no money moved
    detail = ok(stack.request("GET", f"/admin/returns/{ids[0]}", token=admin.id_token))
    assert detail["refunded"]["amount"] == 0 and detail["refund_due"]["amount"] == 0 and "refund_id" not in detail
    assert detail["lines"][0]["damaged_refunds"] == [{"decision": "none", "reason": "water damage"}]
    assert [t["status"] for t in detail["timeline"]] == ["REQUESTED", "APPROVED", "AWAITING_GOODS", "INSPECTED",
                                                         "REFUNDED"]
    order = ok(stack.request("GET", f"/orders/{order_id}", token=shopper.id_token))
    assert order["payment"].get("refunded", {"amount": 0})["amount"] == 0


def test_the_return_detail_and_the_queue_are_for_admins_only(stack: Any, admin: Any, staff: Any) -> None:
    shopper, _, made, _ = _returns(stack, admin, staff, 1)
    rid = made[0]["return_id"]
    detail = ok(stack.request("GET", f"/admin/returns/{rid}", token=admin.id_token))
    assert detail["return_id"] == rid and detail["lines"][0]["quantity"] == 1 and detail["timeline"]
    assert detail["inspecting_warehouse_id"] == detail["lines"][0]["warehouse_id"]
    for who in (shopper, staff):
        assert _queue(stack, who.id_token).status == 403
        assert stack.request("GET", f"/admin/returns/{rid}", token=who.id_token).status == 403
    assert stack.request("GET", "/admin/returns").status == 401
    assert stack.request("GET", "/admin/returns/ret_00000000000000000000", token=admin.id_token).status == 404
    assert stack.request("GET", "/admin/returns/nope", token=admin.id_token).status == 404
    assert _queue(stack, admin.id_token, status="LOST").status == 422
    bad = _queue(stack, admin.id_token, status="REQUESTED", cursor="bm90LWEtY3Vyc29y")
    assert bad.status == 422 and bad.json()["error"]["details"]["fields"][0]["field"] == "query.cursor"
    # a cursor of another status's list is not a cursor of this one
    page = ok(_queue(stack, admin.id_token, status="AWAITING_GOODS", limit="1"))
    if page["next_cursor"]:
        assert _queue(stack, admin.id_token, status="REFUNDED", cursor=page["next_cursor"]).status == 422
    assert ok(_queue(stack, admin.id_token))["status"] == "AWAITING_GOODS"  # the default
