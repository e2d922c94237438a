"""Benchmarks and the cost model (issues 7 and 17): figures printed, nothing asserted.

    .venv/bin/python scripts/bench.py                    # parts 1-6 (a few minutes; --no-imports skips part 1)
    .venv/bin/python scripts/bench.py --markdown > x.md  # parts 1-6 on stderr, the README sections on stdout
    .venv/bin/python scripts/bench.py --only-imports     # part 1 only (no local stack; --import-runs rounds)

1. Per function: cold import of its handler module as a ratio to a bare `import boto3` and to the function's
   own dependency floor, both timed in the same run (CPU time; and valgrind's instruction count, the same run
   after run, where valgrind is installed: ``--no-instructions`` skips it), with the ``-X importtime`` offenders
   beyond the floor
   (scripts/bench_targets.py says how), and the deployment size (function code + the shared layer; the
   dependencies layer is reported once).
2. Per route (demo catalog seeded): DynamoDB calls, read/write request units and Lambda GB-s per request,
   and warm handler latency p50/p99 (local moto: compare ratios, not absolute times).
3. Per order, checkout to DELIVERED (``--lines`` lines of one unit, one parcel; ``--orders`` orders, the one
   with the median Lambda GB-s reported): API Gateway requests, Lambda invocations and GB-s (measured
   handler time, and with AWS's 1 ms rounding), Step Functions state transitions, DynamoDB calls and request
   units per table, EventBridge events, SES emails, storage added; in 2 and 3 also the function log bytes
   CloudWatch Logs ingests per invocation: what each handler writes (counted per invocation by FunctionOutput, with
   the deployed Powertools settings) and Lambda's own START, END and REPORT lines (platform_log_bytes).
   Only the shop's own work is counted: the bench's waiting (task-list and order polling) is tagged and
   reported on its own line, and the per-route measurements taken mid-order are left out.
4. The cost per 1,000 orders at the list prices in PRICES, from the figures of 2 and 3 and the assumptions
   in ASSUMPTIONS / BROWSING_PER_ORDER. ``--markdown`` prints it as the README section "Cost per 1,000 orders".
5. A flash sale on one hot SKU at DynamoDB's per-item write limit, simulated (scripts/flash_sale_sim.py).
6. Issue 17's targets, each with its figure, the ratio to the target and met / not met (``--markdown``: the
   README section "Performance targets").

moto's ConsumedCapacity is not faithful (a constant per call, nothing for transactions; the bench checks
and prints it), so request units are computed inside the local moto server from the stored items' sizes,
before and after each request, with DynamoDB's published rules (see ``DynamoMeter``).
"""

from __future__ import annotations

import argparse
import base64
import contextvars
import functools
import inspect
import json
import math
import os
import re
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shop"), str(ROOT / "scripts")]

import bench_targets  # noqa: E402  (issue 17's targets: cold imports, route floors, the target lines)
import flash_sale_sim  # noqa: E402

# ---------------------------------------------------------------------------------------------------- prices
# us-east-1 list prices (USD), looked up on PRICES_DATE; free tiers ignored, first volume tier everywhere.
# Lambda: https://aws.amazon.com/lambda/pricing/ ($0.20 per 1M requests; duration per GB-s, x86 first
#   6 B GB-s/month, Arm first 7.5 B GB-s/month; billed in 1 ms increments)
# API Gateway HTTP APIs: https://aws.amazon.com/api-gateway/pricing/ ($1.00 per million, first 300 M/month;
#   metered in 512 KB increments: the shop's requests are far below one). REST APIs ($3.50 per million,
#   first 333 M/month) are the API the shop ran before issue 17: priced only for the comparison (api_tradeoff)
# Step Functions Standard: https://aws.amazon.com/step-functions/pricing/ ($0.025 per 1,000 state transitions)
# DynamoDB on-demand, Standard table class: https://aws.amazon.com/dynamodb/pricing/on-demand/ ($0.625 per
#   million write request units, $0.125 per million read request units since the Nov 2024 price cut;
#   storage $0.25 per GB-month; continuous backups (PITR) $0.20 per GB-month)
# EventBridge: https://aws.amazon.com/eventbridge/pricing/ (custom events $1.00 per million, 64 KB chunks)
# SES: https://aws.amazon.com/ses/pricing/ ($0.10 per 1,000 outbound emails)
# S3 Standard: https://aws.amazon.com/s3/pricing/ ($0.005 per 1,000 PUT, COPY, POST, LIST requests)
# CloudWatch Logs: https://aws.amazon.com/cloudwatch/pricing/ ($0.50 per GB ingested, Standard class; the
#   first tier of the tiered Lambda log pricing of May 2025; the API's access logs at the same price)
# Cognito user pools, Essentials tier: https://aws.amazon.com/cognito/pricing/ ($0.015 per MAU above 10,000
#   free) - a note in the model, not a line of it (it is per active user, not per order)
# X-Ray: https://aws.amazon.com/xray/pricing/ ($5.00 per million traces recorded above 100,000 free) - a note
# SQS standard queues: https://aws.amazon.com/sqs/pricing/ ($0.40 per million requests above 1 M free, each 64 KB
#   chunk of a payload one request) - priced only for the analytics-in-batches alternative, not used in the model
PRICES_DATE = "2026-11-27"
PRICES: dict[str, float] = {
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_s_x86_64": 0.0000166667,
    "lambda_gb_s_arm64": 0.0000133334,
    "apigw_rest_request": 3.50 / 1e6,
    "apigw_http_request": 1.00 / 1e6,
    "sfn_transition": 0.025 / 1e3,
    "ddb_wru": 0.625 / 1e6,
    "ddb_rru": 0.125 / 1e6,
    "ddb_storage_gb_month": 0.25,
    "ddb_pitr_gb_month": 0.20,
    "events_custom_event": 1.00 / 1e6,
    "ses_email": 0.10 / 1e3,
    "s3_put": 0.005 / 1e3,
    "logs_ingest_gb": 0.50,
    "cognito_mau_essentials": 0.015,
    "sqs_request": 0.40 / 1e6,
}
PRICE_LABELS: dict[str, str] = {
    "lambda_request": "$0.20 / M", "lambda_gb_s_x86_64": "$0.0000166667 / GB-s",
    "lambda_gb_s_arm64": "$0.0000133334 / GB-s", "apigw_http_request": "$1.00 / M", "apigw_rest_request": "$3.50 / M",
    "sfn_transition": "$0.025 / 1,000", "ddb_wru": "$0.625 / M", "ddb_rru": "$0.125 / M",
    "ddb_storage_gb_month": "$0.25 / GB-month", "ddb_pitr_gb_month": "$0.20 / GB-month",
    "events_custom_event": "$1.00 / M", "ses_email": "$0.10 / 1,000", "s3_put": "$0.005 / 1,000",
    "logs_ingest_gb": "$0.50 / GB",
}

# ---------------------------------------------------------------------------------------------- assumptions
# Browsing per order: the requests that lead to one order but are not part of its flow. Assumed: 25
# sessions per order (a 4 % conversion rate, a little above the 2-3 % usually quoted for web shops, for a
# shop with returning customers), each opening one category page and two product pages; 70 % of carts are
# abandoned, so about 3 carts are filled per order, each with one extra line and looked at twice; one login
# per order; the buyer looks at the order twice; staff open the task list once for the pick and once for
# the pack of each parcel. Costs per request are measured in part 2.
BROWSING_PER_ORDER: dict[str, float] = {
    "GET /products": 25,
    "GET /products/{productId}": 50,
    "PUT /cart/items/{sku}": 3,
    "GET /cart": 6,
    "POST /auth/login": 1,
    "GET /orders/{orderId}": 2,
    "GET /warehouse/{warehouseId}/tasks": 2,  # per parcel
}
ASSUMPTIONS: dict[str, float] = {
    # function logs are measured per invocation (FunctionOutput, platform_log_bytes); this figure is only the
    # fallback for figures that carry none (an invocation counted without its output): Lambda's START, END and
    # REPORT lines (~0.4 KB), a Powertools EMF metrics line and a structured INFO line (~0.5 KB each)
    "log_bytes_per_invocation": 1536,
    # the daily report writes JSON, CSV and HTML to S3 once a day; at this many orders a day
    "orders_per_day": 1000,
    "report_puts_per_day": 3,
    # the data an order leaves in DynamoDB, priced for one month (it is charged again every month it is kept)
    "storage_months": 1,
}
# API access logs (issue 17): the HTTP API writes one line per request to ApiAccessLogGroup in the format of
# template.yaml (ShopHttpApi, AccessLogSettings.Format). Its size per request is estimated by rendering that format with
# the typical values below (a variable API Gateway has no value for renders "-") and adding the 26 bytes CloudWatch
# Logs counts per log event; the figure follows the template's format.
ACCESS_LOG_EVENT_OVERHEAD = 26
TYPICAL_CONTEXT: dict[str, str] = {
    "requestId": "0f6b8f4e-5c1a-4d2b-9e3f-7a8b9c0d1e2f",  # 36 characters
    "extendedRequestId": "Mc7UVioPPHcEKPA=",
    "identity.sourceIp": "203.0.113.45",
    "identity.userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "requestTime": "01/Dec/2026:12:00:00 +0000",
    "requestTimeEpoch": "1796126400000",
    "httpMethod": "GET",
    "path": "/products/colombia-huila",
    "protocol": "HTTP/1.1",
    "routeKey": "GET /products/{productId}",
    "stage": "$default",
    "status": "200",
    "responseLength": "1843",
    "responseLatency": "45",
    "integrationLatency": "38",
    "integrationStatus": "200",
    "integration.status": "200",
    "integration.latency": "38",
    "integrationErrorMessage": "-",
    "integration.error": "-",
    "error.message": "-",
    "authorizer.error": "-",
}
UNKNOWN_CONTEXT_CHARS = 16  # a variable without a typical value above

# Function logs (CloudWatch Logs ingestion): per invocation, what the handler writes to stdout / stderr (measured by
# FunctionOutput while the bench runs, with the deployed POWERTOOLS_* settings of DEPLOYED_POWERTOOLS) plus the
# lines Lambda itself writes in the Text log format (template.yaml sets no LoggingConfig.LogFormat): START, END and
# REPORT, REPORT with the X-Ray line since Tracing is Active, in the formats of
# https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html (fields tab-separated, each ending in a tab) and
# X-Ray's trace ids (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html: 1-8 hex-24 hex;
# segment ids 16 hex). Each line one log event (the REPORT line and its X-Ray line one event), each event counted
# with the 26 bytes CloudWatch Logs adds; the request id 36 characters; warm invocations (no Init Duration).
LOG_EVENT_OVERHEAD = ACCESS_LOG_EVENT_OVERHEAD
TYPICAL_TRACE_ID = "1-5e34a614-10bd4a2bf1fb44f07bc535a1"  # 35 characters
TYPICAL_SEGMENT_ID = "07f5a2b12d1f6f85"  # 16 characters
TYPICAL_MAX_MEMORY_MB = 100  # "Max Memory Used" of a warm Python function with boto3, Powertools and pydantic
DEPLOYED_POWERTOOLS = {"POWERTOOLS_METRICS_DISABLED": "false", "POWERTOOLS_LOG_LEVEL": "INFO"}


def platform_lines(duration_ms: float, memory_mb: int, max_memory_mb: int = TYPICAL_MAX_MEMORY_MB) -> list[str]:
    """The log events Lambda writes for one warm invocation in the Text format, with Active tracing."""
    rid = TYPICAL_CONTEXT["requestId"]
    return [f"START RequestId: {rid} Version: $LATEST",
            f"END RequestId: {rid}",
            f"REPORT RequestId: {rid}\tDuration: {duration_ms:.2f} ms\tBilled Duration: "
            f"{max(1, math.ceil(duration_ms))} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {max_memory_mb} MB\t"
            f"\nXRAY TraceId: {TYPICAL_TRACE_ID}\tSegmentId: {TYPICAL_SEGMENT_ID}\tSampled: true\t"]


def platform_log_bytes(seconds: float, memory_mb: int) -> int:
    """Bytes ingested for Lambda's own lines of one invocation (each line one event, 26 bytes added per event)."""
    return sum(len(line.encode()) + LOG_EVENT_OVERHEAD for line in platform_lines(seconds * 1000, memory_mb))


def output_log_bytes(text: str) -> int:
    """Bytes ingested for what a handler wrote: each line one log event (without its newline), 26 bytes added; an
    empty line is no event (CloudWatch Logs takes no empty message)."""
    return sum(len(line.encode()) + LOG_EVENT_OVERHEAD for line in text.split("\n") if line)


@dataclass(frozen=True)
class AccessLogEstimate:
    """The template's access log format rendered once with TYPICAL_CONTEXT: the bytes ingested per API request."""
    format: str
    line: str
    unknown: tuple[str, ...]  # $context variables without a typical value (UNKNOWN_CONTEXT_CHARS each)

    @property
    def bytes(self) -> int:
        return len(self.line.encode()) + ACCESS_LOG_EVENT_OVERHEAD if self.format else 0


CONTEXT_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")


@functools.cache
def shop_api(template: Path = ROOT / "template.yaml") -> dict[str, Any]:
    """ShopHttpApi's properties as template.yaml declares them."""
    from shoplocal.template import load_yaml

    return dict(load_yaml(template)["Resources"]["ShopHttpApi"].get("Properties") or {})


def access_log_estimate(template: Path = ROOT / "template.yaml") -> AccessLogEstimate:
    fmt = str((shop_api(template).get("AccessLogSettings") or {}).get("Format") or "")
    unknown = tuple(dict.fromkeys(v for v in CONTEXT_VARIABLE.findall(fmt) if v not in TYPICAL_CONTEXT))
    line = CONTEXT_VARIABLE.sub(lambda m: TYPICAL_CONTEXT.get(m.group(1), "x" * UNKNOWN_CONTEXT_CHARS), fmt)
    return AccessLogEstimate(fmt, line, unknown)


ORDER_SKUS = ["COL-HUI-250", "FILTER-02-100", "V60-02-WHITE", "MUG-350-SAND", "TEA-ASSAM-100", "ESP-NO5-500"]
ORDER_WAREHOUSE = "berlin"  # every ORDER_SKUS line is stocked there: one parcel for a Berlin address


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


# ------------------------------------------------------------------------------ DynamoDB item sizes and units
# Item size: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
#   the sum of the UTF-8 lengths of attribute names and of the values; a number is 1 byte per two significant
#   digits + 1 (leading and trailing zeroes trimmed); binary its raw bytes; null and boolean 1 byte; a list or
#   map 3 bytes + its elements, and 1 byte more per element.
# Units: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html and
#   https://aws.amazon.com/dynamodb/pricing/on-demand/ (key terms)
#   - GetItem: the item's size rounded up to 4 KB; 1 read unit per 4 KB strongly consistent, 1/2 eventually
#     consistent; an item that does not exist still costs the minimum (1 or 1/2).
#   - BatchGetItem: every item rounded up to 4 KB on its own, then summed.
#   - Query: the sizes of all items read (before any filter; for an index, the projected index entries) are
#     summed, then rounded up to 4 KB once; a query on an index is eventually consistent.
#   - PutItem / UpdateItem / DeleteItem: the larger of the item before and after, rounded up to 1 KB; a
#     failed condition still costs the existing item's size, or 1 unit when there is none.
#   - Transactions: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html
#     (capacity management): two underlying reads or writes per item (prepare and commit), so 2x the units;
#     a ConditionCheck is taken as a transactional write of the checked item, and a cancelled transaction
#     as 2x the failed-condition rule per item (both are assumptions; the docs do not spell them out).
#   - Global secondary indexes: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html
#     (write capacity units): a table write also writes every index it affects - 1 write when an item
#     enters or leaves the index or changes projected attributes, 2 when an index key changes - each the
#     index entry's size rounded up to 1 KB, at the standard (not transactional) rate: transactions reach
#     indexes asynchronously.
# Storage (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html, storage): each item
#   and each index entry takes its size + 100 bytes of overhead.
KB = 1024
READ_UNIT = 4 * KB
ITEM_OVERHEAD = 100
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def number_size(text: str) -> int:
    mantissa = text.strip().lstrip("+-").lower().partition("e")[0]
    significant = mantissa.replace(".", "").strip("0")
    return 1 + (len(significant) + 1) // 2


def _typed(value: Any) -> tuple[str, Any]:
    """(type, value) of a moto DynamoType or of a wire-format {"S": ...} dict."""
    if hasattr(value, "type") and hasattr(value, "value"):
        return str(value.type), value.value
    ((kind, raw),) = value.items()
    return str(kind), raw


def _binary_size(raw: Any) -> int:
    return len(raw) if isinstance(raw, bytes | bytearray) else len(base64.b64decode(raw))


def value_size(value: Any) -> int:
    kind, raw = _typed(value)
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return number_size(str(raw))
    if kind == "B":
        return _binary_size(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(v).encode()) for v in raw)
    if kind == "NS":
        return sum(number_size(str(v)) for v in raw)
    if kind == "BS":
        return sum(_binary_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in raw.items())
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in raw)
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(attrs: Mapping[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(v) for name, v in attrs.items())


def _canon(value: Any) -> Any:
    kind, raw = _typed(value)
    if kind == "M":
        return kind, tuple(sorted((k, _canon(v)) for k, v in raw.items()))
    if kind == "L":
        return kind, tuple(_canon(v) for v in raw)
    if kind in ("SS", "NS", "BS"):
        return kind, tuple(sorted(str(v) for v in raw))
    return kind, str(raw)


def write_units(size_bytes: int) -> int:
    return max(1, math.ceil(size_bytes / KB))


def read_units(size_bytes: int) -> int:
    return max(1, math.ceil(size_bytes / READ_UNIT))


@dataclass(frozen=True)
class Entry:
    """An index entry: its key (None when the item is not in the index), size and projected attributes."""
    key: Any
    size: int
    fingerprint: Any


@dataclass(frozen=True)
class Shape:
    """What the unit rules need of a stored item: its size and its entry in every GSI of its table."""
    size: int
    entries: dict[str, Entry]


def _projected(table: Any, index: Any, attrs: Mapping[str, Any]) -> dict[str, Any]:
    projection = (index.projection or {}).get("ProjectionType", "ALL")
    if projection == "ALL":
        return dict(attrs)
    wanted = set(table.table_key_attrs) | {k["AttributeName"] for k in index.schema}
    if projection == "INCLUDE":
        wanted |= set(index.projection.get("NonKeyAttributes", []))
    return {k: v for k, v in attrs.items() if k in wanted}


def shape_of(table: Any, item: Any) -> Shape | None:
    if item is None:
        return None
    attrs = item.attrs
    entries: dict[str, Entry] = {}
    for index in table.global_indexes:
        names = [k["AttributeName"] for k in index.schema]
        if not all(n in attrs for n in names):
            entries[index.name] = Entry(None, 0, None)
            continue
        projected = _projected(table, index, attrs)
        entries[index.name] = Entry(tuple(_canon(attrs[n]) for n in names), item_size(projected),
                                    tuple(sorted((k, _canon(v)) for k, v in projected.items())))
    return Shape(item_size(attrs), entries)


def index_write_units(before: Shape | None, after: Shape | None) -> int:
    units = 0
    names = set(before.entries if before else ()) | set(after.entries if after else ())
    for name in names:
        b = before.entries.get(name) if before else None
        a = after.entries.get(name) if after else None
        b_in = b is not None and b.key is not None
        a_in = a is not None and a.key is not None
        if b_in and a_in:
            assert a is not None and b is not None
            if b.key != a.key:
                units += write_units(b.size) + write_units(a.size)
            elif b.fingerprint != a.fingerprint:
                units += write_units(max(b.size, a.size))
        elif a_in:
            assert a is not None
            units += write_units(a.size)
        elif b_in:
            assert b is not None
            units += write_units(b.size)
    return units


def _lookup(table: Any, key: Mapping[str, Any]) -> Any:
    """The stored item for a key, without moto's defaultdict creating an empty partition on a miss."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    partition = table.items.get(DynamoType(key[table.hash_key_attr]))
    if partition is None or not table.range_key_attr:
        return partition
    return partition.get(DynamoType(key[table.range_key_attr]))


def _key_of(table: Any, item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in table.table_key_attrs}


Units = list[tuple[str, float, float]]  # (table name, read request units, write request units)


class DynamoMeter:
    """Request units computed inside the in-process moto server, per request id, from the items as they are
    before and after each request (the server's DynamoDB lock makes that atomic). The spied clients claim
    their requests' units by the RequestId of the response (or of the error)."""

    def __init__(self) -> None:
        self.by_request: dict[str, Units] = {}
        self.errors: list[str] = []
        self._local = threading.local()

    # ---------------------------------------------------------------- install
    def install(self) -> None:
        from moto.dynamodb.models.table import Table
        from moto.dynamodb.responses import DynamoHandler

        from shoplocal import patches

        meter = self
        original_call = DynamoHandler.call_action
        original_query = Table.query
        signature = inspect.signature(original_query)

        def call_action(handler: Any) -> Any:
            with patches.DYNAMODB_LOCK:  # re-entrant: the patched call_action takes it again
                try:
                    plan = meter._before(handler)
                except Exception as exc:
                    plan = None
                    meter.errors.append(f"before: {exc!r}")
                meter._local.query_sizes = []
                status, headers, body = original_call(handler)
                try:
                    units = meter._after(handler, plan, int(status), body)
                    request_id = (headers or {}).get("x-amzn-requestid")
                    if units is not None and request_id:
                        meter.by_request[str(request_id)] = units
                except Exception as exc:
                    meter.errors.append(f"after: {exc!r}")
                return status, headers, body

        def query(table: Any, *args: Any, **kwargs: Any) -> Any:
            result = original_query(table, *args, **kwargs)
            bound = signature.bind(table, *args, **kwargs)
            filtered = bound.arguments.get("filter_expression") is not None or bound.arguments.get(
                "projection_expressions")
            items = result[0]
            if filtered:  # what was read is what the key condition matched, before filter and projection
                bound.arguments["filter_expression"] = None
                bound.arguments["projection_expressions"] = None
                items = original_query(*bound.args, **bound.kwargs)[0]
            sizes = getattr(meter._local, "query_sizes", None)
            if sizes is not None:
                sizes.append(sum(item_size(i.attrs) for i in items))
            return result

        DynamoHandler.call_action = call_action  # type: ignore[method-assign]
        Table.query = query  # type: ignore[method-assign,assignment]

    # ---------------------------------------------------------------- rules
    @staticmethod
    def _targets(action: str, params: Mapping[str, Any], backend: Any) -> list[tuple[str, str, Any]]:
        """(operation, table name, key) of every item a write touches."""
        if action == "PutItem":
            table = backend.get_table(params["TableName"])
            return [("Put", params["TableName"], _key_of(table, params["Item"]))]
        if action in ("UpdateItem", "DeleteItem"):
            return [(action[:-4], params["TableName"], params["Key"])]
        if action == "TransactWriteItems":
            out = []
            for entry in params["TransactItems"]:
                ((op, spec),) = entry.items()
                key = spec.get("Key") or _key_of(backend.get_table(spec["TableName"]), spec["Item"])
                out.append((op, spec["TableName"], key))
            return out
        if action == "BatchWriteItem":
            out = []
            for name, requests in params["RequestItems"].items():
                table = backend.get_table(name)
                for request in requests:
                    if "PutRequest" in request:
                        out.append(("Put", name, _key_of(table, request["PutRequest"]["Item"])))
                    else:
                        out.append(("Delete", name, request["DeleteRequest"]["Key"]))
            return out
        return []

    def _before(self, handler: Any) -> dict[str, Any]:
        action = handler._get_action()
        params = getattr(handler, "params", None) or {}
        backend = handler.dynamodb_backend
        plan: dict[str, Any] = {"action": action, "params": params}
        if action in WRITES:
            targets = self._targets(action, params, backend)
            plan["targets"] = [(op, name, key, shape_of(backend.get_table(name), _lookup(backend.get_table(name), key)))
                               for op, name, key in targets]
        elif action == "GetItem":
            table = backend.get_table(params["TableName"])
            plan["reads"] = [(params["TableName"], shape_of(table, _lookup(table, params["Key"])),
                              1.0 if params.get("ConsistentRead") else 0.5)]
        elif action == "BatchGetItem":
            reads = []
            for name, spec in params["RequestItems"].items():
                table = backend.get_table(name)
                factor = 1.0 if spec.get("ConsistentRead") else 0.5
                reads += [(name, shape_of(table, _lookup(table, key)), factor) for key in spec["Keys"]]
            plan["reads"] = reads
        elif action == "TransactGetItems":
            reads = []
            for entry in params["TransactItems"]:
                spec = entry["Get"]
                table = backend.get_table(spec["TableName"])
                reads.append((spec["TableName"], shape_of(table, _lookup(table, spec["Key"])), 2.0))
            plan["reads"] = reads
        return plan

    def _after(self, handler: Any, plan: dict[str, Any] | None, status: int, body: Any) -> Units | None:
        if plan is None:
            return None
        action, params = plan["action"], plan["params"]
        backend = handler.dynamodb_backend
        units: defaultdict[tuple[str, str], float] = defaultdict(float)
        if action in WRITES:
            error = ""
            if status != 200:
                try:
                    error = str(json.loads(body).get("__type", "")).rpartition("#")[2]
                except (ValueError, AttributeError):
                    error = "?"
            transactional = action == "TransactWriteItems"
            factor = 2 if transactional else 1
            for op, name, key, before in plan["targets"]:
                if status == 200:
                    after = shape_of(backend.get_table(name), _lookup(backend.get_table(name), key))
                    if op == "ConditionCheck":
                        units[(name, "w")] += factor * (write_units(before.size) if before else 1)
                        continue
                    biggest = max(before.size if before else 0, after.size if after else 0)
                    units[(name, "w")] += factor * write_units(biggest) + index_write_units(before, after)
                elif error in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                    units[(name, "w")] += factor * (write_units(before.size) if before else 1)
        elif action in ("GetItem", "BatchGetItem", "TransactGetItems"):
            if status != 200:
                return []
            for name, shape, factor in plan["reads"]:
                units[(name, "r")] += factor * read_units(shape.size if shape else 0)
        elif action == "Query":
            if status != 200:
                return []
            consistency = 1.0 if params.get("ConsistentRead") else 0.5
            read = sum(getattr(self._local, "query_sizes", None) or [0])
            units[(params["TableName"], "r")] += consistency * read_units(read)
        else:
            return None  # control plane, Scan (unused by the shop) and the like: not metered
        tables = sorted({name for name, _ in units})
        return [(name, float(units[(name, "r")]), float(units[(name, "w")])) for name in tables]

    # ---------------------------------------------------------------- storage
    @staticmethod
    def storage() -> dict[str, int]:
        """Bytes stored per table name: items and GSI entries, each with the 100 bytes of overhead."""
        from moto.dynamodb.models import dynamodb_backends

        from shoplocal import patches
        from shoplocal.deploy import ACCOUNT_ID
        from shoplocal.stack import REGION

        out: dict[str, int] = {}
        with patches.DYNAMODB_LOCK:
            for name, table in list(dynamodb_backends[ACCOUNT_ID][REGION].tables.items()):
                total = 0
                for item in table.all_items():
                    shape = shape_of(table, item)
                    assert shape is not None
                    total += shape.size + ITEM_OVERHEAD
                    total += sum(e.size + ITEM_OVERHEAD for e in shape.entries.values() if e.key is not None)
                out[name] = total
        return out


# ------------------------------------------------------------------------------------------------- recording
TAG: contextvars.ContextVar[str | None] = contextvars.ContextVar("bench_tag", default=None)


@contextmanager
def tagged(tag: str) -> Iterator[None]:
    """Everything the calling thread causes synchronously (gateway request, handler, its AWS calls) carries
    ``tag``; work on other threads (Step Functions, EventBridge targets, webhooks) carries none."""
    token = TAG.set(tag)
    try:
        yield
    finally:
        TAG.reset(token)


def is_shop(tag: str | None) -> bool:
    return tag is None or tag.startswith("order")


@dataclass
class Rec:
    kind: str  # api | lambda | ddb | ddb_units | events | ses | s3 | aws
    name: str
    tag: str | None
    seconds: float = 0.0
    table: str = ""
    rru: float = 0.0
    wru: float = 0.0
    units: int = 1
    params: dict[str, Any] | None = None  # a DynamoDB call's arguments (replayed bare for the route floor)
    log_bytes: int | None = None  # a Lambda invocation's output, as ingested (None: not measured)


RECS: list[Rec] = []


def _chunks(entry: Mapping[str, Any]) -> int:
    body = sum(len(str(entry.get(k, "")).encode()) for k in ("Source", "DetailType", "Detail", "Resources"))
    return max(1, math.ceil(body / (64 * KB)))


class ClientSpy:
    """A boto3 client of the shop (shop.aws.client) that records every operation with the caller's tag."""

    def __init__(self, service: str, inner: Any, meter: DynamoMeter, tables: Mapping[str, str]):
        self._service, self._inner, self._meter, self._tables = service, inner, meter, tables

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or name in ("meta", "exceptions") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            from botocore.exceptions import ClientError

            tag = TAG.get()
            try:
                resp = attr(*args, **kwargs)
            except ClientError as exc:
                self._record(name, kwargs, exc.response, tag)
                raise
            self._record(name, kwargs, resp, tag)
            return resp

        return call

    def _record(self, op: str, kwargs: Mapping[str, Any], resp: Mapping[str, Any], tag: str | None) -> None:
        if self._service == "dynamodb":
            RECS.append(Rec("ddb", op, tag, params=dict(kwargs)))
            request_id = str((resp or {}).get("ResponseMetadata", {}).get("RequestId", ""))
            for table, rru, wru in self._meter.by_request.pop(request_id, None) or []:
                RECS.append(Rec("ddb_units", op, tag, table=self._tables.get(table, table), rru=rru, wru=wru))
        elif self._service == "events" and op == "put_events":
            RECS.append(Rec("events", op, tag, units=sum(_chunks(e) for e in kwargs.get("Entries", []))))
        elif self._service in ("ses", "sesv2") and op.startswith("send_"):
            dest = kwargs.get("Destination") or {}
            to = [*dest.get("ToAddresses", []), *dest.get("CcAddresses", []), *dest.get("BccAddresses", [])]
            RECS.append(Rec("ses", op, tag, units=len(to) or len(kwargs.get("Destinations", [])) or 1))
        elif self._service == "s3" and op in ("put_object", "copy_object", "list_objects_v2"):
            RECS.append(Rec("s3", op, tag))
        else:
            RECS.append(Rec("aws", f"{self._service}.{op}", tag))


class FunctionOutput:
    """sys.stdout and sys.stderr while the bench runs. What is written on a thread while it runs an invocation
    (Invoker.invoke, wrapped by ``install``) is kept for that invocation, to be counted, and goes nowhere else;
    everything else (the bench's own prints) passes through to the real stream."""

    local = threading.local()  # .stack: the output of the invocations running on this thread, innermost last

    def __init__(self, real: TextIO):
        self._real = real

    def write(self, text: str) -> int:
        stack = getattr(self.local, "stack", None)
        if stack:
            stack[-1].append(text)
            return len(text)
        return self._real.write(text)

    def flush(self) -> None:
        self._real.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    @classmethod
    def current(cls) -> int | None:
        """The bytes ingested for what the invocation running on this thread has written so far."""
        stack = getattr(cls.local, "stack", None)
        return output_log_bytes("".join(stack[-1])) if stack else None

    @classmethod
    def install(cls) -> None:
        """Before the Stack starts: Powertools' Logger binds sys.stdout when a function's module creates it (at
        its first invocation), the Metrics flush print()s to the sys.stdout of the moment. The deployed log
        level and metrics (template.yaml, Globals) replace the local stack's quiet defaults."""
        from shoplocal.lambdas import Invoker

        os.environ.update(DEPLOYED_POWERTOOLS)
        if not isinstance(sys.stdout, cls):
            sys.stdout = cls(sys.stdout)  # type: ignore[assignment]
            sys.stderr = cls(sys.stderr)  # type: ignore[assignment]
        real = Invoker.invoke
        if getattr(real, "bench_output", False):
            return

        @functools.wraps(real)
        def invoke(self: Any, logical_id_or_name: str, event: Any) -> Any:
            stack = cls.local.__dict__.setdefault("stack", [])
            stack.append([])
            try:
                return real(self, logical_id_or_name, event)
            finally:
                stack.pop()

        invoke.bench_output = True  # type: ignore[attr-defined]
        Invoker.invoke = invoke  # type: ignore[method-assign]
        cls.serialize_metric_flushes()

    @staticmethod
    def serialize_metric_flushes() -> None:
        """One Metrics flush at a time. Lambda runs one invocation per execution environment; here every function
        runs in one process, where Powertools' metric set is shared by all Metrics instances, so two invocations
        flushing at once (a Step Functions step and a webhook) could find it emptied between the flush's check and
        its serializing, and fail the invocation (SchemaValidationError: "Must contain at least one metric")."""
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

        flush = AmazonCloudWatchEMFProvider.flush_metrics
        if getattr(flush, "bench_serialized", False):
            return
        lock = threading.Lock()

        @functools.wraps(flush)
        def serialized(self: Any, raise_on_empty_metrics: bool = False) -> None:
            with lock:
                flush(self, raise_on_empty_metrics)

        serialized.bench_serialized = True  # type: ignore[attr-defined]
        AmazonCloudWatchEMFProvider.flush_metrics = serialized  # type: ignore[method-assign]


class TaggedInvocations(list[tuple[str, float]]):
    """The invoker's (function, seconds) list; each append also records the invoking thread's tag and the bytes
    the invocation wrote (appended by Invoker.invoke as the invocation ends, on its thread)."""

    def append(self, item: tuple[str, float]) -> None:
        super().append(item)
        RECS.append(Rec("lambda", item[0], TAG.get(), seconds=item[1], log_bytes=FunctionOutput.current()))


def instrument(stack: Any, meter: DynamoMeter, tables: Mapping[str, str]) -> None:
    from shop import aws

    real = aws.client
    aws.client = lambda service: ClientSpy(service, real(service), meter, tables)
    stack.invoker.invocations = TaggedInvocations(stack.invoker.invocations)
    gateway = stack.gateway
    original = gateway.handle

    def handle(method: str, path: str, **kwargs: Any) -> Any:
        found = gateway.find(method.upper(), "/" + path.partition("?")[0].lstrip("/"))
        RECS.append(Rec("api", f"{method.upper()} {found[0].path if found else path}", TAG.get()))
        return original(method, path, **kwargs)

    gateway.handle = handle  # the HTTP server (webhooks from localstripe) calls gateway.handle too


# ------------------------------------------------------------------------------------------------ summaries
@dataclass
class Usage:
    api: Counter[str] = field(default_factory=Counter)
    lambdas: Counter[str] = field(default_factory=Counter)
    lambda_seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    seconds: float = 0.0
    gb_s: float = 0.0
    gb_s_billed: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # per arch, 1 ms
    ddb_calls: Counter[str] = field(default_factory=Counter)
    ddb_calls_by_table: Counter[str] = field(default_factory=Counter)
    rru: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    by_table_op: Counter[tuple[str, str]] = field(default_factory=Counter)
    wru_by_table_op: defaultdict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    wru: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    events: int = 0
    emails: int = 0
    s3_puts: int = 0
    other: Counter[str] = field(default_factory=Counter)
    # per function, per measured invocation: the bytes ingested (its output and Lambda's lines), its output alone
    log_bytes: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    log_output: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class Functions:
    memory_mb: dict[str, int]
    arch: dict[str, str]


def usage(recs: list[Rec], keep: Callable[[str | None], bool], fns: Functions) -> Usage:
    u = Usage()
    for r in recs:
        if not keep(r.tag):
            continue
        if r.kind == "api":
            u.api[r.name] += 1
        elif r.kind == "lambda":
            gb = fns.memory_mb.get(r.name, 128) / 1024
            u.lambdas[r.name] += 1
            u.lambda_seconds[r.name] += r.seconds
            u.seconds += r.seconds
            u.gb_s += gb * r.seconds
            u.gb_s_billed[fns.arch.get(r.name, "x86_64")] += gb * math.ceil(r.seconds * 1000) / 1000
            if r.log_bytes is not None:
                u.log_output[r.name].append(r.log_bytes)
                u.log_bytes[r.name].append(r.log_bytes + platform_log_bytes(r.seconds, fns.memory_mb.get(r.name, 128)))
        elif r.kind == "ddb":
            u.ddb_calls[r.name] += 1
        elif r.kind == "ddb_units":
            u.rru[r.table] += r.rru
            u.wru[r.table] += r.wru
            u.ddb_calls_by_table[r.table] += 1
            u.by_table_op[(r.table, r.name)] += 1
            u.wru_by_table_op[(r.table, r.name)] += r.wru
        elif r.kind == "events":
            u.events += r.units
        elif r.kind == "ses":
            u.emails += r.units
        elif r.kind == "s3":
            u.s3_puts += 1
        else:
            u.other[r.name] += 1
    return u


def log_bytes_per_invocation(u: Usage, function: str | None = None) -> float:
    """The median bytes ingested per invocation measured in u (of one function, or of all); the fallback
    ASSUMPTIONS["log_bytes_per_invocation"] when none was measured."""
    measured = u.log_bytes.get(function, []) if function else [b for runs in u.log_bytes.values() for b in runs]
    return statistics.median(measured) if measured else ASSUMPTIONS["log_bytes_per_invocation"]


def logged_bytes(u: Usage) -> float:
    """Every byte the invocations in u ingested, as measured; an invocation recorded without its output (not
    measured) counts at the median of those measured."""
    measured = [b for runs in u.log_bytes.values() for b in runs]
    unmeasured = max(0, sum(u.lambdas.values()) - len(measured))
    return sum(measured) + unmeasured * log_bytes_per_invocation(u)


def quantities(u: Usage) -> dict[str, float]:
    invocations = sum(u.lambdas.values())
    return {
        "api": sum(u.api.values()), "lambda_requests": invocations,
        "gb_s:x86_64": u.gb_s_billed["x86_64"], "gb_s:arm64": u.gb_s_billed["arm64"],
        "wru": sum(u.wru.values()), "rru": sum(u.rru.values()), "events": u.events, "emails": u.emails,
        "s3_puts": u.s3_puts, "log_gb": logged_bytes(u) / 2**30 if invocations else 0.0,
    }


def with_logs(figures: Mapping[str, float]) -> dict[str, float]:
    """Figures without a measured log_gb get the fallback bytes per invocation for their Lambda requests."""
    got = dict(figures)
    if "log_gb" not in got:
        got["log_gb"] = got.get("lambda_requests", 0.0) * ASSUMPTIONS["log_bytes_per_invocation"] / 2**30
    return got


def invocation_log_bytes(lines: list[CostLine]) -> float:
    """The order flow's bytes ingested per Lambda invocation, as the cost lines price them."""
    by_key = {line.key: line for line in lines}
    logs, requests = by_key.get("log_gb"), by_key.get("lambda_requests")
    if logs is None or requests is None or not requests.flow:
        return ASSUMPTIONS["log_bytes_per_invocation"]
    return logs.flow * 2**30 / requests.flow


COST_LINES: list[tuple[str, str, str]] = [  # (label, quantity key, price key)
    ("API Gateway HTTP API requests", "api", "apigw_http_request"),
    ("Lambda requests", "lambda_requests", "lambda_request"),
    ("Lambda duration x86_64 (GB-s, 1 ms rounding)", "gb_s:x86_64", "lambda_gb_s_x86_64"),
    ("Lambda duration arm64 (GB-s, 1 ms rounding)", "gb_s:arm64", "lambda_gb_s_arm64"),
    ("Step Functions Standard state transitions", "transitions", "sfn_transition"),
    ("DynamoDB write request units (on-demand)", "wru", "ddb_wru"),
    ("DynamoDB read request units (on-demand)", "rru", "ddb_rru"),
    ("DynamoDB storage, per month kept", "storage_gb", "ddb_storage_gb_month"),
    ("DynamoDB point-in-time recovery, per month kept", "pitr_gb", "ddb_pitr_gb_month"),
    ("EventBridge custom events", "events", "events_custom_event"),
    ("SES emails", "emails", "ses_email"),
    ("S3 PUT requests (shipping label PDFs, daily report files)", "s3_puts", "s3_put"),
    ("CloudWatch Logs ingestion, function logs", "log_gb", "logs_ingest_gb"),
    ("CloudWatch Logs ingestion, API access logs", "access_log_gb", "logs_ingest_gb"),
]


@dataclass
class CostLine:
    label: str
    key: str
    flow: float
    browsing: float
    price_key: str

    @property
    def per_1000(self) -> float:
        return (self.flow + self.browsing) * PRICES[self.price_key] * 1000


def cost_model(order: dict[str, float], routes: dict[str, dict[str, float]], parcels: int) -> list[CostLine]:
    browsing: defaultdict[str, float] = defaultdict(float)
    for route, count in BROWSING_PER_ORDER.items():
        per_request = routes.get(route)
        if per_request is None:
            continue
        times = count * (parcels if route.startswith("GET /warehouse/") else 1)
        for key, value in with_logs(per_request).items():
            browsing[key] += times * value
    order = with_logs(order)
    order["s3_puts"] = order.get("s3_puts", 0) + ASSUMPTIONS["report_puts_per_day"] / ASSUMPTIONS["orders_per_day"]
    # one access log line per API request, of the size the template's format renders to
    per_request_gb = access_log_estimate().bytes / 2**30
    order["access_log_gb"] = order.get("api", 0.0) * per_request_gb
    browsing["access_log_gb"] = browsing.get("api", 0.0) * per_request_gb
    lines = [CostLine(label, key, order.get(key, 0.0), browsing.get(key, 0.0), price)
             for label, key, price in COST_LINES]
    # one Lambda duration line per architecture the functions run on (both when the template mixes them); no
    # access log line when the template turns access logs off
    return [line for line in lines if line.flow or line.browsing
            or not (line.label.startswith("Lambda duration") or line.key == "access_log_gb")]


def fmt_usd(x: float) -> str:
    if 0 < x < 0.0001:
        return "<$0.0001"
    if x >= 10:
        return f"${x:,.2f}"
    if x >= 0.1:
        return f"${x:.3f}"
    return f"${x:.4f}"


def fmt_qty(x: float) -> str:
    if x == 0:
        return "0"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:.2f}".rstrip("0").rstrip(".")
    return f"{x:.3g}"


def fmt_line_qty(line: CostLine, value: float) -> str:
    """Quantities in GB are shown in KB (per order they are tiny)."""
    if line.key.endswith("_gb"):
        return f"{value * 2**30 / KB:.1f} KB" if value else "0"
    return fmt_qty(value)


def duration_cost(lines: list[CostLine], arch: str | None = None) -> float:
    """The Lambda duration lines' cost per 1,000 orders: as billed (arch None), or with every function on arch."""
    durations = [line for line in lines if line.label.startswith("Lambda duration")]
    if arch is None:
        return sum(line.per_1000 for line in durations)
    return sum(line.flow + line.browsing for line in durations) * PRICES[f"lambda_gb_s_{arch}"] * 1000


def other_arch_text(lines: list[CostLine]) -> str:
    """What the duration lines would cost on the other architecture (so the choice in template.yaml is visible)."""
    on_arm = any(line.key == "gb_s:arm64" for line in lines)
    other = "x86_64" if on_arm else "arm64"
    now = "arm64" if on_arm else "x86_64"
    return (f"With `Architectures: [{other}]` instead of `{now}` (template.yaml, Globals) the Lambda duration lines "
            f"would cost {fmt_usd(duration_cost(lines, other))} in total instead of {fmt_usd(duration_cost(lines))}")


# ----------------------------------------------------------------------------------------------- reporting
@dataclass
class RouteResult:
    route: str
    label: str
    calls: float
    q: dict[str, float]
    gb_s: float
    p50_ms: float
    p99_ms: float
    handler_ms: float = 0.0  # median warm handler time (the Lambda invocation alone, no gateway)
    bare_ms: float = 0.0  # median time of the same DynamoDB calls made bare with boto3, in the same run

    @property
    def vs_bare(self) -> float:
        return self.handler_ms / self.bare_ms if self.bare_ms else math.inf

    @property
    def log_bytes(self) -> float:
        """Function log bytes ingested per request (the median request's)."""
        return self.q.get("log_gb", 0.0) * 2**30


@dataclass
class OrderResult:
    lines: int
    parcels: int
    shop: Usage
    poll: Usage
    steps: dict[str, Usage]
    transitions: int
    states: list[str]
    history_events: int
    storage: dict[str, int]
    pitr_bytes: int
    stripe_webhooks: int
    email_subjects: list[str]
    gb_s_runs: list[float] = field(default_factory=list)


def say(out: TextIO, text: str = "") -> None:
    print(text, file=out, flush=True)


def units_text(u: Usage) -> str:
    return f"{sum(u.ddb_calls.values())} DynamoDB calls, {sum(u.rru.values()):g} RRU, {sum(u.wru.values()):g} WRU"


def print_order(out: TextIO, o: OrderResult, fns: Functions) -> None:
    s = o.shop
    say(out, f"3. one order, checkout to DELIVERED ({o.lines} lines of 1 unit, {o.parcels} parcel): "
             "the shop's own work")
    say(out, f"   API Gateway requests  {sum(s.api.values()):4d}: {dict(s.api)}")
    say(out, f"   Lambda invocations    {sum(s.lambdas.values()):4d}: " + ", ".join(
        f"{name.removesuffix('Function')} {n} ({s.lambda_seconds[name] * 1000:.0f} ms)"
        for name, n in s.lambdas.most_common()))
    by_arch = ", ".join(f"{v:.4f} {k}" for k, v in sorted(s.gb_s_billed.items()))
    say(out, f"   Lambda GB-s           {s.gb_s:.4f} measured ({s.seconds * 1000:.0f} ms of handlers at "
             f"{', '.join(sorted({f'{m} MB' for m in (fns.memory_mb.get(n, 128) for n in s.lambdas)}))}), "
             f"billed with 1 ms rounding: {by_arch}; measured in {len(o.gb_s_runs)} orders: "
             f"{', '.join(f'{g:.3f}' for g in o.gb_s_runs)} GB-s, the median order shown")
    say(out, "   " + function_logs_text(s))
    say(out, f"   state transitions     {o.transitions:4d} (Standard; history events {o.history_events}): "
             f"{', '.join(o.states)}")
    say(out, f"   DynamoDB calls        {sum(s.ddb_calls.values()):4d}: {dict(s.ddb_calls)}")
    say(out, "   DynamoDB request units per table (on-demand: RRU = read request units, WRU = write request units)")
    for table in sorted(set(s.rru) | set(s.wru), key=lambda t: -(s.rru[t] + s.wru[t])):
        ops = ", ".join(f"{op} {n}" + (f" ({s.wru_by_table_op[(t, op)]:g} WRU)" if s.wru_by_table_op[(t, op)] else "")
                        for (t, op), n in sorted(s.by_table_op.items()) if t == table)
        say(out, f"      {table:<18} {s.ddb_calls_by_table[table]:4d} calls  {s.rru[table]:6.1f} RRU  "
                 f"{s.wru[table]:6.1f} WRU   {ops}")
    say(out, f"      {'total':<18} {sum(s.ddb_calls_by_table.values()):4d} calls  {sum(s.rru.values()):6.1f} RRU  "
             f"{sum(s.wru.values()):6.1f} WRU")
    for step, u in o.steps.items():
        say(out, f"   of which {step:<22} {units_text(u)} (synchronous part of the request)")
    say(out, f"   EventBridge events    {s.events:4d}  SES emails {s.emails} {o.email_subjects}  S3 PUTs {s.s3_puts}  "
             f"Stripe webhooks {o.stripe_webhooks}")
    added = sum(o.storage.values())
    say(out, f"   storage added         {added:,} bytes (items + GSI entries, 100 B overhead each): "
             f"{ {k: v for k, v in sorted(o.storage.items(), key=lambda kv: -kv[1]) if v} }")
    if s.other:
        say(out, f"   other AWS calls       {dict(s.other)}")
    p = o.poll
    say(out, f"   bench polling (excluded): {sum(p.api.values())} API requests {dict(p.api)}, "
             f"{sum(p.lambdas.values())} Lambda invocations ({p.gb_s:.4f} GB-s), {units_text(p)}")


def lambda_lines_bytes(u: Usage) -> float:
    """The median bytes of Lambda's own lines (START, END, REPORT) of the invocations measured in u."""
    totals = [b for runs in u.log_bytes.values() for b in runs]
    outputs = [b for runs in u.log_output.values() for b in runs]
    return statistics.median(t - o for t, o in zip(totals, outputs, strict=True)) if totals else 0.0


def function_logs_text(u: Usage) -> str:
    """The function log bytes measured per invocation in u: the median, its parts and each function's median."""
    totals = [b for runs in u.log_bytes.values() for b in runs]
    if not totals:
        return (f"function logs          not measured: {ASSUMPTIONS['log_bytes_per_invocation']:.0f} bytes per "
                "invocation assumed")
    outputs = [b for runs in u.log_output.values() for b in runs]
    unmeasured = sum(u.lambdas.values()) - len(totals)
    return (f"function logs          {statistics.median(totals):.0f} bytes ingested per invocation (median of "
            f"{len(totals)}; mean {statistics.mean(totals):.0f}): the handler's output "
            f"{statistics.median(outputs):.0f} (median) + Lambda's START/END/REPORT lines {lambda_lines_bytes(u):.0f}"
            + (f"; {unmeasured} invocations not measured" if unmeasured else "") + "; per function (median): "
            + ", ".join(f"{name.removesuffix('Function')} {statistics.median(runs):.0f}"
                        for name, runs in sorted(u.log_bytes.items())))


def dominates(lines: list[CostLine], o: OrderResult, total: float) -> str:
    """The paragraph on what dominates, from the figures (so it stays true when they change)."""
    ranked = sorted(lines, key=lambda li: -li.per_1000)
    top = ranked[:3]
    by_key = {li.key: li for li in lines}
    requests = sum(BROWSING_PER_ORDER.values())
    gateway_keys = ("api", "access_log_gb")
    behind = sum(li.browsing * PRICES[li.price_key] for li in lines if li.key not in gateway_keys) / requests * 1e6
    api = PRICES["apigw_http_request"] * 1e6
    access = access_log_estimate().bytes / 2**30 * PRICES["logs_ingest_gb"] * 1e6
    gateway = api + access
    than = ("more than" if gateway > 1.05 * behind else "less than" if gateway < 0.95 * behind
            else "about as much as")
    ddb = sum(by_key[k].per_1000 for k in ("wru", "rru", "storage_gb", "pitr_gb") if k in by_key)
    wru = o.shop.wru
    heaviest = max(wru, key=lambda t: wru[t]) if wru else "-"
    return (
        "**What dominates.** " + ", ".join(f"{li.label} ({li.per_1000 / total:.0%})" for li in top)
        + f" make up {sum(li.per_1000 for li in top) / total:.0%} of the total. API Gateway charges every request, "
        f"browsing included: ${api:.2f} per million on the HTTP API, and its access log lines add ${access:.2f} per "
        f"million in CloudWatch Logs: {than} what runs behind an average browsing request (Lambda, DynamoDB, "
        f"function logs: ${behind:.2f} per million). Step Functions Standard charges each of the order's "
        f"{o.transitions} state transitions, SES each of its {o.shop.emails} emails. DynamoDB on-demand is "
        f"{ddb / total:.0%} of the total at {sum(o.shop.rru.values()):g} read and {sum(wru.values()):g} write "
        f"request units per order, {wru.get(heaviest, 0) / max(1.0, sum(wru.values())):.0%} of the writes on "
        f"{heaviest}.")


def api_tradeoff(lines: list[CostLine], total: float) -> list[str]:
    """Issue 17's decision: the HTTP API with a JWT authorizer on the user pool (template.yaml, ShopHttpApi), against
    the REST API it replaced. The prices come from this run's request counts and the template's access log format; the
    feature rows from API Gateway's "Choose between REST APIs and HTTP APIs" and "Configure CORS for HTTP APIs"
    pages and from what the template uses (or used) of each feature."""
    by_key = {li.key: li for li in lines}
    api = by_key["api"]
    requests = api.flow + api.browsing
    http = api.per_1000
    rest = requests * PRICES["apigw_rest_request"] * 1000
    logs = by_key["access_log_gb"].per_1000 if "access_log_gb" in by_key else 0.0
    before = total - http - logs + rest
    throttle = shop_api().get("DefaultRouteSettings") or {}
    limits = (f"{throttle['ThrottlingBurstLimit']:,} burst / {throttle['ThrottlingRateLimit']:,} requests a second"
              if {"ThrottlingBurstLimit", "ThrottlingRateLimit"} <= set(throttle) else "none set")
    rows = [
        ("price per million requests (first tier)",
         f"${PRICES['apigw_http_request'] * 1e6:.2f} (first 300 M a month; metered in 512 KB increments, the "
         "shop's requests are far below one)", f"${PRICES['apigw_rest_request'] * 1e6:.2f} (first 333 M a month)"),
        (f"requests per 1,000 orders ({fmt_qty(requests)} an order, browsing included)", fmt_usd(http), fmt_usd(rest)),
        (f"access logs per 1,000 orders ({access_log_estimate().bytes} bytes ingested a request)", fmt_usd(logs),
         "none (access logs off)"),
        ("total per 1,000 orders (this table)", f"{fmt_usd(total)} ({(total - before) / before:+.0%} against REST)",
         fmt_usd(before)),
        ("latency", "not measured (the local gateway runs in-process): measure on a deployed stage",
         "not measured either"),
        ("Cognito sign-in tokens checked by the gateway",
         "JWT authorizer: the user pool as issuer, the app client as audience (an ID token's `aud`, an access "
         "token's `client_id`), so ID or access tokens pass; `token_use` is not checked",
         "Cognito user pool authorizer"),
        ("request validation (JSON schema models)", "no: handlers validate with pydantic",
         "available, not used either: handlers validate with pydantic"),
        ("AWS WAF", "not attachable: put CloudFront with WAF in front if it is ever needed", "available, not attached"),
        ("usage plans, API keys, per-client throttling",
         f"no; stage and route throttling kept (`DefaultRouteSettings`: {limits})",
         "available, not used (stage throttling, the same limits)"),
        ("caching", "no", "available, not used (answers are per user or change with stock; the `CKV_AWS_120` skip)"),
        ("resource policies", "no", "available, not used"),
        ("X-Ray", "no gateway segment: a trace starts at the function (functions, state machines and AWS calls are "
                  "still traced)", "a gateway segment (`TracingEnabled`)"),
        ("CORS", "`CorsConfiguration` for the `AllowedOrigins` list: the gateway answers preflights itself and adds "
                 "the headers to the functions' answers, ignoring the functions' own; AWS's CORS page names only "
                 "those two, not the gateway's own errors (the JWT authorizer's 401, throttling's 429)",
         "preflight `*` (a mock integration), the functions' headers for `AllowedOrigins`, `GatewayResponses` adding "
         "`*` to the gateway's own 4XX and 5XX"),
        ("access logs", "on: JSON lines to `ApiAccessLogGroup`, delivered without the account-wide role REST APIs "
                        "need", "off (the `CKV_AWS_76` skip: they need the account-wide API Gateway CloudWatch role)"),
        ("endpoint types", "regional only", "edge-optimized, regional or private"),
    ]
    return [
        f"**REST API or HTTP API** (issue 17): HTTP API adopted. Its requests are {http / total:.0%} of the total "
        f"above, its access logs {logs / total:.1%}.", "",
        "| | HTTP API (adopted) | REST API (before) |", "|---|---|---|",
        *(f"| {name} | {http_text} | {rest_text} |" for name, http_text, rest_text in rows), "",
        f"Why: the price ({fmt_usd(rest - http)} less per 1,000 orders in requests, of which the access logs now "
        f"turned on take {fmt_usd(logs)} back), and of the features an HTTP API lacks the shop used only two: the "
        f"gateway's X-Ray segment and gateway responses (CORS headers on the gateway's own errors). What changed: the "
        f"Lambda events keep payload format 1.0, so the handlers (Powertools' `APIGatewayRestResolver`) are "
        f"unchanged, and the local gateway (`shoplocal`) emulates the HTTP API (JWT authorizer, `CorsConfiguration`, "
        f"the `$default` stage at the root). To try on a deployed stage: the latency through the gateway, against "
        f"the REST API's, and the JWT authorizer's 401 as a browser sees it (with the CORS headers, or as a CORS "
        f"failure).",
    ]


def levers(lines: list[CostLine], total: float) -> str:
    """What each unit of the per-order figures is worth against issue 17's cost target (TARGET_COST_PER_1000)."""
    log_bytes = invocation_log_bytes(lines)
    per_invocation = PRICES["lambda_request"] + log_bytes / 2**30 * PRICES["logs_ingest_gb"]
    per_request = PRICES["apigw_http_request"] + access_log_estimate().bytes / 2**30 * PRICES["logs_ingest_gb"]
    gap = total - bench_targets.TARGET_COST_PER_1000
    head = (f"**Toward {fmt_usd(bench_targets.TARGET_COST_PER_1000)}** (issue 17): {fmt_usd(gap)} to go. "
            if gap > 0 else f"**Issue 17's {fmt_usd(bench_targets.TARGET_COST_PER_1000)}** is met. ")
    return head + (
        f"Per 1,000 orders, each state transition fewer per order saves {fmt_usd(PRICES['sfn_transition'] * 1000)}, "
        f"each email {fmt_usd(PRICES['ses_email'] * 1000)}, each API request (browsing included) about "
        f"{fmt_usd(per_request * 1000)} (the HTTP API's price and its access log line), each Lambda invocation about "
        f"{fmt_usd(per_invocation * 1000)} (request and log lines, {log_bytes:,.0f} bytes ingested), each write "
        "request unit "
        f"{fmt_usd(PRICES['ddb_wru'] * 1000)}; arm64 saves a fifth of the Lambda duration lines"
        + (" (adopted)." if any(line.key == "gb_s:arm64" for line in lines) else "."))


ANALYTICS = "AnalyticsFunction"
SQS_BATCH = 10  # the largest batch a Lambda SQS event source takes without a batching window of its own


def analytics_batching(o: OrderResult, total: float) -> str:
    """Issue 17: the analytics consumer fed in batches (EventBridge -> SQS -> Lambda) instead of once per event.
    What it saves (Lambda requests and their log lines) against what the queue adds (one SendMessage per event,
    a ReceiveMessage and a DeleteMessageBatch per batch), even with every batch full."""
    n = o.shop.lambdas.get(ANALYTICS, 0)
    per_invocation = PRICES["lambda_request"] + log_bytes_per_invocation(o.shop, ANALYTICS) / 2**30 * PRICES[
        "logs_ingest_gb"]
    saved = n * (1 - 1 / SQS_BATCH) * per_invocation * 1000
    added = n * (1 + 2 / SQS_BATCH) * PRICES["sqs_request"] * 1000
    return (f"**Analytics in batches** (issue 17): the Analytics function runs once per event, {n} times an order. "
            f"Fed through an SQS queue in full batches of {SQS_BATCH} it would save {fmt_usd(saved)} per 1,000 "
            f"orders in Lambda requests and log lines, and the queue would add {fmt_usd(added)} in requests "
            f"({PRICES['sqs_request'] * 1e6:.2f} USD per million: one send per event, a receive and a delete per "
            f"batch): {fmt_usd(saved - added)} net, {(saved - added) / total:.1%} of the total, before the event "
            f"source's own polls of an idle queue (a fixed monthly cost) and with batches that at "
            f"{ASSUMPTIONS['orders_per_day']:,.0f} orders a day are seldom full. Not adopted: too little for a queue, "
            "a dead-letter path and partial-batch failures more, and the local runtime has no SQS event source to "
            "run it with.")


def logs_assumption(lines: list[CostLine], o: OrderResult, routes: dict[str, RouteResult]) -> str:
    """How the function log bytes were measured, with the figures the cost lines use."""
    lambda_lines = f" (about {lambda_lines_bytes(o.shop):.0f} bytes)" if o.shop.log_bytes else ""
    per_route = ", ".join(f"`{r.label}` {r.log_bytes:,.0f}" for r in routes.values())
    return ("**Logs** (function logs, CloudWatch Logs ingestion): measured per invocation while the bench runs, "
            "with the deployed `POWERTOOLS_LOG_LEVEL=INFO` and Powertools metrics on: the bytes the handler writes "
            "to stdout and stderr (Powertools' log lines and its EMF metrics line), plus the lines Lambda writes "
            f"itself in the Text log format{lambda_lines}: START, END and REPORT with its X-Ray line (tracing is "
            f"active), in the documented formats with a 36-character request id; each line one log event, with the "
            f"{LOG_EVENT_OVERHEAD} bytes CloudWatch Logs counts per event. The order flow's invocations ingest "
            f"{invocation_log_bytes(lines):,.0f} bytes each on average (every invocation's bytes priced); per browsing "
            f"request (the median request): {per_route} bytes.")


def access_log_assumption() -> str:
    """How the access log bytes per API request were estimated, from the template's format (AccessLogEstimate)."""
    est = access_log_estimate()
    if not est.format:
        return "- **API access logs**: off in `template.yaml` (ShopHttpApi has no `AccessLogSettings.Format`): no line."
    values = ", ".join(
        f"`{name}` " + ("36 characters" if name == "requestId" else f"`{TYPICAL_CONTEXT[name]}`")
        for name in dict.fromkeys(CONTEXT_VARIABLE.findall(est.format)) if name in TYPICAL_CONTEXT)
    unknown = (f"; without a typical value, counted as {UNKNOWN_CONTEXT_CHARS} characters each: "
               + ", ".join(f"`{name}`" for name in est.unknown)) if est.unknown else ""
    return (f"- **API access logs**: {est.bytes} bytes ingested per API request, one JSON line each in "
            f"`ApiAccessLogGroup`: the format of `template.yaml` (ShopHttpApi, `AccessLogSettings.Format`) rendered "
            f"with typical values ({values}{unknown}; a variable API Gateway has no value for renders `-`) is "
            f"{len(est.line.encode())} bytes, plus the {ACCESS_LOG_EVENT_OVERHEAD} bytes CloudWatch Logs counts per "
            "log event.")


def markdown(lines: list[CostLine], o: OrderResult, routes: dict[str, RouteResult], checkout: Usage,
             ran_at: str) -> str:
    total = sum(line.per_1000 for line in lines)
    flow_total = sum(line.flow * PRICES[line.price_key] * 1000 for line in lines)
    md = ["## Cost per 1,000 orders", "",
          f"Generated by `.venv/bin/python scripts/bench.py --markdown` on {ran_at} from orders measured on the "
          f"local stack (the median of {len(o.gb_s_runs)}), at us-east-1 list prices looked up on {PRICES_DATE} "
          "(sources and prices in `PRICES` at the top of the script). Free tiers are ignored. Paste a fresh run "
          "over this section when the code changes (the section is the script's stdout).", "",
          "| | per order: order flow | per order: browsing | price | USD per 1,000 orders |",
          "|---|---:|---:|---:|---:|"]
    for line in lines:
        md.append(f"| {line.label} | {fmt_line_qty(line, line.flow)} | {fmt_line_qty(line, line.browsing)} | "
                  f"{PRICE_LABELS[line.price_key]} | {fmt_usd(line.per_1000)} |")
    md.append(f"| **Total** | | | | **{fmt_usd(total)}** |")
    md += ["", f"The order flow alone is {fmt_usd(flow_total)} per 1,000 orders, browsing "
               f"{fmt_usd(total - flow_total)}. {other_arch_text(lines)}.", ""]
    md.append(dominates(lines, o, total))
    md += ["", *api_tradeoff(lines, total), "", analytics_batching(o, total), "", levers(lines, total)]
    s = o.shop
    max_age = (shop_api().get("CorsConfiguration") or {}).get("MaxAge")
    preflight_cache = f"up to {max_age} s" if max_age else "as long as the browser's default"
    md += ["", "DynamoDB per order (order flow), per table:", "",
           "| table | requests touching it | read request units | write request units |", "|---|---:|---:|---:|"]
    for table in sorted(set(s.rru) | set(s.wru), key=lambda t: -(s.rru[t] + s.wru[t])):
        md.append(f"| {table} | {s.ddb_calls_by_table[table]} | {s.rru[table]:g} | {s.wru[table]:g} |")
    md.append(f"| **total** | {sum(s.ddb_calls_by_table.values())} | {sum(s.rru.values()):g} | "
              f"{sum(s.wru.values()):g} |")
    md += ["", f"`POST /checkout` alone: {units_text(checkout)}.", "",
           "Per browsing request (measured, warm; the demo catalog):", "",
           "| route | DynamoDB calls | read request units | write request units | Lambda GB-s |",
           "|---|---:|---:|---:|---:|"]
    for r in routes.values():
        md.append(f"| `{r.label}` | {r.calls:g} | {r.q['rru']:g} | {r.q['wru']:g} | {r.gb_s:.4f} |")
    md += ["", "Assumptions:", "",
           f"- **Order shape**: {o.lines} lines of one unit each, one parcel from one warehouse, a card paid "
           "without 3-D Secure, picked, packed and delivered (one carrier `delivered` scan). Measured per order: "
           f"{sum(s.api.values())} API requests (cart, checkout, staff task completions, carrier and Stripe "
           f"webhooks), {sum(s.lambdas.values())} Lambda invocations, {o.transitions} state transitions, "
           f"{s.events} EventBridge events, {s.emails} emails to the shopper ("
           + "; ".join(f"`{subject}`" for subject in o.email_subjects) + "). The bench's own polling (task list "
           "and order status while it waits) is not counted. Each further parcel adds its own branch of the "
           "state machine (2 transitions: pick and pack, label and pickup), two staff tasks, a label, a shipment email "
           "and the webhooks.",
           "- **Browsing per order** (requests that lead to an order without being part of its flow; cost per "
           "request measured per route): " + ", ".join(
               f"{fmt_qty(n)} x `{r}`" + (" per parcel" if r.startswith("GET /warehouse/") else "")
               for r, n in BROWSING_PER_ORDER.items()) + ". That is 25 sessions per order (a 4 % conversion "
           "rate, a little above the 2-3 % usually quoted for web shops, for a shop with returning customers) "
           "with one category page and two product pages each; about 3 carts filled per order (70 % of carts "
           "abandoned), each with one extra line and viewed twice; one login; the buyer opens the order twice; "
           "staff open the task list once for the pick and once for the pack.",
           "- **Lambda duration**: handler time measured in-process against local moto and localstripe at each "
           "function's `MemorySize` from `template.yaml`, billed per invocation rounded up to 1 ms; warm "
           "invocations only, from the median of the orders run (`--orders`, default 3) and the median request "
           "per route. Local times on a shared 2-core machine, with moto, the Step Functions engine and the "
           "handlers in one process, vary up to 2x between runs and are probably pessimistic for "
           "DynamoDB-bound handlers and optimistic for the Stripe calls. "
           + logs_assumption(lines, o, routes),
           access_log_assumption(),
           "- **DynamoDB units** computed from the stored items' sizes with the published rules (moto's "
           "ConsumedCapacity is a constant per call); transactional writes count twice, index writes once per "
           "affected GSI. **Storage**: the bytes an order leaves behind (items and index entries, 100 B overhead "
           "each, including idempotency records and the cart until their TTL) priced for "
           f"{ASSUMPTIONS['storage_months']:.0f} month; point-in-time recovery only on the tables that enable "
           "it. Both lines recur every month the data is kept.",
           f"- **Daily report**: {ASSUMPTIONS['report_puts_per_day']:.0f} S3 PUTs a day at "
           f"{ASSUMPTIONS['orders_per_day']:,.0f} orders a day.",
           f"- **Not in the total**: Cognito (Essentials tier, the template's default) bills "
           f"${PRICES['cognito_mau_essentials']} per monthly active user above 10,000 free, so a shopper who "
           f"logs in once a month to order once costs ${PRICES['cognito_mau_essentials'] * 1000:.0f} per 1,000 such "
           "shoppers beyond the free tier" + (" - more than the whole table" if PRICES["cognito_mau_essentials"] * 1000
                                              > total else "") + "; X-Ray traces (tracing is on for functions "
           "and state machines, the HTTP API has no segment of its own; $5.00 per million traces recorded beyond "
           "the free tier, sampled), CloudWatch custom metrics from Powertools (per metric per month), log "
           f"storage, CORS preflights (a browser sends one before a cross-origin request with a token, cached "
           f"{preflight_cache}; the gateway answers them, not counted as requests here), cold-start INIT time, data "
           "transfer out, the once-a-day report run and its email, the "
           "reservation sweeper's schedule, Stripe's and the carrier's fees, and everything a return or a "
           "cancellation adds."]
    return "\n".join(md) + "\n"


# --------------------------------------------------------------------------------------------------- targets
ORDER_ITEM_READS = ("get_item", "batch_get_item", "transact_get_items")  # reads of items of OrdersTable by key


def print_targets(out: TextIO, cold: bench_targets.ColdImports | None, routes: dict[str, RouteResult],
                  order: OrderResult, total: float) -> list[bench_targets.Target]:
    """Part 6: issue 17's targets, each with its figure, the ratio figure / target and met / not met."""
    s = order.shop
    reads = sum(n for (table, op), n in s.by_table_op.items() if table == "OrdersTable" and op in ORDER_ITEM_READS)
    route_floors = {route: (r.handler_ms, r.bare_ms) for route, r in routes.items()}
    targets = bench_targets.targets(cold, route_floors, sum(s.ddb_calls.values()), reads, total, fmt_usd)
    bench_targets.print_targets(out, say, targets)
    return targets


# ------------------------------------------------------------------------------------------------------ main
def measure_route(stack: Any, label: str, route: str, method: str, path: str, body: Any, token: str | None,
                  n: int, fns: Functions) -> RouteResult:
    tag = f"route:{route}"
    with tagged(tag):
        stack.request(method, path, json=body, token=token)  # warm
    start = len(RECS)
    times, per_request = [], []
    with tagged(tag):
        for _ in range(n):
            i = len(RECS)
            t0 = time.perf_counter()
            resp = stack.request(method, path, json=body, token=token)
            times.append(time.perf_counter() - t0)
            assert resp.status < 300, (label, resp.status, resp.body)
            per_request.append(quantities(usage(RECS[i:], lambda t: t == tag, fns)))
    u = usage(RECS[start:], lambda t: t == tag, fns)
    # counts and units are the same for every request; durations are noisy on a shared machine: the median
    q = {k: statistics.median(r[k] for r in per_request) if k.startswith("gb_s") or k == "log_gb" else v / n
         for k, v in quantities(u).items()}
    pct = statistics.quantiles(times, n=100)
    handler = [r.seconds for r in RECS[start:] if r.kind == "lambda" and r.tag == tag]
    last = [(r.name, r.params or {}) for r in RECS[i:] if r.kind == "ddb" and r.tag == tag]
    bare = bench_targets.bare_calls_seconds(stack.client("dynamodb"), last, n) if last else 0.0
    return RouteResult(route, label, sum(u.ddb_calls.values()) / n, q, q["gb_s:x86_64"] + q["gb_s:arm64"],
                       pct[49] * 1000, pct[98] * 1000, statistics.median(handler) * 1000 if handler else 0.0,
                       bare * 1000)


def probe_consumed_capacity(stack: Any, meter: DynamoMeter, out: TextIO) -> None:
    """Does moto report ConsumedCapacity faithfully? A 3,000-byte item should cost 3 WRU to put, 1 RRU to read
    strongly consistently and 6 WRU to put in a transaction."""
    ddb = stack.client("dynamodb")
    table = stack.physical_id("CartsTable")
    key = {"customer_id": {"S": "bench-probe"}}
    item = {**key, "blob": {"S": "x" * (3000 - len("customer_id") - len("bench-probe") - len("blob"))}}
    put = ddb.put_item(TableName=table, Item=item, ReturnConsumedCapacity="TOTAL")
    get = ddb.get_item(TableName=table, Key=key, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    tx = ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": item}}],
                                  ReturnConsumedCapacity="TOTAL")
    ddb.delete_item(TableName=table, Key=key)

    def ours(resp: Any) -> float:
        units = meter.by_request.pop(resp["ResponseMetadata"]["RequestId"], [])
        return sum(r + w for _, r, w in units)

    theirs = [put.get("ConsumedCapacity", {}).get("CapacityUnits"), get.get("ConsumedCapacity", {}).get(
        "CapacityUnits"), sum(c.get("CapacityUnits", 0) for c in tx.get("ConsumedCapacity", []) or []) or None]
    say(out, f"   moto ConsumedCapacity for a 3,000-byte item: put {theirs[0]}, strongly consistent get "
             f"{theirs[1]}, transactional put {theirs[2]}; published rules (computed here): {ours(put):g}, "
             f"{ours(get):g}, {ours(tx):g}. Units below are computed, not moto's.")


def labelled(view: dict[str, Any]) -> dict[str, Any] | None:
    """The order view once every shipment has its label (tracking number)."""
    shipments = view.get("shipments") or []
    return view if shipments and all(s.get("tracking_number") for s in shipments) else None


def step_usage(name: str, i: int, j: int, fns: Functions) -> Usage:
    return usage(RECS[i:j], lambda t: t == f"order:{name}", fns)


def run_order(stack: Any, staff: Any, args: argparse.Namespace, fns: Functions, meter: DynamoMeter,
              routes: dict[str, RouteResult], table_names: Mapping[str, str], pitr: set[str]) -> tuple[OrderResult,
                                                                                                       Usage]:
    """One order through its whole flow; the first one also measures the two routes that need an open order."""
    from tests.factories import checkout, execution_arn, open_task, order_view, put_in_cart, wait_for, wait_paid

    buyer = stack.user()
    stack.drain_async()
    storage_before = meter.storage()
    mails_before = len(stack.sent_emails())
    start = len(RECS)
    steps: dict[str, tuple[int, int]] = {}

    @contextmanager
    def step(name: str) -> Iterator[None]:
        i = len(RECS)
        with tagged(f"order:{name}"):
            yield
        steps[name] = (i, len(RECS))

    with step("cart"):
        for sku in ORDER_SKUS[:args.lines]:
            put_in_cart(stack, buyer.id_token, sku, 1)
    with step("POST /checkout"):
        resp = checkout(stack, buyer.id_token)
    assert resp.status == 201, resp.body
    order_id = resp.json()["order_id"]
    with tagged("poll"):
        wait_paid(stack, order_id)
        pick = open_task(stack, staff.id_token, ORDER_WAREHOUSE, order_id, "pick")
    # two routes that need an open order and task, measured now and left out of the order's figures
    for label, route, path, token in [
            ("GET /orders/{id}", "GET /orders/{orderId}", f"/orders/{order_id}", buyer.id_token),
            (f"GET /warehouse/{ORDER_WAREHOUSE}/tasks", "GET /warehouse/{warehouseId}/tasks",
             f"/warehouse/{ORDER_WAREHOUSE}/tasks", staff.id_token)]:
        if route not in routes:
            routes[route] = measure_route(stack, label, route, "GET", path, None, token, args.requests, fns)
    with step("pick"):
        stack.request("POST", f"/warehouse/tasks/{pick['task_id']}/complete", token=staff.id_token,
                      json={"picked": [{"sku": i["sku"], "quantity": i["quantity"]} for i in pick["checklist"]]})
    with tagged("poll"):
        pack = open_task(stack, staff.id_token, ORDER_WAREHOUSE, order_id, "pack")
    weight = sum(i["weight_grams"] * i["quantity"] for i in pack["checklist"]) + 150
    with step("pack"):
        stack.request("POST", f"/warehouse/tasks/{pack['task_id']}/complete", token=staff.id_token,
                      json={"package_weight_grams": weight})
    with tagged("poll"):
        # a real carrier scans hours after the label; a scan before the workflow has opened the pickup task
        # would find no task to complete and leave the execution waiting (a race the bench must not create)
        open_task(stack, staff.id_token, ORDER_WAREHOUSE, order_id, "pickup")
        view = wait_for(lambda: labelled(order_view(stack, buyer.id_token, order_id)), 30, "the label")
    parcels = len(view["shipments"])
    with step("carrier delivered"):
        assert stack.carrier_webhook(view["shipments"][0]["tracking_number"], "delivered").status == 200
    with tagged("poll"):
        wait_for(lambda: order_view(stack, buyer.id_token, order_id)["status"] == "DELIVERED", 30, "DELIVERED")
        arn = execution_arn(stack, order_id)
        stack.wait_execution(arn, timeout=60)
        # localstripe posts payment_intent.succeeded about a second after the charge: part of the order
        wait_for(lambda: any(r.kind == "api" and r.name == "POST /webhooks/stripe" for r in RECS[start:]), 15,
                 "the Stripe webhook")
    stack.drain_async()
    time.sleep(0.5)
    stack.drain_async()
    recs = RECS[start:]
    history = stack.execution_history(arn)
    after = meter.storage()
    storage = {table_names.get(k, k): after.get(k, 0) - storage_before.get(k, 0) for k in after}
    shop = usage(recs, is_shop, fns)
    result = OrderResult(
        lines=args.lines, parcels=parcels, shop=shop, poll=usage(recs, lambda t: t == "poll", fns),
        steps={name: step_usage(name, i, j, fns) for name, (i, j) in steps.items()},
        transitions=sum(1 for e in history if e["type"].endswith("StateEntered")), history_events=len(history),
        states=[e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e],
        storage=storage, pitr_bytes=sum(v for k, v in storage.items() if k in pitr),
        stripe_webhooks=shop.api["POST /webhooks/stripe"],
        email_subjects=[re.sub(r"\bord_\w+", "<order>", re.sub(r"tracking \w+", "tracking <number>", str(
            m.get("subject")))) for m in stack.sent_emails()[mails_before:]])
    return result, result.steps["POST /checkout"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--markdown", action="store_true",
                        help="print the README sections to stdout (the report goes to stderr)")
    parser.add_argument("--lines", type=int, default=2, choices=range(1, len(ORDER_SKUS) + 1), metavar="N",
                        help=f"order lines, one unit each (1-{len(ORDER_SKUS)}, default 2)")
    parser.add_argument("--requests", type=int, default=20, help="requests per route in part 2 (default 20)")
    parser.add_argument("--orders", type=int, default=3,
                        help="orders run in part 3; the one with the median Lambda GB-s is reported (default 3)")
    parser.add_argument("--import-runs", type=int, default=5,
                        help="interleaved rounds of cold imports in part 1, the median reported (default 5)")
    parser.add_argument("--flash-rate", type=int, default=24000,
                        help="checkouts per second offered in the flash-sale simulation of part 5 (default 24,000)")
    parser.add_argument("--no-imports", action="store_true", help="skip part 1 (cold imports)")
    parser.add_argument("--only-imports", action="store_true", help="run part 1 (cold imports) only")
    parser.add_argument("--no-instructions", action="store_true",
                        help="part 1 without valgrind's instruction counts (a few minutes less)")
    args = parser.parse_args()
    if args.only_imports and (args.no_imports or args.markdown):
        parser.error("--only-imports prints part 1 only: no --no-imports, no --markdown")
    out = sys.stderr if args.markdown else sys.stdout
    cold: bench_targets.ColdImports | None = None

    from shoplocal.stack import Stack
    from shoplocal.template import load_yaml

    if not args.no_imports:
        functions = sorted(p for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())
        cold = bench_targets.cold_imports(functions, args.import_runs, count_instructions=not args.no_instructions)
        bench_targets.print_cold_imports(lambda text: say(out, text), cold)
        say(out, f"   deployment: shared layer {size(ROOT / 'layers' / 'shop') / 1024:.0f} KiB; function code (KiB) "
                 + ", ".join(f"{fn.name} {size(fn) / 1024:.1f}" for fn in functions))
        if args.only_imports:
            return 0

    meter = DynamoMeter()
    FunctionOutput.install()  # before the Stack starts (and any function's module is imported)
    with Stack() as stack:
        meter.install()
        resources = stack.loaded.transformed["Resources"]
        fns = Functions(
            memory_mb={lid: spec.memory for lid, spec in stack.invoker.functions.items()},
            arch={lid: str((resources[lid]["Properties"].get("Architectures") or ["x86_64"])[0])
                  for lid in stack.invoker.functions})
        original = load_yaml(ROOT / "template.yaml")["Resources"]
        tables = {stack.physical_id(lid): lid for lid, t in stack.deployment.types.items()
                  if t == "AWS::DynamoDB::Table"}
        pitr = {lid for lid in tables.values() if (original[lid]["Properties"].get(
            "PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")}
        instrument(stack, meter, tables)

        with tagged("setup"):
            stack.seed_demo()
            staff = stack.user(groups=("warehouse",))
            shopper = stack.user()
        routes: dict[str, RouteResult] = {}
        for label, route, method, path, body, token in [
                ("GET /products?category=coffee", "GET /products", "GET", "/products?category=coffee", None, None),
                ("GET /products/colombia-huila", "GET /products/{productId}", "GET", "/products/colombia-huila",
                 None, None),
                ("PUT /cart/items/COL-HUI-250", "PUT /cart/items/{sku}", "PUT", "/cart/items/COL-HUI-250",
                 {"quantity": 1}, shopper.id_token),
                ("GET /cart", "GET /cart", "GET", "/cart", None, shopper.id_token),
                ("POST /auth/login", "POST /auth/login", "POST", "/auth/login",
                 {"email": shopper.email, "password": shopper.password}, None)]:
            routes[route] = measure_route(stack, label, route, method, path, body, token, args.requests, fns)

        runs = [run_order(stack, staff, args, fns, meter, routes, tables, pitr) for _ in range(args.orders)]
        # counts and units are the same for every order; handler durations are noisy: the median order's
        order, checkout_usage = sorted(runs, key=lambda r: r[0].shop.gb_s)[len(runs) // 2]
        order.gb_s_runs = [r[0].shop.gb_s for r in runs]

        say(out, f"2. per route ({args.requests} requests each, demo catalog): per request DynamoDB calls, "
                 "read / write request units, Lambda GB-s, function log bytes ingested (median request); warm "
                 "latency p50 / p99 through the gateway; the "
                 "handler's median and its DynamoDB calls made bare with boto3 (same run), and their ratio")
        for r in routes.values():
            say(out, f"   {r.label:<34} {r.calls:4.1f} calls {r.q['rru']:5.1f} RRU {r.q['wru']:4.1f} WRU "
                     f"{r.gb_s:.5f} GB-s {r.log_bytes:4.0f} B logs  p50 {r.p50_ms:6.1f} ms  p99 {r.p99_ms:6.1f} ms  "
                     "handler "
                     f"{r.handler_ms:5.1f} ms " + (f"vs bare {r.bare_ms:5.1f} ms x{r.vs_bare:4.2f}" if r.bare_ms
                                                   else "(no DynamoDB calls)"))
        say(out, f"   POST /checkout ({args.lines} lines): {units_text(checkout_usage)} "
                 f"{dict(checkout_usage.ddb_calls)}")
        probe_consumed_capacity(stack, meter, out)
        print_order(out, order, fns)
        if meter.errors:
            say(out, f"   metering errors ({len(meter.errors)}): {meter.errors[:3]}")

    flow = quantities(order.shop)
    flow["transitions"] = order.transitions
    months = ASSUMPTIONS["storage_months"]
    flow["storage_gb"] = sum(order.storage.values()) / 2**30 * months
    flow["pitr_gb"] = order.pitr_bytes / 2**30 * months
    lines = cost_model(flow, {r: rr.q for r, rr in routes.items()}, order.parcels)
    total = sum(line.per_1000 for line in lines)
    say(out, f"4. cost per 1,000 orders (us-east-1 list prices of {PRICES_DATE}, free tiers ignored; browsing "
             f"per order: {sum(BROWSING_PER_ORDER.values()):.0f} requests, see BROWSING_PER_ORDER)")
    say(out, f"   {'':<58} {'flow/order':>11} {'browse/order':>12} {'USD/1,000':>10}")
    for line in lines:
        say(out, f"   {line.label:<58} {fmt_line_qty(line, line.flow):>11} {fmt_line_qty(line, line.browsing):>12} "
                 f"{fmt_usd(line.per_1000):>10}")
    say(out, f"   {'total':<58} {'':>11} {'':>12} {fmt_usd(total):>10}")
    say(out, f"   ({other_arch_text(lines).replace('`', '')}; Cognito Essentials "
             f"${PRICES['cognito_mau_essentials']}/MAU above 10,000 not included)")
    flash = flash_sale_sim.table(args.flash_rate, 1.0, 3000, lambda text: say(out, text))
    targets = print_targets(out, cold, routes, order, total)
    if args.markdown:
        ran_at = datetime.now(UTC).strftime("%Y-%m-%d")
        print(markdown(lines, order, routes, checkout_usage, ran_at), end="")
        print("\n" + bench_targets.markdown(targets, cold, flash, ran_at), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
