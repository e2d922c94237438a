"""No overselling: 50 shoppers check out at the same moment for the last 5 units of one SKU.

The 5 units sit in two warehouses (3 + 2). Requests go over real HTTP through the local gateway, each
checkout in its own Lambda execution environment. Exactly 5 orders hold the units (a placed order whose
payment fails gives its unit back, which another shopper of the burst may then buy); the others get 409
naming the SKU; at no moment is any stock level negative; per warehouse available + reserved == on_hand,
and what is reserved is exactly what the holding orders hold.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.factories import ADDRESS, execution_arn, make_product, order_item, put_in_cart, stock_of, uid, wait_for

pytestmark = pytest.mark.integration

SHOPPERS = 50
UNITS = {"a": 3, "b": 2}


def test_fifty_parallel_checkouts_for_the_last_five_units(stack):
    admin = stack.user(groups=("admin",))
    product = make_product(stack, admin.id_token, stock=UNITS, price=4999)
    sku = product.skus[0]
    with ThreadPoolExecutor(max_workers=10) as pool:
        shoppers = list(pool.map(lambda _: stack.user(), range(SHOPPERS)))
    for shopper in shoppers:
        put_in_cart(stack, shopper.id_token, sku, 1)

    lowest = {"available": 10**9, "reserved": 10**9}
    stop = threading.Event()

    def monitor() -> None:
        while not stop.is_set():
            for level in stock_of(stack, sku).values():
                for key, seen in list(lowest.items()):
                    lowest[key] = min(seen, level[key])
            time.sleep(0.01)

    watcher = threading.Thread(target=monitor)
    watcher.start()
    barrier = threading.Barrier(SHOPPERS)

    def buy(shopper) -> tuple[int, dict]:
        with requests.Session() as http:
            barrier.wait(timeout=30)
            resp = http.post(f"{stack.base_url}/checkout", timeout=120, json={
                "shipping_address": ADDRESS, "payment_method_id": "pm_card_visa"},
                headers={"Authorization": f"Bearer {shopper.id_token}", "Idempotency-Key": f"race-{uid(16)}"})
            return resp.status_code, resp.json()

    try:
        with ThreadPoolExecutor(max_workers=SHOPPERS) as pool:
            results = list(pool.map(buy, shoppers))
    finally:
        stop.set()
        watcher.join(timeout=10)

    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {201, 409}, statuses
    for status, body in results:
        if status == 409:
            assert body["error"]["code"] == "out_of_stock", body
            assert [s["sku"] for s in body["error"]["details"]["skus"]] == [sku]
    assert lowest["available"] >= 0 and lowest["reserved"] >= 0

    # Every placed order goes on into payment. One whose payment then fails (the provider refusing under
    # this load) gives its unit back at once, and a later shopper of the same burst may get it: that is
    # selling it once, not twice. So: exactly 5 orders end up holding the 5 units, and any further placed
    # order is one that was released before the burst ended.
    placed = [body["order_id"] for status, body in results if status == 201]
    final_status = {oid: wait_for(lambda oid=oid: (st := order_item(stack, oid)["status"]["S"]) not in
                                  ("PENDING_PAYMENT", "PAYMENT_PROCESSING") and st, 60, f"{oid} to settle")
                    for oid in placed}
    holding = [oid for oid, st in final_status.items() if st not in ("PAYMENT_FAILED", "EXPIRED", "CANCELLED")]
    released = sorted(set(placed) - set(holding))
    for oid in released:  # surfaced in the test summary, so a pattern of failures is noticed
        causes = [json.dumps(v, default=str)[:300] for e in stack.execution_history(execution_arn(stack, oid))
                  for k, v in e.items() if "Failed" in k or "TimedOut" in k]
        warnings.warn(f"{oid} was placed but its payment failed under load and released its unit: {causes}",
                      stacklevel=1)
    # every request got its own answer (the local runtime keeps concurrent requests apart: patches.py, 4)
    assert len(placed) == len(set(placed)), placed
    assert len(holding) == 5, final_status
    assert len(set(placed)) == 5 + len(released), (statuses, released)
    assert statuses[409] == SHOPPERS - statuses[201], statuses

    final = stock_of(stack, sku)
    assert sum(level["available"] for level in final.values()) == 0
    for level in final.values():
        assert level["available"] + level["reserved"] == level["on_hand"]
    held: Counter[str] = Counter()
    counted: set[str] = set()
    for status, body in results:
        if status == 201 and body["order_id"] in holding and body["order_id"] not in counted:
            counted.add(body["order_id"])
            [line] = body["lines"]
            assert line["quantity"] == 1
            for alloc in line["allocations"]:
                held[alloc["warehouse_id"]] += alloc["quantity"]
    assert dict(held) == {wh: level["reserved"] for wh, level in final.items()}
    assert sorted(level["on_hand"] for level in final.values()) == sorted(UNITS.values())
    # the losers' carts still hold the item (nothing of theirs was half-written)
    losers = [s for s, (status, _) in zip(shoppers, results, strict=True) if status == 409]
    cart = stack.request("GET", "/cart", token=losers[0].id_token).json()
    assert [(i["sku"], i["quantity"]) for i in cart["items"]] == [(sku, 1)]
