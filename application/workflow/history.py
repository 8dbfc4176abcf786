"""A stack's history as people read it, and comparisons of any two of its versions.

Read from the event store itself. A history is one replay of the workflow's events, each
described from the state just before it, so a stack with thousands of changes costs one
pass, not one load per entry. Its documents' events (uploads, indexing, removals) are woven
in by time.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application.eventlog.log import EventLog
from application.workflow.describe import (
    FieldChange,
    delta_changes,
    edge_change,
    humanize,
    names_in,
    names_of,
    node_changes,
    quoted,
    step_summary,
    summary,
    version_label,
)
from application.workflow.views import ChangeCategory, HistoryEntry
from domain.changes import Delta, EdgeChange, Graph, NodeChange, diff
from domain.errors import NotFound
from domain.knowledge_base import IndexSettings
from domain.undo import Step
from domain.workflow import PublishedVersion, Workflow

CATEGORIES = {
    "WorkflowCreated": ChangeCategory.STRUCTURE,
    "NodeAdded": ChangeCategory.STRUCTURE,
    "NodeRemoved": ChangeCategory.STRUCTURE,
    "NodesConnected": ChangeCategory.STRUCTURE,
    "NodesDisconnected": ChangeCategory.STRUCTURE,
    "GraphImported": ChangeCategory.STRUCTURE,
    "WorkflowDeleted": ChangeCategory.STRUCTURE,
    "NodeConfigured": ChangeCategory.SETTINGS,
    "NodeRelabelled": ChangeCategory.SETTINGS,
    "WorkflowRenamed": ChangeCategory.SETTINGS,
    "WorkflowDescribed": ChangeCategory.SETTINGS,
    "NodeMoved": ChangeCategory.LAYOUT,
    "WorkflowPublished": ChangeCategory.VERSIONS,
    "WorkflowRolledBack": ChangeCategory.VERSIONS,
}
UNDO_TYPES = ("ChangeUndone", "ChangeRedone")


@dataclass(frozen=True)
class Described:
    delta: Delta
    summary: str
    changes: tuple[FieldChange, ...]
    category: ChangeCategory


def describe(
    wf: Workflow | None,
    event: Any,
    names: Mapping[str, str],
    undone: tuple[str, ChangeCategory] | None = None,
) -> Described:
    """One workflow event in words, from the workflow as it stood just before it. An undo or
    redo names the change it takes back: `undone` when the caller knows how it was described,
    else as the actor's undo stack holds it."""
    kind = type(event).__name__
    delta = wf.delta_of(event) if wf is not None else Delta()
    names = {**names, **names_in(delta)}
    about: dict[str, Any] = {}
    category = CATEGORIES.get(kind, ChangeCategory.STRUCTURE)
    if hasattr(event, "node_id"):
        about["node"] = names.get(event.node_id)
    if kind == "WorkflowCreated":
        about["name"] = event.name
    elif kind == "WorkflowPublished":
        about.update(number=event.number, note=event.note)
    elif kind == "WorkflowRolledBack" and wf is not None:
        about["target"] = version_label(event.to_version, wf.published)
    elif kind in UNDO_TYPES and wf is not None:
        about["undone"], category = undone or _from_stack(wf, event, names)
    return Described(
        delta,
        summary(kind, delta, names, about),
        tuple(delta_changes(delta, names)),
        category,
    )


def _from_stack(wf: Workflow, event: Any, names: Mapping[str, str]) -> tuple[str, ChangeCategory]:
    stacks = wf.undo_steps if type(event).__name__ == "ChangeUndone" else wf.redo_steps
    for data in reversed(stacks.get(event.actor, [])):
        if data["version"] == event.change:
            step = Step.from_dict(data)
            category = CATEGORIES.get(step.type, ChangeCategory.STRUCTURE)
            return step_summary(step, names, wf.published), category
    return f"change {event.change}", ChangeCategory.STRUCTURE


def replay(events: Iterable[Any], names: dict[str, str] | None = None) -> list[HistoryEntry]:
    """Every event of one workflow, oldest first, each described, in one pass. `names` is
    filled with every node's last known label, removed ones too."""
    entries: list[HistoryEntry] = []
    said: dict[int, tuple[str, ChangeCategory]] = {}  # each change as its entry said it
    undone: set[int] = set()
    names = {} if names is None else names
    wf: Workflow | None = None
    for event in events:
        kind = type(event).__name__
        taken_back = said.get(event.change) if kind in UNDO_TYPES else None
        words = describe(wf, event, names, taken_back)
        names.update(names_in(words.delta))
        if kind in UNDO_TYPES:
            (undone.add if kind == "ChangeUndone" else undone.discard)(event.change)
        wf = event.mutate(wf)
        assert isinstance(wf, Workflow)
        said[wf.version] = (words.summary, words.category)
        entries.append(entry_of(event, words, wf))
    return [replace(e, undone=True) if e.version in undone else e for e in entries]


def entry_of(event: Any, words: Described, after: Workflow) -> HistoryEntry:
    return HistoryEntry(
        workflow_id=event.originator_id,
        version=event.originator_version,
        type=type(event).__name__,
        timestamp=event.timestamp,
        actor=getattr(event, "actor", None),
        event=event,
        summary=words.summary,
        changes=words.changes,
        category=words.category,
        published=len(after.published) or None,
    )


# ---------------------------------------------------------------- documents


def document_entries(
    events: Sequence[Any], names: Mapping[str, str], changes: Sequence[HistoryEntry]
) -> list[HistoryEntry]:
    """One document's events in words, each placed at the workflow change then current."""
    if not events:
        return []
    first = events[0]
    filename = quoted(str(getattr(first, "filename", "a document")))
    node = names.get(getattr(first, "node_id", ""), "the knowledge base")
    times = list(itertools.accumulate((c.timestamp for c in changes), max))
    entries = []
    asked = _Asked()
    for event in events:
        which = asked.which(event)
        if type(event).__name__ in UNTOLD:
            continue
        at = max(bisect.bisect_right(times, event.timestamp) - 1, 0)
        current = changes[at] if changes else None
        entries.append(
            HistoryEntry(
                workflow_id=first.workflow_id,
                version=current.version if current else 0,
                type=type(event).__name__,
                timestamp=event.timestamp,
                actor=getattr(event, "actor", None),
                event=event,
                filename=first.filename,
                summary=document_summary(event, filename, node, which),
                category=ChangeCategory.DOCUMENTS,
                published=current.published if current else None,
                document_id=event.originator_id,
                document_version=event.originator_version,
            )
        )
    return entries


# What a document records for its own bookkeeping, and the workflow's entries already tell.
UNTOLD = {"DocumentSettingsChanged"}


class _Asked:
    """Which settings a document's knowledge base asks for, in the draft and in the published
    version, as its events go: an index (a generation) is then said to be the draft's or the
    published version's when the two differ."""

    def __init__(self) -> None:
        self.draft: str | None = None
        self.published: str | None = None

    def which(self, event: Any) -> str:
        d = event.__dict__
        match type(event).__name__:
            case "DocumentUploaded":
                self.draft = _key(d["settings"])
            case "DocumentSettingsChanged":
                self.draft, self.published = _key(d["draft"]), _key(d["published"])
        key = _key(d["settings"]) if "settings" in d else d.get("key")
        if key is None or self.published is None or self.draft == self.published:
            return ""
        if key == self.published:
            return " for the published version"
        return " for the draft" if key == self.draft else ""


def _key(settings: Mapping[str, Any] | None) -> str | None:
    return None if settings is None else IndexSettings.from_dict(settings).key


def document_summary(event: Any, filename: str, node: str, which: str = "") -> str:
    """A document event in words; a kind of event this code does not know reads by its name.
    `which` says whose index it is, when the draft and the published version differ."""
    d = event.__dict__
    reason = f" ({d['reason']})" if d.get("reason") else ""
    match type(event).__name__:
        case "DocumentUploaded":
            return f"Uploaded {filename} to {node}"
        case "DocumentIndexed":
            pages, passages = d.get("page_count"), d.get("chunk_count")
            counts = f"{_plural(pages, 'page')}, {_plural(passages, 'passage')}"
            return f"Indexed {filename}{which}: {counts}"
        case "DocumentFailed":
            return f"Couldn't index {filename}{which}: {d.get('reason') or 'no reason given'}"
        case "DocumentIndexRequested":
            return f"Indexing {filename}{which}{reason}"
        case "DocumentReindexRequested":
            return f"Indexing {filename} again{reason}"
        case "DocumentIndexDropped":
            return f"Dropped an index of {filename} no version uses{reason}"
        case "DocumentRemoved":
            return f"Removed {filename}"
    name = type(event).__name__
    words = humanize(name.removeprefix("Document") or name)
    return f"{words}: {filename}"


def _plural(n: Any, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def woven(changes: list[HistoryEntry], documents: Iterable[HistoryEntry]) -> list[HistoryEntry]:
    """The workflow's changes with the documents' events, in the order they happened."""
    return sorted([*changes, *documents], key=lambda e: (e.timestamp, e.document_id is not None))


# ---------------------------------------------------------------- comparing two versions


@dataclass(frozen=True)
class NodeDiff:
    status: str  # ADDED, REMOVED or CHANGED
    change: NodeChange
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True)
class EdgeDiff:
    status: str
    change: EdgeChange
    line: FieldChange


@dataclass(frozen=True)
class Comparison:
    from_version: int
    to_version: int
    from_label: str
    to_label: str
    delta: Delta
    nodes: tuple[NodeDiff, ...]
    edges: tuple[EdgeDiff, ...]
    stack: tuple[FieldChange, ...]


def compare(old: Workflow, new: Workflow, published: Sequence[PublishedVersion]) -> Comparison:
    """Field by field, what differs from `old` to `new` (either may be the later one)."""
    delta = diff(_graph(old), _graph(new))
    names = {**names_of(old.nodes), **names_of(new.nodes)}
    stack = [c for c in delta_changes(Delta(name=delta.name, description=delta.description), {})]
    return Comparison(
        from_version=old.version,
        to_version=new.version,
        from_label=version_label(old.version, published),
        to_label=version_label(new.version, published),
        delta=delta,
        nodes=tuple(
            NodeDiff(_status(c.before, c.after), c, tuple(node_changes(c, every_field=True)))
            for c in delta.nodes
        ),
        edges=tuple(
            EdgeDiff(_status(c.before, c.after), c, edge_change(c, names)) for c in delta.edges
        ),
        stack=tuple(stack),
    )


def _status(before: object, after: object) -> str:
    return "ADDED" if before is None else "REMOVED" if after is None else "CHANGED"


def _graph(wf: Workflow) -> Graph:
    return Graph(dict(wf.nodes), dict(wf.edges), wf.name, wf.description)


class HistoryService:
    """The audit reads: a stack's history, and comparisons of two of its versions."""

    def __init__(
        self,
        store: EventLog,
        documents_of: Callable[[UUID], list[UUID]] = lambda _: [],
    ) -> None:
        """`documents_of` names a workflow's documents, removed ones included."""
        self.store, self.documents_of = store, documents_of

    def history(self, wid: UUID, with_documents: bool = False) -> list[HistoryEntry]:
        events = list(self.store.events.get(wid))
        if not events or not isinstance(events[0], Workflow.Event):
            raise NotFound(f"there is no workflow {wid}")
        names: dict[str, str] = {}
        changes = replay(events, names)
        if not with_documents:
            return changes
        documents = [
            entry
            for doc_id in self.documents_of(wid)
            for entry in document_entries(list(self.store.events.get(doc_id)), names, changes)
        ]
        return woven(changes, documents)

    def compare(self, wid: UUID, from_version: int, to_version: int) -> Comparison:
        current = self._at(wid, None)
        for v in (from_version, to_version):
            if not 1 <= v <= current.version:
                raise NotFound(f"the workflow has versions 1 to {current.version}, not {v}")
        old, new = self._at(wid, from_version), self._at(wid, to_version)
        return compare(old, new, current.published)

    def _at(self, wid: UUID, version: int | None) -> Workflow:
        try:
            wf: Any = self.store.repository.get(wid, version=version)
        except AggregateNotFoundError:
            raise NotFound(f"there is no workflow {wid}") from None
        if not isinstance(wf, Workflow):
            raise NotFound(f"there is no workflow {wid}")
        return wf
