"""Analytics data access (AnalyticsTable, ReportsBucket). Never scans: every read is a key lookup or a
query of one day's (or one product's) partition.

Items (pk, sk):
- fact               DAY#<yyyy-mm-dd>, <KIND>#<order>[#<shipment or refund>]   written once (StockLow: the
                     day's latest state of a level, overwritten)
- day totals         TOTALS, <yyyy-mm-dd>   ADDed to in the same transaction as each new fact
- bought together    ALSO#<product>, <other product>   count ADDed once per paid order
- bought by          BOUGHT#<customer>, <product>   orders ADDed and last_bought_at set once per paid order
- report             REPORT, <yyyy-mm-dd>   where the day's report is stored, and whether it was emailed

The API's base URL (the e-mailed report link) is an SSM parameter the template fills in (API_URL_PARAMETER).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from shop import aws
from shop.config import get_settings
from shop.dynamo import from_item, to_item

if TYPE_CHECKING:  # the facts are the Analytics function's: the product page and the account read counts only
    from shop.analytics.facts import Fact

# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): the AnalyticsTable's keys (these
# prefixes; a fact's sort key is its id, shop.analytics.facts), its name and its codecs are here only. No other
# context uses this repository.
TABLE = "analytics_table"
KEY_PREFIXES = ("DAY#", "ALSO#", "BOUGHT#", "TOTALS", "REPORT")
PUBLIC: frozenset[str] = frozenset()


def table() -> str:
    return get_settings().require("analytics_table")


def bucket() -> str:
    return get_settings().require("reports_bucket")


def _transact(actions: list[dict[str, Any]], what: str) -> list[str] | None:
    return aws.transact_codes(actions, what)


def fact_item(fact: Fact) -> dict[str, Any]:
    """A fact's attributes are kept as one JSON string: a day's report reads thousands of them, and parsing
    one string each is many times cheaper than DynamoDB's typed nested maps (measured: scripts/bench_report.py)."""
    return {"pk": {"S": f"DAY#{fact.day.isoformat()}"}, "sk": {"S": fact.sk}, "kind": {"S": fact.kind},
            "data": {"S": json.dumps(fact.attributes, separators=(",", ":"), sort_keys=True)}}


def record(fact: Fact) -> bool:
    """Write the fact and its contributions once; False when it was recorded before (a redelivery)."""
    item = fact_item(fact)
    if not fact.totals and not fact.pairs and not fact.bought:  # a state snapshot (StockLow): the latest one counts
        with aws.translate_common_errors("analytics fact"):
            aws.client("dynamodb").put_item(TableName=table(), Item=item)
        return True
    actions: list[dict[str, Any]] = [{"Put": {"TableName": table(), "Item": item,
                                              "ConditionExpression": "attribute_not_exists(pk)"}}]
    if fact.totals:
        names = {f"#t{i}": k for i, k in enumerate(fact.totals)}
        values = {f":t{i}": {"N": str(v)} for i, v in enumerate(fact.totals.values())}
        actions.append({"Update": {"TableName": table(), "Key": {"pk": {"S": "TOTALS"},
                                                                 "sk": {"S": fact.day.isoformat()}},
                                   "UpdateExpression": "ADD " + ", ".join(f"#t{i} :t{i}" for i in range(len(names))),
                                   "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}})
    for a, b in fact.pairs:
        actions.append({"Update": {"TableName": table(), "Key": {"pk": {"S": f"ALSO#{a}"}, "sk": {"S": b}},
                                   "UpdateExpression": "ADD bought_together :one",
                                   "ExpressionAttributeValues": {":one": {"N": "1"}}}})
    if fact.bought:
        customer, products = fact.bought
        at = str(fact.attributes.get("at") or "")
        for product in products:
            actions.append({"Update": {"TableName": table(), "Key": {"pk": {"S": f"BOUGHT#{customer}"},
                                                                     "sk": {"S": product}},
                                       "UpdateExpression": "ADD orders :one SET last_bought_at = :at",
                                       "ExpressionAttributeValues": {":one": {"N": "1"}, ":at": {"S": at}}}})
    codes = _transact(actions, "analytics fact")
    if codes is None:
        return True
    if codes and codes[0] == "ConditionalCheckFailed":
        return False
    raise RuntimeError(f"analytics fact {fact.sk} not recorded: {codes}")


def day_facts(day: date) -> list[dict[str, Any]]:
    """Every fact of one day: one partition, paginated (cost grows with that day's events only)."""
    args: dict[str, Any] = {"TableName": table(), "KeyConditionExpression": "pk = :p",
                            "ExpressionAttributeValues": {":p": {"S": f"DAY#{day.isoformat()}"}}}
    out: list[dict[str, Any]] = []
    ddb = aws.client("dynamodb")
    with aws.translate_common_errors("day facts"):
        while True:
            resp = ddb.query(**args)
            out.extend({"kind": i["kind"]["S"], **json.loads(i["data"]["S"])} for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return out
            args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def day_totals(first: date, last: date) -> dict[str, dict[str, int]]:
    """Running totals per day of a range (one query on the TOTALS partition, by date)."""
    args: dict[str, Any] = {"TableName": table(), "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
                            "ExpressionAttributeValues": {":p": {"S": "TOTALS"}, ":a": {"S": first.isoformat()},
                                                          ":b": {"S": last.isoformat()}}}
    out: dict[str, dict[str, int]] = {}
    ddb = aws.client("dynamodb")
    with aws.translate_common_errors("day totals"):
        while True:
            resp = ddb.query(**args)
            for raw in resp.get("Items", []):
                data = from_item(raw)
                out[str(data["sk"])] = {k: int(v) for k, v in data.items() if k not in ("pk", "sk")}
            if "LastEvaluatedKey" not in resp:
                return out
            args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def bought_by(customer_id: str) -> list[tuple[str, int, str]]:
    """(product, paid orders with it, last bought at) of everything the shopper bought: one query of the
    shopper's partition (it grows with the distinct products they bought)."""
    args: dict[str, Any] = {"TableName": table(), "KeyConditionExpression": "pk = :p",
                            "ExpressionAttributeValues": {":p": {"S": f"BOUGHT#{customer_id}"}}}
    out: list[tuple[str, int, str]] = []
    ddb = aws.client("dynamodb")
    with aws.translate_common_errors("bought by"):
        while True:
            resp = ddb.query(**args)
            out += [(i["sk"]["S"], int(i["orders"]["N"]), i.get("last_bought_at", {}).get("S", ""))
                    for i in resp.get("Items", [])]
            if "LastEvaluatedKey" not in resp:
                return out
            args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def bought_together(product_id: str) -> list[tuple[str, int]]:
    args: dict[str, Any] = {"TableName": table(), "KeyConditionExpression": "pk = :p",
                            "ExpressionAttributeValues": {":p": {"S": f"ALSO#{product_id}"}}}
    pairs: list[tuple[str, int]] = []
    ddb = aws.client("dynamodb")
    with aws.translate_common_errors("bought together"):
        while True:
            resp = ddb.query(**args)
            pairs += [(i["sk"]["S"], int(i["bought_together"]["N"])) for i in resp.get("Items", [])]
            if "LastEvaluatedKey" not in resp:
                return pairs
            args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


# ------------------------------------------------------------------ stored reports
def report_key(day: date) -> dict[str, Any]:
    return {"pk": {"S": "REPORT"}, "sk": {"S": day.isoformat()}}


def get_report(day: date) -> dict[str, Any] | None:
    with aws.translate_common_errors("report read"):
        raw = aws.client("dynamodb").get_item(TableName=table(), Key=report_key(day), ConsistentRead=True).get("Item")
    return {k: v for k, v in from_item(raw).items() if k not in ("pk", "sk")} if raw else None


def save_report(day: date, record: dict[str, Any]) -> bool:
    """Store the report's record once; False when a run for that day stored it first."""
    with aws.conditional_write("report save") as write:
        aws.client("dynamodb").put_item(TableName=table(), Item=to_item({**{"pk": "REPORT", "sk": day.isoformat()},
                                                                         **record}),
                                        ConditionExpression="attribute_not_exists(pk)")
    return write.applied


def claim_email(day: date, now: str) -> bool:
    """One run sends the day's email: the claim is conditional (released again if sending fails)."""
    with aws.conditional_write("report email") as write:
        aws.client("dynamodb").update_item(TableName=table(), Key=report_key(day),
                                           UpdateExpression="SET email_claimed_at = :now",
                                           ConditionExpression="attribute_exists(pk) AND "
                                                               "attribute_not_exists(email_claimed_at)",
                                           ExpressionAttributeValues={":now": {"S": now}})
    return write.applied


def emailed(day: date, message_id: str | None) -> None:
    with aws.translate_common_errors("report email"):
        if message_id is None:
            aws.client("dynamodb").update_item(TableName=table(), Key=report_key(day),
                                               UpdateExpression="REMOVE email_claimed_at")
        else:
            aws.client("dynamodb").update_item(TableName=table(), Key=report_key(day),
                                               UpdateExpression="SET email_message_id = :m",
                                               ExpressionAttributeValues={":m": {"S": message_id}})


def put_object(key: str, body: str, content_type: str) -> None:
    with aws.translate_common_errors("report upload"):
        aws.client("s3").put_object(Bucket=bucket(), Key=key, Body=body.encode(), ContentType=content_type)


def get_object(key: str) -> str:
    with aws.translate_common_errors("report download"):
        return str(aws.client("s3").get_object(Bucket=bucket(), Key=key)["Body"].read().decode())


API_URL_MAX_AGE_SECONDS = 300
_api_urls: dict[tuple[str | None, str], tuple[float, str]] = {}
_api_urls_lock = threading.Lock()


def api_url() -> str | None:
    """The API's base URL from the SSM parameter API_URL_PARAMETER names; None when the function has none."""
    return _parameter(get_settings().api_url_parameter)


def console_url() -> str | None:
    """The staff console's base URL from the SSM parameter CONSOLE_URL_PARAMETER names (the template writes the
    CloudFront domain there, the local runtime its gateway's /console/); None when the function has none."""
    return _parameter(get_settings().console_url_parameter)


def _parameter(name: str | None) -> str | None:
    """An SSM parameter's value, cached API_URL_MAX_AGE_SECONDS per process. The template cannot hand these URLs
    to ReportsFunction's environment: the API's integrations reference the function (a circular dependency)."""
    if not name:
        return None
    where = (get_settings().endpoint_url, name)  # the local runtime: one stack (endpoint) at a time per process
    with _api_urls_lock:
        cached = _api_urls.get(where)
        if cached is not None and time.monotonic() - cached[0] < API_URL_MAX_AGE_SECONDS:
            return cached[1]
    with aws.translate_common_errors("URL parameter"):
        value = str(aws.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
    with _api_urls_lock:
        _api_urls[where] = (time.monotonic(), value)
    return value


def link(key: str, expires: timedelta = timedelta(days=7)) -> str:
    return str(aws.client("s3").generate_presigned_url("get_object", Params={"Bucket": bucket(), "Key": key},
                                                       ExpiresIn=int(expires.total_seconds())))


