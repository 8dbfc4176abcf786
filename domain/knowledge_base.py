"""What a Knowledge Base asks of its documents: the settings that make an index generation,
and which generations the draft and the published versions answer from."""

from __future__ import annotations

from domain.components import NodeKind
from domain.graph import Node
from domain.node_settings import IndexSettings
from domain.workflow import Workflow

__all__ = ["IndexSettings", "answering_settings", "asked_settings"]


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
