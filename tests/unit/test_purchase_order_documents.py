"""The purchase order as the supplier gets it (shop.procurement.documents): money in major units of the PO's
currency, values escaped for HTML and CSV (no formula injection), and one MIME message with an HTML body and
the CSV and HTML attachments, readable back with the stdlib ``email`` parser."""

from __future__ import annotations

import csv
import email
import email.policy
import io
from datetime import date

import pytest
from pydantic import ValidationError
from shop.money import Money
from shop.procurement import documents
from shop.procurement.models import ConfirmationIn, PoLine, PoStatus, PurchaseOrder, Supplier, SupplierIn

pytestmark = pytest.mark.unit


def supplier(name: str = "Beanery GmbH", email_: str = "orders@beanery.example") -> Supplier:
    return Supplier(supplier_id="beanery", name=name, email=email_, currency="EUR", active=True,
                    updated_at="2026-11-27T10:00:00Z")


def po(currency: str = "EUR", lines: list[PoLine] | None = None) -> PurchaseOrder:
    lines = lines or [PoLine(sku="C40-BLACK", quantity=3, unit_cost=Money(amount=1999, currency=currency)),
                      PoLine(sku="MUG-BLUE-350", quantity=10, unit_cost=Money(amount=5, currency=currency))]
    return PurchaseOrder(po_id="po_0123456789abcdef0123", supplier_id="beanery", warehouse_id="berlin",
                         status=PoStatus.SUBMITTED, lines=lines, currency=currency, created_at="2026-11-27T10:00:00Z",
                         updated_at="2026-11-27T10:00:00Z", expected_at="2026-12-01")


def test_the_csv_has_major_units_a_row_per_line_and_a_total():
    rows = list(csv.DictReader(io.StringIO(documents.render_csv(po(), supplier()))))
    assert [(r["sku"], r["quantity"], r["unit_cost"], r["line_total"], r["currency"]) for r in rows] == [
        ("C40-BLACK", "3", "19.99", "59.97", "EUR"), ("MUG-BLUE-350", "10", "0.05", "0.50", "EUR"),
        ("TOTAL", "13", "", "60.47", "EUR")]
    assert {r["po_id"] for r in rows} == {"po_0123456789abcdef0123"}


def test_a_currency_without_minor_units_is_written_whole():
    yen = po("JPY", [PoLine(sku="C40-BLACK", quantity=2, unit_cost=Money(amount=1500, currency="JPY"))])
    rows = list(csv.DictReader(io.StringIO(documents.render_csv(yen, supplier()))))
    assert (rows[0]["unit_cost"], rows[0]["line_total"], rows[-1]["line_total"]) == ("1500", "3000", "3000")


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text():
    evil = supplier(name='=HYPERLINK("http://evil.example","x"), "quoted"')
    text = documents.render_csv(po(), evil)
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["supplier"] == "'" + evil.name  # read back whole (the comma and quotes survived) and inert
    for value in ("+1", "-1", "@SUM(A1)", "=1"):
        assert documents.safe_cell(value) == "'" + value
    assert documents.safe_cell("C40-BLACK") == "C40-BLACK"


def test_the_html_escapes_what_it_shows_and_shows_major_units():
    page = documents.render_html(po(), supplier(name="<script>alert(1)</script> & Sons"),
                                 sender="purchasing@shop.example", deliver_to="Berlin <main> (berlin, DE)")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons" in page
    assert "Berlin &lt;main&gt;" in page
    assert "19.99" in page and "59.97" in page and "60.47" in page and "1999" not in page


def test_the_email_has_an_html_body_and_the_csv_and_html_attachments():
    mail = documents.po_email(po(), supplier(), sender="purchasing@shop.example", deliver_to="Berlin (berlin, DE)")
    parsed = email.message_from_bytes(mail.raw(), policy=email.policy.default)
    assert parsed["Subject"] == "Purchase order po_0123456789abcdef0123 (EUR 60.47)"
    assert parsed["To"] == "Beanery GmbH <orders@beanery.example>"
    assert "purchasing@shop.example" in parsed["From"] and parsed["Reply-To"] == "purchasing@shop.example"
    body = parsed.get_body(preferencelist=("html",))
    assert body is not None and "60.47" in body.get_content()
    assert "EUR 60.47" in parsed.get_body(preferencelist=("plain",)).get_content()
    attached = {part.get_filename(): part for part in parsed.iter_attachments()}
    assert set(attached) == {"po_0123456789abcdef0123.csv", "po_0123456789abcdef0123.html"}
    assert attached["po_0123456789abcdef0123.csv"].get_content_type() == "text/csv"
    csv_text = attached["po_0123456789abcdef0123.csv"].get_payload(decode=True).decode()
    assert csv_text == documents.render_csv(po(), supplier())
    assert [(a.filename, a.size) for a in mail.attachments] == [
        ("po_0123456789abcdef0123.csv", len(csv_text.encode())),
        ("po_0123456789abcdef0123.html", len(attached["po_0123456789abcdef0123.html"].get_payload(decode=True)))]


def test_a_confirmation_date_in_the_past_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as err:
        ConfirmationIn.model_validate({"confirmed_delivery_date": "2020-01-01"})
    assert err.value.errors()[0]["loc"] == ("confirmed_delivery_date",)
    assert ConfirmationIn.model_validate({"confirmed_delivery_date": "2999-01-01"}).confirmed_delivery_date == \
        date(2999, 1, 1)


def test_the_auto_submit_limit_is_money_and_not_negative():
    base = {"name": "B", "email": "b@b.example", "currency": "EUR"}
    assert SupplierIn.model_validate(base).auto_submit_limit is None
    with pytest.raises(ValidationError) as err:
        SupplierIn.model_validate({**base, "auto_submit_limit": {"amount": -1, "currency": "EUR"}})
    assert err.value.errors()[0]["loc"] == ("auto_submit_limit",)
    with pytest.raises(ValidationError):
        SupplierIn.model_validate({**base, "auto_submit_limit": {"amount": 10.5, "currency": "EUR"}})
