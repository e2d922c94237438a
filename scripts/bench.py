"""Benchmarks (issue 7, first part): figures printed, nothing asserted.

    .venv/bin/python scripts/bench.py

1. Per function: cold import time of its handler module as a ratio to a bare `import boto3` (fresh
   interpreter each, median of 3), and the deployment size (function code + the shared layer; the
   dependencies layer is reported once).
2. Per route: DynamoDB calls per request against the local stack, and warm handler latency p50/p99 (local
   moto: compare ratios, not absolute times).
3. Per order, from checkout to DELIVERED: Lambda invocations, state transitions and DynamoDB calls.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shop")]
IMPORT = "import time,sys; t=time.perf_counter(); {stmt}; print(time.perf_counter()-t)"


def cold_import(stmt: str, extra_path: list[str]) -> float:
    env_path = ":".join([*extra_path, str(ROOT / "layers" / "shop")])
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", IMPORT.format(stmt=stmt)], capture_output=True, text=True,
                             env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"}, check=True, timeout=120)
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(runs)


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def main() -> int:
    from shoplocal.stack import Stack
    from tests.factories import (
        checkout,
        deliver,
        make_product,
        put_in_cart,
        wait_paid,
    )

    functions = sorted(p for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())
    boto = cold_import("import boto3", [])
    shared = size(ROOT / "layers" / "shop")
    print(f"1. cold import (bare `import boto3` = {boto * 1000:.0f} ms); shared layer {shared / 1024:.0f} KiB")
    for fn in functions:
        t = cold_import("import app", [str(fn)])
        print(f"   {fn.name:<22} import {t * 1000:6.0f} ms  x{t / boto:4.1f} boto3   code {size(fn) / 1024:5.1f} KiB")

    from shop import aws

    calls: Counter[str] = Counter()
    real = aws.client

    class Spy:
        def __init__(self, inner: Any):
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            if not name.startswith("_") and name not in ("meta", "exceptions"):
                calls[name] += 1
            return getattr(self._inner, name)

    aws.client = lambda service: Spy(real(service)) if service == "dynamodb" else real(service)  # type: ignore
    with Stack() as stack:
        admin = stack.user(groups=("admin",))
        staff = stack.user(groups=("warehouse",))
        product = make_product(stack, admin.id_token, stock={"a": 500})
        sku = product.skus[0]
        print("2. per route: DynamoDB calls per request, warm latency p50 / p99 (20 requests)")
        routes = [("GET", "/products", None), ("GET", f"/products/{product.product_id}", None),
                  ("PUT", f"/cart/items/{sku}", {"quantity": 1}), ("GET", "/cart", None)]
        shopper = stack.user()
        for method, path, body in routes:
            stack.request(method, path, json=body, token=shopper.id_token)  # warm
            times, before = [], sum(calls.values())
            for _ in range(20):
                t0 = time.perf_counter()
                resp = stack.request(method, path, json=body, token=shopper.id_token)
                times.append(time.perf_counter() - t0)
                assert resp.status < 300, resp.body
            per = (sum(calls.values()) - before) / 20
            q = statistics.quantiles(times, n=100)
            print(f"   {method:<4} {path:<48} {per:5.1f} calls  p50 {q[49] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms")
        before = Counter(calls)
        buyer = stack.user()
        put_in_cart(stack, buyer.id_token, sku, 1)
        invocations = len(stack.invoker.invocations)
        t0 = time.perf_counter()
        resp = checkout(stack, buyer.id_token)
        checkout_ms = (time.perf_counter() - t0) * 1000
        order_id = resp.json()["order_id"]
        checkout_calls = Counter(calls) - before
        print(f"   POST /checkout: {sum(checkout_calls.values())} DynamoDB calls {dict(checkout_calls)} "
              f"({checkout_ms:.0f} ms)")
        wait_paid(stack, order_id)
        deliver(stack, staff.id_token, buyer.id_token, order_id, product.warehouses[0])
        stack.drain_async()
        arn = stack.physical_id("OrderStateMachine").replace(":stateMachine:", ":execution:") + ":" + order_id
        history = stack.execution_history(arn)
        order_calls = Counter(calls) - before
        used = Counter(name for name, _ in stack.invoker.invocations[invocations:])
        print("3. one order, checkout to DELIVERED (one parcel):")
        print(f"   Lambda invocations {sum(used.values())}: {dict(used)}")
        print(f"   state transitions {sum(1 for e in history if e['type'].endswith('StateEntered'))}, "
              f"history events {len(history)}")
        print(f"   DynamoDB calls {sum(order_calls.values())}: {dict(order_calls)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
