"""The one cursor codec (shop.dynamo.decode_cursor / page_query): a cursor decodes to a complete key of the
table or index queried, in the caller's partition, or it is a 422 naming ``query.cursor`` (issue 12 row 9)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from shop.api import http_status
from shop.dynamo import INDEX_KEYS, TABLE_KEY, encode_cursor, key_schema, page_query
from shop.errors import InvalidInput

from shoplocal.template import load_yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def raw_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def orders_args() -> dict[str, Any]:
    return {"TableName": "orders", "IndexName": "ByCustomer", "KeyConditionExpression": "customer_id = :c"}


GOOD = {"pk": {"S": "ORDER#o1"}, "sk": {"S": "ORDER"}, "customer_id": {"S": "c1"},
        "created_at": {"S": "2026-12-01T10:00:00Z"}}


def test_the_key_schemas_are_those_of_template_yaml() -> None:
    resources = load_yaml(ROOT / "template.yaml")["Resources"]
    tables = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"]
    indexes: dict[str, dict[str, str]] = {}
    for table in tables:
        types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        keys = [k["AttributeName"] for k in table["KeySchema"]]
        if "pk" in keys:
            assert {k: types[k] for k in keys} == TABLE_KEY
        for index in table.get("GlobalSecondaryIndexes", []):
            assert index["IndexName"] not in indexes, "index names are unique across tables"
            indexes[index["IndexName"]] = {k["AttributeName"]: types[k["AttributeName"]] for k in index["KeySchema"]}
    assert indexes == INDEX_KEYS


def test_a_key_the_api_returned_resumes_the_query() -> None:
    args = page_query(orders_args(), encode_cursor(GOOD), ("customer_id", "c1"))
    assert args["ExclusiveStartKey"] == GOOD
    assert page_query(orders_args(), None, ("customer_id", "c1")) == orders_args()
    assert key_schema() == {"pk": "S", "sk": "S"}
    pending = {"pk": {"S": "ORDER#o1"}, "sk": {"S": "ORDER"}, "pending_pk": {"S": "PENDING"},
               "reservation_expires_at": {"N": "1795500000"}}
    assert page_query({"IndexName": "PendingByExpiry"}, encode_cursor(pending),
                      ("pending_pk", "PENDING"))["ExclusiveStartKey"] == pending


NOT_KEYS: dict[str, Any] = {
    "partition only": {"customer_id": {"S": "c1"}},
    "no table key": {k: v for k, v in GOOD.items() if k not in ("pk", "sk")},
    "no sort key": {k: v for k, v in GOOD.items() if k != "created_at"},
    "extra attribute": {**GOOD, "status": {"S": "PAID"}},
    "a number for a string": {**GOOD, "created_at": {"N": "1"}},
    "an empty string": {**GOOD, "sk": {"S": ""}},
    "over the key size": {**GOOD, "created_at": {"S": "z" * 1025}},
    "a JSON number": {**GOOD, "created_at": {"S": 5}},
    "two types": {**GOOD, "created_at": {"S": "a", "N": "1"}},
    "a null": {**GOOD, "created_at": {"NULL": True}},
    "another partition": {**GOOD, "customer_id": {"S": "c2"}},
    "not an object": [GOOD],
    "a list value": {**GOOD, "pk": ["ORDER#o1"]},
}


@pytest.mark.parametrize("label", NOT_KEYS)
def test_a_cursor_that_is_not_a_complete_key_of_the_index_is_422(label: str) -> None:
    with pytest.raises(InvalidInput) as err:
        page_query(orders_args(), raw_cursor(NOT_KEYS[label]), ("customer_id", "c1"))
    assert err.value.field == "cursor"
    assert http_status(err.value) == 422


@pytest.mark.parametrize("number", ["abc", "NaN", "Infinity", "1" * 39, ""])
def test_a_number_key_must_be_a_dynamodb_number(number: str) -> None:
    key = {"pk": {"S": "o"}, "sk": {"S": "ORDER"}, "pending_pk": {"S": "PENDING"},
           "reservation_expires_at": {"N": number}}
    with pytest.raises(InvalidInput):
        page_query({"IndexName": "PendingByExpiry"}, raw_cursor(key), ("pending_pk", "PENDING"))


def test_a_huge_integer_or_deep_nesting_in_a_cursor_is_422() -> None:
    for text in ('{"pk": {"S": %s}}' % ("1" * 5000), "[" * 100_000):
        cursor = base64.urlsafe_b64encode(text.encode()).decode()
        with pytest.raises(InvalidInput):
            page_query(orders_args(), cursor, ("customer_id", "c1"))


def test_a_query_on_an_unknown_index_or_partition_attribute_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        page_query({"IndexName": "NoSuchIndex"}, None, ("x", "y"))
    with pytest.raises(KeyError):
        page_query(orders_args(), None, ("ticket_status", "open"))
