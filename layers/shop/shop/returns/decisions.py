"""What each inspected unit of a return gives back: the inspection outcome decides the refund.

A sellable unit gives back its full price share. A damaged unit gives back what staff decided when they completed
the inspection (shop.fulfillment.models.DamagedRefund): ``full``, ``none``, or ``partial`` (an amount per unit or
for the line's damaged units), never above the paid share of those units. A damaged line without a decision is
refunded in full: that was the rule before decisions existed, so inspections completed before it (and clients
that do not send one) keep their meaning; the stored decision says so.

Shares come from the return line's own refund (its net price share after discounts plus tax, fixed when the
return was requested), split over its units cumulatively (the first n units give ``round_half_up(refund * n /
quantity)``), sellable units first: "full" for every unit adds up to exactly the line's refund, never a cent more.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from shop.errors import InvalidInput
from shop.fulfillment.models import DamagedRefund
from shop.money import Money, round_half_up
from shop.returns.models import CustomerReturn, ReturnLine

DEFAULT_REASON = "no decision given: damaged units are refunded in full"


def share(line: ReturnLine, units: int) -> int:
    """The paid share (minor units) of the first ``units`` units of a return line."""
    return round_half_up(line.refund.amount * units, line.quantity)


def _decision(raw: Any, field: str) -> DamagedRefund | None:
    if raw is None:
        return None
    if isinstance(raw, DamagedRefund):
        return raw
    try:
        return DamagedRefund.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(field, exc.errors()[0].get("msg", "not a refund decision")) from exc


def decide(ret: CustomerReturn, inspected: list[dict[str, Any]], field: str = "inspected") -> list[dict[str, Any]]:
    """The inspection entries as stored on the return: each with its ``damaged_refund`` decision (the default one
    for damaged units without) and ``refund``, what the entry gives back. InvalidInput naming the entry's field
    for an unknown SKU, more units than returned, an amount in another currency or above the paid share."""
    lines = {ln.sku: ln for ln in ret.lines}
    sellable: dict[str, int] = {}
    for i, entry in enumerate(inspected):
        sku = str(entry.get("sku"))
        if sku not in lines:
            raise InvalidInput(f"{field}.{i}.sku", f"{sku} is not part of return {ret.return_id}")
        sellable[sku] = sellable.get(sku, 0) + int(entry.get("sellable", 0))
    counted_sellable: dict[str, int] = {}
    counted_damaged: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(inspected):
        sku = str(entry["sku"])
        line = lines[sku]
        good, bad = int(entry.get("sellable", 0)), int(entry.get("damaged", 0))
        before_good, before_bad = counted_sellable.get(sku, 0), counted_damaged.get(sku, 0)
        if good < 0 or bad < 0 or sellable[sku] + before_bad + bad > line.quantity:
            raise InvalidInput(f"{field}.{i}", f"more units of {sku} inspected than the {line.quantity} returned",
                               details={"sku": sku, "returned": line.quantity})
        counted_sellable[sku], counted_damaged[sku] = before_good + good, before_bad + bad
        good_amount = share(line, before_good + good) - share(line, before_good)
        start = sellable[sku] + before_bad  # damaged units come after every sellable one
        full = share(line, start + bad) - share(line, start)
        decision = _decision(entry.get("damaged_refund"), f"{field}.{i}.damaged_refund")
        if decision is not None and bad == 0:
            raise InvalidInput(f"{field}.{i}.damaged_refund", "a refund decision is for damaged units only")
        if decision is None and bad > 0:
            decision = DamagedRefund(decision="full", reason=DEFAULT_REASON)
        bad_amount = _decided(decision, full, bad, line, f"{field}.{i}.damaged_refund") if decision else 0
        stored: dict[str, Any] = {"sku": sku, "sellable": good, "damaged": bad}
        if decision is not None:
            stored["damaged_refund"] = decision.model_dump(mode="json", exclude_none=True)
        stored["refund"] = {"amount": good_amount + bad_amount, "currency": line.refund.currency}
        out.append(stored)
    return out


def _decided(decision: DamagedRefund, full: int, units: int, line: ReturnLine, field: str) -> int:
    """What ``units`` damaged units whose paid share is ``full`` give back under ``decision``."""
    if decision.decision == "full":
        return full
    if decision.decision == "none":
        return 0
    per_unit = decision.amount_per_unit is not None
    given: Money = decision.amount_per_unit if decision.amount_per_unit is not None else decision.amount  # type: ignore[assignment]
    where = f"{field}.{'amount_per_unit' if per_unit else 'amount'}"
    if given.currency != line.refund.currency:
        raise InvalidInput(f"{where}.currency", f"the return is refunded in {line.refund.currency}",
                           details={"currency": line.refund.currency})
    amount = given.amount * units if per_unit else given.amount
    if amount > full:
        most = full // units if per_unit else full
        raise InvalidInput(f"{where}.amount",
                           f"at most {most} {'per unit' if per_unit else 'for these units'}: the paid share of "
                           f"{units} damaged unit(s) of {line.sku} is {full}",
                           details={"sku": line.sku, "damaged": units, "paid_share": full, "most": most})
    return amount


def refund_due(ret: CustomerReturn, decided: list[dict[str, Any]]) -> Money:
    """The sum of what the decided inspection entries give back."""
    return Money(amount=sum(int(e["refund"]["amount"]) for e in decided), currency=ret.refund_total.currency)
