"""A purchase order as the document the supplier gets: an HTML page, a CSV file, and the e-mail carrying both
(the HTML as the body too). Pure functions, no AWS: shop.procurement.service sends what :func:`po_email` builds.

Money is written in major units of the PO's currency ("6.00", with the currency in its own column or header),
the shop's one convention (:func:`shop.money.format_money`), because a supplier's spreadsheet or ERP reads
"6.00" and would misread 600 minor units. Values are escaped for their format: HTML through the autoescaping
template, CSV through the csv module, and a cell starting with ``= + - @`` (a formula to a spreadsheet: CSV
injection) is prefixed with an apostrophe. The MIME message is built with the stdlib ``email`` package.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from functools import cache
from typing import TYPE_CHECKING, Any

from shop.money import format_money
from shop.procurement.models import PurchaseOrder, Supplier
from shop.rendering import new_environment

if TYPE_CHECKING:
    from jinja2 import Environment

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@cache
def _env() -> Environment:
    return new_environment(__file__)


def major(amount_minor: int, currency: str) -> str:
    """Minor units as the major-unit number only ("6.00" for 600 EUR, "1234" for JPY 1234)."""
    return format_money(amount_minor, currency).split(" ", 1)[1]


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: a leading formula character gets an apostrophe before it.
    Negative numbers are never written by this module (quantities and costs are positive)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _rows(po: PurchaseOrder) -> list[dict[str, Any]]:
    return [{"number": i, "sku": ln.sku, "quantity": ln.quantity,
             "unit_cost": major(ln.unit_cost.amount, po.currency),
             "line_total": major(ln.unit_cost.amount * ln.quantity, po.currency)}
            for i, ln in enumerate(po.lines, start=1)]


def total_minor(po: PurchaseOrder) -> int:
    return sum(ln.unit_cost.amount * ln.quantity for ln in po.lines)


def render_csv(po: PurchaseOrder, supplier: Supplier) -> str:
    """One row per line after a header; the PO, supplier and currency on every row so each row stands alone in
    a supplier's import."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["po_id", "supplier", "warehouse_id", "line", "sku", "quantity", "currency", "unit_cost",
                     "line_total"])
    for row in _rows(po):
        writer.writerow([safe_cell(v) for v in (po.po_id, supplier.name, po.warehouse_id, row["number"], row["sku"],
                                                row["quantity"], po.currency, row["unit_cost"], row["line_total"])])
    writer.writerow([safe_cell(v) for v in (po.po_id, supplier.name, po.warehouse_id, "", "TOTAL",
                                            sum(ln.quantity for ln in po.lines), po.currency, "",
                                            major(total_minor(po), po.currency))])
    return out.getvalue()


def render_html(po: PurchaseOrder, supplier: Supplier, *, sender: str, deliver_to: str) -> str:
    return _env().get_template("purchase_order.html.j2").render(
        po=po, supplier=supplier, sender=sender, deliver_to=deliver_to, rows=_rows(po),
        total=major(total_minor(po), po.currency), ordered_on=(po.created_at or "")[:10])


def render_text(po: PurchaseOrder, supplier: Supplier, *, deliver_to: str) -> str:
    lines = [f"Purchase order {po.po_id} for {supplier.name}", f"Deliver to warehouse: {deliver_to}", ""]
    lines += [f"{r['number']}. {r['sku']}: {r['quantity']} x {po.currency} {r['unit_cost']} = "
              f"{po.currency} {r['line_total']}" for r in _rows(po)]
    lines += ["", f"Total: {format_money(total_minor(po), po.currency)}", "",
              f"Please confirm the delivery date by replying with the purchase order number {po.po_id}.",
              f"The order is attached as {po.po_id}.csv and {po.po_id}.html.", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class PoEmail:
    subject: str
    message: EmailMessage
    attachments: tuple[Attachment, ...]

    def raw(self) -> bytes:
        return self.message.as_bytes()


def po_email(po: PurchaseOrder, supplier: Supplier, *, sender: str, deliver_to: str) -> PoEmail:
    """The e-mail to the supplier: text and HTML alternatives, then ``<po_id>.csv`` and ``<po_id>.html``."""
    subject = f"Purchase order {po.po_id} ({format_money(total_minor(po), po.currency)})"
    html_doc = render_html(po, supplier, sender=sender, deliver_to=deliver_to)
    csv_doc = render_csv(po, supplier)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = formataddr(("Purchasing", sender))
    msg["To"] = formataddr((supplier.name, supplier.email))
    msg["Reply-To"] = sender
    msg["Message-ID"] = make_msgid(idstring=po.po_id, domain=sender.rsplit("@", 1)[-1])
    msg.set_content(render_text(po, supplier, deliver_to=deliver_to))
    msg.add_alternative(html_doc, subtype="html")
    files = ((f"{po.po_id}.csv", "text", "csv", csv_doc), (f"{po.po_id}.html", "text", "html", html_doc))
    attachments = []
    for name, maintype, subtype, text in files:
        data = text.encode("utf-8")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        attachments.append(Attachment(name, f"{maintype}/{subtype}", len(data)))
    return PoEmail(subject, msg, tuple(attachments))
