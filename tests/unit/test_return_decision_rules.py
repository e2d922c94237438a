"""The inspection outcome decides what a return gives back (shop.returns.decisions): sellable units their full
price share, damaged units what staff chose (full, partial per unit or for the line, none; with a reason), never
above the paid share; "full" for every unit adds up to exactly the line's refund."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from shop.errors import InvalidInput
from shop.fulfillment.models import DamagedRefund, TaskCompletion
from shop.money import Money
from shop.returns.decisions import DEFAULT_REASON, decide, refund_due
from shop.returns.models import CustomerReturn, ReturnLine, ReturnStatus

pytestmark = pytest.mark.unit


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


def _ret(*lines: tuple[str, int, int]) -> CustomerReturn:
    built = [ReturnLine(sku=sku, name=sku, quantity=q, reason="damaged", warehouse_id="wh-1", weight_grams=100,
                        refund=Money(amount=refund, currency="EUR")) for sku, q, refund in lines]
    total = sum(ln.refund.amount for ln in built)
    return CustomerReturn(return_id="ret_0123456789abcdef0123", order_id="ord_sampleorderaaaaaaaaaaaaaaa",
                          customer_id="c1", status=ReturnStatus.AWAITING_GOODS, lines=built,
                          refund_total=Money(amount=total, currency="EUR"), created_at="t", updated_at="t")


def test_sellable_units_give_back_their_share_and_full_for_every_unit_is_the_line_refund() -> None:
    ret = _ret(("A-1", 3, 1000))  # 333.33 a unit: the cumulative shares are 333, 667, 1000
    [one] = decide(ret, [{"sku": "A-1", "sellable": 1, "damaged": 2,
                          "damaged_refund": {"decision": "full", "reason": "dented box"}}])
    assert one["refund"] == eur(1000)
    [sold] = decide(ret, [{"sku": "A-1", "sellable": 1, "damaged": 2,
                           "damaged_refund": {"decision": "none", "reason": "smashed"}}])
    assert sold["refund"] == eur(333)
    [split_a, split_b] = decide(ret, [{"sku": "A-1", "sellable": 2, "damaged": 0},
                                      {"sku": "A-1", "sellable": 0, "damaged": 1}])
    assert split_a["refund"]["amount"] + split_b["refund"]["amount"] == 1000
    assert split_b["damaged_refund"] == {"decision": "full", "reason": DEFAULT_REASON}  # no decision: full
    assert "damaged_refund" not in split_a


@pytest.mark.parametrize(("decision", "expected"), [
    ({"decision": "partial", "amount_per_unit": eur(200), "reason": "scratched"}, 400 + 400),
    ({"decision": "partial", "amount": eur(150), "reason": "scratched"}, 400 + 150),
    ({"decision": "partial", "amount_per_unit": eur(400), "reason": "as new"}, 400 + 800),
    ({"decision": "none", "reason": "misuse"}, 400),
])
def test_a_damaged_line_gives_back_what_was_decided(decision: dict[str, Any], expected: int) -> None:
    ret = _ret(("A-1", 3, 1200), ("B-2", 1, 999))
    out = decide(ret, [{"sku": "A-1", "sellable": 1, "damaged": 2, "damaged_refund": decision},
                       {"sku": "B-2", "sellable": 1, "damaged": 0}])
    assert out[0]["refund"] == eur(expected) and out[0]["damaged_refund"] == decision
    assert refund_due(ret, out) == Money(amount=expected + 999, currency="EUR")


@pytest.mark.parametrize(("decision", "field"), [
    ({"decision": "partial", "amount_per_unit": eur(401), "reason": "x"},
     "inspected.0.damaged_refund.amount_per_unit.amount"),
    ({"decision": "partial", "amount": eur(801), "reason": "x"}, "inspected.0.damaged_refund.amount.amount"),
    ({"decision": "partial", "amount": {"amount": 10, "currency": "USD"}, "reason": "x"},
     "inspected.0.damaged_refund.amount.currency"),
])
def test_never_above_the_paid_share_nor_in_another_currency(decision: dict[str, Any], field: str) -> None:
    ret = _ret(("A-1", 3, 1200))
    with pytest.raises(InvalidInput) as err:
        decide(ret, [{"sku": "A-1", "sellable": 1, "damaged": 2, "damaged_refund": decision}])
    assert err.value.field == field


def test_unknown_skus_too_many_units_and_decisions_without_damage_are_refused() -> None:
    ret = _ret(("A-1", 2, 1000))
    with pytest.raises(InvalidInput, match="not part of"):
        decide(ret, [{"sku": "Z-9", "sellable": 1, "damaged": 0}])
    with pytest.raises(InvalidInput, match="more units"):
        decide(ret, [{"sku": "A-1", "sellable": 2, "damaged": 1}])
    with pytest.raises(InvalidInput) as err:
        decide(ret, [{"sku": "A-1", "sellable": 2, "damaged": 0,
                      "damaged_refund": {"decision": "none", "reason": "x"}}])
    assert err.value.field == "inspected.0.damaged_refund"


@pytest.mark.parametrize("bad", [
    {"decision": "partial", "reason": "no amount"},
    {"decision": "partial", "amount": eur(1), "amount_per_unit": eur(1), "reason": "both"},
    {"decision": "partial", "amount": eur(0), "reason": "zero is none"},
    {"decision": "full", "amount": eur(100), "reason": "full takes none"},
    {"decision": "none", "amount_per_unit": eur(1), "reason": "none takes none"},
    {"decision": "none", "reason": "  "},
    {"decision": "none"},
    {"decision": "some", "reason": "x"},
])
def test_a_decision_is_one_of_three_with_a_reason_and_the_amount_its_kind_takes(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DamagedRefund.model_validate(bad)
    with pytest.raises(ValidationError):
        TaskCompletion.model_validate({"inspected": [{"sku": "A-1", "sellable": 0, "damaged": 1,
                                                      "damaged_refund": bad}]})
