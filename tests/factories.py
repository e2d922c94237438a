"""Test data through the admin API (so every test also exercises the real routes)."""

from __future__ import annotations

import uuid
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
