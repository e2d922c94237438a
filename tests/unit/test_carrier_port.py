"""The carrier port (shop.fulfillment.carrier) and the label document (shop.fulfillment.label_pdf), without AWS:
the contract every adapter keeps, checked against the local carrier (and a second adapter registered by name),
and the PDF's structure (a valid cross-reference table, the tracking number as text and as a Code 39 barcode)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

import pytest
from shop.config import Settings
from shop.errors import ConfigurationError
from shop.fulfillment import carrier, label_pdf
from shop.money import Money

pytestmark = pytest.mark.unit

SETTINGS = Settings()
FROM = carrier.Party(name="Berlin Hub", lines=("warehouse berlin",), country="DE")
TO = carrier.Party(name="Jane Müller", lines=("Hauptstraße 1 (Hinterhaus)", "10115 Berlin"), country="DE")


def request(shipment_id: str = "shp_abc_1", **kw: object) -> carrier.LabelRequest:
    args: dict[str, object] = {"shipment_id": shipment_id, "order_id": "ord_abc", "ship_from": FROM, "ship_to": TO,
                               "weight_grams": 1234, "currency": "EUR", "origin_zone": "domestic"}
    args.update(kw)
    return carrier.LabelRequest(**args)  # type: ignore[arg-type]


class StaticCarrier:
    """A second adapter: what the port promises holds for any carrier, not only the local simulation."""

    name = "Static"

    def __init__(self, settings: Settings) -> None:
        self.currency = settings.currency

    def buy_label(self, req: carrier.LabelRequest) -> carrier.PurchasedLabel:
        number = "ST" + req.shipment_id.upper().replace("_", "")[:20].ljust(8, "0")
        label = carrier.Label(carrier=self.name, tracking_number=number, tracking_url=f"https://st.example/{number}",
                              zone="any", cost=Money(amount=500, currency=req.currency),
                              weight_grams=req.weight_grams)
        return carrier.PurchasedLabel(label=label, document=carrier.label_document(label, req))

    def tracking(self, tracking_number: str) -> carrier.Tracking:
        return carrier.Tracking(url=f"https://st.example/{tracking_number}", status="label_created")

    def book_pickup(self, req: carrier.PickupRequest) -> carrier.PickupBooked:
        return carrier.PickupBooked(confirmation=f"P-{req.shipment_id}", window_start=req.ready_at,
                                    window_end=req.ready_at)


ADAPTERS: dict[str, Callable[[Settings], carrier.Carrier]] = {"local": carrier.LocalCarrier, "static": StaticCarrier}


@pytest.fixture(params=sorted(ADAPTERS))
def port(request: pytest.FixtureRequest) -> carrier.Carrier:
    return ADAPTERS[request.param](SETTINGS)


# ---------------------------------------------------------------- the port's contract
def test_a_repeated_purchase_for_the_same_shipment_is_the_same_label_and_document(port: carrier.Carrier) -> None:
    first, again = port.buy_label(request()), port.buy_label(request())
    assert first == again  # same tracking number, cost, zone and the very same document bytes
    other = port.buy_label(request("shp_abc_2"))
    assert other.label.tracking_number != first.label.tracking_number


def test_a_label_is_a_pdf_naming_its_tracking_number(port: carrier.Carrier) -> None:
    bought = port.buy_label(request())
    assert bought.content_type == "application/pdf" and bought.extension == "pdf"
    assert bought.document.startswith(b"%PDF-")
    assert bought.label.tracking_number.encode() in bought.document
    assert re.fullmatch(r"[A-Z0-9]{8,40}", bought.label.tracking_number)  # what the carrier webhook accepts
    assert bought.label.weight_grams == 1234 and bought.label.cost.currency == "EUR"


def test_tracking_and_pickup_answer_for_a_bought_label(port: carrier.Carrier) -> None:
    number = port.buy_label(request()).label.tracking_number
    tracked = port.tracking(number)
    assert tracked.url.startswith("https://") and number in tracked.url
    pickup = carrier.PickupRequest(shipment_id="shp_abc_1", warehouse_id="berlin", ship_from=FROM,
                                   tracking_number=number, ready_at="2026-11-30T16:00:00Z")
    booked = port.book_pickup(pickup)
    assert booked.confirmation and booked.window_start <= booked.window_end
    assert port.book_pickup(pickup) == booked  # a retried booking is the same booking


def test_the_local_carrier_is_todays_simulation() -> None:
    """Moved behind the port, unchanged: the same number, zone and cost as the label function it wraps."""
    local = carrier.LocalCarrier(SETTINGS)
    bought = local.buy_label(request(ship_to=carrier.Party(name="J", lines=(), country="US")))
    assert bought.label == carrier.create_label(SETTINGS, "shp_abc_1", "US", 1234, "EUR", "DE", "domestic")
    assert bought.label.tracking_number == carrier.tracking_number_for("shp_abc_1")
    assert local.name == SETTINGS.carrier_name and local.tracking("SPX").status is None  # events come by webhook
    booked = local.book_pickup(carrier.PickupRequest(shipment_id="shp_abc_1", warehouse_id="berlin", ship_from=FROM,
                                                     tracking_number="SPX", ready_at="2026-11-30T16:00:00Z"))
    assert (booked.window_start, booked.window_end) == ("2026-12-01T09:00:00Z", "2026-12-01T17:00:00Z")


def test_the_setting_picks_the_adapter_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(carrier.carrier_for(SETTINGS), carrier.LocalCarrier)  # CARRIER defaults to local
    monkeypatch.setitem(carrier.CARRIERS, "static", StaticCarrier)
    assert isinstance(carrier.carrier_for(Settings(CARRIER="static")), StaticCarrier)
    with pytest.raises(ConfigurationError, match=r"easypost.*known: local, static"):
        carrier.carrier_for(Settings(CARRIER="easypost"))


# ---------------------------------------------------------------- the document
DOC = label_pdf.LabelDocument(carrier="ShopPost", tracking_number="SPABCDEFGH23456789", ship_from=FROM.printed(),
                              ship_to=TO.printed(), weight_grams=1234, zone="domestic", reference="shp_abc_1")


def test_the_pdf_cross_reference_table_points_at_every_object() -> None:
    pdf = label_pdf.render(DOC)
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.rstrip().endswith(b"%%EOF")
    startxref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert pdf[startxref:].startswith(b"xref\n0 8\n")
    entries = pdf[startxref:].split(b"\n")[3:10]
    for number, entry in enumerate(entries, start=1):
        assert len(entry) + 1 == 20 and entry.endswith(b" 00000 n ")  # fixed 20-byte entries
        offset = int(entry[:10])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)
    length = int(re.search(rb"/Length (\d+) >>\nstream\n", pdf).group(1))  # type: ignore[union-attr]
    stream = pdf.split(b"stream\n", 1)[1]
    assert stream[length:].startswith(b"\nendstream")


def test_the_pdf_shows_both_addresses_weight_zone_and_tracking_number() -> None:
    page = label_pdf.content(DOC).decode("latin-1")
    for text in ("(SHIP TO)", "(FROM)", "(Berlin Hub)", "(Jane Müller)", "(Hauptstraße 1 \\(Hinterhaus\\))",
                 "(WEIGHT 1.23 kg)", "(ZONE domestic)", "(SPABCDEFGH23456789)", "(REF shp_abc_1)"):
        assert text in page, text
    assert label_pdf.render(DOC) == label_pdf.render(DOC)  # no dates or ids: the same label, the same bytes
    assert zlib.crc32(label_pdf.render(DOC)) != zlib.crc32(label_pdf.render(
        label_pdf.LabelDocument(**{**DOC.__dict__, "tracking_number": "SPOTHER1234"})))


def test_characters_outside_latin1_print_as_question_marks() -> None:
    page = label_pdf.content(label_pdf.LabelDocument(**{**DOC.__dict__, "ship_to": ("王小明", "DE")}))
    assert b"(???)" in page


def test_the_barcode_is_code39_of_the_tracking_number() -> None:
    assert label_pdf.CODE39["A"] == "100001001" and label_pdf.CODE39["*"] == "010010100"
    assert all(p.count("1") == 3 for p in label_pdf.CODE39.values()) and len(label_pdf.CODE39) == 40
    modules = label_pdf.code39_modules("SP1")
    assert len(modules) == 5 * 9 + 4  # start, S, P, 1, stop and a gap between each
    assert sum(1 for bar, _ in modules if bar) == 25
    assert label_pdf.content(DOC).count(b" re\n") == 20 * 5  # start, 18 characters and stop: 5 bars each
    with pytest.raises(ValueError, match="Code 39"):
        label_pdf.code39_modules("a_b")
