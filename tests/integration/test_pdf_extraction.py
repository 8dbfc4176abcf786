from __future__ import annotations

import io
import sys

import pytest

from application.ports import ExtractionFailed
from infrastructure.chunking import chunk_pages
from infrastructure.ocr import TesseractOcr
from infrastructure.pdf import extract_pages, normalise, sniff_pdf
from tests import pdfs


def extract(data: bytes) -> list[str]:
    return [page.text for page in extract_pages(io.BytesIO(data))]


def failure_of(data: bytes) -> str:
    with pytest.raises(ExtractionFailed) as raised:
        extract_pages(io.BytesIO(data))
    return raised.value.reason


def test_every_page_of_a_multi_page_pdf_has_its_own_fact() -> None:
    pages = extract_pages(io.BytesIO(pdfs.multi_page_pdf()))

    assert [p.number for p in pages] == list(range(1, 11))
    for number, (topic, fact) in pdfs.FACTS.items():
        assert f"Page {number}: {topic}" in pages[number - 1].text
        assert fact in pages[number - 1].text
    assert "molten lead" in pages[6].text


def test_wrapped_lines_are_joined_and_headings_keep_their_line() -> None:
    text = extract(pdfs.multi_page_pdf(1))[0]

    heading, fact, filler = text.split("\n")
    assert heading == "Page 1: Lighthouses"
    assert fact == pdfs.FACTS[1][1]
    assert filler == pdfs.FILLER  # printed on two lines, one line again


def test_progress_is_reported_after_every_page() -> None:
    seen: list[tuple[int, int]] = []

    extract_pages(
        io.BytesIO(pdfs.multi_page_pdf(4)), on_page=lambda done, total: seen.append((done, total))
    )

    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_both_columns_of_a_two_column_page_come_out_whole() -> None:
    (text,) = extract(pdfs.two_column_pdf())

    assert pdfs.TWO_COLUMN_LEFT in text
    assert pdfs.TWO_COLUMN_RIGHT in text


def test_cyrillic_and_greek_text_come_out_as_written() -> None:
    assert extract(pdfs.non_latin_pdf()) == [pdfs.CYRILLIC, pdfs.GREEK]


def test_a_hyphen_at_a_line_end_is_mended() -> None:
    paragraph = (
        "A very long line of running text that the printer breaks in the middle of a hyph-\n"
        "enated word and then continues on the next line until the paragraph ends."
    )
    text = extract(pdfs.text_pdf([paragraph]))[0]

    assert "hyphenated word" in text
    assert "\n" not in text


def test_a_password_protected_pdf_is_refused_with_that_reason() -> None:
    assert "password protected" in failure_of(pdfs.encrypted_pdf())


def test_a_truncated_pdf_is_refused_as_incomplete() -> None:
    assert "incomplete" in failure_of(pdfs.truncated_pdf())


def test_a_damaged_pdf_is_refused_as_damaged() -> None:
    whole = pdfs.multi_page_pdf(3)
    smashed = whole[:200] + b"\xff" * (len(whole) - 400) + whole[-200:]

    assert "damaged" in failure_of(smashed)


def test_image_only_pages_are_refused_with_a_suggestion_to_run_ocr() -> None:
    reason = failure_of(pdfs.image_only_pdf())

    assert "no extractable text" in reason
    assert "OCR" in reason


def test_a_scanned_page_is_read_with_ocr_and_marked_so() -> None:
    ocr = TesseractOcr()
    if not ocr.available:
        pytest.fail("tesseract is not installed: make system-packages")
    pages = extract_pages(io.BytesIO(pdfs.scanned_text_pdf()), ocr=ocr)

    assert [(p.number, p.ocr) for p in pages] == [(1, True)]
    words = pages[0].text.split()
    assert "Quillmoor" in words and "seventy" in words and "million" in words


def test_without_tesseract_a_scan_is_refused_with_a_note_saying_so() -> None:
    missing = TesseractOcr(command="no-such-tesseract")

    with pytest.raises(ExtractionFailed) as raised:
        extract_pages(io.BytesIO(pdfs.scanned_text_pdf()), ocr=missing)

    assert "no extractable text" in raised.value.reason
    assert "Tesseract is not installed" in raised.value.reason


def test_ocr_reads_no_more_pages_than_its_budget() -> None:
    data = pdfs.merged([pdfs.scanned_text_pdf(), pdfs.scanned_text_pdf(("Second page words",))])
    pages = extract_pages(io.BytesIO(data), ocr=TesseractOcr(max_pages=1))

    assert [(p.number, p.ocr, bool(p.text)) for p in pages] == [(1, True, True), (2, False, False)]


def test_pictures_without_words_are_still_refused_after_ocr() -> None:
    with pytest.raises(ExtractionFailed) as raised:
        extract_pages(io.BytesIO(pdfs.image_only_pdf(1)), ocr=TesseractOcr())

    assert (
        "no extractable text" in raised.value.reason and "OCR found no words" in raised.value.reason
    )


def test_symbols_of_an_embedded_cff_font_keep_their_meaning() -> None:
    """LaTeX's math fonts carry their encoding inside the font program: read with fontTools,
    `kx1!x2k` is the norm it was printed as."""
    assert extract(pdfs.cff_font_pdf()) == [pdfs.CFF_TEXT]


def test_a_file_that_is_not_a_pdf_is_refused() -> None:
    assert "not a PDF" in failure_of(b"Name,Amount\nAda,3\n" * 10)


def test_a_pdf_is_recognised_by_its_bytes_not_its_name() -> None:
    assert sniff_pdf(pdfs.multi_page_pdf(1)[:1024])
    assert sniff_pdf(b"\xef\xbb\xbf junk before the header %PDF-1.7\n")
    assert not sniff_pdf(b"PK\x03\x04 a zip file")
    assert not sniff_pdf(b" " * 1024 + b"%PDF-1.7")


def test_normalise_keeps_paragraph_breaks_and_regularises_spaces() -> None:
    raw = "Title\r\n\r\n\r\nFirst  para\u00a0with\ttabs.\n\n\nSecond \ufb01ne para."

    assert normalise(raw) == "Title\n\nFirst para with tabs.\n\nSecond fine para."


def test_normalise_makes_every_unicode_space_in_a_line_one_space() -> None:
    controls = "\x0b\x0c\x1c\x1d\x1e\x1f"  # dropped as control characters instead
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    inline = [s for s in spaces if s not in "\r\n" + controls]

    assert len(inline) == 21
    for space in inline:
        assert normalise(f"{space}one{space}{space}two {space}three{space}") == "one two three"


def test_a_hundred_page_pdf_is_extracted_and_chunked_with_pages_kept() -> None:
    pages = extract_pages(io.BytesIO(pdfs.large_pdf(100)))

    chunks = chunk_pages(pages, size=800, overlap=100)

    assert len(pages) == 100
    assert "Section 100." in pages[99].text
    for number in (1, 57, 100):
        starting = [c for c in chunks if c.text.startswith(f"Page {number}: ")]
        assert [c.page for c in starting] == [number]
