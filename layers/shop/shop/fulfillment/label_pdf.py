"""A shipping label as a one-page PDF (pure, stdlib only): 4 x 6 inches, the size thermal label printers and
browsers print, with ship-from, ship-to, weight, zone and the tracking number as text and as a Code 39 barcode.

Written by hand rather than with a PDF library: the document is a few hundred bytes of text drawing, the layer
stays small, and the bytes depend on the label's data only (no dates, no ids), so buying the same label again
renders the very same document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

WIDTH, HEIGHT = 288, 432  # points: 4 x 6 inches
MARGIN = 16

# Code 39: every character is 5 bars and 4 spaces, 3 of the 9 wide. Characters come in four groups of ten that
# share the bars' pattern (by position in the group) and differ in which space is wide.
_BARS = ((0, 8), (2, 8), (0, 2), (4, 8), (0, 4), (2, 4), (6, 8), (0, 6), (2, 6), (4, 6))
_GROUPS = (("1234567890", 3), ("ABCDEFGHIJ", 5), ("KLMNOPQRST", 7), ("UVWXYZ-. *", 1))
CODE39: dict[str, str] = {
    char: "".join("1" if i in (*_BARS[k], space) else "0" for i in range(9))
    for chars, space in _GROUPS for k, char in enumerate(chars)
}
WIDE_RATIO = 2.5


@dataclass(frozen=True)
class LabelDocument:
    """What the printed label shows. ``ship_from``/``ship_to``: the address lines, name first."""

    carrier: str
    tracking_number: str
    ship_from: tuple[str, ...]
    ship_to: tuple[str, ...]
    weight_grams: int
    zone: str
    reference: str  # the shipment id: staff match the label to the parcel


def code39_modules(text: str) -> list[tuple[bool, bool]]:
    """The barcode of ``*text*`` as (is_bar, is_wide) elements, a narrow space between characters."""
    out: list[tuple[bool, bool]] = []
    for n, char in enumerate(f"*{text.upper()}*"):
        pattern = CODE39.get(char)
        if pattern is None:
            raise ValueError(f"{char!r} cannot be encoded in Code 39")
        if n:
            out.append((False, False))
        out.extend((i % 2 == 0, bit == "1") for i, bit in enumerate(pattern))
    return out


def _text(value: str) -> str:
    """A PDF literal string in WinAnsi (Latin-1 for what the label shows); other characters print as '?'."""
    latin = value.encode("latin-1", "replace").decode("latin-1")
    return "(" + latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _line(x: float, y: float, size: float, value: str, bold: bool = False) -> str:
    return f"BT /{'F2' if bold else 'F1'} {size} Tf {x:.2f} {y:.2f} Td {_text(value)} Tj ET"


def _barcode(text: str, x: float, y: float, width: float, height: float) -> list[str]:
    modules = code39_modules(text)
    units = sum(WIDE_RATIO if wide else 1 for _, wide in modules)
    narrow = min(1.5, width / units)
    ops, at = [], x + (width - units * narrow) / 2  # centred
    for is_bar, wide in modules:
        w = narrow * (WIDE_RATIO if wide else 1)
        if is_bar:
            ops.append(f"{at:.3f} {y:.2f} {w:.3f} {height:.2f} re")
        at += w
    return [*ops, "f"]


def _block(x: float, y: float, title: str, lines: Iterable[str], size: float, bold: bool) -> tuple[list[str], float]:
    ops = [_line(x, y, 7, title, bold=True)]
    y -= size + 4
    for text in lines:
        ops.append(_line(x, y, size, text[:48], bold=bold))
        y -= size + 2
    return ops, y


def content(doc: LabelDocument) -> bytes:
    """The page's drawing operators."""
    top, zone = HEIGHT - MARGIN, doc.zone.upper()[:12]
    ops = [_line(MARGIN, top - 18, 18, doc.carrier, bold=True),
           _line(WIDTH - MARGIN - len(zone) * 9.5, top - 18, 14, zone, bold=True),  # right-aligned, roughly
           "1 w", f"{MARGIN} {top - 28} m {WIDTH - MARGIN} {top - 28} l S"]
    block, y = _block(MARGIN, top - 44, "FROM", doc.ship_from, 8, False)
    ops += block
    ops.append(f"{MARGIN} {y - 2} m {WIDTH - MARGIN} {y - 2} l S")
    block, y = _block(MARGIN, y - 18, "SHIP TO", doc.ship_to, 13, True)
    ops += block
    ops.append(f"{MARGIN} {y - 4} m {WIDTH - MARGIN} {y - 4} l S")
    kilograms = f"{doc.weight_grams / 1000:.2f} kg"
    ops += [_line(MARGIN, y - 22, 10, f"WEIGHT {kilograms}", bold=True),
            _line(MARGIN + 130, y - 22, 10, f"ZONE {doc.zone}", bold=True),
            _line(MARGIN, y - 36, 7, f"REF {doc.reference}")]
    ops += _barcode(doc.tracking_number, MARGIN, MARGIN + 40, WIDTH - 2 * MARGIN, 70)
    ops.append(_line(MARGIN + 40, MARGIN + 22, 12, doc.tracking_number, bold=True))
    ops.append(_line(MARGIN, MARGIN + 6, 7, "TRACKING NUMBER"))
    return "\n".join(ops).encode("latin-1")


def render(doc: LabelDocument) -> bytes:
    """The PDF file: catalog, page tree, one page, two standard fonts (Helvetica, not embedded), the content
    stream, and the cross-reference table with each object's byte offset."""
    stream = content(doc)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] "
         "/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>").encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Title " + _text(f"{doc.carrier} label {doc.tracking_number}").encode("latin-1") + b" >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, len(objects), xref)
    return bytes(out)
