"""The offline extractive answerer: sentence splitting, choosing the sentences that answer,
inline citations, and saying plainly when nothing does."""

from __future__ import annotations

import re
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from application.ports import LLMRequest, LLMStreamEnd, Passage, Usage
from infrastructure.llm.extractive import (
    ExtractiveAnswer,
    ExtractiveLLM,
    best_quotes,
    compose,
    compose_answer,
    nothing_found,
    split_sentences,
)


def passage(
    text: str, filename: str = "manual.pdf", page: int | None = 3, score: float = 0.5
) -> Passage:
    return Passage(document_id="d1", filename=filename, page=page, chunk=0, score=score, text=text)


WARRANTY = passage(
    "Thank you for buying the Frobnicator 3000. The warranty lasts two years from the date "
    "of purchase. Keep the receipt in a safe place. Cleaning is done with a dry cloth."
)
RETURNS = passage(
    "Returns are accepted within 30 days. Refunds go to the original payment method.",
    filename="policy.pdf",
    page=1,
)
_CITED = re.compile(r" \[(\d+)\](?= |$)")


def cited_sentences(answer: ExtractiveAnswer) -> list[tuple[str, int]]:
    """Each sentence of the answer (markdown escapes undone) with the number citing it."""
    found = []
    for paragraph in answer.text.split("\n\n"):
        pieces = _CITED.split(paragraph)
        assert pieces[-1] == "", f"a sentence without a citation: {pieces[-1]!r}"
        for sentence, number in zip(pieces[0::2], pieces[1::2], strict=False):
            found.append((re.sub(r"\\(.)", r"\1", sentence.strip()), int(number)))
    return found


def flat(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- sentences


def test_sentences_are_split_at_full_stops_but_not_after_abbreviations_or_initials() -> None:
    text = "Dr. Smith met J. Doe at 5 p.m. on Monday. See Fig. 2 for details! Is it clear? Yes."
    assert split_sentences(text) == [
        "Dr. Smith met J. Doe at 5 p.m. on Monday.",
        "See Fig. 2 for details!",
        "Is it clear?",
        "Yes.",
    ]


def test_decimal_numbers_and_versions_do_not_end_a_sentence() -> None:
    text = "Version 2.5 costs 3.99 euros, e.g. in shops. It ships in 1.5 days."
    assert split_sentences(text) == [
        "Version 2.5 costs 3.99 euros, e.g. in shops.",
        "It ships in 1.5 days.",
    ]


def test_line_wraps_of_pdf_text_are_undone() -> None:
    text = "The device must be\nrecharged every\nnight. It lasts long."
    assert split_sentences(text) == ["The device must be recharged every night.", "It lasts long."]


def test_a_heading_on_its_own_line_is_not_glued_to_the_sentence_below() -> None:
    text = "Page 1: Lighthouses\nThe Skerryvore lighthouse is 48 metres tall, and was\nLit in 1844."
    assert split_sentences(text) == [
        "Page 1: Lighthouses",
        "The Skerryvore lighthouse is 48 metres tall, and was Lit in 1844.",
    ]


def test_paragraphs_and_list_items_are_sentences_of_their_own() -> None:
    text = "Features\n\n- Waterproof to 50 m\n- Battery of 3 days,\nat most\nSee below"
    assert split_sentences(text) == [
        "Features",
        "- Waterproof to 50 m",
        "- Battery of 3 days, at most",
        "See below",
    ]


# ---------------------------------------------------------------- choosing


def test_the_sentence_sharing_the_question_words_is_chosen_first() -> None:
    quotes = best_quotes("How long does the warranty last?", [WARRANTY, RETURNS])
    assert quotes[0].sentence == "The warranty lasts two years from the date of purchase."
    assert quotes[0].passage == 0


def test_rare_words_outweigh_common_ones() -> None:
    common = passage("The device is a device. The device is small. The device is blue.")
    rare = passage("A device with a lithium battery.", filename="spec.pdf")
    quotes = best_quotes("device battery", [common, rare], limit=1)
    assert quotes[0].sentence == "A device with a lithium battery."


def test_sentences_that_do_not_answer_are_left_out() -> None:
    answer = compose("How long does the warranty last?", [WARRANTY, RETURNS])
    assert answer.text == "The warranty lasts two years from the date of purchase. [1]"
    assert answer.cited == (0,)


def about_warranties(texts: Sequence[str]) -> list[list[float]]:
    """An embedder that knows one meaning: warranty and guarantee are one axis."""
    return [[1.0, 0.0] if re.search(r"warranty|guarantee", t, re.I) else [0.0, 1.0] for t in texts]


def test_a_sentence_close_in_meaning_is_chosen_when_an_embedder_is_given() -> None:
    """No word in common ("guarantee" is not "warranty"): only meaning can find it."""
    embed = about_warranties
    question = "guarantee period?"
    assert compose(question, [WARRANTY]).cited == ()
    answer = compose(question, [WARRANTY], embed=embed)
    assert answer.cited == (0,)
    assert "The warranty lasts two years from the date of purchase. [1]" in answer.text


# ---------------------------------------------------------------- the answer


def test_each_sentence_is_followed_by_the_number_of_its_source() -> None:
    answer = compose("When can I return it for a refund?", [WARRANTY, RETURNS])
    # the only passage quoted is the answer's only source: it is [1], whatever its rank
    assert answer.text == (
        "Returns are accepted within 30 days. [1] Refunds go to the original payment method. [1]"
    )
    assert answer.cited == (1,)


def test_sources_are_numbered_in_the_order_they_appear_one_paragraph_each() -> None:
    first, second, third = (
        passage("Batteries last a year.", filename="a.pdf", score=0.9),
        passage("Nothing to see here.", filename="b.pdf", score=0.8),
        passage("The warranty lasts two years.", filename="c.pdf", score=0.1),
    )
    answer = compose(
        "How long is the warranty, and how long do batteries last?", [first, second, third]
    )
    paragraphs = answer.text.split("\n\n")
    assert len(paragraphs) == len(answer.cited) == 2
    assert [int(n) for p in paragraphs for n in _CITED.findall(p)] == [1, 2]
    assert {(first, second, third)[i].filename for i in answer.cited} == {"a.pdf", "c.pdf"}


def test_a_source_s_sentences_keep_their_order_in_it() -> None:
    manual = passage(
        "Charging takes four hours. The lamp glows green. The battery then lasts 42 hours."
    )
    answer = compose("battery charging hours", [manual])
    sentences = [s for s, _ in cited_sentences(answer)]
    assert sentences == ["Charging takes four hours.", "The battery then lasts 42 hours."]


def test_when_nothing_answers_the_answer_says_so_and_cites_nothing() -> None:
    answer = compose("What is the boiling point of mercury?", [WARRANTY, RETURNS])
    assert answer == ExtractiveAnswer(
        "I found nothing in the documents about “What is the boiling point of mercury”. "
        "Try other words, or add documents that cover it.",
        (),
    )


def test_with_no_passages_the_answer_says_nothing_was_found() -> None:
    assert compose("What is the warranty?", []) == ExtractiveAnswer(
        nothing_found("What is the warranty?"), ()
    )


def test_a_list_item_is_quoted_as_prose_and_markdown_stays_plain_text() -> None:
    listed = passage("# 5 is the warranty number.\n\n- Warranty of 2 years")
    assert compose_answer("warranty", [listed]) == (
        "\\# 5 is the warranty number. [1] Warranty of 2 years [1]"
    )


def test_a_heading_is_not_an_answer() -> None:
    titled = passage("Warranty and service\nThe warranty lasts two years.")
    assert compose_answer("warranty", [titled]) == "The warranty lasts two years. [1]"


def test_a_sentence_that_starts_like_a_numbered_item_keeps_its_number_without_debris() -> None:
    answer = compose_answer("warranty", [passage("1) The warranty lasts two years.")])
    assert answer == "1\\) The warranty lasts two years. [1]"


def test_brackets_in_a_sentence_are_not_read_as_citations() -> None:
    paper = passage("The warranty rule is proved in [7] and [12].")
    answer = compose("warranty rule", [paper])
    assert _CITED.findall(answer.text) == ["1"]
    assert cited_sentences(answer) == [("The warranty rule is proved in [7] and [12].", 1)]


# ---------------------------------------------------------------- properties

VOCABULARY = [
    "lighthouse",
    "granite",
    "harbour",
    "beacon",
    "keeper",
    "storm",
    "lantern",
    "tower",
    "island",
    "signal",
]
OTHER_WORDS = ["violin", "amber", "varnish", "bow", "string", "maple"]
ABBREVIATED = ["Dr.", "e.g.", "approx.", "3.5", "Fig. 2", "J."]

words = st.lists(st.sampled_from(VOCABULARY + ABBREVIATED), min_size=2, max_size=9)
sentence = words.map(lambda w: " ".join(w).capitalize() + ".")
line = st.one_of(sentence, sentence.map(lambda s: f"- {s}"), sentence.map(lambda s: f"# {s}"))
texts = st.lists(line, min_size=1, max_size=6).map(lambda ls: "\n".join(ls))
passages = st.lists(texts, min_size=1, max_size=5).map(
    lambda ts: [passage(t, filename=f"f{i}.pdf", score=1 / (i + 1)) for i, t in enumerate(ts)]
)
questions = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=4).map(" ".join)


@given(passages, questions)
def test_every_citation_names_a_source_that_holds_the_sentence(
    given_passages: list[Passage], question: str
) -> None:
    answer = compose(question, given_passages)
    assert len(set(answer.cited)) == len(answer.cited)
    assert all(0 <= i < len(given_passages) for i in answer.cited)
    found = cited_sentences(answer) if answer.cited else []
    assert {n for _, n in found} == set(range(1, len(answer.cited) + 1))
    for text, number in found:
        source = given_passages[answer.cited[number - 1]]
        assert flat(text) in flat(source.text)


@given(passages, st.lists(st.sampled_from(OTHER_WORDS), min_size=1, max_size=4).map(" ".join))
def test_a_question_that_no_sentence_answers_gets_no_quote(
    given_passages: list[Passage], question: str
) -> None:
    answer = compose(question, given_passages)
    assert answer == ExtractiveAnswer(nothing_found(question), ())


# ---------------------------------------------------------------- streaming


async def test_the_answer_streams_in_small_deltas_then_ends() -> None:
    llm = ExtractiveLLM()
    request = LLMRequest(
        provider="extractive",
        model="",
        prompt="",
        query="How long is the warranty, and when are returns accepted?",
        passages=(WARRANTY, RETURNS),
    )
    items = [item async for item in llm.stream(request)]
    deltas = [item for item in items if isinstance(item, str)]
    assert len(deltas) == len(items) - 1 > 5
    assert max(len(d) for d in deltas) < 40
    assert "".join(deltas) == compose_answer(request.query, request.passages)
    assert items[-1] == LLMStreamEnd(
        model="extractive", usage=Usage(), cited=compose(request.query, request.passages).cited
    )


async def test_the_stream_uses_the_embedder_it_is_given() -> None:
    embed = about_warranties
    request = LLMRequest(
        provider="extractive", model="", prompt="", query="guarantee?", passages=(WARRANTY,)
    )
    items = [item async for item in ExtractiveLLM(embedder=lambda: embed).stream(request)]
    assert "The warranty lasts two years" in "".join(i for i in items if isinstance(i, str))
    assert isinstance(items[-1], LLMStreamEnd) and items[-1].cited == (0,)


async def test_with_no_passages_the_stream_says_so() -> None:
    request = LLMRequest(provider="extractive", model="x", prompt="", query="anything")
    items = [item async for item in ExtractiveLLM().stream(request)]
    assert "".join(i for i in items if isinstance(i, str)) == nothing_found("anything")
    assert items[-1] == LLMStreamEnd(model="x", usage=Usage(), cited=())
