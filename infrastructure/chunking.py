"""Pages into overlapping chunks, cut where the text itself breaks.

A recursive character splitter: a span longer than `size` is cut at paragraph breaks; a
piece still too long is cut at line breaks, then sentence ends, then spaces, and at last
anywhere. Neighbouring pieces are packed back together up to `size`, so a chunk ends at
the coarsest break that lets it fit. Sizes are in characters.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import pairwise

from application.ports import PageText, TextChunk

# Pages are joined with a paragraph break, so a page boundary is a preferred cut.
_PAGE_JOIN = "\n\n"

# Each pattern matches a break; a cut goes after the match, so the break stays with the
# text before it and the pieces joined give back the text exactly.
_BREAKS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\n[^\S\n]*\n\s*"),  # paragraph: a blank line
    re.compile(r"\n\s*"),  # line
    re.compile(r"[.!?]+[\"')\]»”’]*\s+|[。！？]+[」』）”’]*\s*"),  # sentence end
    re.compile(r"\s+"),  # between words
)

Span = tuple[int, int]


def chunk_pages(pages: Sequence[PageText], size: int, overlap: int) -> list[TextChunk]:
    """Chunks of at most `size` characters, each with the page it starts on.

    Consecutive chunks on one page share up to `overlap` characters (starting at a word
    where there is one), so a fact cut in two is whole in one of them. Overlap is not
    carried across a page boundary: a chunk's page is then the page its own text is on.
    Chunks are stripped and never empty; the same input always gives the same chunks.
    """
    if size <= 0:
        raise ValueError(f"chunk size must be positive, got {size}")
    if not 0 <= overlap < size:
        raise ValueError(f"overlap must be at least 0 and less than size {size}, got {overlap}")
    text, page_starts, page_numbers = _join(pages)
    scanned = {page.number for page in pages if page.ocr}
    chunks: list[TextChunk] = []
    previous = 0  # where the previous chunk's own text starts: overlap reaches no further
    for segment_start, end in _segments(text, 0, len(text), size, 0):
        first = _first_visible(text, segment_start, end)
        if first == end:
            continue
        page = bisect_right(page_starts, first) - 1
        start = first
        if chunks and overlap:
            floor = max(previous, page_starts[page])
            start = _overlap_start(text, floor, first, overlap, end, size)
        previous = first
        number = page_numbers[page]
        chunks.append(
            TextChunk(
                index=len(chunks),
                page=number,
                text=text[start:end].strip(),
                ocr=number in scanned,
            )
        )
    return chunks


def _join(pages: Sequence[PageText]) -> tuple[str, list[int], list[int]]:
    """One text, the offset where each page starts in it, and those pages' numbers."""
    parts: list[str] = []
    starts: list[int] = []
    numbers: list[int] = []
    offset = 0
    for page in pages:
        if not page.text.strip():
            continue
        if parts:
            parts.append(_PAGE_JOIN)
            offset += len(_PAGE_JOIN)
        starts.append(offset)
        numbers.append(page.number)
        parts.append(page.text)
        offset += len(page.text)
    return "".join(parts), starts or [0], numbers or [1]


def _segments(text: str, start: int, end: int, size: int, level: int) -> list[Span]:
    """Contiguous spans covering text[start:end], each at most `size` long."""
    if end - start <= size:
        return [(start, end)]
    if level == len(_BREAKS):
        return [(cut, min(cut + size, end)) for cut in range(start, end, size)]
    cuts = [m.end() for m in _BREAKS[level].finditer(text, start, end) if start < m.end() < end]
    if not cuts:
        return _segments(text, start, end, size, level + 1)
    spans: list[Span] = []
    packed: int | None = None  # start of the pieces being packed into one span
    for piece_start, piece_end in pairwise([start, *cuts, end]):
        if piece_end - piece_start > size:
            # too long even alone: flush what is packed and cut the piece finer
            if packed is not None:
                spans.append((packed, piece_start))
                packed = None
            spans.extend(_segments(text, piece_start, piece_end, size, level + 1))
        elif packed is None:
            packed = piece_start
        elif piece_end - packed > size:
            spans.append((packed, piece_start))
            packed = piece_start
    if packed is not None:
        spans.append((packed, end))
    return spans


def _overlap_start(text: str, floor: int, start: int, overlap: int, end: int, size: int) -> int:
    """Where a chunk starting at `start` begins once it carries the text before it.

    The overlap is at most `overlap`, never makes the chunk longer than `size`, never
    reaches before `floor`, and begins at a word when a word starts inside it.
    """
    budget = min(overlap, size - (end - start), start - floor)
    if budget <= 0:
        return start
    begin = start - budget
    if begin == floor or text[begin - 1].isspace():
        return begin
    gap = re.search(r"\s+", text[begin:start])
    if gap is None:
        return begin  # no word boundary (CJK, a long token): overlap mid-word
    return begin + gap.end()


def _first_visible(text: str, start: int, end: int) -> int:
    for i in range(start, end):
        if not text[i].isspace():
            return i
    return end
