"""The offline answerer: no model, no key. It quotes the sentences of the retrieved passages
that share the most (and the rarest) words with the question, each quote cited, so the stack
answers end to end on a machine with no network.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from application.ports import LLMRequest, LLMStreamEnd, Passage, Usage

NOTHING_RELEVANT = (
    "The knowledge base has nothing relevant to this question, so there is nothing to quote. "
    "Try other words, or add documents that cover it."
)
INTRO = "From the knowledge base:"
NO_MATCH_INTRO = (
    "No sentence in the knowledge base shares words with the question; the closest passage says:"
)


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that a period does not end; single capitals (initials) are handled apart.
_ABBREVIATIONS = _word_set(
    "e.g i.e etc vs cf al mr mrs ms dr prof sr jr st no nos fig figs eq eqs p pp vol ch sec "
    "approx dept inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec"
)
_STOPWORDS = _word_set(
    "a an and are as at be been being but by can could did do does doing for from had has "
    "have having how i if in into is it its itself me my of on or our so than that the their "
    "them then there these they this those to too was we were what when where which while who "
    "whom why will with would you your about above after again against all am any because "
    "before below between both during each few further here just more most nor not now only "
    "other out over own same she he her him his should some such through under until up very "
    "off once tell please say says said"
)
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_BULLET = re.compile(r"^\s*(?:[-*•●▪–]|\d{1,3}[.)])\s+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def split_sentences(text: str) -> list[str]:
    """Sentences of extracted text: paragraphs and list items apart, line wraps undone."""
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text.replace("\r\n", "\n"))  # hyphenated wraps
    blocks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        current: list[str] = []
        for line in paragraph.split("\n"):
            if _BULLET.match(line) and current:
                blocks.append(" ".join(current))
                current = []
            current.append(line.strip())
        blocks.append(" ".join(current))
    sentences: list[str] = []
    for block in blocks:
        sentences.extend(_split_block(" ".join(block.split())))
    return [s for s in sentences if any(ch.isalnum() for ch in s)]


def _split_block(block: str) -> list[str]:
    pieces, start = [], 0
    for match in _BOUNDARY.finditer(block):
        before = _LAST_WORD.search(block[start : match.start() + 1].rstrip(".!?"))
        word = before.group(1) if before else ""
        if word.lower().rstrip(".") in _ABBREVIATIONS or (len(word) == 1 and word.isupper()):
            continue
        pieces.append(block[start : match.end()].strip())
        start = match.end()
    pieces.append(block[start:].strip())
    return [p for p in pieces if p]


def _stem(word: str) -> str:
    word = word.removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if len(word) >= len(suffix) + 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str, keep_stopwords: bool = False) -> list[str]:
    """The text's words, lower-cased and lightly stemmed, stopwords out unless asked."""
    words = _WORD.findall(text.lower())
    return [_stem(w) for w in words if keep_stopwords or w not in _STOPWORDS]


@dataclass(frozen=True)
class Quote:
    passage: int  # 0-based index into the request's passages
    position: int  # the sentence's place in its passage
    sentence: str
    score: float
    matched: frozenset[str] = frozenset()  # the question's terms the sentence contains


def best_quotes(query: str, passages: Sequence[Passage], limit: int = 3) -> list[Quote]:
    """The sentences most worth quoting for the query, best first; empty when none shares a
    word with it. Rare words weigh more (idf over all candidate sentences), consecutive
    query words found together earn a bonus, and long sentences pay a little."""
    wanted = terms(query) or terms(query, keep_stopwords=True)
    if not wanted:
        return []
    candidates = [
        (p, i, sentence, terms(sentence))
        for p, passage in enumerate(passages)
        for i, sentence in enumerate(split_sentences(passage.text))
    ]
    document_frequency = Counter(t for *_, words in candidates for t in set(words))
    count = len(candidates)
    pairs = set(zip(wanted, wanted[1:], strict=False))
    scored: list[Quote] = []
    for p, i, sentence, words in candidates:
        matched = set(wanted) & set(words)
        if not matched:
            continue
        score = sum(math.log(1 + count / document_frequency[t]) for t in matched)
        score += 0.5 * len(pairs & set(zip(words, words[1:], strict=False)))
        score /= 1 + 0.01 * len(words)
        score += 0.1 * passages[p].score  # the retriever's opinion breaks ties
        scored.append(Quote(p, i, sentence, score, frozenset(matched)))
    scored.sort(key=lambda q: q.score, reverse=True)
    chosen: list[Quote] = []
    seen: set[str] = set()
    covered: set[str] = set()
    for quote in scored:
        key = " ".join(quote.sentence.lower().split())
        # A weak sentence still earns its place when it answers a part of the question
        # that the stronger ones left out.
        useful = quote.score >= 0.35 * scored[0].score or not quote.matched <= covered
        if key in seen or not useful:
            continue
        seen.add(key)
        covered |= quote.matched
        chosen.append(quote)
        if len(chosen) == limit:
            break
    return chosen


def citation(number: int, passage: Passage) -> str:
    """`[1] manual.pdf, p. 3`: the number is the passage's place among the answer's sources."""
    page = f", p. {passage.page}" if passage.page is not None else ""
    return f"[{number}] {passage.filename}{page}"


@dataclass(frozen=True)
class ExtractiveAnswer:
    text: str  # markdown
    cited: tuple[int, ...]  # the passages quoted (0-based, into the request's), in citation order


def compose(query: str, passages: Sequence[Passage], limit: int = 3) -> ExtractiveAnswer:
    """The answer in markdown: one blockquote per passage quoted, in order of their best
    sentence, each ending in its citation; citations are numbered 1, 2, 3 in the order
    they appear, and only the passages quoted are the answer's sources."""
    if not passages:
        return ExtractiveAnswer(NOTHING_RELEVANT, ())
    quotes = best_quotes(query, passages, limit)
    intro = INTRO
    if not quotes:
        intro = NO_MATCH_INTRO
        closest = max(range(len(passages)), key=lambda p: passages[p].score)
        opening = split_sentences(passages[closest].text)[:2]
        quotes = [Quote(closest, i, s, 0.0) for i, s in enumerate(opening)]
        if not quotes:
            return ExtractiveAnswer(NOTHING_RELEVANT, ())
    order = list(dict.fromkeys(quote.passage for quote in quotes))
    sections = [intro]
    for number, p in enumerate(order, start=1):
        mine = sorted((q for q in quotes if q.passage == p), key=lambda q: q.position)
        text = mine[0].sentence
        for previous, quote in zip(mine, mine[1:], strict=False):
            gap = " " if quote.position == previous.position + 1 else " … "
            text += gap + quote.sentence
        sections.append(f"> {_inline(text)}\n>\n> — {citation(number, passages[p])}")
    return ExtractiveAnswer("\n\n".join(sections), tuple(order))


def compose_answer(query: str, passages: Sequence[Passage], limit: int = 3) -> str:
    return compose(query, passages, limit).text


def _inline(text: str) -> str:
    """A quoted sentence that starts like a heading, a quote or a list item would change the
    markdown: its marker is escaped. CommonMark escapes punctuation only, so an ordered
    item's `1.` or `1)` is kept plain by escaping the dot or parenthesis, not the digit."""
    text = re.sub(r"^([#>*+-])", r"\\\1", text)
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", text)


def deltas(text: str) -> list[str]:
    """Small pieces that join back to `text`: each word with the whitespace around it."""
    return re.findall(r"\s*\S+\s*", text) or [text]


class ExtractiveLLM:
    """The LLM port without a model: `model` in the request is only echoed back."""

    def __init__(self, max_quotes: int = 3) -> None:
        self.max_quotes = max_quotes

    async def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMStreamEnd]:
        answer = compose(request.query, request.passages, self.max_quotes)
        for piece in deltas(answer.text):
            yield piece
            await asyncio.sleep(0)  # let the chat's other tasks run between deltas
        yield LLMStreamEnd(model=request.model or "extractive", usage=Usage(), cited=answer.cited)
