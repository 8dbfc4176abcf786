"""`python -m bench`: every benchmark, one JSON document per line of output."""

from __future__ import annotations

from bench import chat, ingestion, retrieval, scale, workers

if __name__ == "__main__":
    ingestion.main([])
    chat.main([])
    retrieval.main([])
    workers.main([])
    scale.main([])
