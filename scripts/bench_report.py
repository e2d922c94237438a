"""Benchmark: the daily report's build time for a day of 1,000 vs 10,000 orders (it should scale about
linearly: it reads one day's partition, nothing else grows with it).

    .venv/bin/python scripts/bench_report.py [--small 1000] [--large 10000] [--runs 3]

Facts are written straight into the local AnalyticsTable (BatchWriteItem, as the Analytics function would
record them one by one), then the report's figures are built for each day. Prints facts per day, median
build time and the ratios. Figures are for the local moto server, so compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shop")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from shop.analytics import facts, service
    from shop.analytics.repository import fact_item
    from shop.config import function_environment

    from shoplocal.demo_day import generate_day
    from shoplocal.seed import PRODUCTS
    from shoplocal.stack import Stack

    with Stack(serve_http=False, start_stripe=False) as stack:
        env = stack.function_env("ReportsFunction")
        tz = ZoneInfo(env.get("REPORT_TIME_ZONE", "UTC"))
        products = [(s["sku"], p["product_id"]) for p in PRODUCTS for s in p["skus"]]
        ddb, table = stack.client("dynamodb"), stack.physical_id("AnalyticsTable")
        days = {args.small: date(2026, 2, 2), args.large: date(2026, 2, 3)}
        sizes: dict[int, int] = {}
        for n, day in days.items():
            started = time.perf_counter()
            events, _ = generate_day(day, n, n, products, tz)
            items = []
            for event in events:
                fact = facts.fact_for(event["detail-type"], event["detail"], tz)
                if fact is not None and fact.day == day:
                    items.append(fact_item(fact))
            for i in range(0, len(items), 25):
                ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": it}} for it in items[i:i + 25]]})
            sizes[n] = len(items)
            print(f"{n:>6} orders: {len(items):>6} facts written in {time.perf_counter() - started:.1f}s", flush=True)
        timings: dict[int, float] = {}
        with function_environment(env):
            for n, day in days.items():
                runs = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    figures = service.build(day)
                    runs.append(time.perf_counter() - t0)
                assert figures["orders"]["placed"] == n
                timings[n] = statistics.median(runs)
                print(f"{n:>6} orders: report built in {timings[n] * 1000:.0f} ms (median of {args.runs})", flush=True)
    ratio_orders = args.large / args.small
    ratio_time = timings[args.large] / timings[args.small]
    print(f"orders x{ratio_orders:.1f}, facts x{sizes[args.large] / sizes[args.small]:.2f}, "
          f"report time x{ratio_time:.2f} (linear would be x{ratio_orders:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
