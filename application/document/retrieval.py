"""Retrieval for knowledge bases: the passages of a node's documents closest to a question
(the `Retriever` port the workflow engine asks)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.document.chunk_layout import (
    closest_answering,
    document_of,
    partition,
    passage_of,
)
from application.document.embedders import Embedders
from application.document.handlers import DocumentService
from application.document.views import DocumentReadModel
from application.ports import Passage, VectorIndex
from application.workflow.handlers import WorkflowService
from domain.graph import Node
from domain.knowledge_base import answering_settings


class Retrieval:
    def __init__(
        self,
        documents: DocumentService,
        workflows: WorkflowService,
        read_model: DocumentReadModel,
        embedders: Embedders,
        index: VectorIndex,
    ) -> None:
        self.documents, self.workflows, self.read_model = documents, workflows, read_model
        self.embedders, self.index = embedders, index

    def retrieve(
        self,
        workflow_id: UUID,
        node: Node,
        query: str,
        top_k: int,
        where: dict[str, Any] | None = None,
    ) -> list[Passage]:
        """The `top_k` passages of the node's documents closest to `query`, closest first.
        `node` is the Knowledge Base being run, as the published version (or the draft, for
        a preview) has it: its settings choose the generation, so a published version
        answers from its own until a Build publishes others. `where` narrows by metadata
        (`{"page": {"$gte": 4}}`, `{"filename": "a.pdf"}`).

        Only documents whose generation is complete are asked (never a half-indexed one).
        The read table may lag behind the log: a document it still lists is checked against
        the log before its passages are given, so that one removed a moment ago is never
        quoted."""
        if top_k <= 0 or not query.strip():
            return []
        settings = answering_settings(self.workflows.load(workflow_id), node)
        candidates = self.read_model.indexed(workflow_id, node.id, settings.key)
        if not candidates:
            return []
        embedder = self.embedders.for_settings(settings)
        vector = embedder.embed([query])[0]
        own = partition(embedder.model_id, workflow_id, node.id, settings.key)
        while candidates:
            hits = closest_answering(self.index, own, vector, top_k, candidates, where)
            quoted = {document_of(h) for h in hits}
            gone = quoted - self._still_answering(quoted, settings.key)
            if not gone:
                return [passage_of(h) for h in hits]
            candidates = [(d, i) for d, i in candidates if str(d) not in gone]
        return []

    def _still_answering(self, document_ids: set[str], key: str) -> set[str]:
        """Those of the documents whose generation `key` the log says is complete (the read
        table said so, but it may lag behind a removal or a drop)."""
        answering = set()
        for document_id in document_ids:
            doc = self.documents.load(UUID(document_id))
            index = None if doc is None or doc.removed else doc.indexes.get(key)
            if index is not None and index.complete:
                answering.add(document_id)
        return answering
