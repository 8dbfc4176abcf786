"""Real PDFs for tests, drawn with fpdf2: every function returns the bytes of one file.

Each page of `multi_page_pdf` is about one topic and states one recognisable fact
(`FACTS[n]` is on page n), so a test can check both the text and the page it came from.

CJK is not covered: the only fonts on this machine are DejaVu, and no DejaVu face has
glyphs for CJK ideographs or the ideographic full stop, so `non_latin_pdf` holds Cyrillic
and Greek only. The chunker's CJK sentence ends are tested on plain strings instead.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from fpdf import FPDF
from fpdf.enums import EncryptionMethod

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

# page number (1-based) -> (topic, the fact a test looks for)
FACTS: dict[int, tuple[str, str]] = {
    1: ("Lighthouses", "The Skerryvore lighthouse is 48 metres tall and was lit in 1844."),
    2: ("Bees", "A honey bee visits between 50 and 100 flowers on one collection trip."),
    3: ("Volcanoes", "Mount Kalvera erupts every 11 years and its ash is rich in sulphur."),
    4: ("Chess", "The Lindqvist opening sacrifices the queen's knight on move four."),
    5: ("Glaciers", "The Orvik glacier retreats by 30 metres every summer."),
    6: ("Bread", "Sourdough from the village of Tannby rises for exactly 19 hours."),
    7: ("Reactors", "The Zephyr reactor's coolant is molten lead, pumped at 2 metres per second."),
    8: ("Owls", "The snowy owl of Hallberg island hunts only during the polar day."),
    9: ("Trains", "The Marrow Line night train crosses 41 bridges between its two termini."),
    10: ("Violins", "The Castellan violin was varnished with a resin of amber and linseed oil."),
}

FILLER = (
    "This paragraph exists to give the page some body, so that extraction and chunking "
    "have more than one line to work with. It says nothing that matters to any test."
)

TWO_COLUMN_LEFT = (
    "The left column describes the harbour of Pellucid Bay, where the tide rises by "
    "nine metres and the fishing boats rest on the mud twice a day."
)
TWO_COLUMN_RIGHT = (
    "The right column describes the observatory on Mount Arden, whose telescope mirror "
    "is four metres wide and was polished for three years."
)

CYRILLIC = "Москва — столица России. Река Волга впадает в Каспийское море."
GREEK = "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας. Ο Παρθενώνας βρίσκεται στην Ακρόπολη."

USER_PASSWORD = "open-sesame"


def _new_pdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", fname=DEJAVU)
    pdf.set_font("DejaVu", size=11)
    return pdf


def _output(pdf: FPDF) -> bytes:
    return bytes(pdf.output())


def _topic_page(pdf: FPDF, number: int, topic: str, fact: str) -> None:
    pdf.add_page()
    pdf.set_font("DejaVu", size=16)
    pdf.multi_cell(0, 10, f"Page {number}: {topic}")
    pdf.set_font("DejaVu", size=11)
    pdf.ln(4)
    pdf.multi_cell(0, 6, fact)
    pdf.ln(4)
    pdf.multi_cell(0, 6, FILLER)


def multi_page_pdf(pages: int = 10) -> bytes:
    """`pages` pages (at most len(FACTS)); page n states FACTS[n]."""
    if not 1 <= pages <= len(FACTS):
        raise ValueError(f"pages must be 1..{len(FACTS)}")
    pdf = _new_pdf()
    for number in range(1, pages + 1):
        topic, fact = FACTS[number]
        _topic_page(pdf, number, topic, fact)
    return _output(pdf)


def large_pdf(pages: int) -> bytes:
    """`pages` pages of distinct, numbered text (for benchmarks); each page says its number."""
    pdf = _new_pdf()
    for number in range(1, pages + 1):
        topic, fact = FACTS[(number - 1) % len(FACTS) + 1]
        _topic_page(pdf, number, f"{topic} (section {number})", f"Section {number}. {fact}")
        for paragraph in range(3):
            pdf.ln(3)
            pdf.multi_cell(0, 6, f"Section {number}, paragraph {paragraph + 1}. {FILLER}")
    return _output(pdf)


def shared_stream_pdf(pages: int = 100) -> bytes:
    """`pages` pages that all draw one dense content stream: a small file whose text is
    pages times one page's (about 100,000 characters each), as a hostile upload may be."""
    from pypdf import PdfReader, PdfWriter

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.add_font("DejaVu", fname=DEJAVU)
    pdf.set_font("DejaVu", size=2)
    pdf.set_auto_page_break(auto=False)
    pdf.multi_cell(0, 0.7, " ".join([FILLER] * 600))
    page = PdfReader(io.BytesIO(_output(pdf))).pages[0]
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_page(page)  # each page refers to the same content stream
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def two_column_pdf() -> bytes:
    """One page, two side-by-side columns of text at the same heights."""
    pdf = _new_pdf()
    pdf.add_page()
    column_width = (pdf.w - pdf.l_margin - pdf.r_margin - 10) / 2
    top = pdf.t_margin + 10
    pdf.set_xy(pdf.l_margin, top)
    pdf.multi_cell(column_width, 6, TWO_COLUMN_LEFT)
    pdf.set_xy(pdf.l_margin + column_width + 10, top)
    pdf.multi_cell(column_width, 6, TWO_COLUMN_RIGHT)
    return _output(pdf)


def non_latin_pdf() -> bytes:
    """Page 1 in Russian (Cyrillic), page 2 in Greek."""
    pdf = _new_pdf()
    for text in (CYRILLIC, GREEK):
        pdf.add_page()
        pdf.multi_cell(0, 7, text)
    return _output(pdf)


def text_pdf(paragraphs: Sequence[str]) -> bytes:
    """One page with the given paragraphs, each set as its own block (lines as given)."""
    pdf = _new_pdf()
    pdf.add_page()
    for paragraph in paragraphs:
        pdf.multi_cell(0, 6, paragraph)
        pdf.ln(6)
    return _output(pdf)


def encrypted_pdf(user_password: str = USER_PASSWORD) -> bytes:
    """A readable PDF that opens only with `user_password` (AES-128)."""
    pdf = _new_pdf()
    pdf.set_encryption(
        owner_password="owner-" + user_password,
        user_password=user_password,
        encryption_method=EncryptionMethod.AES_128,
    )
    _topic_page(pdf, 1, *FACTS[1])
    return _output(pdf)


def truncated_pdf() -> bytes:
    """A valid multi-page PDF cut in half, as an interrupted download leaves it."""
    whole = multi_page_pdf()
    return whole[: len(whole) // 2]


def image_only_pdf(pages: int = 2) -> bytes:
    """Pages that hold only a drawn picture, as a scanner makes them: no text objects at all."""
    from PIL import Image, ImageDraw

    pdf = FPDF(format="A4")
    for number in range(pages):
        picture = Image.new("RGB", (400, 300), "white")
        draw = ImageDraw.Draw(picture)
        draw.rectangle((20, 20, 380, 280), outline="black", width=4)
        draw.ellipse((100 + number * 10, 60, 300, 240), fill="grey")
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        pdf.add_page()
        pdf.image(buffer, x=20, y=20, w=170)
    return _output(pdf)


# A LaTeX-made PDF's math symbols come from fonts like CMSY: a CFF (Type1C) program embedded
# with its own encoding (code 107, `k`, is ‖) and no ToUnicode map. pypdf reads that
# encoding only with fontTools; without it `‖x1 − x2‖` comes out as `kx1!x2k`.
CFF_LINE = b"kx1!x2k;ky1!y2k"
CFF_TEXT = "‖x1−x2‖,‖y1−y2‖"
_CFF_GLYPHS = {
    ord("x"): "x",
    ord("y"): "y",
    ord("1"): "one",
    ord("2"): "two",
    ord("k"): "bardbl",
    ord("!"): "minus",
    ord(";"): "comma",
}


def _cff_font_program() -> bytes:
    """A CFF font with the glyphs above, each a plain box, under a custom encoding."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen

    names = [".notdef", *_CFF_GLYPHS.values()]
    builder = FontBuilder(1000, isTTF=False)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({})
    outlines = {}
    for name in names:
        pen = T2CharStringPen(500, None)
        pen.moveTo((50, 0))
        pen.lineTo((450, 0))
        pen.lineTo((450, 700))
        pen.lineTo((50, 700))
        pen.closePath()
        outlines[name] = pen.getCharString()
    builder.setupCFF("CMSYTEST", {"FullName": "CMSYTEST"}, outlines, {})
    builder.setupHorizontalMetrics({name: (500, 50) for name in names})
    cff = builder.font["CFF "].cff
    encoding = [".notdef"] * 256
    for code, name in _CFF_GLYPHS.items():
        encoding[code] = name
    cff.topDictIndex[0].Encoding = encoding
    out = io.BytesIO()
    cff.compile(out, builder.font)
    return out.getvalue()


def _raw_pdf(objects: Sequence[bytes]) -> bytes:
    """A PDF of the given objects (1 is the catalog), with its cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def _stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries, len(data), data)


def cff_font_pdf() -> bytes:
    """One page that prints `CFF_LINE` in an embedded CFF font, as pdfTeX embeds CMSY."""
    content = b"BT /F1 24 Tf 72 700 Td (" + CFF_LINE + b") Tj ET"
    return _raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            _stream(content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /CMSYTEST /FontDescriptor 6 0 R >>",
            b"<< /Type /FontDescriptor /FontName /CMSYTEST /Flags 4 /FontBBox [0 -200 1000 800] "
            b"/ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 "
            b"/FontFile3 7 0 R >>",
            _stream(_cff_font_program(), b"/Subtype /Type1C"),
        ]
    )


SCANNED_LINES = (
    "The Quillmoor dam holds back",
    "seventy million cubic metres",
    "of water for the valley.",
)


def scanned_text_pdf(lines: Sequence[str] = SCANNED_LINES) -> bytes:
    """One page that is only a picture of printed lines, as a scanner makes it: the words
    are pixels (drawn with DejaVu), and the page has no text layer for pypdf to read."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(DEJAVU, 48)
    picture = Image.new("L", (1400, 120 + 80 * len(lines)), 255)
    draw = ImageDraw.Draw(picture)
    for number, line in enumerate(lines):
        draw.text((60, 60 + 80 * number), line, font=font, fill=0)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(buffer, x=10, y=20, w=190)
    return _output(pdf)


def merged(files: Sequence[bytes]) -> bytes:
    """The pages of several PDFs, in order, as one PDF."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for data in files:
        writer.append(io.BytesIO(data))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pages_pdf(pages: Sequence[tuple[str, Sequence[str]]]) -> bytes:
    """One page per (title, paragraphs): the title as a heading, each paragraph its block."""
    pdf = _new_pdf()
    for title, paragraphs in pages:
        pdf.add_page()
        pdf.set_font("DejaVu", size=16)
        pdf.multi_cell(0, 10, title)
        pdf.set_font("DejaVu", size=11)
        for paragraph in paragraphs:
            pdf.ln(4)
            pdf.multi_cell(0, 6, paragraph)
    return _output(pdf)
