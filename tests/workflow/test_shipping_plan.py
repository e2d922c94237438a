"""Shipping is charged on the shipment plan the order ships with (issue 12, the two shipping rows): the cart's
estimate, checkout's charge and the sum of the order's label costs are one number, and each parcel's zone is
its route's (origin warehouse country -> destination country), so a parcel from France to Germany is not
priced domestic."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import (
    ADDRESS,
    checkout,
    make_product,
    ok,
    open_task,
    order_view,
    pick_and_pack,
    put_in_cart,
    wait_for,
    wait_paid,
)
from tests.workflow.test_fulfillment import end_workflow

pytestmark = [pytest.mark.workflow, pytest.mark.audited]


def test_a_split_order_is_charged_what_its_labels_cost_and_the_cart_said(stack: Any, admin: Any, staff: Any) -> None:
    shopper = stack.user()
    # warehouse a is in DE, b in FR (tests.factories.make_product): 3 units need both (2 + 1)
    product = make_product(stack, admin.id_token, stock={"a": 2, "b": 2}, weight_grams=700, price=1000)
    put_in_cart(stack, shopper.id_token, product.skus[0], 3)
    cart = ok(stack.request("GET", "/cart", token=shopper.id_token, query={"country": "DE"}))
    placed = ok(checkout(stack, shopper.id_token, address=ADDRESS), 201)
    order_id = placed["order_id"]
    assert placed["totals"] == cart["totals"]  # the estimate is the charge
    # two parcels: DE -> DE domestic (2 x 700 g: 2 kg) and FR -> DE eu (700 g: 1 kg)
    assert placed["totals"]["shipping"] == {"amount": (490 + 100 * 2) + (990 + 200 * 1), "currency": "EUR"}

    wait_paid(stack, order_id)
    split = order_view(stack, shopper.id_token, order_id)
    assert len(split["shipments"]) == 2
    for shipment in split["shipments"]:  # packaging that stays within the planned started kilogram
        pick_and_pack(stack, staff.id_token, order_id, shipment["warehouse_id"], extra_grams=100)
        open_task(stack, staff.id_token, shipment["warehouse_id"], order_id, "pickup")
    labelled = wait_for(lambda: (v := order_view(stack, shopper.id_token, order_id)) and
                        all(s["shipping_cost"] for s in v["shipments"]) and v, 30, "both labels")
    costs = [s["shipping_cost"]["amount"] for s in labelled["shipments"]]
    assert sum(costs) == placed["totals"]["shipping"]["amount"], (costs, placed["totals"]["shipping"])
    assert sorted(costs) == [490 + 100 * 2, 990 + 200 * 1]
    end_workflow(stack, order_id)


def test_a_parcel_from_paris_to_germany_is_not_domestic(stack: Any, admin: Any, staff: Any) -> None:
    shopper = stack.user()
    # the only stock is in the FR warehouse (the second of make_product's warehouses)
    product = make_product(stack, admin.id_token, stock={"none": 0, "paris": 3}, weight_grams=400, price=1500)
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    cart = ok(stack.request("GET", "/cart", token=shopper.id_token, query={"country": "DE"}))
    assert cart["totals"]["shipping"] == {"amount": 990 + 200, "currency": "EUR"}  # eu, not domestic 590
    placed = ok(checkout(stack, shopper.id_token), 201)
    assert placed["totals"] == cart["totals"]
    assert placed["lines"][0]["allocations"] == [{"warehouse_id": product.warehouses[1], "quantity": 1}]
    order_id = placed["order_id"]
    wait_paid(stack, order_id)
    pick_and_pack(stack, staff.id_token, order_id, product.warehouses[1], extra_grams=100)
    shipment = wait_for(lambda: (s := order_view(stack, shopper.id_token, order_id)["shipments"][0])
                        and s["shipping_cost"] and s, 30, "the label")
    assert shipment["shipping_cost"] == {"amount": 990 + 200, "currency": "EUR"}
    end_workflow(stack, order_id)
