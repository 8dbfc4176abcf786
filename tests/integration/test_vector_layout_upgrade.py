"""Vectors stored by the version before partitions (one Chroma collection per embedding
model) answer after the upgrade: the first use of the index after a start moves them into
their partitions. On the embedded default and on PostgreSQL with a Chroma server."""

# ruff: noqa: F811  (the backend fixtures are imported, then named as parameters)

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from application.ports import IndexedChunk
from infrastructure.settings import Settings
from infrastructure.vector_index import OWNER, OWNER_KEY, OWNER_V1, TEXT_KEY, ChromaVectorIndex
from interfaces.app import create_app
from tests import pdfs
from tests.integration.documents_client import (  # noqa: F401  (fixtures)
    add_knowledge_base,
    new_workflow,
    retrieve,
    services,
    settings,
    settle,
    upload,
    vectors,
    wait_for_status,
)
from tests.integration.gql import GQL
from tests.integration.legacy_documents import write_old_layout
from tests.integration.servers import GENAI_STACK

ROOT = Path(__file__).resolve().parents[2]
LOCAL_MODEL = "local/all-MiniLM-L6-v2"
QUESTION = "How tall is the Skerryvore lighthouse?"


def to_old_layout(index: Any) -> int:
    """Lays the index out as the version before partitions did: every partition's chunks in
    their model's collection, and no partitions; how many chunks."""
    client, moved = index._client, 0
    for listed in client.list_collections():
        meta = listed.metadata or {}
        if meta.get(OWNER_KEY) != OWNER:
            continue
        stored = client.get_collection(listed.name, embedding_function=None).get(
            include=["embeddings", "metadatas"]
        )
        chunks = []
        for id_, embedding, metadata in zip(
            stored["ids"], stored["embeddings"], stored["metadatas"], strict=True
        ):
            data = dict(metadata)
            text = str(data.pop(TEXT_KEY))
            chunks.append(IndexedChunk(id_, text, [float(v) for v in embedding], data))
        write_old_layout(index, str(meta["model_id"]), chunks)
        client.delete_collection(listed.name)
        moved += len(chunks)
    return moved


def owners(index: Any) -> list[str]:
    return sorted(str((c.metadata or {}).get(OWNER_KEY)) for c in index._client.list_collections())


def test_vectors_in_the_old_layout_answer_after_a_restart(settings: Settings) -> None:
    with TestClient(create_app(settings)) as first:
        gql = GQL(first)
        wid = new_workflow(gql)
        add_knowledge_base(gql, wid)
        doc = upload(first, wid, pdfs.multi_page_pdf(3))["id"]
        assert wait_for_status(gql, doc, timeout=300)["status"] == "INDEXED"
        settle(first)
        before = [(p.document_id, p.page, p.text) for p in retrieve(first, wid, QUESTION, 3)]
        assert before
        stored = vectors(first, LOCAL_MODEL, doc)
        assert to_old_layout(services(first).index) == stored
        assert owners(services(first).index) == [OWNER_V1]

    with TestClient(create_app(settings)) as second:  # the new version starts
        after = [(p.document_id, p.page, p.text) for p in retrieve(second, wid, QUESTION, 3)]

        assert after == before
        index = services(second).index
        assert owners(index) == [OWNER]
        assert vectors(second, LOCAL_MODEL, doc) == stored
        assert index.upgrade_layout() == stored  # moved when it opened
        assert index.upgrade_layout() == 0  # nothing left to move


def _env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "GENAI_DATA_DIR": str(settings.genai_data_dir),
        **({"DATABASE_URL": settings.database_url} if settings.database_url else {}),
        **({"CHROMA_URL": settings.chroma_url} if settings.chroma_url else {}),
    }


def _genai_stack(settings: Settings, *args: str) -> str:
    done = subprocess.run(
        [GENAI_STACK, *args], env=_env(settings), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


COUNT = """
import json, sys
from application.ports import Partition
from infrastructure.vector_index import ChromaVectorIndex
url, path, parts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
index = ChromaVectorIndex.remote(url) if url else ChromaVectorIndex.embedded(path)
print(json.dumps([index.count(Partition(*p), {}) for p in parts]))
"""


def test_the_upgrade_command_moves_the_old_layout_ahead_of_the_first_question(
    settings: Settings,
) -> None:
    path = settings.data_dir() / "chroma"

    def keyed(document: str, node: str, number: int) -> IndexedChunk:
        return IndexedChunk(
            id=f"{document}:k1:{number}",
            text=f"text {number}",
            embedding=[1.0, float(number), 0.5],
            metadata={
                "workflow_id": "w1",
                "node_id": node,
                "document_id": document,
                "chunk": number,
                "index_key": "k1",
                "keyed": True,
            },
        )

    # as the version before partitions left them, with no server running
    old = ChromaVectorIndex.remote(settings.chroma_url) if settings.chroma_url else None
    if old is None:
        old = ChromaVectorIndex.embedded(path)
    write_old_layout(old, LOCAL_MODEL, [keyed("d1", "kb", 0), keyed("d1", "kb", 1)])
    write_old_layout(old, LOCAL_MODEL, [keyed("d2", "kb2", 0)])
    del old

    assert "vectors: 3 moved" in _genai_stack(settings, "vectors", "upgrade")
    assert "vectors: 0 moved" in _genai_stack(settings, "vectors", "upgrade")

    parts = [[LOCAL_MODEL, "w1", node, "k1"] for node in ("kb", "kb2", "kb3")]
    counted = subprocess.run(
        [sys.executable, "-c", COUNT, settings.chroma_url or "", str(path), json.dumps(parts)],
        env={**_env(settings), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert counted.returncode == 0, counted.stderr
    assert json.loads(counted.stdout.strip().splitlines()[-1]) == [2, 1, 0]
