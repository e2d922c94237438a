"""shoplocal's fast path for DynamoDB AttributeValues in moto's JSON responses (shoplocal/patches.py, patch 5)
writes byte for byte what moto's generic serializer writes: random items of every attribute type, nested, through
GetItem, Query and BatchGetItem, compared with the generic serializer."""

from __future__ import annotations

import base64
import random
from typing import Any

import pytest
from moto.core.serialize import JSONSerializer, ResponseSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.utilities import dynamo_to_dict

from shoplocal import patches

pytestmark = pytest.mark.unit


class GenericSerializer(JSONSerializer):
    """moto's JSON serializer without the fast path (DynamoDB has no document shapes, so the JSON override of
    structures is the generic one)."""

    def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
        ResponseSerializer._serialize_type_structure(self, serialized, value, shape, key)


def body(cls: type[JSONSerializer], operation: str, result: Any, transformers: dict[str, Any] | None = None) -> str:
    model = get_service_model("dynamodb").operation_model(operation)
    picker = XFormedAttributePicker(response_transformers=transformers or {})
    return str(cls(operation_model=model, value_picker=picker).serialize(result)["body"])


def wire_value(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    """A random AttributeValue in DynamoDB's wire format."""
    kinds = ["S", "N", "B", "SS", "NS", "BS", "NULL", "BOOL"] + (["M", "L"] * 2 if depth < 3 else [])
    kind = rng.choice(kinds)
    text = "".join(rng.choice("aé€z09 #\"\\/\n") for _ in range(rng.randint(0, 8)))
    blob = base64.b64encode(bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))).decode()
    return {
        "S": lambda: {"S": text},
        "N": lambda: {"N": str(rng.randint(-10**12, 10**12)) + rng.choice(["", ".5", "e3"])},
        "B": lambda: {"B": blob},
        "SS": lambda: {"SS": sorted({text + str(i) for i in range(rng.randint(1, 4))})},
        "NS": lambda: {"NS": [str(i) for i in range(rng.randint(1, 4))]},
        "BS": lambda: {"BS": [blob, base64.b64encode(b"x" * rng.randint(1, 9)).decode()]},
        "NULL": lambda: {"NULL": True},
        "BOOL": lambda: {"BOOL": rng.random() < 0.5},
        "M": lambda: {"M": {f"k{i}": wire_value(rng, depth + 1) for i in range(rng.randint(0, 4))}},
        "L": lambda: {"L": [wire_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]},
    }[kind]()


def moto_item(rng: random.Random) -> dict[str, Any]:
    """An item as moto's responses hand it to the serializer (DynamoType values through dynamo_to_dict)."""
    item = {"pk": DynamoType({"S": f"ORDER#{rng.randint(0, 99)}"})}
    item.update({f"a{i}": DynamoType(wire_value(rng)) for i in range(rng.randint(1, 12))})
    return dict(dynamo_to_dict(item))


@pytest.fixture(scope="module", autouse=True)
def _patched() -> None:
    patches.apply()


@pytest.mark.parametrize("seed", range(20))
def test_items_of_every_type_are_written_as_the_generic_serializer_writes_them(seed: int) -> None:
    rng = random.Random(seed)
    items = [moto_item(rng) for _ in range(8)]
    cases = {
        "GetItem": {"Item": items[0]},
        "Query": {"Items": items, "Count": len(items), "ScannedCount": len(items),
                  "LastEvaluatedKey": {"pk": items[-1]["pk"]}},
        "BatchGetItem": {"Responses": {"T1": items[:3], "T2": items[3:]}, "UnprocessedKeys": {}},
    }
    for operation, result in cases.items():
        fast = body(JSONSerializer, operation, result)
        assert fast == body(GenericSerializer, operation, result), operation
    assert '"B": "' in body(JSONSerializer, "Query", cases["Query"]) or seed  # blobs are base64 text, not bytes


def test_values_the_fast_path_does_not_know_go_the_generic_way() -> None:
    class Odd:  # an object, not a dict: the generic serializer picks its attributes
        S = "from an attribute"

    odd_items = [{"pk": {"S": "x"}, "a": {"S": "y", "extra": 1}}, {"pk": {"S": "x"}, "n": {"N": 5}},
                 {"pk": {"S": "x"}, "o": Odd()}, {"pk": {"S": "x"}, "m": {"M": {"k": {"S": 3}}}},
                 {"pk": {"S": "x"}, "l": {"L": [None, {"S": "a"}]}}, {"pk": {"S": "x"}, "z": {"M": {"n": None}}}]
    for item in odd_items:
        assert body(JSONSerializer, "GetItem", {"Item": item}) == body(GenericSerializer, "GetItem", {"Item": item})


def test_a_response_transformer_on_a_member_path_disables_the_fast_path() -> None:
    item = {"pk": {"S": "x"}, "a": {"S": "hidden"}}
    transformers = {"a.S": lambda _: None}
    assert body(JSONSerializer, "GetItem", {"Item": item}, transformers) == \
        body(GenericSerializer, "GetItem", {"Item": item}, transformers)
    assert "hidden" not in body(JSONSerializer, "GetItem", {"Item": item}, transformers)


def test_attribute_value_members_follow_the_service_model() -> None:
    shape = get_service_model("dynamodb").shape_for("AttributeValue")
    assert {k: m.type_name for k, m in shape.members.items()} == patches.ATTRIBUTE_VALUE_MEMBERS
    assert list(shape.members) == list(patches.ATTRIBUTE_VALUE_MEMBERS)
