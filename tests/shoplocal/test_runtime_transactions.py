"""shoplocal's TransactWriteItems (shoplocal/patches.py, patch 7) saves only what a transaction can change instead
of deep-copying its tables: after success, after a cancelled transaction and after a refused one, the tables and
the error are exactly what moto's own implementation leaves, item for item and in the same order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from shoplocal import patches

pytestmark = pytest.mark.unit

ACCOUNT = "000000000042"  # not the stack's account: these backends are private to the test


@pytest.fixture(scope="module", autouse=True)
def _patched() -> None:
    patches.apply()


def s(v: str) -> dict[str, str]:
    return {"S": v}


def n(v: int) -> dict[str, str]:
    return {"N": str(v)}


def backend() -> DynamoDBBackend:
    b = DynamoDBBackend("eu-west-1", ACCOUNT)
    common: dict[str, Any] = {"throughput": None, "global_indexes": None, "indexes": None, "streams": None,
                              "billing_mode": "PAY_PER_REQUEST", "sse_specification": None, "tags": [],
                              "deletion_protection_enabled": False, "warm_throughput": None}
    b.create_table("R", schema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                   attr=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
                   **common)
    b.create_table("H", schema=[{"AttributeName": "id", "KeyType": "HASH"}],
                   attr=[{"AttributeName": "id", "AttributeType": "S"}], **common)
    for pk, sk in (("a", "1"), ("a", "2"), ("a", "3"), ("b", "1")):
        b.put_item("R", {"pk": s(pk), "sk": s(sk), "n": n(5), "m": {"M": {"l": {"L": [n(1), s("x")]}}}})
    for key in ("x", "y", "z"):
        b.put_item("H", {"id": s(key), "n": n(5), "tags": {"SS": ["p", "q"]}})
    return b


def state(b: DynamoDBBackend) -> dict[str, Any]:
    """Every table's items, in iteration order, with the hash buckets (and their order) of range tables."""
    out: dict[str, Any] = {}
    for name, table in b.tables.items():
        if table.range_key_attr is None:
            out[name] = [(str(k.value), v.to_json()) for k, v in table.items.items()]
        else:
            out[name] = [(str(k.value), [(str(r.value), i.to_json()) for r, i in bucket.items()])
                         for k, bucket in table.items.items()]
    return out


def upd(table: str, key: dict[str, Any], expr: str, values: dict[str, Any] | None = None,
        cond: str | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": table, "Key": key, "UpdateExpression": expr}
    if values:
        op["ExpressionAttributeValues"] = values
    if cond:
        op["ConditionExpression"] = cond
    return {"Update": op}


def put(table: str, item: dict[str, Any], cond: str | None = None) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": item, **({"ConditionExpression": cond} if cond else {})}}


def delete(table: str, key: dict[str, Any]) -> dict[str, Any]:
    return {"Delete": {"TableName": table, "Key": key}}


def check(table: str, key: dict[str, Any], cond: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": table, "Key": key, "ConditionExpression": cond}
    if values:
        op["ExpressionAttributeValues"] = values
    return {"ConditionCheck": op}


ONE = {":one": n(1)}
SCENARIOS: dict[str, list[dict[str, Any]]] = {
    "success": [upd("R", {"pk": s("a"), "sk": s("1")}, "SET n = n - :one", ONE), put("R", {"pk": s("c"), "sk": s("1")}),
                delete("H", {"id": s("y")}), check("R", {"pk": s("zz"), "sk": s("1")}, "attribute_not_exists(pk)"),
                upd("H", {"id": s("new")}, "SET n = :one", ONE)],
    "cancelled by a condition": [
        upd("R", {"pk": s("a"), "sk": s("1")}, "SET n = n - :one, m.l[0] = :one", ONE),
        put("R", {"pk": s("a"), "sk": s("9")}), put("R", {"pk": s("a"), "sk": s("2"), "replaced": s("yes")}),
        delete("R", {"pk": s("b"), "sk": s("1")}), put("H", {"id": s("w")}), delete("H", {"id": s("y")}),
        upd("H", {"id": s("x")}, "SET n = n + :one ADD tags :t", {":one": n(1), ":t": {"SS": ["r"]}}),
        upd("R", {"pk": s("fresh"), "sk": s("1")}, "SET n = :one", ONE),
        check("R", {"pk": s("ghost"), "sk": s("1")}, "attribute_exists(pk)"),
        check("R", {"pk": s("a"), "sk": s("3")}, "n > :big", {":big": n(100)})],
    "cancelled by a failed write condition": [
        delete("H", {"id": s("x")}), delete("H", {"id": s("z")}),
        put("R", {"pk": s("b"), "sk": s("1")}, cond="attribute_not_exists(pk)")],
    "refused: two actions on one item": [
        upd("R", {"pk": s("a"), "sk": s("2")}, "SET n = :one", ONE), delete("H", {"id": s("x")}),
        put("R", {"pk": s("new"), "sk": s("1")}), delete("R", {"pk": s("a"), "sk": s("2")})],
    "refused: invalid update": [
        delete("H", {"id": s("y")}), upd("R", {"pk": s("a"), "sk": s("3")}, "SET n = :one", ONE),
        upd("R", {"pk": s("a"), "sk": s("1")}, "SET n = :missing", ONE)],
    "refused: key without its range": [
        put("H", {"id": s("q")}), upd("R", {"pk": s("a")}, "SET n = :one", ONE)],
    "two actions in one entry": [put("H", {"id": s("q")}), {**put("H", {"id": s("r")}), **delete("H", {"id": s("x")})}],
}


def outcome(run: Callable[[DynamoDBBackend, list[dict[str, Any]]], None],
            actions: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    b = backend()
    try:
        run(b, actions)
        error = ""
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    return state(b), error


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_tables_and_the_error_are_what_moto_leaves(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    original = patches.MOTO_ORIGINALS["transact_write_items"]
    actions = SCENARIOS[name]
    expected = outcome(original, actions)

    def no_table_copy(self: Table, memo: Any) -> Table:
        raise AssertionError("a table was deep-copied")

    with monkeypatch.context() as m:  # ours never copies a table (it does not fall back to moto's way)
        m.setattr(Table, "__deepcopy__", no_table_copy, raising=False)
        ours = outcome(DynamoDBBackend.transact_write_items, actions)
    assert ours == expected
    if name.startswith(("cancelled", "refused")):
        assert ours[1], ours  # the scenario does fail
        assert ours[0] == state(backend()), "a failed transaction leaves no trace"


def test_the_patch_is_in_place() -> None:
    assert DynamoDBBackend.transact_write_items is not patches.MOTO_ORIGINALS["transact_write_items"]


def test_a_query_on_the_table_key_finds_what_moto_finds() -> None:
    """Patch 10: a base-table query reads one hash key's items instead of sorting the whole table; the pages,
    their order and the paging keys are moto's."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    b = backend()
    for i in range(30):
        b.put_item("R", {"pk": s(f"h{i % 4}"), "sk": s(f"k{i:02d}"), "n": n(i)})
    table = b.get_table("R")
    original = patches.MOTO_ORIGINALS["Table.query"]
    cases: list[tuple[Any, ...]] = [
        (DynamoType(s("h1")), None, [], None, None, True, None),
        (DynamoType(s("h2")), "BEGINS_WITH", [DynamoType(s("k1"))], None, None, False, None),
        (DynamoType(s("h3")), "BETWEEN", [DynamoType(s("k05")), DynamoType(s("k20"))], 2, None, True, None),
        (DynamoType(s("h3")), None, [], 3, {"pk": s("h3"), "sk": s("k11")}, True, None),
        (DynamoType(s("nobody")), None, [], None, None, True, None),
        (DynamoType(s("a")), None, [], None, None, True, None),
    ]
    for case in cases:
        ours = table.query(*case)
        theirs = original(table, *case)
        assert [i.to_json() for i in ours[0]] == [i.to_json() for i in theirs[0]], case
        assert ours[1:] == theirs[1:], case
    assert "nobody" not in {str(k.value) for k in table.items}  # reading a missing key adds no bucket
    assert len(table.query(*cases[0])[0]) == 8


def test_a_query_on_an_index_finds_what_moto_finds() -> None:
    """Patch 10 for index queries: only the items matching the index key are sorted; moto's result."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    b = DynamoDBBackend("eu-west-1", ACCOUNT)
    b.create_table("G", schema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                   attr=[{"AttributeName": name, "AttributeType": kind}
                         for name, kind in (("pk", "S"), ("sk", "S"), ("kind", "S"), ("at", "N"))],
                   throughput=None, indexes=None, streams=None, billing_mode="PAY_PER_REQUEST", sse_specification=None,
                   tags=[], deletion_protection_enabled=False, warm_throughput=None, global_indexes=[
                       {"IndexName": "ByKind", "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"},
                                                             {"AttributeName": "at", "KeyType": "RANGE"}],
                        "Projection": {"ProjectionType": "ALL"}}])
    for i in range(40):
        item = {"pk": s(f"p{i % 7}"), "sk": s(f"s{i:02d}"), "at": n(i % 5)}
        if i % 3:
            item["kind"] = s(f"k{i % 2}")
        b.put_item("G", item)
    table = b.get_table("G")
    original = patches.MOTO_ORIGINALS["Table.query"]
    for kind, comparison, values, forward, limit in (("k0", None, [], True, None), ("k1", "GT", [n(2)], False, None),
                                                     ("k1", None, [], True, 4), ("none", None, [], True, None)):
        args = (None, comparison, [DynamoType(v) for v in values], limit, None, forward, None)
        kwargs = {"index_name": "ByKind", "hash_key_conditions": [("kind", DynamoType(s(kind)))]}
        ours, theirs = table.query(*args, **kwargs), original(table, *args, **kwargs)
        assert [i.to_json() for i in ours[0]] == [i.to_json() for i in theirs[0]], kind
        assert ours[1:] == theirs[1:], kind
        assert bool(ours[0]) == (kind != "none"), kind
