"""What a Knowledge Base asks of its documents: the settings that make an index generation,
and which generations the draft and the published versions answer from."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from domain.components import COMPONENTS, NodeKind, is_secret_reference
from domain.graph import Node
from domain.workflow import Workflow

LOCAL_EMBEDDER = "local"
KEY_LENGTH = 12


@dataclass(frozen=True)
class IndexSettings:
    """How a knowledge base turns a document into vectors: its node's settings that matter."""

    embedder: str
    model: str  # "" means the provider's default model
    chunk_size: int
    chunk_overlap: int
    base_url: str | None = None
    api_key_ref: str | None = None

    @classmethod
    def of_node(cls, config: Mapping[str, Any]) -> IndexSettings:
        merged = {**COMPONENTS[NodeKind.KNOWLEDGE_BASE].defaults(), **config}
        embedder = str(merged["embedder"])
        model = str(merged.get("embeddingModel") or "")
        # The form's default model is the local one: a person who switches the embedder to
        # OpenAI or Gemini and leaves the model alone means that provider's default.
        if embedder != LOCAL_EMBEDDER and model == _default_model():
            model = ""
        key = merged.get("apiKey")
        return cls(
            embedder=embedder,
            model=model,
            chunk_size=int(merged["chunkSize"]),
            chunk_overlap=int(merged["chunkOverlap"]),
            base_url=merged.get("baseUrl") or None,
            api_key_ref=key["secretRef"]
            if isinstance(key, dict) and is_secret_reference(key)
            else None,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IndexSettings:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def same_vectors(self, other: IndexSettings) -> bool:
        """Whether both settings give the same chunks and vectors (the key changes neither)."""
        return self.key == other.key

    @property
    def key(self) -> str:
        """The index generation these settings make: a short fingerprint of all that decides
        the chunks and vectors (not the API key). Stored in vector ids and metadata, so it
        must never change for the same settings."""
        basis = [self.embedder, self.model, self.chunk_size, self.chunk_overlap, self.base_url]
        digest = hashlib.sha256(json.dumps(basis, separators=(",", ":")).encode())
        return digest.hexdigest()[:KEY_LENGTH]


def _default_model() -> str:
    schema = COMPONENTS[NodeKind.KNOWLEDGE_BASE].config_schema
    return str(schema["properties"]["embeddingModel"]["default"])


def asked_settings(
    workflow: Workflow, node_id: str
) -> tuple[IndexSettings | None, IndexSettings | None]:
    """What the documents of Knowledge Base `node_id` are indexed for: the node's settings in
    the draft, and in the newest published version that holds the node (None where absent).

    Only the newest published version keeps its generation: each generation is a whole copy
    of the vectors, so one per published version would grow without end. A chat pinned to an
    older published version whose settings have changed since answers from the newest one's
    generation (`answering_settings`): the same documents, chunked as the live assistant
    has them, rather than nothing."""
    if workflow.deleted:
        return None, None
    node = workflow.nodes.get(node_id)
    draft = _settings_of(node) if node is not None else None
    published = next(
        (
            _settings_of(n)
            for version in reversed(workflow.published)
            for n in version.nodes
            if n.id == node_id
        ),
        None,
    )
    return draft, published


def answering_settings(workflow: Workflow, node: Node) -> IndexSettings:
    """The generation that a run of `node` (as a published version or the draft has it)
    answers from: exactly its own settings' when the documents are kept indexed for them,
    else (an older published version) the newest published version's."""
    own = IndexSettings.of_node(node.config)
    draft, published = asked_settings(workflow, node.id)
    kept = [s for s in (draft, published) if s is not None]
    if not kept or any(s.key == own.key for s in kept):
        return own
    return published or kept[0]


def _settings_of(node: Node) -> IndexSettings | None:
    return IndexSettings.of_node(node.config) if node.kind == NodeKind.KNOWLEDGE_BASE else None
