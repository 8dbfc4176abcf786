"""Ingestion benchmark: a PDF of 100+ pages through extract → chunk → embed → index.

    python -m bench.ingestion [--pages 120] [--runs 3]

Prints JSON. Two runs of the same pipeline (application.document.ingestion.index_document, with the
real pypdf extraction, chunker and embedded Chroma): with the local all-MiniLM-L6-v2, to
see the share of the time that is not embedding (goal: under 15 %), and with a zero-delay
OpenAI-compatible fake embedder, compared with pypdf's own extraction of the same file
measured in the same run (goal: under 1.3×). Each figure is the median of `--runs` runs.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from application.document.ingestion import IngestionReport, index_document
from application.ports import Embedder
from domain.document import DocumentIndex
from domain.knowledge_base import IndexSettings
from infrastructure.chunking import chunk_pages
from infrastructure.pdf import extract_pages
from infrastructure.vector_index import ChromaVectorIndex

GOAL_NON_EMBEDDING_SHARE = 0.15
GOAL_FAKE_TO_PYPDF = 1.3
SETTINGS = IndexSettings("local", "all-MiniLM-L6-v2", chunk_size=1000, chunk_overlap=150)


def pypdf_extraction_seconds(data: bytes) -> float:
    """pypdf by itself: open the file and extract every page's text, nothing more."""
    from pypdf import PdfReader

    started = time.perf_counter()
    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages:
        page.extract_text()
    return time.perf_counter() - started


def pipeline(
    data: bytes, embedder: Embedder, index: ChromaVectorIndex, run: int
) -> IngestionReport:
    return index_document(
        io.BytesIO(data),
        document_id=f"bench-{run}",
        metadata={"workflow_id": "bench", "node_id": "kb", "filename": "bench.pdf"},
        generation=DocumentIndex(SETTINGS, request=1),
        extract=extract_pages,
        chunk=chunk_pages,
        embedder=embedder,
        index=index,
    )


def median_report(runs: list[IngestionReport]) -> dict[str, Any]:
    def mid(get: Callable[[IngestionReport], float]) -> float:
        return round(statistics.median(get(r) for r in runs), 4)

    total = mid(lambda r: r.total_seconds)
    embed = mid(lambda r: r.embed_seconds)
    return {
        "model": runs[0].model_id,
        "pages": runs[0].pages,
        "chunks": runs[0].chunks,
        "seconds": {
            "extract": mid(lambda r: r.extract_seconds),
            "chunk": mid(lambda r: r.chunk_seconds),
            "embed": embed,
            "index": mid(lambda r: r.index_seconds),
            "total": total,
        },
        "pages_per_second": round(runs[0].pages / total, 2),
        "non_embedding_share": round(
            statistics.median(1 - r.embed_seconds / r.total_seconds for r in runs), 4
        ),
    }


def run(pages: int, runs: int) -> dict[str, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from infrastructure.embedders.local import LocalEmbedder
    from infrastructure.embedders.openai import OpenAIEmbedder
    from tests.fakes import FakeOpenAIServer
    from tests.pdfs import large_pdf

    data = large_pdf(pages)
    local = LocalEmbedder()
    started = time.perf_counter()
    local.load()
    load_seconds = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() as fake:
        # one index for all runs, as a server keeps one: its collections then exist
        index = ChromaVectorIndex.embedded(Path(tmp) / "chroma")
        remote = OpenAIEmbedder(None, "text-embedding-3-small", fake.base_url)
        local_runs = [pipeline(data, local, index, n) for n in range(runs)]
        # each fake run right after its own pypdf baseline: the machine's load drifts
        baseline: list[float] = []
        fake_runs: list[IngestionReport] = []
        for n in range(runs):
            baseline.append(pypdf_extraction_seconds(data))
            fake_runs.append(pipeline(data, remote, index, n))
        fake_dimensions = len(remote.embed(["dimensions"])[0])

    local_result = median_report(local_runs)
    fake_result = median_report(fake_runs)
    pypdf_seconds = statistics.median(baseline)
    ratios = [r.total_seconds / b for r, b in zip(fake_runs, baseline, strict=True)]
    extract_ratios = [r.extract_seconds / b for r, b in zip(fake_runs, baseline, strict=True)]
    ratio = statistics.median(ratios)
    return {
        "benchmark": "ingestion",
        "pdf": {"pages": pages, "bytes": len(data)},
        "runs": runs,
        "pypdf_extract_seconds": round(pypdf_seconds, 4),
        "local": {
            **local_result,
            "model_load_seconds": round(load_seconds, 3),
            "goal_non_embedding_share_below": GOAL_NON_EMBEDDING_SHARE,
            "meets_goal": local_result["non_embedding_share"] < GOAL_NON_EMBEDDING_SHARE,
        },
        "fake_openai": {
            **fake_result,
            "embedding_dimensions": fake_dimensions,
            "ratio_to_pypdf_extract": round(ratio, 3),
            "extract_ratio_to_pypdf_extract": round(statistics.median(extract_ratios), 3),
            "goal_ratio_below": GOAL_FAKE_TO_PYPDF,
            "meets_goal": ratio < GOAL_FAKE_TO_PYPDF,
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingestion", description=__doc__)
    parser.add_argument("--pages", type=int, default=120, help="pages of the PDF (100+)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each; medians reported")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.pages, args.runs), indent=2))


if __name__ == "__main__":
    main()
