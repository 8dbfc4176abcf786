"""The offline extractive answerer: sentence splitting, choosing quotes, the cited answer."""

from __future__ import annotations

import re
from dataclasses import replace

from application.ports import LLMRequest, LLMStreamEnd, Passage, Usage
from infrastructure.llm.extractive import (
    NOTHING_RELEVANT,
    ExtractiveAnswer,
    ExtractiveLLM,
    best_quotes,
    compose,
    compose_answer,
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


def test_sentences_are_split_at_full_stops_but_not_after_abbreviations_or_initials() -> None:
    text = "Dr. Smith met J. Doe at 5 p.m. on Monday. See Fig. 2 for details! Is it clear? Yes."
    assert split_sentences(text) == [
        "Dr. Smith met J. Doe at 5 p.m. on Monday.",
        "See Fig. 2 for details!",
        "Is it clear?",
        "Yes.",
    ]


def test_line_wraps_and_hyphenated_breaks_of_pdf_text_are_undone() -> None:
    text = "The device must be re-\ncharged every\nnight. It lasts long."
    assert split_sentences(text) == ["The device must be recharged every night.", "It lasts long."]


def test_paragraphs_and_list_items_are_sentences_of_their_own() -> None:
    text = "Features\n\n- Waterproof to 50 m\n- Battery of 3 days\nSee below"
    assert split_sentences(text) == [
        "Features",
        "- Waterproof to 50 m",
        "- Battery of 3 days See below",
    ]


def test_the_sentence_sharing_the_question_words_is_quoted_first() -> None:
    quotes = best_quotes("How long does the warranty last?", [WARRANTY, RETURNS])
    assert quotes[0].sentence == "The warranty lasts two years from the date of purchase."
    assert quotes[0].passage == 0


def test_rare_words_outweigh_common_ones() -> None:
    common = passage("The device is a device. The device is small. The device is blue.")
    rare = passage("A device with a lithium battery.", filename="spec.pdf")
    quotes = best_quotes("device battery", [common, rare], limit=1)
    assert quotes[0].sentence == "A device with a lithium battery."


def test_the_answer_quotes_the_sentence_with_its_citation() -> None:
    answer = compose("When can I return it for a refund?", [WARRANTY, RETURNS])
    assert "> Returns are accepted within 30 days. Refunds go to the original payment method." in (
        answer.text
    )
    # the only passage quoted is the answer's only source: it is [1], whatever its rank
    assert "> — [1] policy.pdf, p. 1" in answer.text
    assert answer.cited == (1,)
    assert "warranty" not in answer.text.lower()


def test_each_quote_ends_with_its_citation_numbered_in_the_order_they_appear() -> None:
    answer = compose("warranty and returns within days", [WARRANTY, RETURNS])
    blocks = answer.text.split("\n\n")
    assert blocks[0] == "From the knowledge base:"
    assert len(blocks) == 3 and all(b.startswith("> ") for b in blocks[1:])
    attributions = [b.splitlines()[-1] for b in blocks[1:]]
    assert [a[:6] for a in attributions] == ["> — [1", "> — [2"]
    cited = [(WARRANTY, RETURNS)[i] for i in answer.cited]
    assert attributions == [f"> — [{n}] {p.filename}, p. {p.page}" for n, p in enumerate(cited, 1)]


def test_citations_follow_the_quotes_even_when_the_best_passage_ranked_last() -> None:
    first, second, third = (
        passage("Batteries last a year.", filename="a.pdf", score=0.9),
        passage("Nothing to see here.", filename="b.pdf", score=0.8),
        passage("The warranty lasts two years.", filename="c.pdf", score=0.1),
    )
    answer = compose(
        "How long is the warranty, and how long do batteries last?", [first, second, third]
    )
    numbers = [int(n) for n in re.findall(r"— \[(\d+)\]", answer.text)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) == len(answer.cited) == 2
    assert {(first, second, third)[i].filename for i in answer.cited} == {"a.pdf", "c.pdf"}


def test_a_passage_without_page_is_cited_by_its_filename_alone() -> None:
    notes = passage("The warranty covers water damage.", filename="notes.txt", page=None)
    assert compose_answer("warranty", [notes]).endswith("\n> — [1] notes.txt")


def test_with_no_passages_the_answer_says_the_knowledge_base_has_nothing() -> None:
    assert compose("What is the warranty?", []) == ExtractiveAnswer(NOTHING_RELEVANT, ())
    assert "nothing relevant" in NOTHING_RELEVANT


def test_without_shared_words_the_closest_passage_is_quoted_and_said_to_be_so() -> None:
    answer = compose("guarantee period?", [RETURNS, replace(WARRANTY, score=0.9)])
    assert "shares words" in answer.text
    assert "> Thank you for buying the Frobnicator 3000." in answer.text
    assert "> — [1] manual.pdf, p. 3" in answer.text and answer.cited == (1,)


def test_a_quote_that_looks_like_markdown_syntax_stays_plain_text() -> None:
    listed = passage("- Warranty of 2 years")
    assert "> \\- Warranty of 2 years" in compose_answer("warranty", [listed])


def test_a_quote_that_starts_like_a_numbered_item_keeps_its_number_without_debris() -> None:
    answer = compose_answer("warranty", [passage("1) The warranty lasts two years.")])
    assert "> 1\\) The warranty lasts two years." in answer
    assert "\\1" not in answer


async def test_the_answer_streams_in_small_deltas_then_ends() -> None:
    llm = ExtractiveLLM()
    request = LLMRequest(
        provider="extractive",
        model="",
        prompt="",
        query="How long is the warranty?",
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


async def test_with_no_passages_the_stream_says_so() -> None:
    request = LLMRequest(provider="extractive", model="x", prompt="", query="anything")
    items = [item async for item in ExtractiveLLM().stream(request)]
    assert "".join(i for i in items if isinstance(i, str)) == NOTHING_RELEVANT
    assert isinstance(items[-1], LLMStreamEnd)
