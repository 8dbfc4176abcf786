"""Retrieval evaluation: how often the passage that answers a question is retrieved.

    python -m bench.retrieval [--top-k 5] [--embedder local|words|both]

Prints JSON. The evaluation set (`bench/eval/retrieval.json`) holds questions, each with
the document, page and words of the passage that answers it, over PDFs that the tests'
helpers draw (`tests/pdfs.py`). Each document goes through the real ingestion pipeline
(pypdf extraction, the chunker at the Knowledge Base's default settings, the embedder, an
embedded Chroma in a temporary directory); each question is embedded and the index queried
for `--top-k` passages. A passage answers when it is of the right document and holds the
answer's words. Reported per embedder: `hit_at_1`, `hit_at_3` (share of questions answered
by the first, or one of the first three, passages), `mrr` (mean of 1/rank, 0 past top-k),
`extractive_answered`: the share of questions whose offline (extractive) answer, built from
the retrieved passages with the same embedder weighing the sentences, quotes the answer's
words, and `extractive_sentences_per_answer` (fewer is a more precise answer).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from application.document.chunk_layout import partition, passage_of
from application.document.ingestion import index_document
from application.ports import Embedder
from domain.document import DocumentIndex
from domain.node_settings import IndexSettings
from infrastructure.chunking import chunk_pages
from infrastructure.llm.extractive import compose
from infrastructure.pdf import extract_pages
from infrastructure.vector_index import ChromaVectorIndex

EVAL_FILE = Path(__file__).parent / "eval" / "retrieval.json"
WORKFLOW = "eval"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    document: str
    page: int
    answer: str  # words of the passage that answers it, as the PDF prints them


@dataclass(frozen=True)
class EvalSet:
    documents: list[dict[str, Any]]
    questions: list[Question]


def load(path: Path = EVAL_FILE) -> EvalSet:
    data = json.loads(path.read_text(encoding="utf-8"))
    return EvalSet(data["documents"], [Question(**q) for q in data["questions"]])


def draw(document: dict[str, Any]) -> bytes:
    """The PDF of one document of the set, drawn by the tests' helpers."""
    from tests import pdfs

    if document["drawn_by"] == "multi_page_pdf":
        return pdfs.multi_page_pdf(10)
    if document["drawn_by"] == "pages_pdf":
        return pdfs.pages_pdf([(p["title"], p["paragraphs"]) for p in document["pages"]])
    raise ValueError(f"unknown drawing {document['drawn_by']!r}")


def flat(text: str) -> str:
    return " ".join(text.split())


def problems(evalset: EvalSet) -> list[str]:
    """What is wrong with the set: ids, sizes, and answers that are not on their page alone."""
    found: list[str] = []
    ids = [q.id for q in evalset.questions]
    if len(set(ids)) != len(ids):
        found.append("question ids repeat")
    if not 20 <= len(ids) <= 40:
        found.append(f"{len(ids)} questions: keep 20 to 40")
    pages = {
        d["filename"]: [flat(p.text) for p in extract_pages(io.BytesIO(draw(d)))]
        for d in evalset.documents
    }
    for q in evalset.questions:
        if not q.question.strip() or not q.answer.strip():
            found.append(f"{q.id}: empty question or answer")
            continue
        if q.document not in pages:
            found.append(f"{q.id}: no document {q.document!r}")
            continue
        where = [
            (name, number)
            for name, texts in pages.items()
            for number, text in enumerate(texts, start=1)
            if flat(q.answer) in text
        ]
        if where != [(q.document, q.page)]:
            found.append(f"{q.id}: answer found on {where}, expected {(q.document, q.page)}")
    return found


def evaluate(evalset: EvalSet, embedder: Embedder, top_k: int = 5) -> dict[str, Any]:
    settings = IndexSettings.of_node({})
    ranks: dict[str, int | None] = {}
    answered, sentences = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        index = ChromaVectorIndex.embedded(Path(tmp) / "chroma")
        for document in evalset.documents:
            index_document(
                io.BytesIO(draw(document)),
                document_id=document["filename"],
                metadata={
                    "workflow_id": WORKFLOW,
                    "node_id": "kb",
                    "filename": document["filename"],
                },
                generation=DocumentIndex(settings, request=1),
                extract=extract_pages,
                chunk=chunk_pages,
                embedder=embedder,
                index=index,
            )
        own = partition(embedder.model_id, WORKFLOW, "kb", settings.key)
        vectors = embedder.embed([q.question for q in evalset.questions])
        for q, vector in zip(evalset.questions, vectors, strict=True):
            hits = index.query(own, vector, top_k, {})
            passages = [passage_of(hit) for hit in hits]
            ranks[q.id] = next(
                (
                    rank
                    for rank, p in enumerate(passages, start=1)
                    if p.document_id == q.document and flat(q.answer) in flat(p.text)
                ),
                None,
            )
            answer = compose(q.question, passages, embed=embedder.embed).text
            answered += flat(q.answer) in flat(answer.replace("\\", ""))
            sentences += len(re.findall(r" \[\d+\]", answer))
    return {
        **_scores(ranks, answered, embedder.model_id, top_k),
        "extractive_sentences_per_answer": round(sentences / len(ranks), 2),
    }


def _scores(ranks: dict[str, int | None], answered: int, model: str, top_k: int) -> dict[str, Any]:
    count = len(ranks)

    def share(k: int) -> float:
        return round(sum(1 for r in ranks.values() if r is not None and r <= k) / count, 4)

    return {
        "model": model,
        "questions": count,
        "top_k": top_k,
        "hit_at_1": share(1),
        "hit_at_3": share(3),
        "mrr": round(sum(1 / r for r in ranks.values() if r) / count, 4),
        "extractive_answered": round(answered / count, 4),
        "missed_at_3": sorted(q for q, r in ranks.items() if r is None or r > 3),
    }


class WordsEmbedder:
    """A bag of hashed words (the tests' fake embedding): the lexical baseline."""

    model_id = "words/hashed-bag-256"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        from tests.fakes.embedding import hashed_embedding

        return [hashed_embedding(text, 256) for text in texts]


def run(embedders: Sequence[str], top_k: int) -> dict[str, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    evalset = load()
    wrong = problems(evalset)
    if wrong:
        raise SystemExit("the evaluation set is not well-formed: " + "; ".join(wrong))
    results: dict[str, Any] = {}
    for name in embedders:
        if name == "local":
            from infrastructure.embedders.local import LocalEmbedder

            results[name] = evaluate(evalset, LocalEmbedder(), top_k)
        else:
            results[name] = evaluate(evalset, WordsEmbedder(), top_k)
    return {"benchmark": "retrieval", "eval_set": str(EVAL_FILE.name), **results}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__)
    parser.add_argument("--top-k", type=int, default=5, help="passages retrieved per question")
    parser.add_argument("--embedder", choices=["local", "words", "both"], default="both")
    args = parser.parse_args(argv)
    chosen = ["local", "words"] if args.embedder == "both" else [args.embedder]
    print(json.dumps(run(chosen, args.top_k), indent=2))


if __name__ == "__main__":
    main()
