"""Vectors stored by the version before partitions (one Chroma collection per embedding
model) answer after the upgrade: the first use of the index after a start moves them into
their partitions. On the embedded default and on PostgreSQL with a Chroma server."""

# ruff: noqa: F811  (the backend fixtures are imported, then named as parameters)

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from application.ports import IndexedChunk
from infrastructure.settings import Settings
from infrastructure.vector_index import OWNER, OWNER_KEY, OWNER_V1, TEXT_KEY
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
        assert index.upgrade_layout() == 0  # nothing left to move
