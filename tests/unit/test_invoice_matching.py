"""Three-way invoice matching: purchase order x goods received (net of returns) x supplier invoice."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from shop.money import Money, round_half_up
from shop.procurement.matching import (
    DISPUTED,
    MATCHED,
    Difference,
    InvoiceLine,
    MatchResult,
    PoLine,
    Tolerance,
    _sort_key,
    match,
)

pytestmark = pytest.mark.unit


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def jpy(amount: int) -> Money:
    return Money(amount=amount, currency="JPY")


def po(sku: str, ordered: int, cost: int) -> PoLine:
    return PoLine(sku=sku, ordered=ordered, unit_cost=eur(cost))


def inv(sku: str, quantity: int, price: int) -> InvoiceLine:
    return InvoiceLine(sku=sku, quantity=quantity, unit_price=eur(price))


def kinds(result: MatchResult) -> list[tuple[str | None, str]]:
    return [(d.sku, d.kind) for d in result.differences]


PO = [po("SKU-1", 10, 1000), po("SKU-2", 5, 250)]


# --- matched cases -------------------------------------------------------------------------------------------


def test_exact_match() -> None:
    result = match(PO, {"SKU-1": 10, "SKU-2": 5}, [inv("SKU-1", 10, 1000), inv("SKU-2", 5, 250)])
    assert result.status == MATCHED
    assert result.differences == ()
    assert result.invoice_total == eur(11250)
    assert result.expected_total == eur(11250)


def test_price_within_tolerance_matches() -> None:
    # 1 % of 10.00 = 0.10 allowed; invoiced 10.07 and 9.95
    result = match(PO, {"SKU-1": 10, "SKU-2": 5}, [inv("SKU-1", 10, 1007), inv("SKU-2", 5, 248)])
    assert result.status == MATCHED
    assert result.invoice_total == eur(10070 + 1240)
    assert result.expected_total == eur(11250)


def test_quantity_within_tolerance_matches() -> None:
    result = match(PO, {"SKU-1": 10, "SKU-2": 5}, [inv("SKU-1", 12, 1000), inv("SKU-2", 4, 250)],
                   Tolerance(quantity_units=2))
    assert result.status == MATCHED
    assert result.differences == ()


def test_price_exactly_at_bps_tolerance_matches_and_one_more_minor_unit_disputes() -> None:
    # 1 % of 1000 = 10 minor units
    assert match(PO[:1], {"SKU-1": 1}, [inv("SKU-1", 1, 1010)]).status == MATCHED
    assert match(PO[:1], {"SKU-1": 1}, [inv("SKU-1", 1, 990)]).status == MATCHED
    assert kinds(match(PO[:1], {"SKU-1": 1}, [inv("SKU-1", 1, 1011)])) == [("SKU-1", "price")]
    assert kinds(match(PO[:1], {"SKU-1": 1}, [inv("SKU-1", 1, 989)])) == [("SKU-1", "price")]


def test_price_bps_tolerance_is_rounded_half_up() -> None:
    # 1 % of 250 = 2.5 -> 3 minor units allowed (half-up), so 253 matches and 254 does not
    order = [po("SKU-2", 5, 250)]
    assert match(order, {"SKU-2": 1}, [inv("SKU-2", 1, 253)]).status == MATCHED
    assert kinds(match(order, {"SKU-2": 1}, [inv("SKU-2", 1, 254)])) == [("SKU-2", "price")]


def test_minor_unit_tolerance_wins_for_cheap_items() -> None:
    # 1 % of 0.40 = 0.004 -> 0 by bps, but one minor unit of supplier rounding is always allowed
    order = [po("BOLT", 100, 40)]
    assert match(order, {"BOLT": 100}, [inv("BOLT", 100, 41)]).status == MATCHED
    assert kinds(match(order, {"BOLT": 100}, [inv("BOLT", 100, 42)])) == [("BOLT", "price")]
    loose = Tolerance(price_minor_units=2)
    assert match(order, {"BOLT": 100}, [inv("BOLT", 100, 42)], loose).status == MATCHED


def test_quantity_exactly_at_tolerance_matches_and_one_more_disputes() -> None:
    tol = Tolerance(quantity_units=2)
    assert match(PO[:1], {"SKU-1": 8}, [inv("SKU-1", 10, 1000)], tol).status == MATCHED
    assert match(PO[:1], {"SKU-1": 8}, [inv("SKU-1", 6, 1000)], tol).status == MATCHED
    assert kinds(match(PO[:1], {"SKU-1": 8}, [inv("SKU-1", 11, 1000)], tol)) == [("SKU-1", "quantity")]
    assert kinds(match(PO[:1], {"SKU-1": 8}, [inv("SKU-1", 5, 1000)], tol)) == [("SKU-1", "quantity")]


def test_partial_delivery_invoiced_correctly_matches() -> None:
    # 6 of 10 SKU-1 arrived, SKU-2 not yet: invoicing exactly what arrived is fine
    result = match(PO, {"SKU-1": 6}, [inv("SKU-1", 6, 1000)])
    assert result.status == MATCHED
    assert result.invoice_total == eur(6000)
    assert result.expected_total == eur(6000)


def test_returns_reduce_what_may_be_invoiced() -> None:
    # 10 received, 3 returned -> received_net 7: invoicing 7 matches, invoicing all 10 received does not
    received_net = {"SKU-1": 7}
    ok = match(PO[:1], received_net, [inv("SKU-1", 7, 1000)])
    assert ok.status == MATCHED
    assert ok.expected_total == eur(7000)
    bad = match(PO[:1], received_net, [inv("SKU-1", 10, 1000)])
    assert bad.status == DISPUTED
    (diff,) = bad.differences
    assert (diff.sku, diff.kind, diff.expected, diff.invoiced) == ("SKU-1", "quantity", 7, 10)
    assert diff.message == "invoiced 10 units of SKU SKU-1 but 7 were received (net of returns)"
    assert bad.expected_total == eur(7000)
    assert bad.invoice_total == eur(10000)


def test_jpy_has_no_minor_digits() -> None:
    order = [PoLine(sku="TEA", ordered=20, unit_cost=jpy(1500))]
    # 1 % of 1500 JPY = 15 JPY allowed
    ok = match(order, {"TEA": 20}, [InvoiceLine(sku="TEA", quantity=20, unit_price=jpy(1515))])
    assert ok.status == MATCHED
    assert ok.invoice_total == jpy(30300)
    assert ok.expected_total == jpy(30000)
    bad = match(order, {"TEA": 20}, [InvoiceLine(sku="TEA", quantity=20, unit_price=jpy(1516))])
    (diff,) = bad.differences
    assert (diff.kind, diff.expected, diff.invoiced) == ("price", jpy(1500), jpy(1516))


# --- one test per rule ---------------------------------------------------------------------------------------


def test_rule1_invoice_line_in_another_currency() -> None:
    usd_line = InvoiceLine(sku="SKU-1", quantity=10, unit_price=Money(amount=999_999, currency="USD"))
    result = match(PO, {"SKU-1": 10, "SKU-2": 5}, [usd_line, inv("SKU-2", 5, 250)])
    assert result.status == DISPUTED
    (diff,) = result.differences  # no "price" difference for the USD line, quantity still counted
    assert (diff.sku, diff.kind, diff.expected, diff.invoiced) == ("SKU-1", "currency", "EUR", "USD")
    assert diff.message == "SKU SKU-1 is invoiced in USD but the purchase order is in EUR"
    assert result.invoice_total == eur(1250)  # USD line left out
    assert result.expected_total == eur(11250)


def test_rule1_purchase_order_in_two_currencies_is_a_programming_error() -> None:
    mixed = [po("SKU-1", 1, 100), PoLine(sku="SKU-2", ordered=1, unit_cost=jpy(100))]
    with pytest.raises(ValueError, match="currencies"):
        match(mixed, {}, [])


def test_rule2_unknown_sku() -> None:
    result = match(PO[:1], {"SKU-1": 10}, [inv("SKU-1", 10, 1000), inv("SKU-9", 3, 500)])
    assert result.status == DISPUTED
    (diff,) = result.differences
    assert (diff.sku, diff.kind, diff.expected, diff.invoiced) == ("SKU-9", "unknown_sku", 0, 3)
    assert "not on the purchase order" in diff.message
    assert result.invoice_total == eur(11500)  # what the invoice asks for
    assert result.expected_total == eur(10000)


def test_rule3_duplicate_line_sums_quantity_and_checks_each_price() -> None:
    # 4 + 6 = 10 received: quantity fine; the second line's price is off
    result = match(PO[:1], {"SKU-1": 10}, [inv("SKU-1", 4, 1000), inv("SKU-1", 6, 1100)])
    assert kinds(result) == [("SKU-1", "duplicate_line"), ("SKU-1", "price")]
    dup, price = result.differences
    assert (dup.expected, dup.invoiced) == (1, 2)
    assert (price.expected, price.invoiced) == (eur(1000), eur(1100))
    assert result.invoice_total == eur(4000 + 6600)


def test_rule3_duplicate_line_with_correct_total_quantity_and_prices_is_still_disputed() -> None:
    result = match(PO[:1], {"SKU-1": 10}, [inv("SKU-1", 4, 1000), inv("SKU-1", 6, 1000)])
    assert result.status == DISPUTED
    assert kinds(result) == [("SKU-1", "duplicate_line")]


def test_rule3_duplicate_line_summed_quantity_beyond_receipts() -> None:
    result = match(PO[:1], {"SKU-1": 10}, [inv("SKU-1", 10, 1000), inv("SKU-1", 10, 1000)])
    assert kinds(result) == [("SKU-1", "duplicate_line"), ("SKU-1", "quantity")]
    assert (result.differences[1].expected, result.differences[1].invoiced) == (10, 20)


def test_rule4_received_but_not_invoiced() -> None:
    result = match(PO, {"SKU-1": 10, "SKU-2": 5}, [inv("SKU-1", 10, 1000)])
    (diff,) = result.differences
    assert (diff.sku, diff.kind, diff.expected, diff.invoiced) == ("SKU-2", "not_invoiced", 5, 0)
    assert diff.message == "5 units of SKU SKU-2 were received (net of returns) but not invoiced"
    assert result.expected_total == eur(11250)


def test_rule4_not_invoiced_regardless_of_quantity_tolerance() -> None:
    result = match(PO, {"SKU-1": 10, "SKU-2": 1}, [inv("SKU-1", 10, 1000)], Tolerance(quantity_units=5))
    assert kinds(result) == [("SKU-2", "not_invoiced")]


def test_rule4_invoiced_but_nothing_received() -> None:
    result = match(PO, {"SKU-1": 10}, [inv("SKU-1", 10, 1000), inv("SKU-2", 1, 250)])
    (diff,) = result.differences
    assert (diff.sku, diff.kind, diff.expected, diff.invoiced) == ("SKU-2", "quantity", 0, 1)
    assert diff.message == "invoiced 1 unit of SKU SKU-2 but 0 were received (net of returns)"


def test_rule4_neither_received_nor_invoiced_is_fine() -> None:
    result = match(PO, {"SKU-2": 0}, [])
    assert result.status == MATCHED
    assert result.invoice_total == eur(0)
    assert result.expected_total == eur(0)


def test_rule5_price_beyond_tolerance() -> None:
    result = match(PO[:1], {"SKU-1": 10}, [inv("SKU-1", 10, 1050)])
    (diff,) = result.differences
    assert (diff.sku, diff.kind, diff.expected, diff.invoiced) == ("SKU-1", "price", eur(1000), eur(1050))
    assert "1050 EUR" in diff.message
    assert "1000 EUR" in diff.message
    # a wider bps tolerance (5 %) accepts it
    assert match(PO[:1], {"SKU-1": 10}, [inv("SKU-1", 10, 1050)], Tolerance(price_bps=500)).status == MATCHED


def test_rule5_zero_tolerance_requires_exact_price() -> None:
    strict = Tolerance(price_bps=0, price_minor_units=0)
    assert match(PO[:1], {"SKU-1": 1}, [inv("SKU-1", 1, 1000)], strict).status == MATCHED
    assert kinds(match(PO[:1], {"SKU-1": 1}, [inv("SKU-1", 1, 1001)], strict)) == [("SKU-1", "price")]


def test_rule6_differences_ordered_by_sku_then_kind() -> None:
    order = [po("A", 1, 100), po("B", 1, 100), po("C", 1, 100)]
    lines = [
        inv("C", 5, 500),  # quantity + price
        inv("Z", 1, 100),  # unknown
        inv("B", 1, 100),
        inv("B", 1, 100),  # duplicate + quantity
        InvoiceLine(sku="A", quantity=1, unit_price=jpy(100)),  # currency
    ]
    result = match(order, {"A": 1, "B": 1, "C": 1}, lines)
    assert result.status == DISPUTED
    assert kinds(result) == [
        ("A", "currency"),
        ("B", "duplicate_line"),
        ("B", "quantity"),
        ("C", "price"),
        ("C", "quantity"),
        ("Z", "unknown_sku"),
    ]


def test_rule6_invoice_level_differences_sort_first() -> None:
    # no rule produces an invoice-level difference yet; the ordering contract still holds for sku=None
    diffs = [
        Difference(sku="A", kind="price", expected=eur(1), invoiced=eur(2), message="m"),
        Difference(sku=None, kind="currency", expected="EUR", invoiced="USD", message="m"),
    ]
    assert [d.sku for d in sorted(diffs, key=_sort_key)] == [None, "A"]


def test_rule7_totals_in_po_currency() -> None:
    lines = [inv("SKU-1", 3, 1001), InvoiceLine(sku="SKU-2", quantity=2, unit_price=jpy(300))]
    result = match(PO, {"SKU-1": 3, "SKU-2": 2}, lines)
    assert result.invoice_total == eur(3003)  # JPY line left out and reported
    assert result.expected_total == eur(3000 + 500)
    assert kinds(result) == [("SKU-2", "currency")]


# --- serialisation -------------------------------------------------------------------------------------------


def test_to_dict_is_json_serialisable_and_money_is_amount_and_currency() -> None:
    result = match(PO, {"SKU-1": 10, "SKU-2": 5}, [inv("SKU-1", 10, 1100)])
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == "DISPUTED"
    assert data["invoice_total"] == {"amount": 11000, "currency": "EUR"}
    assert data["expected_total"] == {"amount": 11250, "currency": "EUR"}
    assert [(d["sku"], d["kind"]) for d in data["differences"]] == [("SKU-1", "price"), ("SKU-2", "not_invoiced")]
    price, not_invoiced = data["differences"]
    assert price["expected"] == {"amount": 1000, "currency": "EUR"}
    assert price["invoiced"] == {"amount": 1100, "currency": "EUR"}
    assert (not_invoiced["expected"], not_invoiced["invoiced"]) == (5, 0)
    assert isinstance(not_invoiced["message"], str)


# --- structurally wrong input --------------------------------------------------------------------------------


def test_empty_purchase_order_is_rejected() -> None:
    with pytest.raises(ValueError, match="no lines"):
        match([], {}, [])


@pytest.mark.parametrize(
    "build",
    [
        lambda: po("SKU-1", -1, 100),
        lambda: po("SKU-1", 0, 100),
        lambda: po("", 1, 100),
        lambda: po("SKU-1", 1, -100),
        lambda: inv("SKU-1", -2, 100),
        lambda: inv("SKU-1", 0, 100),
        lambda: inv("SKU-1", 1, -1),
        lambda: Tolerance(quantity_units=-1),
        lambda: Tolerance(price_bps=-1),
        lambda: Tolerance(price_minor_units=-1),
    ],
)
def test_negative_or_empty_values_are_rejected(build) -> None:
    with pytest.raises(ValueError):
        build()


def test_negative_received_net_is_rejected() -> None:
    with pytest.raises(ValueError, match="received_net"):
        match(PO, {"SKU-1": -1}, [])


def test_sku_twice_on_the_purchase_order_is_rejected() -> None:
    with pytest.raises(ValueError, match="twice"):
        match([po("SKU-1", 1, 100), po("SKU-1", 2, 100)], {}, [])


def test_unknown_difference_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="kind"):
        Difference(sku="A", kind="weird", expected=1, invoiced=2, message="m")


# --- properties ----------------------------------------------------------------------------------------------


@st.composite
def orders(draw: st.DrawFn) -> tuple[list[PoLine], dict[str, int], Tolerance]:
    currency = draw(st.sampled_from(["EUR", "JPY", "USD"]))
    skus = draw(st.lists(st.from_regex(r"[A-Z]{1,3}-[0-9]{1,3}", fullmatch=True), min_size=1, max_size=6,
                         unique=True))
    lines = [
        PoLine(sku=sku, ordered=draw(st.integers(1, 50)),
               unit_cost=Money(amount=draw(st.integers(0, 1_000_000)), currency=currency))
        for sku in skus
    ]
    received = {line.sku: draw(st.integers(0, line.ordered)) for line in lines}
    tolerance = Tolerance(quantity_units=draw(st.integers(0, 3)), price_bps=draw(st.integers(0, 1000)),
                          price_minor_units=draw(st.integers(0, 5)))
    return lines, received, tolerance


def invoice_for(lines: list[PoLine], received: dict[str, int]) -> list[InvoiceLine]:
    return [InvoiceLine(sku=p.sku, quantity=received[p.sku], unit_price=p.unit_cost)
            for p in lines if received[p.sku] > 0]


@given(orders())
def test_invoice_built_from_receipts_always_matches(order: tuple[list[PoLine], dict[str, int], Tolerance]) -> None:
    lines, received, tolerance = order
    result = match(lines, received, invoice_for(lines, received), tolerance)
    assert result.status == MATCHED
    assert result.differences == ()
    assert result.invoice_total == result.expected_total


@given(orders(), st.data())
def test_price_perturbed_beyond_tolerance_always_disputes_that_sku(
    order: tuple[list[PoLine], dict[str, int], Tolerance], data: st.DataObject
) -> None:
    lines, received, tolerance = order
    invoice = invoice_for(lines, received)
    assume(invoice)
    index = data.draw(st.integers(0, len(invoice) - 1))
    target = invoice[index]
    cost = target.unit_price.amount
    allowed = max(tolerance.price_minor_units, round_half_up(cost * tolerance.price_bps, 10_000))
    excess = allowed + data.draw(st.integers(1, 10_000))
    downward = cost - excess >= 0 and data.draw(st.booleans())
    new_price = cost - excess if downward else cost + excess
    invoice[index] = InvoiceLine(sku=target.sku, quantity=target.quantity,
                                 unit_price=Money(amount=new_price, currency=target.unit_price.currency))
    result = match(lines, received, invoice, tolerance)
    assert result.status == DISPUTED
    assert kinds(result) == [(target.sku, "price")]


# --- what earlier matched invoices already cover (issue 12, row 3) --------------------------------------------


def test_goods_already_invoiced_are_not_matched_again() -> None:
    lines = [inv("SKU-1", 10, 1000), inv("SKU-2", 5, 250)]
    first = match(PO, {"SKU-1": 10, "SKU-2": 5}, lines)
    again = match(PO, {"SKU-1": 10, "SKU-2": 5}, lines, already_invoiced={"SKU-1": 10, "SKU-2": 5})
    assert first.status == MATCHED
    assert again.status == DISPUTED
    assert [(d.sku, d.kind, d.expected, d.invoiced) for d in again.differences] == [
        ("SKU-1", "quantity", 0, 10), ("SKU-2", "quantity", 0, 5)]
    assert again.expected_total == eur(0)


def test_the_rest_of_a_partial_delivery_matches_after_the_first_invoice() -> None:
    result = match(PO, {"SKU-1": 10, "SKU-2": 5}, [inv("SKU-1", 2, 1000)],
                   already_invoiced={"SKU-1": 8, "SKU-2": 5})
    assert result.status == MATCHED and result.expected_total == eur(2000)
    missing = match(PO, {"SKU-1": 10, "SKU-2": 5}, [inv("SKU-1", 2, 1000)], already_invoiced={"SKU-1": 8})
    assert kinds(missing) == [("SKU-2", "not_invoiced")]


def test_already_invoiced_is_validated() -> None:
    with pytest.raises(ValueError, match="already_invoiced"):
        match(PO, {"SKU-1": 10}, [inv("SKU-1", 10, 1000)], already_invoiced={"SKU-1": -1})
