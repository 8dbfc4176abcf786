"""The `audit_entries` read table (and `audit_stacks`): its projection and its queries.

One row per stored event of a workspace, written in words when the event is projected: a
stack's change as its history says it (described from the stack as it stood just before,
kept in a small cache as the `workflows` projection keeps it), a document's or a chat's event
with its stack, an access event of the workspace. Reads are indexed SQL over the rows.
A rebuild on PostgreSQL makes the chat events' rows in SQL instead, the same rows
(`rebuild_in_database`, `audit_rebuild.py`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from sqlalchemy import Connection, Engine, Row, insert, select, update

from application.eventlog.audit_log import (
    AuditFilter,
    AuditRecord,
    Subject,
    chat_summary,
    redact,
    workspace_summary,
)
from application.eventlog.log import EventLog
from application.workflow.describe import names_of, quoted
from application.workflow.history import UNTOLD, describe, document_summary
from domain.chat import ChatSession
from domain.document import Document
from domain.workflow import Workflow
from domain.workspace import DEFAULT_WORKSPACE, Workspace
from infrastructure.readmodel.bulk import insert_rows
from infrastructure.readmodel.tables import audit_entries, audit_stacks
from infrastructure.readmodel.tracking import SqlTrackingView
from infrastructure.readmodel.workflows import aware

CACHE_SIZE = 256
# a chat session's and a document's stack: small entries, kept for many so that a rebuild
# seldom reads a session's first event again
OWNERS_CACHE_SIZE = 100_000
MAX_NAME = 200


class AuditProjection(Projection[SqlTrackingView]):
    name = "audit_log"  # not "audit": that is the hash chain's lock
    tables = (audit_entries, audit_stacks)
    batched = True  # writes only through its view: a page of events is one transaction

    def __init__(self, view: SqlTrackingView, store: EventLog) -> None:
        super().__init__(view)
        self.store = store
        self._workflows: OrderedDict[UUID, Workflow] = OrderedDict()
        # a document's stack, file name and node name; a chat session's stack
        self._documents: OrderedDict[UUID, tuple[UUID, str, str]] = OrderedDict()
        self._chats: OrderedDict[UUID, UUID] = OrderedDict()
        # each stack's workspace and name as its audit_stacks row holds them (committed or
        # in the open transaction; forgotten with it)
        self._stacks: dict[UUID, tuple[UUID, str | None]] = {}
        # stacks with no row (their creation could not be applied), as the store has them
        # now: asked of the store once, until an event of theirs comes
        self._rowless: dict[UUID, tuple[UUID, str | None]] = {}

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)  # not a workspace's (a user's own events)

    @process_event.register
    def _workflow_changed(self, e: Workflow.Event, tracking: Tracking) -> None:
        self._rowless.pop(e.originator_id, None)
        before = self._before(e)
        words = describe(before, e, names_of(before.nodes) if before else {})
        after = e.mutate(before)
        assert isinstance(after, Workflow)
        _remember(self._workflows, after.id, after)
        with self.view.transaction(tracking) as conn:
            name = _storable(after.name, MAX_NAME)
            stack = {"workspace_id": after.workspace_id, "name": name}
            if e.originator_version == 1:
                conn.execute(insert(audit_stacks).values(id=after.id, **stack))
                self._stacks[after.id] = (after.workspace_id, name)
            elif (
                conn.execute(
                    update(audit_stacks)
                    .where(audit_stacks.c.id == after.id)
                    .values(**stack, deleted=after.deleted)
                ).rowcount
                == 1
            ):
                self._stacks[after.id] = (after.workspace_id, name)
            _write(
                self.view,
                e,
                tracking,
                after.workspace_id,
                Subject.STACK,
                after.id,
                after.name,
                words.summary,
            )

    @process_event.register
    def _document_changed(self, e: Document.Event, tracking: Tracking) -> None:
        stack_id, filename, node = self._document(e)
        kind = type(e).__name__
        with self.view.transaction(tracking) as conn:
            workspace_id, stack_name = self._stack(conn, stack_id)
            if kind not in UNTOLD:
                _write(
                    self.view,
                    e,
                    tracking,
                    workspace_id,
                    Subject.DOCUMENT,
                    stack_id,
                    stack_name,
                    document_summary(e, quoted(filename), node),
                )

    @process_event.register
    def _chat_changed(self, e: ChatSession.Event, tracking: Tracking) -> None:
        chat_id = e.originator_id
        stack_id = self._chats.get(chat_id)
        if stack_id is None:
            first: Any = (
                e if e.originator_version == 1 else self.store.repository.get(chat_id, version=1)
            )
            stack_id = first.workflow_id
        _remember(self._chats, chat_id, stack_id, OWNERS_CACHE_SIZE)
        with self.view.transaction(tracking) as conn:
            workspace_id, stack_name = self._stack(conn, stack_id)
            _write(
                self.view,
                e,
                tracking,
                workspace_id,
                Subject.CHAT,
                stack_id,
                stack_name,
                chat_summary(e),
            )

    @process_event.register
    def _workspace_changed(self, e: Workspace.Event, tracking: Tracking) -> None:
        token_name = None
        if type(e).__name__ == "ApiTokenRevoked":
            workspace: Any = self.store.repository.get(
                e.originator_id, version=e.originator_version
            )
            grant = workspace.tokens.get(e.token_id)  # type: ignore[attr-defined]
            token_name = grant.name if grant else None
        summary, member = workspace_summary(e, token_name)
        with self.view.transaction(tracking):
            _write(
                self.view,
                e,
                tracking,
                e.originator_id,
                Subject.WORKSPACE,
                None,
                None,
                summary,
                member,
            )

    def rebuild_in_database(self, conn: Connection, log: EventLog, last: int) -> None:
        """Fills the emptied tables from the log's events up to notification `last`, in the
        caller's transaction, on PostgreSQL's side (`audit_rebuild`); refuses
        (InDatabaseRebuildRefused) a log that only the Python path applies the same way."""
        from infrastructure.readmodel.audit_rebuild import rebuild  # it imports this module

        rebuild(self, conn, log, last)

    def _before(self, e: Workflow.Event) -> Workflow | None:
        wid, version = e.originator_id, e.originator_version
        if version == 1:
            return None
        cached = self._workflows.pop(wid, None)
        if cached is not None and cached.version == version - 1:
            return cached
        wf: Any = self.store.repository.get(wid, version=version - 1)
        assert isinstance(wf, Workflow)
        return wf

    def _document(self, e: Document.Event) -> tuple[UUID, str, str]:
        known = self._documents.get(e.originator_id)
        if known is None:
            first: Any = (
                e
                if e.originator_version == 1
                else self.store.repository.get(e.originator_id, version=1)
            )
            wf = self._workflows.get(first.workflow_id)
            node = wf.nodes.get(first.node_id) if wf else None
            known = (
                first.workflow_id,
                first.filename,
                node.label if node else "the knowledge base",
            )
        _remember(self._documents, e.originator_id, known, OWNERS_CACHE_SIZE)
        return known

    def _stack(self, conn: Connection, stack_id: UUID) -> tuple[UUID, str | None]:
        """The workspace and name of a stack, as the audit last saw them."""
        known = self._stacks.get(stack_id) or self._rowless.get(stack_id)
        if known is not None:
            return known
        row = conn.execute(
            select(audit_stacks.c.workspace_id, audit_stacks.c.name).where(
                audit_stacks.c.id == stack_id
            )
        ).first()
        if row is not None:
            self._stacks[stack_id] = (row.workspace_id, row.name)
            return row.workspace_id, row.name
        try:  # a stack whose creation this projection could not apply
            wf: Any = self.store.repository.get(stack_id)
            found = (wf.workspace_id, wf.name)
        except Exception:
            found = (DEFAULT_WORKSPACE, None)
        self._rowless[stack_id] = found
        return found

    def forget(self) -> None:
        self._workflows.clear()
        self._documents.clear()
        self._chats.clear()
        self._stacks.clear()
        self._rowless.clear()


def _storable(text: str | None, limit: int | None = None) -> str | None:
    """The text as a database can hold it: an audit records every event, also one whose
    text no row could hold as it came (a NUL, a lone surrogate, from before validation)."""
    if text is None:
        return None
    if "\x00" in text or not text.isascii():  # ASCII with no NUL is stored as it is
        text = text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit is not None else text


def _remember(cache: OrderedDict[UUID, Any], key: UUID, value: Any, size: int = CACHE_SIZE) -> None:
    cache.pop(key, None)
    cache[key] = value
    if len(cache) > size:
        cache.popitem(last=False)


class AuditWrites:
    """A transaction's entries, written at once before it commits (a page's: thousands)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.entries: list[dict[str, Any]] = []

    def flush(self) -> None:
        insert_rows(self.conn, audit_entries, self.entries)
        self.entries.clear()


def _write(
    view: SqlTrackingView,
    e: Any,
    tracking: Tracking,
    workspace_id: UUID,
    subject: Subject,
    stack_id: UUID | None,
    stack_name: str | None,
    summary: str,
    member: str | None = None,
) -> None:
    actor = getattr(e, "actor", None)
    view.buffer(AuditWrites).entries.append(
        {
            "position": tracking.notification_id,
            "workspace_id": workspace_id,
            "at": e.timestamp,
            "actor": _storable(str(actor), 200) if actor is not None else None,
            "kind": _storable(type(e).__name__, 100),
            "subject": subject.value,
            "subject_id": e.originator_id,
            "subject_version": e.originator_version,
            "stack_id": stack_id,
            "stack_name": _storable(stack_name, MAX_NAME),
            "member": _storable(member, 200),
            "summary": _storable(redact(summary)),
        }
    )


class SqlAuditReadModel:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def entries(
        self, workspace_id: UUID, where: AuditFilter, before: int | None, limit: int
    ) -> list[AuditRecord]:
        t = audit_entries.c
        query = select(audit_entries).where(t.workspace_id == workspace_id)
        if where.actor is not None:
            query = query.where(t.actor == where.actor)
        if where.stack_id is not None:
            query = query.where(t.stack_id == where.stack_id)
        if where.kinds:
            query = query.where(t.kind.in_(where.kinds))
        if where.since is not None:
            query = query.where(t.at >= where.since)
        if where.until is not None:
            query = query.where(t.at < where.until)
        if before is not None:
            query = query.where(t.position < before)
        query = query.order_by(t.position.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(query)]

    def actors(self, workspace_id: UUID) -> list[str]:
        t = audit_entries.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.actor)
                .where(t.workspace_id == workspace_id)
                .where(t.actor.is_not(None))
                .distinct()
            )
            return [r.actor for r in rows]

    def stacks(self, workspace_id: UUID) -> list[tuple[UUID, str]]:
        s = audit_stacks.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(s.id, s.name).where(s.workspace_id == workspace_id).order_by(s.name, s.id)
            )
            return [(r.id, r.name) for r in rows]

    def kinds(self, workspace_id: UUID) -> list[str]:
        t = audit_entries.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.kind).where(t.workspace_id == workspace_id).distinct().order_by(t.kind)
            )
            return [r.kind for r in rows]


def _record(row: Row[Any]) -> AuditRecord:
    return AuditRecord(
        position=row.position,
        at=aware(row.at),
        workspace_id=row.workspace_id,
        actor=row.actor,
        kind=row.kind,
        subject=Subject(row.subject),
        subject_id=row.subject_id,
        subject_version=row.subject_version,
        stack_id=row.stack_id,
        stack_name=row.stack_name,
        summary=row.summary,
        member=row.member,
    )
