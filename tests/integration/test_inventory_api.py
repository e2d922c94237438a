"""Inventory admin API (warehouses, stock levels) through the gateway emulation against moto."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import uid

pytestmark = pytest.mark.integration
NO_REORDER = {"incoming": 0, "reorder_point": 0, "reorder_quantity": 0}


def fields(resp: Any) -> set[str]:
    return {f["field"] for f in resp.json()["error"].get("details", {}).get("fields", [])}


def make_warehouse(stack: Any, admin: Any, **over: Any) -> str:
    wid = f"wh-{uid()}"
    body = {"name": f"Warehouse {wid}", "country": "DE", "zone": "domestic", **over}
    r = stack.request("PUT", f"/admin/warehouses/{wid}", json=body, token=admin.id_token)
    assert r.status == 200, r.body
    return wid


@pytest.fixture
def sku(stack: Any, admin: Any) -> str:
    cat = f"cat-{uid()}"
    assert stack.request("PUT", f"/admin/categories/{cat}", json={"name": "Inv"}, token=admin.id_token).status == 200
    code = f"INV-{uid().upper()}"
    r = stack.request("POST", "/admin/products", token=admin.id_token, json={
        "product_id": f"inv-{uid()}", "name": "Stocked thing", "category": cat,
        "skus": [{"sku": code, "name": "one", "price": {"amount": 100, "currency": "EUR"}, "weight_grams": 10}]})
    assert r.status == 201, r.body
    return code


def set_stock(stack: Any, admin: Any, sku: str, wid: str, on_hand: Any) -> Any:
    return stack.request("PUT", f"/admin/inventory/{sku}/{wid}", json={"on_hand": on_hand}, token=admin.id_token)


def test_inventory_routes_need_admin(stack: Any) -> None:
    shopper = stack.user()
    for method, path, body in [("GET", "/admin/warehouses", None),
                               ("PUT", "/admin/warehouses/x", {"name": "x", "country": "DE", "zone": "eu"}),
                               ("GET", "/admin/inventory/X-1", None),
                               ("PUT", "/admin/inventory/X-1/x", {"on_hand": 1})]:
        assert stack.request(method, path, json=body).status == 401
        assert stack.request(method, path, json=body, token=shopper.id_token).status == 403


def test_warehouses_put_and_list(stack: Any, admin: Any) -> None:
    a = make_warehouse(stack, admin, country="FR", zone="eu", priority=5)
    b = make_warehouse(stack, admin)
    items = stack.request("GET", "/admin/warehouses", token=admin.id_token).json()["items"]
    by_id = {w["warehouse_id"]: w for w in items}
    assert by_id[a] == {"warehouse_id": a, "name": f"Warehouse {a}", "country": "FR", "zone": "eu", "priority": 5}
    assert by_id[b]["priority"] == 100
    ids = [w["warehouse_id"] for w in items]
    assert ids.index(a) < ids.index(b)  # by priority
    r = stack.request("PUT", f"/admin/warehouses/{a}", json={"name": "Renamed", "country": "FR", "zone": "eu"},
                      token=admin.id_token)
    assert r.status == 200 and r.json()["name"] == "Renamed"


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "country": "Germany", "zone": "domestic"}, "body.country"),
    ({"name": "x", "country": "DE", "zone": "mars"}, "body.zone"),
    ({"name": "", "country": "DE", "zone": "domestic"}, "body.name"),
    ({"country": "DE", "zone": "domestic"}, "body.name"),
    ({"name": "x", "country": "DE", "zone": "domestic", "priority": -1}, "body.priority"),
])
def test_warehouse_bad_input(stack: Any, admin: Any, body: dict[str, Any], field: str) -> None:
    r = stack.request("PUT", f"/admin/warehouses/wh-{uid()}", json=body, token=admin.id_token)
    assert r.status == 422 and field in fields(r), r.body


def test_set_stock_create_raise_lower_and_reserved_floor(stack: Any, admin: Any, sku: str) -> None:
    w1, w2 = make_warehouse(stack, admin), make_warehouse(stack, admin)
    r = set_stock(stack, admin, sku, w1, 10)
    assert r.status == 200
    assert r.json() == {"sku": sku, "warehouse_id": w1, "on_hand": 10, "available": 10, "reserved": 0, **NO_REORDER}
    assert set_stock(stack, admin, sku, w2, 5).status == 200
    assert set_stock(stack, admin, sku, w1, 25).json()["available"] == 25

    # checkout reserves 8 in w1 (a direct conditional update, as checkout does)
    ddb = stack.client("dynamodb")
    ddb.update_item(TableName=stack.physical_id("InventoryTable"),
                    Key={"pk": {"S": f"SKU#{sku}"}, "sk": {"S": f"WH#{w1}"}},
                    UpdateExpression="SET available = available - :q, reserved = reserved + :q",
                    ConditionExpression="available >= :q", ExpressionAttributeValues={":q": {"N": "8"}})

    lowered = set_stock(stack, admin, sku, w1, 12)
    assert lowered.json() == {"sku": sku, "warehouse_id": w1, "on_hand": 12, "available": 4, "reserved": 8,
                              **NO_REORDER}
    assert set_stock(stack, admin, sku, w1, 8).json()["available"] == 0  # exactly the reserved amount
    r = set_stock(stack, admin, sku, w1, 7)
    assert r.status == 409
    assert "reserved" in r.json()["error"]["message"]
    assert r.json()["error"]["details"]["reserved"] == 8

    stock = stack.request("GET", f"/admin/inventory/{sku}", token=admin.id_token)
    assert stock.status == 200
    body = stock.json()
    assert body["sku"] == sku
    assert sorted(body["levels"], key=lambda lv: lv["warehouse_id"]) == sorted([
        {"warehouse_id": w1, "on_hand": 8, "available": 0, "reserved": 8, **NO_REORDER},
        {"warehouse_id": w2, "on_hand": 5, "available": 5, "reserved": 0, **NO_REORDER}],
        key=lambda lv: lv["warehouse_id"])
    assert body["totals"] == {"on_hand": 13, "available": 5, "reserved": 8}
    # the invariant holds on every stored level
    for level in body["levels"]:
        assert level["on_hand"] == level["available"] + level["reserved"]
    # setting the same value again is a no-op success
    assert set_stock(stack, admin, sku, w2, 5).json()["on_hand"] == 5


def test_set_stock_unknown_sku_or_warehouse(stack: Any, admin: Any, sku: str) -> None:
    wid = make_warehouse(stack, admin)
    r = set_stock(stack, admin, f"NOPE-{uid().upper()}", wid, 1)
    assert r.status == 404 and "sku" in r.json()["error"]["message"]
    r = set_stock(stack, admin, sku, f"wh-{uid()}", 1)
    assert r.status == 404 and "warehouse" in r.json()["error"]["message"]
    assert stack.request("GET", f"/admin/inventory/NOPE-{uid().upper()}", token=admin.id_token).status == 404
    # nothing was written for the unknown warehouse
    assert stack.request("GET", f"/admin/inventory/{sku}", token=admin.id_token).json()["levels"] == []


@pytest.mark.parametrize("value", [-1, "3", 1.5, None])
def test_set_stock_bad_input(stack: Any, admin: Any, sku: str, value: Any) -> None:
    wid = make_warehouse(stack, admin)
    r = set_stock(stack, admin, sku, wid, value)
    assert r.status == 422 and fields(r) == {"body.on_hand"}, r.body
    r = stack.request("PUT", f"/admin/inventory/{sku}/Bad WH", json={"on_hand": 1}, token=admin.id_token)
    assert r.status == 422 and "path.warehouseId" in fields(r)


def test_set_stock_records_the_storage_bin_shown_on_pick_lists(stack: Any, admin: Any, sku: str) -> None:
    wid = make_warehouse(stack, admin)
    path = f"/admin/inventory/{sku}/{wid}"
    r = stack.request("PUT", path, json={"on_hand": 4, "bin": "A-01"}, token=admin.id_token)
    assert r.status == 200 and r.json()["bin"] == "A-01", r.body
    # the bin can move while the quantity stays, and omitting it keeps it
    r = stack.request("PUT", path, json={"on_hand": 4, "bin": "B-07"}, token=admin.id_token)
    assert r.status == 200 and r.json()["bin"] == "B-07" and r.json()["on_hand"] == 4
    r = stack.request("PUT", path, json={"on_hand": 6}, token=admin.id_token)
    assert r.status == 200 and r.json()["bin"] == "B-07" and r.json()["available"] == 6
    bad = stack.request("PUT", path, json={"on_hand": 6, "bin": "no spaces!"}, token=admin.id_token)
    assert bad.status == 422 and fields(bad) == {"body.bin"}
    [level] = stack.request("GET", f"/admin/inventory/{sku}", token=admin.id_token).json()["levels"]
    assert level["bin"] == "B-07" and level["on_hand"] == 6
