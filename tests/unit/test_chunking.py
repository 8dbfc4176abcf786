from __future__ import annotations

import pytest

from application.ports import PageText
from infrastructure.chunking import chunk_pages


def page(number: int, text: str) -> PageText:
    return PageText(number=number, text=text)


def sentences(count: int, start: int = 0) -> str:
    return " ".join(f"Sentence number {i} tells one small thing." for i in range(start, count))


def shared_edge(before: str, after: str) -> str:
    """The longest end of `before` that `after` starts with."""
    for length in range(min(len(before), len(after)), 0, -1):
        if after.startswith(before[-length:]):
            return before[-length:]
    return ""


def test_short_text_is_one_chunk_on_its_page() -> None:
    chunks = chunk_pages([page(3, "  A short page.  ")], size=100, overlap=10)

    assert [(c.index, c.page, c.text) for c in chunks] == [(0, 3, "A short page.")]


def test_chunks_never_exceed_size_and_are_never_empty() -> None:
    pages = [page(1, sentences(40)), page(2, "x" * 700), page(3, "\n\n  \n"), page(4, "end")]

    chunks = chunk_pages(pages, size=120, overlap=30)

    assert chunks
    assert all(0 < len(c.text) <= 120 for c in chunks)
    assert all(c.text == c.text.strip() for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_a_chunk_ends_at_a_paragraph_break_rather_than_inside_the_next_paragraph() -> None:
    first = "The first paragraph is about tides. It has two sentences."
    second = "The second paragraph is about stars. It also has two sentences here."

    chunks = chunk_pages([page(1, f"{first}\n\n{second}")], size=100, overlap=0)

    assert [c.text for c in chunks] == [first, second]


def test_a_long_paragraph_is_cut_at_line_breaks_before_sentences() -> None:
    lines = [
        "Line one has words. And more words",
        "line two also has words",
        "line three does not fit beside",
    ]

    chunks = chunk_pages([page(1, "\n".join(lines))], size=40, overlap=0)

    assert [c.text for c in chunks] == lines


def test_a_long_line_is_cut_at_sentence_ends() -> None:
    text = "First sentence is here! Second one asks? Third one ends. Fourth."

    chunks = chunk_pages([page(1, text)], size=30, overlap=0)

    assert [c.text for c in chunks] == [
        "First sentence is here!",
        "Second one asks?",
        "Third one ends. Fourth.",
    ]


def test_cjk_sentence_ends_are_cut_points_without_spaces() -> None:
    text = "今日は晴れです。明日は雨が降るでしょう！本当ですか？"

    chunks = chunk_pages([page(1, text)], size=12, overlap=0)

    assert [c.text for c in chunks] == [
        "今日は晴れです。",
        "明日は雨が降るでしょう！",
        "本当ですか？",
    ]


def test_a_long_sentence_is_cut_between_words() -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda"

    chunks = chunk_pages([page(1, text)], size=20, overlap=0)

    assert all(len(c.text) <= 20 for c in chunks)
    assert " ".join(c.text for c in chunks) == text


def test_a_word_longer_than_size_is_cut_hard() -> None:
    chunks = chunk_pages([page(1, "a" * 25)], size=10, overlap=0)

    assert [c.text for c in chunks] == ["a" * 10, "a" * 10, "a" * 5]


def test_consecutive_chunks_share_an_overlap_that_starts_at_a_word() -> None:
    chunks = chunk_pages([page(1, sentences(30))], size=200, overlap=50)

    assert len(chunks) > 3
    for before, after in zip(chunks, chunks[1:], strict=False):
        edge = shared_edge(before.text, after.text)
        assert 10 < len(edge) <= 50
        assert before.text[-len(edge) - 1] == " "  # the overlap begins at a word


def test_without_overlap_the_chunks_put_back_together_give_the_text() -> None:
    text = sentences(30)

    chunks = chunk_pages([page(1, text)], size=150, overlap=0)

    assert " ".join(c.text for c in chunks) == text


def test_each_chunk_has_the_page_it_starts_on() -> None:
    pages = [page(1, sentences(6)), page(2, sentences(12, 6)), page(5, sentences(15, 12))]

    chunks = chunk_pages(pages, size=120, overlap=40)

    for chunk in chunks:
        number = next(n for n in (1, 2, 5) if chunk.text in pages[(1, 2, 5).index(n)].text)
        assert chunk.page == number
    assert {c.page for c in chunks} == {1, 2, 5}


def test_overlap_does_not_carry_text_over_a_page_boundary() -> None:
    pages = [page(1, sentences(5)), page(2, sentences(10, 5))]

    chunks = chunk_pages(pages, size=100, overlap=60)

    first_on_two = next(c for c in chunks if c.page == 2)
    assert first_on_two.text.startswith("Sentence number 5 ")


def test_small_pages_are_packed_into_one_chunk_that_starts_on_the_first() -> None:
    chunks = chunk_pages([page(1, "One."), page(2, "Two."), page(3, "Three.")], 100, 10)

    assert [(c.page, c.text) for c in chunks] == [(1, "One.\n\nTwo.\n\nThree.")]


def test_empty_pages_give_no_chunks() -> None:
    assert chunk_pages([], size=10, overlap=0) == []
    assert chunk_pages([page(1, ""), page(2, " \n\n ")], size=10, overlap=0) == []


def test_the_same_input_gives_the_same_chunks() -> None:
    pages = [page(1, sentences(50)), page(2, "word " * 300)]

    assert chunk_pages(pages, 128, 32) == chunk_pages(pages, 128, 32)


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (-5, 0), (10, 10), (10, 11), (10, -1)])
def test_size_and_overlap_are_validated(size: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_pages([page(1, "text")], size=size, overlap=overlap)


def test_size_one_cuts_every_visible_character() -> None:
    chunks = chunk_pages([page(1, "a b\nc")], size=1, overlap=0)

    assert [c.text for c in chunks] == ["a", "b", "c"]
