"""The invariant audit's checks (tests/audit.py) on hand-made items: silent on consistent records, and each
check names the damage it is there to catch (so an audit that passes means something)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.audit import coupon_violations, order_violations, procurement_violations, stock_violations

pytestmark = pytest.mark.unit


def eur(n: int) -> dict[str, Any]:
    return {"amount": n, "currency": "EUR"}


def consistent() -> dict[str, list[dict[str, Any]]]:
    """One delivered order of 3 units (coupon C1), one of 2 units still reserved, one return of 2 units (one
    restocked), a PO with 10 received and one matched invoice."""
    inventory: list[dict[str, Any]] = [
        {"pk": "SKU#S1", "sk": "WH#w1", "on_hand": 8, "available": 6, "reserved": 2, "shipped": 3},
        {"pk": "LEDGER#S1#w1", "sk": "a", "delta": 10, "kind": "count", "reason": "opening count"},
        {"pk": "LEDGER#S1#w1", "sk": "b", "delta": -3, "kind": "shipment"},
        {"pk": "LEDGER#S1#w1", "sk": "c", "delta": 1, "kind": "customer_return", "ref": "ret_1"},
    ]
    line = {"sku": "S1", "quantity": 3, "allocations": [{"warehouse_id": "w1", "quantity": 3}]}
    orders: list[dict[str, Any]] = [
        {"pk": "ORDER#o1", "sk": "ORDER", "status": "DELIVERED", "lines": [line], "totals": {"total": eur(3000)},
         "coupon_code": "C1", "customer_id": "u1"},
        {"pk": "ORDER#o1", "sk": "SHIPMENT#shp_o1_1", "status": "DELIVERED", "warehouse_id": "w1",
         "items": [{"sku": "S1", "quantity": 3}]},
        {"pk": "ORDER#o1", "sk": "RETURN#ret_1", "status": "REFUNDED", "refunded": eur(2000),
         "lines": [{"sku": "S1", "quantity": 2, "warehouse_id": "w1"}],
         "inspection": [{"sku": "S1", "sellable": 1, "damaged": 1}]},
        {"pk": "TASK#tsk_1_return", "sk": "TASK", "warehouse_id": "w1", "kind": "return"},
        {"pk": "ORDER#o2", "sk": "ORDER", "status": "PAID", "totals": {"total": eur(2000)},
         "lines": [{"sku": "S1", "quantity": 2, "allocations": [{"warehouse_id": "w1", "quantity": 2}]}]},
        {"pk": "ORDER#o3", "sk": "ORDER", "status": "CANCELLED", "totals": {"total": eur(1000)},
         "lines": [{"sku": "S1", "quantity": 1, "allocations": [{"warehouse_id": "w1", "quantity": 1}]}]},
    ]
    procurement: list[dict[str, Any]] = [
        {"pk": "PO#p1", "sk": "PO", "lines": [{"sku": "S1", "quantity": 10, "received": 10, "returned": 0,
                                               "unit_cost": eur(100)}]},
        {"pk": "PO#p1", "sk": "INVOICE#i1", "status": "SETTLED", "invoice_total": eur(1000), "differences": [],
         "lines": [{"sku": "S1", "quantity": 10}]},
    ]
    promotions: list[dict[str, Any]] = [
        {"pk": "COUPON#C1", "sk": "COUPON", "used": 1},
        {"pk": "COUPON#C1", "sk": "CUSTOMER#u1", "used": 1},
        {"pk": "COUPON#C1", "sk": "ORDER#o1", "customer_id": "u1"},
    ]
    charges = [{"id": "ch_1", "amount": 3000, "captured": True, "status": "succeeded", "payment_intent": "pi_1"}]
    refunds = [{"id": "re_1", "charge": "ch_1", "amount": 2000, "status": "succeeded"}]
    return {"inventory": inventory, "orders": orders, "procurement": procurement, "promotions": promotions,
            "charges": charges, "refunds": refunds}


def run(d: dict[str, list[dict[str, Any]]]) -> list[str]:
    order_items = [i for i in d["orders"] if i["sk"] == "ORDER"]
    return [*stock_violations(d["inventory"], order_items),
            *order_violations(d["orders"], d["inventory"], d["charges"], d["refunds"]),
            *procurement_violations(d["procurement"]), *coupon_violations(d["promotions"], d["orders"])]


def test_consistent_records_pass() -> None:
    assert run(consistent()) == []


def damaged(change: Any) -> list[str]:
    d = copy.deepcopy(consistent())
    change(d)
    return run(d)


@pytest.mark.parametrize(("change", "names"), [
    (lambda d: d["inventory"][0].update(available=7), "on_hand 8 != available 7"),
    (lambda d: d["inventory"][0].update(reserved=1, available=7), "live orders hold 5"),
    (lambda d: d["inventory"].append({"pk": "LEDGER#S1#w1", "sk": "d", "delta": 1, "kind": "adjustment"}),
     "ledger sums to 9"),
    (lambda d: d["refunds"].append({"id": "re_2", "charge": "ch_1", "amount": 1500, "status": "succeeded"}),
     "refunded 3500 > captured 3000"),
    (lambda d: d["orders"].append({**d["orders"][2], "sk": "RETURN#ret_2", "refunded": eur(2000)}),
     "4 unit(s) of S1 returned, 3 delivered"),
    (lambda d: d["inventory"].append({"pk": "LEDGER#S1#w2", "sk": "e", "delta": 2, "kind": "customer_return",
                                      "ref": "ret_1"}), "restocked in w2, inspected in w1"),
    (lambda d: d["orders"][1].update(status="SHIPPED"), "order o1 DELIVERED: shipments ['SHIPPED']"),
    (lambda d: d["orders"][4].update(status="CANCELLED"), "live orders hold 3"),
    (lambda d: d["procurement"].append({"pk": "PO#p1", "sk": "INVOICE#i2", "status": "MATCHED",
                                        "lines": [{"sku": "S1", "quantity": 10}]}), "20 unit(s) invoiced"),
    (lambda d: d["procurement"][1].update(differences=[{"kind": "price"}]), "settled with differences"),
    (lambda d: d["promotions"][0].update(used=2), "used 2 != 1 redemption"),
    (lambda d: d["orders"][0].update(status="CANCELLED"), "redemption by o1, which does not hold it"),
])
def test_each_kind_of_damage_is_named(change: Any, names: str) -> None:
    found = damaged(change)
    assert any(names in v for v in found), found


@pytest.mark.parametrize("attrs", [
    {"pk": {"S": "ORDER#o1"}, "sk": {"S": "ORDER"}, "total": {"N": "4999"}, "neg": {"N": "-12"}, "zero": {"N": "-0"},
     "padded": {"N": "007"}, "big": {"N": "9" * 38}, "paid": {"BOOL": True}, "none": {"NULL": True},
     "lines": {"L": [{"M": {"sku": {"S": "S1"}, "quantity": {"N": "2"}, "tags": {"L": []}}}, {"S": "x"}]},
     "empty": {"M": {}}},
    {"pk": {"S": "SKU#S1"}, "sk": {"S": "WH#w1"}, "ratio": {"N": "0.25"}, "whole": {"N": "3.0"}},  # fractions
    {"pk": {"S": "A"}, "exp": {"N": "1E+2"}, "small": {"N": "-1.25E-3"}},  # exponents
    {"pk": {"S": "B"}, "tags": {"SS": ["a", "b"]}, "counts": {"NS": ["1", "2.5"]}},  # sets
    {"pk": {"S": "C"}, "blob": {"B": "aGVsbG8="}, "nested": {"M": {"blob": {"B": "aGk="}}}},  # binary
    {"pk": {"S": "D"}, "deep": {"M": {"n": {"N": "1.5"}, "l": {"L": [{"N": "10"}, {"NS": ["3"]}]}}}},
], ids=["simple", "fractions", "exponent", "sets", "binary", "nested-unusual"])
def test_the_audit_reads_a_stored_item_as_its_json_reads(attrs: dict[str, Any]) -> None:
    """tests/audit.py's snapshot walks moto's stored values once (stored_plain): the same Python values as the
    route it replaces (moto's to_json, boto3's deserializer, numbers made int where whole), type for type."""
    from moto.dynamodb.models.dynamo_type import Item

    from tests.audit import stored_plain
    from tests.race import plain

    item = Item(hash_key=None, range_key=None, attrs=copy.deepcopy(attrs))

    def outcome(read: Any) -> Any:  # the values, or the error raised (a stored binary fails both ways)
        try:
            return read()
        except Exception as exc:
            return type(exc)

    ours = outcome(lambda: stored_plain(item))
    theirs = outcome(lambda: plain(item.to_json()["Attributes"]))
    assert ours == theirs

    def types(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: types(x) for k, x in v.items()}
        if isinstance(v, list):
            return [types(x) for x in v]
        return type(v).__name__

    assert types(ours) == types(theirs)


def test_a_number_the_json_route_refuses_is_refused_alike() -> None:
    """39 significant digits: boto3's decimal context raises (Rounded); so does the audit's read."""
    from decimal import Rounded

    from moto.dynamodb.models.dynamo_type import Item

    from tests.audit import stored_plain

    item = Item(hash_key=None, range_key=None, attrs={"pk": {"S": "A"}, "huge": {"N": "1" + "0" * 38}})
    with pytest.raises(Rounded):
        stored_plain(item)
