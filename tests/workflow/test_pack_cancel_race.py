"""Row 12 of issue 12: staff complete the pack task at the same moment as the shopper cancels. Exactly one
wins: either the parcel is packed (its stock committed, the order DISPATCHING) and the cancel is refused
with 409 already_shipping, or the order is cancelled (its stock released) and the pack is refused with 409
order_cancelled. Never both 200. Stock is conserved after every round."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.factories import checkout, make_product, ok, open_task, order_view, put_in_cart, wait_paid
from tests.race import assert_stock_conserved
from tests.workflow.test_fulfillment import end_workflow

pytestmark = [pytest.mark.workflow, pytest.mark.audited]
ROUNDS = 6


def test_pack_and_cancel_at_once_exactly_one_wins(stack: Any, admin: Any, staff: Any) -> None:
    product = make_product(stack, admin.id_token, stock={"a": ROUNDS * 2}, weight_grams=300)
    sku, warehouse = product.skus[0], product.warehouses[0]
    orders: list[str] = []
    winners: list[str] = []
    for _ in range(ROUNDS):
        shopper = stack.user()
        put_in_cart(stack, shopper.id_token, sku, 2)
        order_id = ok(checkout(stack, shopper.id_token), 201)["order_id"]
        orders.append(order_id)
        wait_paid(stack, order_id)
        pick = open_task(stack, staff.id_token, warehouse, order_id, "pick")
        ok(stack.request("POST", f"/warehouse/tasks/{pick['task_id']}/complete", token=staff.id_token,
                         json={"picked": [{"sku": sku, "quantity": 2}]}))
        pack = open_task(stack, staff.id_token, warehouse, order_id, "pack")

        barrier = threading.Barrier(2, timeout=30)
        answers: dict[str, Any] = {}

        def do_pack(task_id: str = pack["task_id"]) -> None:
            barrier.wait()
            answers["pack"] = stack.request("POST", f"/warehouse/tasks/{task_id}/complete", token=staff.id_token,
                                            json={"package_weight_grams": 700})

        def do_cancel(oid: str = order_id, token: str = shopper.id_token) -> None:
            barrier.wait()
            answers["cancel"] = stack.request("POST", f"/orders/{oid}/cancel", token=token)

        threads = [threading.Thread(target=do_pack), threading.Thread(target=do_cancel)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        packed, cancelled = answers["pack"], answers["cancel"]
        statuses = sorted((packed.status, cancelled.status))
        assert statuses == [200, 409], (packed.status, packed.body, cancelled.status, cancelled.body)
        view = order_view(stack, shopper.id_token, order_id)
        if packed.status == 200:
            winners.append("pack")
            assert cancelled.json()["error"]["code"] == "already_shipping", cancelled.body
            assert view["status"] in ("DISPATCHING", "SHIPPED"), view["status"]
            assert view["shipments"][0]["status"] == "PACKED"
            end_workflow(stack, order_id)
        else:
            winners.append("cancel")
            assert packed.json()["error"]["code"] == "order_cancelled", packed.body
            assert view["status"] == "CANCELLED"
            assert view["shipments"][0]["status"] == "CANCELLED"
        assert_stock_conserved(stack, sku, orders)
    print("winners:", winners)
