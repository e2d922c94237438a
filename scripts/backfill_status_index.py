"""Backfill the staff status index (OrdersByStatus) for orders and returns written before it existed (issue 15):
without it such orders are missing from GET /admin/orders?status= and such returns from the returns queue.
Idempotent (only records without ``status_pk`` are touched, each write conditional on the status it read, so it
may run while the shop takes orders); a paged Scan of OrdersTable (``--page-size`` bounds the read units per
request), which is acceptable for a one-off migration and is never a request path.

    # a deployed stack (AWS credentials of the environment; the table name from the stack's resources)
    .venv/bin/python scripts/backfill_status_index.py --table shop-prod-OrdersTable-XXXX --region eu-central-1
    # the local stack of `make run` (moto; its port and the table names are printed at start-up)
    .venv/bin/python scripts/backfill_status_index.py --table <OrdersTable> --endpoint-url http://127.0.0.1:5000

Prints {"orders": {"seen": n, "updated": n}, "returns": {"seen": n, "updated": n}}; a second run updates 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

Page = Callable[[int, dict[str, Any] | None], tuple[int, int, dict[str, Any] | None]]


def run_pages(page: Page, page_size: int) -> dict[str, int]:
    seen = updated = 0
    start: dict[str, Any] | None = None
    while True:
        n, done, start = page(page_size, start)
        seen, updated = seen + n, updated + done
        if not start:
            return {"seen": seen, "updated": updated}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", default=os.environ.get("ORDERS_TABLE"), help="OrdersTable's physical name")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"), help="moto, locally")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args(argv)
    if not args.table:
        parser.error("--table (or ORDERS_TABLE) is required")
    env = {"ORDERS_TABLE": args.table, "CURRENCY": os.environ.get("CURRENCY", "EUR")}
    if args.region:
        env["AWS_REGION"] = args.region
    if args.endpoint_url:
        env["AWS_ENDPOINT_URL"] = args.endpoint_url
        env.setdefault("AWS_REGION", "us-east-1")
    from shop.config import function_environment
    from shop.orders import repository as orders
    from shop.returns import repository as returns

    with function_environment({**os.environ, **env}):
        result = {"orders": run_pages(orders.backfill_status_index, args.page_size),
                  "returns": run_pages(returns.backfill_queue, args.page_size)}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
