"""Exchanges (shop.returns.exchanges) through the returns workflow executed by moto's ASL engine: the replacement is
reserved at approval, ships through fulfillment's own parcel steps (pick, pack, label, carrier pickup) after the
inspection, and the price difference is refunded or charged once; an inspection that refuses the exchange releases
the reservation and gives a charged difference back (compensation that changes nothing when run again)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from shoplocal.stack import STRIPE_KEY
from tests.factories import (
    checkout,
    deliver,
    entered_states,
    eur,
    make_product,
    ok,
    open_task,
    order_view,
    pick_and_pack,
    put_in_cart,
    stock_of,
    wait_for,
    wait_paid,
)

pytestmark = [pytest.mark.workflow, pytest.mark.audited]


def delivered(stack: Any, admin: Any, staff: Any, *, price: int = 2000, replacement_price: int | None = None,
              quantity: int = 2, replacement_stock: int = 5) -> tuple[Any, str, Any]:
    """A delivered order of ``quantity`` units of a two-SKU product's first SKU (the second one repriced)."""
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 5}, price=price, n_skus=2)
    if replacement_price is not None:
        ok(stack.request("PUT", f"/admin/skus/{product.skus[1]}/price", token=admin.id_token,
                         json={"price": eur(replacement_price)}))
    if replacement_stock != 5:
        ok(stack.request("PUT", f"/admin/inventory/{product.skus[1]}/{product.warehouses[0]}", token=admin.id_token,
                         json={"on_hand": replacement_stock}))
    put_in_cart(stack, shopper.id_token, product.skus[0], quantity)
    order_id = ok(checkout(stack, shopper.id_token), 201)["order_id"]
    wait_paid(stack, order_id)
    deliver(stack, staff.id_token, shopper.id_token, order_id, product.warehouses[0])
    return shopper, order_id, product


def execution(stack: Any, return_id: str) -> str:
    machine = stack.physical_id("ExchangesStateMachine")
    return machine.replace(":stateMachine:", ":execution:") + ":" + return_id


def stripe_refunds(stack: Any, intent: str) -> list[dict[str, Any]]:
    return list(requests.get(f"{stack.stripe_base}/v1/refunds", params={"payment_intent": intent}, timeout=10,
                             auth=(STRIPE_KEY, "")).json()["data"])


def inspect(stack: Any, staff: Any, order_id: str, wh: str, inspected: list[dict[str, Any]]) -> None:
    task = open_task(stack, staff.id_token, wh, order_id, "return")
    ok(stack.request("POST", f"/warehouse/tasks/{task['task_id']}/complete", token=staff.id_token,
                     json={"inspected": inspected}))


def test_a_cheaper_variant_is_reserved_ships_as_a_parcel_and_refunds_the_difference_once(stack, admin, staff):
    shopper, order_id, product = delivered(stack, admin, staff, price=2000, replacement_price=1500)
    old, new, wh = product.skus[0], product.skus[1], product.warehouses[0]
    ex = ok(stack.request("POST", f"/orders/{order_id}/exchanges", token=shopper.id_token,
                          json={"sku": old, "quantity": 1, "replacement_sku": new, "reason": "changed_mind"}), 201)
    assert ex["kind"] == "exchange" and ex["exchange"]["difference"] == eur(-595)  # 5.00 plus 19 % tax (a DE address)
    rid = ex["return_id"]
    wait_for(lambda: stock_of(stack, new)[wh]["reserved"] == 1, 30, "the replacement reserved at approval")
    inspect(stack, staff, order_id, wh, [{"sku": old, "sellable": 1, "damaged": 0}])
    # the replacement parcel is picked and packed like any parcel of the order, then the carrier picks it up
    pick_and_pack(stack, staff.id_token, order_id, wh)
    parcel = wait_for(lambda: next((s for s in order_view(stack, shopper.id_token, order_id)["shipments"]
                                    if s["shipment_id"].endswith("_x" + rid.removeprefix("ret_"))
                                    and s.get("tracking_number")), None), 30, "the replacement's label")
    assert [i["sku"] for i in parcel["items"]] == [new]
    ok(stack.carrier_webhook(parcel["tracking_number"], "picked_up"))
    done = stack.wait_execution(execution(stack, rid), timeout=60)
    assert done["status"] == "SUCCEEDED", done
    assert entered_states(stack.execution_history(execution(stack, rid))) == [
        "Approve", "ApprovalOutcome", "IssueLabel", "AwaitGoods", "Restock", "InspectionOutcome", "SettleDifference",
        "ShipReplacement", "PickReplacement", "PackReplacement", "CommitReplacementStock",
        "AwaitReplacementPickup", "MarkReplacementShipped", "CompleteExchange", "Exchanged"]
    got = ok(stack.request("GET", f"/returns/{rid}", token=shopper.id_token))
    assert got["status"] == "EXCHANGED" and got["exchange"]["refunded"] == eur(595)
    assert stock_of(stack, new)[wh] == {"on_hand": 4, "available": 4, "reserved": 0}  # shipped from the reservation
    assert stock_of(stack, old)[wh]["on_hand"] == 3 + 1  # the returned unit back on the shelf
    order = order_view(stack, shopper.id_token, order_id)
    assert order["status"] == "DELIVERED"  # the replacement parcel never moves the delivered order back
    intent = order["payment"]["payment_intent_id"]
    assert [r["amount"] for r in stripe_refunds(stack, intent)] == [595]

    # every step again (a retried task): nothing more is reserved, shipped or refunded
    ids = {"order_id": order_id, "return_id": rid}
    for action in ("approve", "settle_difference", "ship_replacement", "complete_exchange", "release_replacement"):
        stack.invoke("ReturnsFunction", {**ids, "action": action})
    assert ok(stack.request("GET", f"/returns/{rid}", token=shopper.id_token))["exchange"] == got["exchange"]
    assert stock_of(stack, new)[wh] == {"on_hand": 4, "available": 4, "reserved": 0}
    assert [r["amount"] for r in stripe_refunds(stack, intent)] == [595]
    # the exchanged units stay counted: they can be neither returned nor exchanged again
    again = stack.request("POST", f"/orders/{order_id}/returns", token=shopper.id_token,
                          json={"lines": [{"sku": old, "quantity": 2, "reason": "other"}]})
    assert again.status == 422 and again.json()["error"]["details"]["returnable"] == 1


def test_a_refused_inspection_releases_the_reservation_and_gives_the_charged_difference_back(stack, admin, staff):
    shopper, order_id, product = delivered(stack, admin, staff, price=2000, replacement_price=2600)
    old, new, wh = product.skus[0], product.skus[1], product.warehouses[0]
    ex = ok(stack.request("POST", f"/orders/{order_id}/exchanges", token=shopper.id_token,
                          json={"sku": old, "quantity": 1, "replacement_sku": new}), 201)
    rid = ex["return_id"]
    assert ex["exchange"]["difference"] == eur(714)
    charged = wait_for(lambda: (v := ok(stack.request("GET", f"/returns/{rid}", token=shopper.id_token)))
                       ["exchange"].get("charged") and v, 30, "the difference charged")
    assert charged["exchange"]["charged"] == eur(714) and stock_of(stack, new)[wh]["reserved"] == 1
    charge_intent = charged["exchange"]["charge_intent_id"]
    inspect(stack, staff, order_id, wh, [{"sku": old, "sellable": 0, "damaged": 1,
                                          "damaged_refund": {"decision": "none", "reason": "worn for weeks"}}])
    done = stack.wait_execution(execution(stack, rid), timeout=60)
    assert done["status"] == "SUCCEEDED", done
    states = entered_states(stack.execution_history(execution(stack, rid)))
    assert states[-4:] == ["InspectionOutcome", "ReleaseReplacement", "Refund", "Refunded"]
    got = ok(stack.request("GET", f"/returns/{rid}", token=shopper.id_token))
    assert got["status"] == "REFUNDED" and got["refunded"] == eur(0)  # what the inspection decided: nothing
    assert got["exchange"]["released"] and got["exchange"]["outcome"] == "refused_at_inspection"
    assert stock_of(stack, new)[wh] == {"on_hand": 5, "available": 5, "reserved": 0}
    assert [r["amount"] for r in stripe_refunds(stack, charge_intent)] == [714]

    # the compensation twice more: the same state (released once, refunded once)
    for _ in range(2):
        out = stack.invoke("ReturnsFunction", {"order_id": order_id, "return_id": rid,
                                               "action": "release_replacement"})
        assert out["released"] is False
    assert stock_of(stack, new)[wh] == {"on_hand": 5, "available": 5, "reserved": 0}
    assert [r["amount"] for r in stripe_refunds(stack, charge_intent)] == [714]
    assert ok(stack.request("GET", f"/returns/{rid}", token=shopper.id_token)) == got


def test_exchange_requests_are_validated_and_concurrent_duplicates_make_one_exchange(stack, admin, staff):
    shopper, order_id, product = delivered(stack, admin, staff, replacement_stock=1)
    old, new, wh = product.skus[0], product.skus[1], product.warehouses[0]
    other = make_product(stack, admin.id_token, stock={"a": 3})

    def ask(**body: Any) -> Any:
        return stack.request("POST", f"/orders/{order_id}/exchanges", token=shopper.id_token, json=body)

    foreign = ask(sku=old, quantity=1, replacement_sku=other.skus[0])
    assert foreign.status == 422 and foreign.json()["error"]["details"]["fields"][0]["field"] == \
        "body.replacement_sku"
    same = ask(sku=old, quantity=1, replacement_sku=old)
    assert same.status == 422
    too_many = ask(sku=old, quantity=3, replacement_sku=new)
    assert too_many.status == 422 and too_many.json()["error"]["details"]["fields"][0]["field"] == "body.quantity"
    short = ask(sku=old, quantity=2, replacement_sku=new)  # one unit of the replacement in stock
    assert short.status == 409 and short.json()["error"]["code"] == "out_of_stock"
    assert short.json()["error"]["details"]["field"] == "body.replacement_sku"

    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(lambda _: ask(sku=old, quantity=1, replacement_sku=new), range(4)))
    created = [r for r in replies if r.status == 201]
    assert len(created) >= 1 and all(r.status in (201, 409, 422) for r in replies), [r.status for r in replies]
    # one unit of the replacement: the exchanges that were created reserve it once, the others end REJECTED
    rids = [r.json()["return_id"] for r in created]
    for rid in rids:
        wait_for(lambda rid=rid: ok(stack.request("GET", f"/returns/{rid}", token=shopper.id_token))["status"]
                 != "REQUESTED", 30, "approval")
    statuses = [ok(stack.request("GET", f"/returns/{rid}", token=shopper.id_token))["status"] for rid in rids]
    assert statuses.count("REJECTED") == len(rids) - 1, statuses
    assert stock_of(stack, new)[wh] == {"on_hand": 1, "available": 0, "reserved": 1}


def stripe_get(stack: Any, path: str) -> dict[str, Any]:
    got = requests.get(f"{stack.stripe_base}{path}", timeout=10, auth=(STRIPE_KEY, ""))
    got.raise_for_status()
    return dict(got.json())


def test_a_dearer_replacement_is_charged_off_session_to_the_card_checkout_saved(stack, admin, staff):
    """On Stripe a card used once without a customer cannot be charged again: checkout makes the order's intent for a
    customer with setup_future_usage=off_session, and the difference is charged off-session to that saved card."""
    shopper, order_id, product = delivered(stack, admin, staff, price=2000, replacement_price=2600)
    rid = ok(stack.request("POST", f"/orders/{order_id}/exchanges", token=shopper.id_token,
                           json={"sku": product.skus[0], "quantity": 1, "replacement_sku": product.skus[1]}),
             201)["return_id"]
    charged = wait_for(lambda: (v := ok(stack.request("GET", f"/returns/{rid}", token=shopper.id_token)))
                       ["exchange"].get("charged") and v, 30, "the difference charged")
    order_intent = order_view(stack, shopper.id_token, order_id)["payment"]["payment_intent_id"]
    paid = stripe_get(stack, f"/v1/payment_intents/{order_intent}")
    assert paid["customer"].startswith("cus_") and paid["setup_future_usage"] == "off_session"
    assert stripe_get(stack, f"/v1/payment_methods/{paid['payment_method']}")["customer"] == paid["customer"]
    extra = stripe_get(stack, f"/v1/payment_intents/{charged['exchange']['charge_intent_id']}")
    assert (extra["customer"], extra["payment_method"]) == (paid["customer"], paid["payment_method"])
    assert extra["status"] == "succeeded" and extra["amount"] == 714


def test_local_stripe_refuses_an_off_session_charge_of_a_card_used_without_a_customer(stack):
    """shoplocal.stripe_patches plays Stripe's rule, so the local stack cannot hide a charge real Stripe refuses."""
    def post(path: str, data: dict[str, Any]) -> requests.Response:
        return requests.post(f"{stack.stripe_base}{path}", data=data, timeout=10, auth=(STRIPE_KEY, ""))

    card = post("/v1/payment_methods", {"type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12",
                                        "card[exp_year]": "2030", "card[cvc]": "123"}).json()["id"]
    first = post("/v1/payment_intents", {"amount": "500", "currency": "eur", "payment_method": card, "confirm": "true"})
    assert first.json()["status"] == "succeeded"
    customer = post("/v1/customers", {}).json()["id"]
    again = post("/v1/payment_intents", {"amount": "300", "currency": "eur", "payment_method": card,
                                         "customer": customer}).json()["id"]
    refused = post(f"/v1/payment_intents/{again}/confirm", {"off_session": "true"})
    assert refused.status_code == 400 and "without Customer attachment" in refused.json()["error"]["message"]
    assert stripe_get(stack, f"/v1/payment_intents/{again}")["status"] == "requires_confirmation"  # nothing charged
