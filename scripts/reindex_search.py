"""Backfill the catalog search index (issue 16): index every listed product stored before the index existed,
or whose entries were lost, and fill the typo vocabulary. Idempotent; reads products with a Query over the
ByListingNewest index (never a Scan) and writes each product's entries in a transaction conditioned on its
version, so it may run while admins edit the catalogue.

    # a deployed stack (AWS credentials of the environment; the table name from the stack's outputs/resources)
    .venv/bin/python scripts/reindex_search.py --table shop-prod-CatalogTable-XXXX --region eu-central-1
    # the local stack of `make run` (moto; its port and the table name are printed at start-up)
    .venv/bin/python scripts/reindex_search.py --table <CatalogTable> --endpoint-url http://127.0.0.1:5000

`make run` needs none of this: the demo seed goes through the admin API, which indexes as it writes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", default=os.environ.get("CATALOG_TABLE"), help="CatalogTable's physical name")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"), help="moto, locally")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args(argv)
    if not args.table:
        parser.error("--table (or CATALOG_TABLE) is required")
    env = {"CATALOG_TABLE": args.table, "CURRENCY": os.environ.get("CURRENCY", "EUR")}
    if args.region:
        env["AWS_REGION"] = args.region
    if args.endpoint_url:
        env["AWS_ENDPOINT_URL"] = args.endpoint_url
        env.setdefault("AWS_REGION", "us-east-1")
    from shop.catalog import service
    from shop.config import function_environment

    with function_environment({**os.environ, **env}):
        result = service.reindex_search(page_size=args.page_size)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
