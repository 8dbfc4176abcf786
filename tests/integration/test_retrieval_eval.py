"""The retrieval evaluation set (bench/eval/retrieval.json): well-formed, and the retrieval
it measures finds the answering passage among the first three often enough."""

from __future__ import annotations

import dataclasses

import pytest

from bench import retrieval

LOCAL_HIT_AT_3_FLOOR = 0.8
LOCAL_ANSWERED_FLOOR = 0.7
WORDS_HIT_AT_3_FLOOR = 0.4


def test_the_evaluation_set_is_well_formed() -> None:
    evalset = retrieval.load()

    assert retrieval.problems(evalset) == []
    assert {q.document for q in evalset.questions} == {d["filename"] for d in evalset.documents}


def test_a_question_whose_answer_is_not_on_its_page_is_reported() -> None:
    evalset = retrieval.load()
    first = evalset.questions[0]
    moved = dataclasses.replace(first, page=first.page + 1)
    broken = retrieval.EvalSet(evalset.documents, [moved, *evalset.questions[1:], moved])

    found = retrieval.problems(broken)

    assert "question ids repeat" in found
    assert any(p.startswith(f"{first.id}: answer found on") for p in found)


def test_words_alone_find_some_answers_in_the_first_three() -> None:
    scores = retrieval.evaluate(retrieval.load(), retrieval.WordsEmbedder(), top_k=5)

    assert scores["questions"] == len(retrieval.load().questions)
    assert 0 <= scores["hit_at_1"] <= scores["hit_at_3"] <= 1
    assert scores["hit_at_3"] >= WORDS_HIT_AT_3_FLOOR


@pytest.mark.slow
def test_the_local_model_finds_the_answer_in_the_first_three_and_the_answer_quotes_it() -> None:
    from infrastructure.embedders.local import LocalEmbedder

    scores = retrieval.evaluate(retrieval.load(), LocalEmbedder(), top_k=5)

    assert scores["hit_at_3"] >= LOCAL_HIT_AT_3_FLOOR, scores
    assert scores["mrr"] >= scores["hit_at_1"]
    assert scores["extractive_answered"] >= LOCAL_ANSWERED_FLOOR, scores
