"""scripts/backfill_status_index.py: orders and returns written before the staff status index existed (no
``status_pk``) get their index partition (and an order its SKUs) from the script, once: a second run updates
nothing, and the order then shows up in the staff list filtered by status and SKU."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from shop.checkout.ports import DynamoCheckoutStore
from shop.config import function_environment
from shop.inventory import repository as inventory

from tests.factories import script_report
from tests.fakes.contract import WAREHOUSE, new_ids, order
from tests.fakes.tables import now_iso

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "backfill_status_index.py"


def load_script() -> Any:
    spec = importlib.util.spec_from_file_location("backfill_status_index", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_the_backfill_indexes_old_orders_and_returns_once(stack: Any, api: Any,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    env = stack.function_env("CheckoutFunction")
    ddb, table = stack.client("dynamodb"), env["ORDERS_TABLE"]
    with function_environment(env):
        sku, customer, prefix = new_ids()
        inventory.create_stock(sku, WAREHOUSE, 1, now_iso())
        placed = order(f"{prefix}b", customer, sku, 1, total=1000)
        assert DynamoCheckoutStore().reserve_and_place(placed, customer, 0, now_iso()) == "placed"
    oid = placed.order_id
    key = {"pk": {"S": f"ORDER#{oid}"}, "sk": {"S": "ORDER"}}
    # as an order and a return were stored before the index: no status partition, no SKU set
    ddb.update_item(TableName=table, Key=key, UpdateExpression="REMOVE status_pk, skus")
    ret_key = {"pk": {"S": f"ORDER#{oid}"}, "sk": {"S": "RETURN#ret_backfill"}}
    ddb.put_item(TableName=table, Item={**ret_key, "status": {"S": "REQUESTED"}, "created_at": {"S": now_iso()}})
    try:
        listed = api("GET", "/admin/orders", query={"status": "PENDING_PAYMENT", "sku": sku, "limit": "100"})
        assert oid not in [o["order_id"] for o in listed["items"]]  # what the backfill is for

        script = load_script()
        args = ["--table", table, "--endpoint-url", stack.endpoint_url, "--region", env.get("AWS_REGION", "us-east-1"),
                "--page-size", "25"]
        assert script.main(args) == 0
        first = script_report(capsys.readouterr().out, "orders")
        assert script.main(args) == 0
        again = script_report(capsys.readouterr().out, "orders")

        assert first["orders"]["updated"] >= 1 and first["returns"]["updated"] >= 1
        assert again["orders"]["updated"] == 0 and again["returns"]["updated"] == 0
        item = ddb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        assert item["status_pk"] == {"S": "STATUS#PENDING_PAYMENT"} and item["skus"] == {"SS": [sku]}
        ret = ddb.get_item(TableName=table, Key=ret_key, ConsistentRead=True)["Item"]
        assert ret["status_pk"] == {"S": "RETURN#REQUESTED"}
        listed = api("GET", "/admin/orders", query={"status": "PENDING_PAYMENT", "sku": sku, "limit": "100"})
        assert [o["order_id"] for o in listed["items"]] == [oid]
    finally:
        ddb.delete_item(TableName=table, Key=ret_key)  # a return without lines is this test's own
