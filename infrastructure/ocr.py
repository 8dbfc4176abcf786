"""Words out of scanned pages: Tesseract (Debian's `tesseract-ocr`) through pytesseract.

A scanned page is a picture with no text layer; pypdf hands over the pictures a page draws,
and Tesseract reads each. OCR is slow (seconds a page), so it is bounded: at most
`max_pages` pages of one document and `page_seconds` per picture; pages past the budget
stay without text. It runs where extraction runs, in the ingestion's worker thread.
"""

from __future__ import annotations

import logging
import shutil
import time
from typing import Any

log = logging.getLogger(__name__)

NOT_INSTALLED = (
    "OCR is not available on this server (Tesseract is not installed: "
    "apt-get install tesseract-ocr tesseract-ocr-eng)."
)
# Pictures smaller than this (icons, rules, logos) hold no text worth a Tesseract run.
_MIN_SIDE = 32
# Tesseract reads text of about 20-40 pixels best; small scans are enlarged towards it.
_MIN_WIDTH = 1200


class TesseractOcr:
    """Reads the pictures of a page; `budget()` gives a fresh allowance per document."""

    def __init__(
        self,
        language: str = "eng",
        max_pages: int = 50,
        page_seconds: float = 60.0,
        command: str = "tesseract",
    ) -> None:
        self.language, self.max_pages, self.page_seconds = language, max_pages, page_seconds
        self.command = shutil.which(command)

    @property
    def available(self) -> bool:
        return self.command is not None

    def budget(self) -> OcrBudget:
        return OcrBudget(self)

    def read_pictures(self, page: Any) -> str:
        """The text of every picture `page` (a pypdf page) draws, in the order drawn."""
        import pytesseract

        pytesseract.pytesseract.tesseract_cmd = self.command
        texts = []
        for picture in page.images:
            image = picture.image
            if image is None or min(image.size) < _MIN_SIDE:
                continue
            image = _prepared(image)
            try:
                text = pytesseract.image_to_string(
                    image, lang=self.language, timeout=self.page_seconds
                )
            except RuntimeError:  # pytesseract's word for "timed out": the picture is skipped
                log.info("ocr timed out after %s s on one picture", self.page_seconds)
                continue
            if text.strip():
                texts.append(text)
        return "\n\n".join(texts)


def _prepared(image: Any) -> Any:
    """Grey levels, enlarged when the scan is small: what Tesseract reads best."""
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    image = image.convert("L")
    if image.width < _MIN_WIDTH:
        factor = _MIN_WIDTH / image.width
        image = image.resize((_MIN_WIDTH, round(image.height * factor)))
    return image


class OcrBudget:
    """How many pages of one document may still be read with OCR."""

    def __init__(self, ocr: TesseractOcr) -> None:
        self.ocr, self.left = ocr, ocr.max_pages
        self.skipped = 0  # scanned pages left without text (no Tesseract, or past the budget)

    def read(self, page: Any) -> str | None:
        """The page's text by OCR; None when it was not read (not installed, no budget)."""
        if not self.ocr.available or self.left <= 0:
            self.skipped += 1
            return None
        self.left -= 1
        started = time.perf_counter()
        text = self.ocr.read_pictures(page)
        log.info(
            "ocr read a page in %.1f s (%d characters)", time.perf_counter() - started, len(text)
        )
        return text
