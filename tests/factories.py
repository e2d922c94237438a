"""Test data through the admin API (so every test also exercises the real routes)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


def uid(n: int = 8) -> str:
    return uuid.uuid4().hex[:n]


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


ADDRESS = {"name": "Ada Lovelace", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117",
           "country": "DE"}


@dataclass
class Product:
    product_id: str
    skus: list[str]
    warehouses: list[str]


def ok(resp: Any, *statuses: int) -> Any:
    assert resp.status in (statuses or (200, 201)), (resp.status, resp.body)
    return resp.json()


def make_product(stack: Any, admin_token: str, *, stock: dict[str, int], price: int = 1999,
                 weight_grams: int = 400, n_skus: int = 1) -> Product:
    """A product with n SKUs, each stocked per warehouse as given ({suffix: on_hand}); warehouses are new."""
    tag = uid()
    category = f"cat-{tag}"
    ok(stack.request("PUT", f"/admin/categories/{category}", json={"name": f"Category {tag}"}, token=admin_token))
    wh_ids = {}
    for i, suffix in enumerate(stock):
        wid = f"wh-{suffix}-{tag}"
        country, zone = (("DE", "domestic"), ("FR", "eu"), ("US", "world"))[i % 3]
        ok(stack.request("PUT", f"/admin/warehouses/{wid}", json={"name": wid, "country": country, "zone": zone,
                                                                  "priority": 10 * (i + 1)}, token=admin_token))
        wh_ids[suffix] = wid
    product_id = f"p-{tag}"
    skus = [f"SKU-{tag.upper()}-{i}" for i in range(n_skus)]
    ok(stack.request("POST", "/admin/products", token=admin_token, json={
        "product_id": product_id, "name": f"Product {tag}", "description": "test product", "category": category,
        "skus": [{"sku": s, "name": f"Variant {i}", "price": eur(price), "weight_grams": weight_grams}
                 for i, s in enumerate(skus)]}), 201)
    for s in skus:
        for suffix, qty in stock.items():
            ok(stack.request("PUT", f"/admin/inventory/{s}/{wh_ids[suffix]}", json={"on_hand": qty},
                             token=admin_token))
    return Product(product_id, skus, list(wh_ids.values()))


def stock_of(stack: Any, sku: str) -> dict[str, dict[str, int]]:
    table = stack.physical_id("InventoryTable")
    items = stack.client("dynamodb").query(
        TableName=table, KeyConditionExpression="pk = :p", ConsistentRead=True,
        ExpressionAttributeValues={":p": {"S": f"SKU#{sku}"}})["Items"]
    return {i["warehouse_id"]["S"]: {k: int(i[k]["N"]) for k in ("on_hand", "available", "reserved")} for i in items}


def put_in_cart(stack: Any, token: str, sku: str, quantity: int) -> None:
    ok(stack.request("PUT", f"/cart/items/{sku}", json={"quantity": quantity}, token=token))


def checkout(stack: Any, token: str, key: str | None = None, *, payment_method_id: str = "pm_card_visa",
             address: dict[str, Any] | None = None) -> Any:
    return stack.request("POST", "/checkout", token=token, headers={"Idempotency-Key": key or f"key-{uid(16)}"},
                         json={"shipping_address": address or ADDRESS, "payment_method_id": payment_method_id})


def execution_arn(stack: Any, order_id: str) -> str:
    """The order workflow's execution for an order (checkout names it after the order id)."""
    machine = stack.physical_id("OrderStateMachine")
    return machine.replace(":stateMachine:", ":execution:") + ":" + order_id


def order_item(stack: Any, order_id: str) -> dict[str, Any]:
    return stack.client("dynamodb").get_item(
        TableName=stack.physical_id("OrdersTable"), ConsistentRead=True,
        Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}})["Item"]


def wait_for(check: Any, timeout: float = 30, what: str = "condition", interval: float = 0.1) -> Any:
    """Poll ``check()`` until it returns something truthy (returned) or the timeout passes (AssertionError)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def order_view(stack: Any, token: str, order_id: str) -> dict[str, Any]:
    return dict(ok(stack.request("GET", f"/orders/{order_id}", token=token)))


def wait_status(stack: Any, token: str, order_id: str, *statuses: str, timeout: float = 30) -> dict[str, Any]:
    return dict(wait_for(lambda: (v := order_view(stack, token, order_id)) and v["status"] in statuses and v,
                         timeout, f"order {order_id} to become {statuses}"))


def open_task(stack: Any, staff_token: str, warehouse_id: str, order_id: str, kind: str,
              timeout: float = 30) -> dict[str, Any]:
    """Wait until the warehouse lists an open task of this kind for the order; returns it."""
    def find() -> dict[str, Any] | None:
        listed = ok(stack.request("GET", f"/warehouse/{warehouse_id}/tasks", token=staff_token,
                                  query={"limit": "100"}))
        return next((t for t in listed["items"] if t["order_id"] == order_id and t["kind"] == kind), None)

    return dict(wait_for(find, timeout, f"an open {kind} task for {order_id} in {warehouse_id}"))


def pick_and_pack(stack: Any, staff_token: str, order_id: str, warehouse_id: str, *, extra_grams: int = 150,
                  timeout: float = 30) -> dict[str, Any]:
    """Complete the pick task (picked = checklist) and the pack task (items' weight + packaging) of the
    order's shipment from ``warehouse_id``; returns the completed pack task."""
    pick = open_task(stack, staff_token, warehouse_id, order_id, "pick", timeout)
    picked = [{"sku": i["sku"], "quantity": i["quantity"]} for i in pick["checklist"]]
    ok(stack.request("POST", f"/warehouse/tasks/{pick['task_id']}/complete", token=staff_token,
                     json={"picked": picked}))
    pack = open_task(stack, staff_token, warehouse_id, order_id, "pack", timeout)
    weight = sum(i["weight_grams"] * i["quantity"] for i in pack["checklist"]) + extra_grams
    return dict(ok(stack.request("POST", f"/warehouse/tasks/{pack['task_id']}/complete", token=staff_token,
                                 json={"package_weight_grams": weight})))


def emails_to(stack: Any, address: str) -> list[dict[str, Any]]:
    return [m for m in stack.sent_emails() if address in m["destinations"]]


def history(stack: Any, order_id: str) -> list[dict[str, Any]]:
    return list(stack.execution_history(execution_arn(stack, order_id)))


def entered_states(events: list[dict[str, Any]]) -> list[str]:
    return [details["name"] for e in events for key, details in e.items() if key == "stateEnteredEventDetails"]


def state_output(stack: Any, order_id: str, name: str) -> dict[str, Any]:
    """The output of the last run of state ``name`` in the order's execution."""
    import json

    exits = [e["stateExitedEventDetails"] for e in history(stack, order_id) if "stateExitedEventDetails" in e
             and e["stateExitedEventDetails"]["name"] == name]
    assert exits, f"{name} never finished for {order_id}"
    return dict(json.loads(exits[-1]["output"]))


def wait_paid(stack: Any, order_id: str, timeout: float = 60) -> dict[str, Any]:
    """Wait until the paid order is split and waiting in the warehouse (the execution keeps RUNNING until
    staff pick and pack); returns the output of the ConfirmOrder state."""
    sfn = stack.client("stepfunctions")
    arn = execution_arn(stack, order_id)

    def reached() -> str | None:
        try:
            status = sfn.describe_execution(executionArn=arn)["status"]
        except sfn.exceptions.ExecutionDoesNotExist:
            return None
        if status != "RUNNING":
            return str(status)
        return "split" if "FulfilShipments" in entered_states(history(stack, order_id)) else None

    outcome = wait_for(reached, timeout, f"{order_id} to be paid and split")
    assert outcome == "split", f"the execution ended {outcome} before fulfilment"
    return state_output(stack, order_id, "ConfirmOrder")


@contextmanager
def hooked(stack: Any, fn: Callable[[str, dict[str, Any]], None]) -> Iterator[None]:
    """Run ``fn(logical_id, event)`` before every function invocation while inside (fault injection: raise
    to fail the invocation, block to hold it)."""
    stack.invoker.hooks.append(fn)
    try:
        yield
    finally:
        stack.invoker.hooks.remove(fn)


@dataclass
class Prepared:
    """A shopper with a filled cart, and the id its checkout will give the order (known in advance, so a
    hook can target the order before its workflow starts)."""

    shopper: Any
    key: str
    order_id: str
    product: Product

    @property
    def sku(self) -> str:
        return self.product.skus[0]


def prepare_checkout(stack: Any, admin: Any, label: str, quantity: int = 2,
                     stock: dict[str, int] | None = None) -> Prepared:
    from shop.checkout.service import order_id_for

    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock=stock or {"a": 5})
    put_in_cart(stack, shopper.id_token, product.skus[0], quantity)
    key = f"{label}-{product.product_id}"
    return Prepared(shopper, key, order_id_for(shopper.user_id, key), product)


def deliver(stack: Any, staff_token: str, shopper_token: str, order_id: str, warehouse_id: str) -> None:
    """Take a paid single-parcel order to DELIVERED: pick and pack as staff, then the carrier's delivery scan."""
    pick_and_pack(stack, staff_token, order_id, warehouse_id)
    tracking = wait_for(lambda: order_view(stack, shopper_token, order_id)["shipments"][0]["tracking_number"], 30,
                        f"the label of {order_id}")
    ok(stack.carrier_webhook(tracking, "delivered"))
    wait_status(stack, shopper_token, order_id, "DELIVERED")
