"""Three-way match of a supplier invoice (pure): purchase order x goods received x invoice.

Inputs: the purchase order lines (units ordered and the agreed unit cost per SKU), ``received_net`` (units
received minus units returned to the supplier, per SKU), ``already_invoiced`` (units of earlier MATCHED
invoices of the same PO, per SKU; empty for the first invoice) and the invoice lines. All amounts are integer
minor units (:class:`shop.money.Money`); no floats anywhere.

Rules:
1. Currency. The PO currency is the currency of the first PO line; every PO line must share it (otherwise
   ``ValueError``: a programming error). An invoice line in another currency gives a ``"currency"``
   difference; that line is not price-compared and is left out of ``invoice_total`` (its units still count
   as invoiced for rule 4).
2. An invoiced SKU that is not on the PO gives an ``"unknown_sku"`` difference (expected 0 units, invoiced
   the summed quantity). It is neither price- nor quantity-compared.
3. The same SKU on more than one invoice line gives a ``"duplicate_line"`` difference (expected 1 line,
   invoiced the number of lines). Quantities are still compared using the summed quantity, prices line by
   line.
4. Quantity, for every PO SKU: invoiced = summed invoice quantity (0 if absent), received = what is left to
   invoice: ``received_net - already_invoiced`` (each 0 if absent; never below 0). If received > 0 and the
   SKU is not on the invoice at all -> ``"not_invoiced"``; otherwise ``|invoiced - received| >
   tolerance.quantity_units`` -> ``"quantity"``. So goods already invoiced are never matched again: a
   second invoice for the same units is a ``"quantity"`` difference (expected 0). A SKU neither received
   nor invoiced is fine (not every line must arrive before invoicing). ``received_net`` and
   ``already_invoiced`` entries for SKUs that are not on the PO are ignored.
5. Price, for every invoice line of a PO SKU in the PO currency:
   ``|unit_price - unit_cost| <= max(tolerance.price_minor_units,
   round_half_up(unit_cost * tolerance.price_bps / 10000))``, integer arithmetic only; else ``"price"``.
6. No differences -> ``"MATCHED"``, else ``"DISPUTED"``. Differences are ordered by SKU (``None`` first),
   then by kind (alphabetically); differences with the same SKU and kind keep invoice-line order.
7. ``invoice_total`` = sum of quantity x unit_price over the invoice lines in the PO currency (unknown SKUs
   included: it is what the invoice asks for); ``expected_total`` = sum over PO SKUs of what is left to
   invoice (rule 4) x unit_cost (what we owe for what arrived and was not invoiced yet). Both are in the PO
   currency.

Structurally wrong input raises ``ValueError``: an empty PO, a SKU twice on the PO, mixed PO currencies,
quantities, ``received_net`` or ``already_invoiced`` below zero (PO and invoice quantities must be > 0),
negative amounts, an empty SKU, a negative tolerance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from shop.money import Money, round_half_up

MATCHED: Final = "MATCHED"
DISPUTED: Final = "DISPUTED"

UNKNOWN_SKU: Final = "unknown_sku"
QUANTITY: Final = "quantity"
PRICE: Final = "price"
CURRENCY: Final = "currency"
DUPLICATE_LINE: Final = "duplicate_line"
NOT_INVOICED: Final = "not_invoiced"
KINDS: Final = frozenset({UNKNOWN_SKU, QUANTITY, PRICE, CURRENCY, DUPLICATE_LINE, NOT_INVOICED})

BPS_DENOMINATOR: Final = 10_000


def _require_sku(sku: object) -> None:
    if not isinstance(sku, str) or not sku:
        raise ValueError(f"sku must be a non-empty string, got {sku!r}")


def _require_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _require_amount(name: str, value: object) -> None:
    if not isinstance(value, Money):
        raise ValueError(f"{name} must be Money, got {value!r}")
    if value.amount < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


@dataclass(frozen=True)
class PoLine:
    """One line of the purchase order."""

    sku: str
    ordered: int  # units ordered (> 0)
    unit_cost: Money  # agreed price per unit

    def __post_init__(self) -> None:
        _require_sku(self.sku)
        _require_int(f"ordered ({self.sku})", self.ordered, 1)
        _require_amount(f"unit_cost ({self.sku})", self.unit_cost)


@dataclass(frozen=True)
class InvoiceLine:
    """One line of the supplier invoice."""

    sku: str
    quantity: int  # units invoiced (> 0)
    unit_price: Money

    def __post_init__(self) -> None:
        _require_sku(self.sku)
        _require_int(f"quantity ({self.sku})", self.quantity, 1)
        _require_amount(f"unit_price ({self.sku})", self.unit_price)


@dataclass(frozen=True)
class Tolerance:
    quantity_units: int = 0  # |invoiced - received_net| allowed per SKU
    price_bps: int = 100  # |unit_price - unit_cost| allowed, in basis points of unit_cost (100 = 1 %)
    price_minor_units: int = 1  # ... or this many minor units, whichever is larger

    def __post_init__(self) -> None:
        _require_int("quantity_units", self.quantity_units, 0)
        _require_int("price_bps", self.price_bps, 0)
        _require_int("price_minor_units", self.price_minor_units, 0)

    def allowed_price_difference(self, unit_cost: Money) -> int:
        """The largest |unit_price - unit_cost| accepted, in minor units."""
        by_bps = round_half_up(unit_cost.amount * self.price_bps, BPS_DENOMINATOR)
        return max(self.price_minor_units, by_bps)



def _plain(value: object) -> object:
    if isinstance(value, Money):
        return {"amount": value.amount, "currency": value.currency}
    return value


@dataclass(frozen=True)
class Difference:
    sku: str | None  # None for invoice-level differences
    kind: str  # one of KINDS
    expected: object  # int units, Money, or str
    invoiced: object
    message: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown difference kind {self.kind!r}")

    def to_dict(self) -> dict:
        return {
            "sku": self.sku,
            "kind": self.kind,
            "expected": _plain(self.expected),
            "invoiced": _plain(self.invoiced),
            "message": self.message,
        }


@dataclass(frozen=True)
class MatchResult:
    status: str  # MATCHED | DISPUTED
    differences: tuple[Difference, ...]
    invoice_total: Money  # sum of invoiced quantity x unit_price (PO currency lines only)
    expected_total: Money  # sum over PO SKUs of received_net x unit_cost

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "differences": [d.to_dict() for d in self.differences],
            "invoice_total": _plain(self.invoice_total),
            "expected_total": _plain(self.expected_total),
        }


def _units(n: int) -> str:
    return f"{n} unit" if n == 1 else f"{n} units"


def _index_po(po_lines: Sequence[PoLine]) -> tuple[dict[str, PoLine], str]:
    if not po_lines:
        raise ValueError("the purchase order has no lines")
    currency = po_lines[0].unit_cost.currency
    po: dict[str, PoLine] = {}
    for line in po_lines:
        if not isinstance(line, PoLine):
            raise ValueError(f"expected a PoLine, got {line!r}")
        if line.unit_cost.currency != currency:
            raise ValueError(f"purchase order mixes currencies: {currency} and {line.unit_cost.currency} ({line.sku})")
        if line.sku in po:
            raise ValueError(f"SKU {line.sku} appears twice on the purchase order")
        po[line.sku] = line
    return po, currency


def _check_received(received_net: Mapping[str, int], name: str = "received_net") -> None:
    for sku, units in received_net.items():
        _require_sku(sku)
        _require_int(f"{name} ({sku})", units, 0)


def _sort_key(d: Difference) -> tuple[bool, str, str]:
    return (d.sku is not None, d.sku or "", d.kind)


def match(
    po_lines: Sequence[PoLine],
    received_net: Mapping[str, int],
    invoice_lines: Sequence[InvoiceLine],
    tolerance: Tolerance = Tolerance(),
    already_invoiced: Mapping[str, int] | None = None,
) -> MatchResult:
    """Match an invoice against the PO, the net receipts and what earlier matched invoices of the PO already
    cover; see the module docstring for the rules."""
    po, currency = _index_po(po_lines)
    _check_received(received_net)
    done = already_invoiced or {}
    _check_received(done, "already_invoiced")
    open_units = {sku: max(0, received_net.get(sku, 0) - done.get(sku, 0)) for sku in po}
    differences: list[Difference] = []
    invoiced: dict[str, int] = {}
    line_counts: dict[str, int] = {}
    invoice_total = Money.zero(currency)

    for line in invoice_lines:
        if not isinstance(line, InvoiceLine):
            raise ValueError(f"expected an InvoiceLine, got {line!r}")
        invoiced[line.sku] = invoiced.get(line.sku, 0) + line.quantity
        line_counts[line.sku] = line_counts.get(line.sku, 0) + 1
        if line.unit_price.currency != currency:  # rule 1
            differences.append(Difference(
                sku=line.sku, kind=CURRENCY, expected=currency, invoiced=line.unit_price.currency,
                message=f"SKU {line.sku} is invoiced in {line.unit_price.currency} "
                        f"but the purchase order is in {currency}",
            ))
            continue
        invoice_total = invoice_total + line.unit_price.times(line.quantity)  # rule 7
        po_line = po.get(line.sku)
        if po_line is None:
            continue
        allowed = tolerance.allowed_price_difference(po_line.unit_cost)  # rule 5
        if abs(line.unit_price.amount - po_line.unit_cost.amount) > allowed:
            differences.append(Difference(
                sku=line.sku, kind=PRICE, expected=po_line.unit_cost, invoiced=line.unit_price,
                message=f"SKU {line.sku} is invoiced at {line.unit_price} per unit but the agreed cost is "
                        f"{po_line.unit_cost} (at most {allowed} {currency} minor units difference allowed)",
            ))

    for sku, count in line_counts.items():
        if count > 1:  # rule 3
            differences.append(Difference(
                sku=sku, kind=DUPLICATE_LINE, expected=1, invoiced=count,
                message=f"SKU {sku} appears on {count} invoice lines; their quantities were added up",
            ))
        if sku not in po:  # rule 2
            differences.append(Difference(
                sku=sku, kind=UNKNOWN_SKU, expected=0, invoiced=invoiced[sku],
                message=f"invoiced {_units(invoiced[sku])} of SKU {sku}, which is not on the purchase order",
            ))

    for sku in po:  # rule 4
        received = open_units[sku]
        if sku not in invoiced:
            if received > 0:
                differences.append(Difference(
                    sku=sku, kind=NOT_INVOICED, expected=received, invoiced=0,
                    message=f"{_units(received)} of SKU {sku} were received (net of returns) but not invoiced",
                ))
            continue
        if abs(invoiced[sku] - received) > tolerance.quantity_units:
            differences.append(Difference(
                sku=sku, kind=QUANTITY, expected=received, invoiced=invoiced[sku],
                message=f"invoiced {_units(invoiced[sku])} of SKU {sku} but {received} "
                        f"{'was' if received == 1 else 'were'} received (net of returns)",
            ))

    expected_total = Money.zero(currency)  # rule 7
    for sku, po_line in po.items():
        expected_total = expected_total + po_line.unit_cost.times(open_units[sku])

    differences.sort(key=_sort_key)  # rule 6 (stable: same SKU and kind keep invoice order)
    return MatchResult(
        status=DISPUTED if differences else MATCHED,
        differences=tuple(differences),
        invoice_total=invoice_total,
        expected_total=expected_total,
    )
