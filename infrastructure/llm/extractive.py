"""The offline answerer: no model, no key. It answers with the sentences of the retrieved
passages that answer the question, each followed by its citation ([1] is the answer's first
source), so the stack answers end to end on a machine with no network.

A sentence is relevant when it shares enough of the question's (stemmed, rare) words, or,
when the local embedding model is loaded, when its meaning is close to the question's
(cosine of all-MiniLM-L6-v2 vectors). The few best are kept and put back in reading order:
source by source, each source's sentences in the order it has them. When none is relevant,
the answer says so and cites nothing.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from application.ports import LLMRequest, LLMStreamEnd, Passage, Usage

NOTHING_FOUND = (
    "I found nothing in the documents about “{topic}”. Try other words, or add documents "
    "that cover it."
)
# A sentence that shares words with the question must carry this share of the question's
# weight (rare words weigh more) to count as an answer.
LEXICAL_FLOOR = 0.25
# Cosine of two all-MiniLM-L6-v2 vectors above which a sentence is about the question.
SEMANTIC_FLOOR = 0.35
# Among the relevant, a sentence is kept when it scores this share of the best one.
RELATIVE_FLOOR = 0.6
# ...or this share, when it answers a part of the question the stronger ones left out.
COVERING_FLOOR = 0.35
MAX_SENTENCES = 4
MAX_SENTENCE_CHARS = 600  # a "sentence" longer than this is a table or a run-on: cut out

Embed = Callable[[Sequence[str]], list[list[float]]]


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
    """Sentences of extracted text: paragraphs and list items apart, line wraps undone. Each
    is the text's own words (whitespace aside): extraction already mended hyphenated wraps."""
    text = text.replace("\r\n", "\n")
    blocks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        current: list[str] = []
        for line in paragraph.split("\n"):
            if current and (_BULLET.match(line) or _heading(current[-1], line)):
                blocks.append(" ".join(current))
                current = []
            current.append(line.strip())
        blocks.append(" ".join(current))
    sentences: list[str] = []
    for block in blocks:
        sentences.extend(_split_block(" ".join(block.split())))
    return [s for s in sentences if any(ch.isalnum() for ch in s)]


def _heading(line: str, following: str) -> bool:
    """A short line without a sentence's end, before a line that starts anew: a heading
    (wrapped lines are long, or go on in lower case)."""
    line, following = line.strip(), following.strip()
    return (
        0 < len(line) < _HEADING_CHARS and not line.endswith(_GOES_ON) and following[:1].isupper()
    )


_HEADING_CHARS = 40
_GOES_ON = tuple(",;:-–(&/")


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


@dataclass(frozen=True)
class _Candidate:
    passage: int
    position: int
    sentence: str
    words: list[str]


def _candidates(passages: Sequence[Passage]) -> list[_Candidate]:
    return [
        _Candidate(p, i, sentence, terms(sentence))
        for p, passage in enumerate(passages)
        for i, sentence in enumerate(split_sentences(passage.text))
        if len(sentence) <= MAX_SENTENCE_CHARS and not _is_heading(sentence)
    ]


def _is_heading(sentence: str) -> bool:
    """A title ("Page 2: Bees", "Driving on rough ground") names a topic, answers nothing:
    a few words, no sentence end, not a list item."""
    return (
        not sentence.rstrip().endswith(_SENTENCE_ENDS)
        and not _BULLET.match(sentence)
        and len(sentence.split()) < _HEADING_WORDS
    )


_SENTENCE_ENDS = tuple(".!?;:\"')]»”’")
_HEADING_WORDS = 8


def best_quotes(
    query: str,
    passages: Sequence[Passage],
    limit: int = MAX_SENTENCES,
    embed: Embed | None = None,
) -> list[Quote]:
    """The sentences that answer the query, best first; empty when none is relevant.

    Lexically, rare words weigh more (idf over all candidate sentences; a question word
    no sentence has weighs as much as the rarest), consecutive question words found
    together earn a bonus, long sentences pay a little; a sentence is relevant when its
    words carry `LEXICAL_FLOOR` of the question's weight. With `embed`, a sentence whose vector is
    within `SEMANTIC_FLOOR` of the question's is relevant too, and the cosine adds to its
    score."""
    wanted = terms(query) or terms(query, keep_stopwords=True)
    candidates = _candidates(passages)
    if not wanted or not candidates:
        return []
    count = len(candidates)
    document_frequency = Counter(t for c in candidates for t in set(c.words))

    def weight(term: str) -> float:
        return math.log(1 + count / max(document_frequency[term], 1))

    total = sum(weight(t) for t in set(wanted))
    pairs = set(zip(wanted, wanted[1:], strict=False))
    cosines = _cosines(query, candidates, embed)
    scored: list[Quote] = []
    for n, c in enumerate(candidates):
        matched = set(wanted) & set(c.words)
        carried = sum(weight(t) for t in matched)
        lexical = carried / total if total else 0.0
        lexical += 0.1 * len(pairs & set(zip(c.words, c.words[1:], strict=False)))
        lexical /= 1 + 0.01 * len(c.words)
        similarity = cosines[n] if cosines else 0.0
        relevant = (matched and carried >= LEXICAL_FLOOR * total) or similarity >= SEMANTIC_FLOOR
        if not relevant:
            continue
        score = lexical + similarity + 0.05 * passages[c.passage].score  # ties: the retriever
        scored.append(Quote(c.passage, c.position, c.sentence, score, frozenset(matched)))
    scored.sort(key=lambda q: q.score, reverse=True)
    chosen: list[Quote] = []
    seen: set[str] = set()
    covered: set[str] = set()
    for quote in scored:
        key = " ".join(quote.sentence.lower().split())
        # A weaker sentence still earns its place when it answers a part of the question
        # that the stronger ones left out.
        best = scored[0].score
        useful = quote.score >= RELATIVE_FLOOR * best or (
            quote.score >= COVERING_FLOOR * best and not quote.matched <= covered
        )
        if key in seen or not useful:
            continue
        seen.add(key)
        covered |= quote.matched
        chosen.append(quote)
        if len(chosen) == limit:
            break
    return chosen


def _cosines(query: str, candidates: Sequence[_Candidate], embed: Embed | None) -> list[float]:
    """Each candidate's cosine with the query (unit vectors: a dot product), or none."""
    if embed is None:
        return []
    vectors = embed([query, *(c.sentence for c in candidates)])
    asked = vectors[0]
    return [sum(a * b for a, b in zip(asked, v, strict=True)) for v in vectors[1:]]


@dataclass(frozen=True)
class ExtractiveAnswer:
    text: str  # markdown
    cited: tuple[int, ...]  # the passages quoted (0-based, into the request's), in citation order


def nothing_found(query: str) -> str:
    topic = " ".join(query.split()).rstrip("?!. ") or "this"
    if len(topic) > 120:
        topic = topic[:117].rstrip() + "…"
    return NOTHING_FOUND.format(topic=topic)


def compose(
    query: str,
    passages: Sequence[Passage],
    limit: int = MAX_SENTENCES,
    embed: Embed | None = None,
) -> ExtractiveAnswer:
    """The answer in markdown: the chosen sentences in reading order, one paragraph per
    source (the most relevant source first, its sentences in the order it has them), each
    sentence followed by its source's number. Sources are numbered 1, 2, 3 in the order
    they appear, and only the passages quoted are the answer's sources."""
    quotes = best_quotes(query, passages, limit, embed) if passages else []
    if not quotes:
        return ExtractiveAnswer(nothing_found(query), ())
    order = list(dict.fromkeys(quote.passage for quote in quotes))
    paragraphs = []
    for number, p in enumerate(order, start=1):
        mine = sorted((q for q in quotes if q.passage == p), key=lambda q: q.position)
        paragraphs.append(" ".join(f"{_inline(q.sentence)} [{number}]" for q in mine))
    return ExtractiveAnswer("\n\n".join(paragraphs), tuple(order))


def compose_answer(query: str, passages: Sequence[Passage], limit: int = MAX_SENTENCES) -> str:
    return compose(query, passages, limit).text


def _inline(sentence: str) -> str:
    """A sentence as plain text in markdown: a list item's marker is dropped (the sentence is
    prose now); brackets are escaped so that only citations read as [n]; a sentence that
    starts like a heading, a quote or a numbered item is escaped. CommonMark escapes
    punctuation only, so an ordered item's `1.` keeps its digit and escapes the dot."""
    text = _BULLET_MARK.sub("", sentence, count=1) or sentence
    text = text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    text = re.sub(r"^([#>*+-])", r"\\\1", text)
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", text)


_BULLET_MARK = re.compile(r"^\s*[-*•●▪–]\s+")


def deltas(text: str) -> list[str]:
    """Small pieces that join back to `text`: each word with the whitespace around it."""
    return re.findall(r"\s*\S+\s*", text) or [text]


class ExtractiveLLM:
    """The LLM port without a model: `model` in the request is only echoed back.

    `embedder` gives the sentence embedder to weigh meaning with, or None (words alone):
    the server gives the local model once it is loaded, never waiting for it."""

    def __init__(
        self,
        max_quotes: int = MAX_SENTENCES,
        embedder: Callable[[], Embed | None] = lambda: None,
    ) -> None:
        self.max_quotes, self.embedder = max_quotes, embedder

    async def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMStreamEnd]:
        embed = self.embedder() if request.passages else None
        answer = await asyncio.to_thread(
            compose, request.query, request.passages, self.max_quotes, embed
        )
        for piece in deltas(answer.text):
            yield piece
            await asyncio.sleep(0)  # let the chat's other tasks run between deltas
        yield LLMStreamEnd(model=request.model or "extractive", usage=Usage(), cited=answer.cited)
