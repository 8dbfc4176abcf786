"""The audit log of a workspace (admins): every change made in it, filtered and paged."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from application.account.access import Resource
from application.eventlog.audit_log import AuditEntryView, AuditFacets, AuditFilter, AuditLog
from domain.policy import Action
from interfaces.graphql.authorize import needs
from interfaces.graphql.context import Info
from interfaces.graphql.resolve import read


@strawberry.type(description="Who did it: a user's or an API token's id, and its name")
class AuditActor:
    id: str
    name: str


@strawberry.type(description="The stack an entry is about, named as it was then")
class AuditStack:
    id: UUID
    name: str


@strawberry.type(description="One change in a workspace, as stored in the event log")
class AuditEntry:
    position: str = strawberry.field(description="The event's place in the whole log")
    at: datetime
    actor: AuditActor | None
    kind: str = strawberry.field(description="The event's type, e.g. NodeConfigured")
    subject: str = strawberry.field(description="stack, document, chat or workspace")
    subject_id: UUID
    subject_version: int
    stack: AuditStack | None
    summary: str

    @classmethod
    def of(cls, view: AuditEntryView) -> AuditEntry:
        r = view.record
        return cls(
            position=str(r.position),
            at=r.at,
            actor=AuditActor(id=r.actor, name=view.actor_name or r.actor) if r.actor else None,
            kind=r.kind,
            subject=r.subject.value,
            subject_id=r.subject_id,
            subject_version=r.subject_version,
            stack=AuditStack(id=r.stack_id, name=r.stack_name or "")
            if r.stack_id is not None
            else None,
            summary=view.summary,
        )


@strawberry.type(description="What the audit log's filters can choose from")
class AuditFilters:
    actors: list[AuditActor]
    stacks: list[AuditStack]
    kinds: list[str]

    @classmethod
    def of(cls, facets: AuditFacets) -> AuditFilters:
        return cls(
            actors=[AuditActor(id=i, name=n) for i, n in facets.actors],
            stacks=[AuditStack(id=i, name=n) for i, n in facets.stacks],
            kinds=facets.kinds,
        )


@strawberry.type
class AuditLogPage:
    entries: list[AuditEntry]
    next_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next (older) page; null at the end"
    )


def _log(info: Info) -> AuditLog:
    return info.context.services.audit_log


@strawberry.type
class AuditQueries:
    @strawberry.field(
        extensions=needs(Action.READ_AUDIT, Resource.WORKSPACE, "workspace_id"),
        description=(
            "Every change in a workspace, newest first (admins): its stacks, documents, chats "
            "and access. `since` inclusive, `until` exclusive; `limit` 1 to 200"
        ),
    )
    async def audit_log(
        self,
        info: Info,
        workspace_id: UUID,
        actor: str | None = None,
        stack_id: UUID | None = None,
        kinds: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> AuditLogPage:
        where = AuditFilter(actor, stack_id, tuple(kinds or ()), since, until)
        page = await read(_log(info).page, workspace_id, where, after, limit)
        return AuditLogPage(
            entries=[AuditEntry.of(e) for e in page.entries], next_cursor=page.next_cursor
        )

    @strawberry.field(
        extensions=needs(Action.READ_AUDIT, Resource.WORKSPACE, "workspace_id"),
        description="The actors, stacks and kinds a workspace's audit log holds (admins)",
    )
    async def audit_filters(self, info: Info, workspace_id: UUID) -> AuditFilters:
        return AuditFilters.of(await read(_log(info).facets, workspace_id))
