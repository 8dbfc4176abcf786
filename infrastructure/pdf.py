"""Text out of PDFs with pypdf, page by page, and failures a person can act on."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO

from application.ports import ExtractionFailed, PageText

if TYPE_CHECKING:
    from infrastructure.ocr import TesseractOcr

PageProgress = Callable[[int, int], None]
"""Called as `on_page(done, total)` after each page."""

SNIFF_WINDOW = 1024
# Readers accept `%%EOF` anywhere near the end (Acrobat looks at the last 1024 bytes); a
# wider window tolerates trailing junk, while a cut-off download still has none there.
_EOF_WINDOW = 4096

ENCRYPTED = (
    "The PDF is password protected. Remove the password (for example by printing it to a "
    "new PDF) and upload it again."
)
DAMAGED = "The PDF is damaged and could not be read. Export or download it again and re-upload."
TRUNCATED = (
    "The PDF is incomplete: the file ends before its end marker, as an interrupted "
    "download or copy leaves it. Get the whole file and upload it again."
)
NO_PAGES = "The PDF has no pages."
NOT_A_PDF = "The file is not a PDF (its content does not start like one), whatever its name says."
NO_TEXT = (
    "The PDF has no extractable text: its pages look like scanned images. Run it through "
    "OCR (for example ocrmypdf) to add a text layer, then upload it again."
)
NO_TEXT_AFTER_OCR = (
    "The PDF has no extractable text, and OCR found no words in its pictures. If it is a "
    "scan, scan it again more sharply (300 dpi), then upload it again."
)
TOO_MUCH_TEXT = (
    "The PDF holds more text than one document may ({limit:,} characters, passed on page "
    "{page}). Split it into smaller files, or ask the administrator to raise "
    "GENAI_MAX_DOCUMENT_CHARS."
)

log = logging.getLogger(__name__)


def sniff_pdf(first_bytes: bytes) -> bool:
    """Whether the bytes are a PDF's: `%PDF-` within the first 1024, whatever the name says."""
    return b"%PDF-" in first_bytes[:SNIFF_WINDOW]


def extract_pages(
    stream: BinaryIO,
    on_page: PageProgress | None = None,
    *,
    max_chars: int | None = None,
    ocr: TesseractOcr | None = None,
) -> list[PageText]:
    """Text of every page, in order, numbered from 1; pages without text have `text == ""`.

    With `ocr`, a page without a text layer that draws pictures (a scan) is read with OCR,
    within the OCR's budget, and marked `ocr=True`.

    `stream` must be seekable (a file from the blob store is). Raises ExtractionFailed with
    a reason written for a person: not a PDF, password protected, damaged, incomplete, no
    pages, no text at all (scanned images), or more text than `max_chars` (a small file can
    draw megabytes of text: pages that share one content stream), found as soon as it is
    passed.
    """
    return list(iter_pages(stream, on_page, max_chars=max_chars, ocr=ocr))


def iter_pages(
    stream: BinaryIO,
    on_page: PageProgress | None = None,
    *,
    max_chars: int | None = None,
    ocr: TesseractOcr | None = None,
) -> Iterator[PageText]:
    """`extract_pages`, page by page as each is read (the ingestion runs other documents
    between them); the failures are raised when they are met."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    if not sniff_pdf(stream.read(SNIFF_WINDOW)):
        raise ExtractionFailed(NOT_A_PDF)
    if not _ends_like_a_pdf(stream):
        raise ExtractionFailed(TRUNCATED)
    any_text = False
    try:
        reader = PdfReader(stream)
        # Many "encrypted" PDFs only restrict printing and open with an empty password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionFailed(ENCRYPTED)
        total = len(reader.pages)
        if total == 0:
            raise ExtractionFailed(NO_PAGES)
        characters = 0
        budget = ocr.budget() if ocr is not None else None
        for number in range(1, total + 1):
            source = reader.pages[number - 1]
            text, scanned = source.extract_text(), False
            if budget is not None and not text.strip() and _draws_pictures(source):
                read = budget.read(source)
                text, scanned = read or "", read is not None
            characters += len(text)
            if max_chars is not None and characters > max_chars:
                raise ExtractionFailed(TOO_MUCH_TEXT.format(limit=max_chars, page=number))
            page = PageText(number=number, text=normalise(text), ocr=scanned)
            any_text = any_text or bool(page.text)
            if on_page is not None:
                on_page(number, total)
            yield page
    except ExtractionFailed:
        raise
    except (FileNotDecryptedError, DependencyError) as exc:
        raise ExtractionFailed(ENCRYPTED) from exc
    except Exception as exc:
        # pypdf meets broken files with many exception types (its own, KeyError, ValueError,
        # recursion...): to the person uploading, all of them mean the same thing.
        log.info("pdf extraction failed: %r", exc)
        raise ExtractionFailed(DAMAGED) from exc
    if not any_text:
        if budget is None or budget.skipped:
            missing = budget is not None and not budget.ocr.available
            raise ExtractionFailed(NO_TEXT + (f" {_not_installed()}" if missing else ""))
        raise ExtractionFailed(NO_TEXT_AFTER_OCR)
    if budget is not None and budget.skipped:
        log.info("%d scanned pages left without text (no OCR, or past its budget)", budget.skipped)


def _draws_pictures(page: object) -> bool:
    try:
        return bool(page.images)  # type: ignore[attr-defined]
    except Exception:  # a picture pypdf cannot decode: nothing to read
        return False


def _not_installed() -> str:
    from infrastructure.ocr import NOT_INSTALLED

    return NOT_INSTALLED


def _ends_like_a_pdf(stream: BinaryIO) -> bool:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(max(0, size - _EOF_WINDOW))
    tail = stream.read()
    stream.seek(0)
    return b"%%EOF" in tail


_BLANK_LINES = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u200b\ufeff]")
_ENDS_BLOCK = tuple(".!?:;。！？…\"')]»”’")
# a line shorter than this share of the page's longest one ends a paragraph or is a heading
_SHORT_LINE = 0.75


def normalise(text: str) -> str:
    """Whitespace made regular, wrapped lines joined, paragraph and heading breaks kept.

    pypdf breaks the text at every printed line. Lines that are wrapped (long, not ending a
    sentence) are joined with a space so that chunks break at sentences, not at the
    printer's line ends; short lines and sentence ends keep their break. Blank lines
    (paragraph gaps pypdf saw) stay as one blank line.
    """
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    # split() cuts at exactly the characters `\s` matches (str.isspace): each run of them
    # inside a line becomes one space, those at its ends go. Four times a regex's speed.
    lines = [" ".join(line.split()) for line in text.split("\n")]
    joined = _join_wrapped(lines)
    if "\n\n\n" in joined:  # most pages have no blank-line runs to squeeze
        joined = _BLANK_LINES.sub("\n\n", joined)
    return joined.strip()


def _join_wrapped(lines: list[str]) -> str:
    longest = max((len(line) for line in lines), default=0)
    out: list[str] = []
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        if _hyphenated(line, following):
            # a word broken at the line end: mend it, whatever the line's length
            out.append(line[:-1])
        elif line and following and len(line) >= _SHORT_LINE * longest:
            out.append(line + ("\n" if line.endswith(_ENDS_BLOCK) else " "))
        else:
            out.append(line + "\n")
    return "".join(out)


def _hyphenated(line: str, following: str) -> bool:
    return len(line) > 1 and line[-1] == "-" and line[-2].isalpha() and following[:1].islower()
