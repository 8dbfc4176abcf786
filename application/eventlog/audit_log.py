"""A workspace's audit log: every change made in it, in words, newest first, for its admins.

The `audit` projection (`infrastructure/readmodel/audit.py`) writes one row per stored event
of a workspace: its stacks' changes, their documents' and chat sessions' events, and the
workspace's own access events (members, invitations, roles, API tokens). Each row says who,
when, what kind, on which stack, and a summary in words (`application/workflow/describe.py`
for stacks, `history.document_summary` for documents, and the ones below). Reads filter in SQL
by actor, stack, kind and time and page by position (the event's notification id), so a page
costs one indexed query, however long the log.

Nothing secret reaches a summary: API keys are stored as references (a change of one reads
"API key changed"), an invitation by the hash of its secret, a token by its id; anything that
still looks like a key is masked (`redact`), when written and again when read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from domain.errors import InvalidCommand

MAX_LIMIT = 200  # entries in one page
EXPORT_BATCH = 500  # entries read at once by an export
QUOTE = 60  # a question is quoted up to this many characters
MEMBER = "{member}"  # stands for the member an access event is about, named when read
MAX_FILTER = 200  # characters of an actor or kind filter

_KEYLIKE = re.compile(
    r"(?:sk-[A-Za-z0-9_\-]{8,}"  # OpenAI-style keys
    r"|gs[a-z]_[A-Za-z0-9_\-]{8,}"  # our API, invitation and setup tokens
    r"|AIza[0-9A-Za-z_\-]{20,}"  # Google keys
    r"|(?i:bearer)\s+[A-Za-z0-9._\-+/=]{8,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}"  # GitHub tokens
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"  # Slack tokens
    r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"  # JWTs
    r"|\b[A-Fa-f0-9]{32,}\b)"  # long hex: hashes and secrets
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """The text with anything shaped like a key or a token masked."""
    return _KEYLIKE.sub(REDACTED, text)


class Subject(StrEnum):
    """What an entry's event belongs to."""

    STACK = "stack"
    DOCUMENT = "document"
    CHAT = "chat"
    WORKSPACE = "workspace"


@dataclass(frozen=True)
class AuditRecord:
    """One stored event as the audit keeps it."""

    position: int  # the event's notification id: its place in the whole log
    at: datetime
    workspace_id: UUID
    actor: str | None
    kind: str  # the event's type, e.g. NodeConfigured, MemberInvited
    subject: Subject
    subject_id: UUID  # the aggregate
    subject_version: int
    stack_id: UUID | None
    stack_name: str | None
    summary: str
    member: str | None = None  # the user an access event is about


@dataclass(frozen=True)
class AuditEntryView:
    record: AuditRecord
    actor_name: str | None
    summary: str  # with the member named

    def to_json(self) -> dict[str, Any]:
        """One JSON Lines record of an export."""
        r = self.record
        return {
            "position": r.position,
            "at": r.at.isoformat(),
            "workspaceId": str(r.workspace_id),
            "actor": {"id": r.actor, "name": self.actor_name} if r.actor else None,
            "kind": r.kind,
            "subject": {
                "type": r.subject.value,
                "id": str(r.subject_id),
                "version": r.subject_version,
            },
            "stack": {"id": str(r.stack_id), "name": r.stack_name} if r.stack_id else None,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    stack_id: UUID | None = None
    kinds: tuple[str, ...] = ()
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def __post_init__(self) -> None:
        for value in (self.actor, *self.kinds):
            if value is not None and (not value.strip() or len(value) > MAX_FILTER):
                raise InvalidCommand(f"a filter must be 1 to {MAX_FILTER} characters")
        if len(self.kinds) > 50:
            raise InvalidCommand("at most 50 kinds at once")
        if self.since and self.until and self.since >= self.until:
            raise InvalidCommand("the time range is empty: `since` must come before `until`")
        for at in (self.since, self.until):
            if at is not None and at.tzinfo is None:
                raise InvalidCommand("a time must say its time zone (e.g. 2026-12-01T10:00:00Z)")


@dataclass(frozen=True)
class AuditFacets:
    """What the filters can choose from in a workspace."""

    actors: list[tuple[str, str]]  # (id, name)
    stacks: list[tuple[UUID, str]]
    kinds: list[str]


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntryView]
    next_cursor: str | None  # the cursor of the page after this one, None at the end


class AuditReadModel(Protocol):
    def entries(
        self, workspace_id: UUID, where: AuditFilter, before: int | None, limit: int
    ) -> list[AuditRecord]:
        """Newest first, positions below `before`."""
        ...

    def actors(self, workspace_id: UUID) -> list[str]: ...

    def stacks(self, workspace_id: UUID) -> list[tuple[UUID, str]]: ...

    def kinds(self, workspace_id: UUID) -> list[str]: ...


class AuditLog:
    """The audit reads. Who may read them (a workspace's admins) is checked at the edge by
    `Access` (`Action.READ_AUDIT` on the workspace)."""

    def __init__(
        self,
        read_model: AuditReadModel,
        names: Callable[[Iterable[str]], Mapping[str, str]],
        caught_up: Callable[[], object] = lambda: None,
    ) -> None:
        self.read_model, self.names, self.caught_up = read_model, names, caught_up

    def page(
        self, workspace_id: UUID, where: AuditFilter, after: str | None, limit: int
    ) -> AuditPage:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidCommand(f"limit must be 1 to {MAX_LIMIT}")
        self.caught_up()
        records = self.read_model.entries(workspace_id, where, _cursor(after), limit + 1)
        more = len(records) > limit
        records = records[:limit]
        return AuditPage(
            self._named(records), str(records[-1].position) if more and records else None
        )

    def export(self, workspace_id: UUID, where: AuditFilter) -> Iterator[AuditEntryView]:
        """Every entry that passes the filter, newest first, read a batch at a time."""
        self.caught_up()
        before: int | None = None
        while True:
            records = self.read_model.entries(workspace_id, where, before, EXPORT_BATCH)
            yield from self._named(records)
            if len(records) < EXPORT_BATCH:
                return
            before = records[-1].position

    def facets(self, workspace_id: UUID) -> AuditFacets:
        self.caught_up()
        actors = self.read_model.actors(workspace_id)
        names = self.names(actors)
        return AuditFacets(
            sorted(((a, names.get(a, a)) for a in actors), key=lambda p: p[1].lower()),
            self.read_model.stacks(workspace_id),
            self.read_model.kinds(workspace_id),
        )

    def _named(self, records: list[AuditRecord]) -> list[AuditEntryView]:
        people = {r.actor for r in records if r.actor} | {r.member for r in records if r.member}
        names = self.names(people) if people else {}
        return [
            AuditEntryView(
                replace(r, summary=redact(r.summary)),
                names.get(r.actor, r.actor) if r.actor else None,
                redact(
                    r.summary.replace(MEMBER, names.get(r.member, r.member))
                    if r.member
                    else r.summary
                ),
            )
            for r in records
        ]


def _cursor(after: str | None) -> int | None:
    if after is None:
        return None
    if not after.isdigit() or len(after) > 19:
        raise InvalidCommand("that cursor is not one this log gave")
    return int(after)


# ---------------------------------------------------------------- summaries


def quote(text: str, limit: int = QUOTE) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def chat_summary(event: Any) -> str:
    d = event.__dict__
    match type(event).__name__:
        case "ChatStarted":
            if d.get("draft"):
                return "Started a chat with the draft"
            return f"Started a chat with v{d.get('published_version')}"
        case "UserAsked":
            return f"Asked {quote(str(d.get('content', '')))}"
        case "AssistantAnswered":
            usage = d.get("usage") or {}
            tokens = sum(int(v) for v in usage.values() if isinstance(v, int))
            return f"Answered with {d.get('model') or 'a model'} ({tokens} tokens)"
        case "AnswerFailed":
            return f"Couldn't answer: {d.get('code')}"
    return _words(type(event).__name__)


def workspace_summary(event: Any, token_name: str | None = None) -> tuple[str, str | None]:
    """An access event in words, and the member it is about (named where MEMBER stands).
    `token_name`: the name of the API token the event is about."""
    d = event.__dict__
    role = d.get("role")
    match type(event).__name__:
        case "WorkspaceCreated":
            return f"Created the workspace {quote(str(d.get('name', '')))}", None
        case "MemberAdded":
            return f"Added {MEMBER} as {role}", d.get("user_id")
        case "MemberInvited":
            to = f" ({d['email']})" if d.get("email") else ""
            return f"Invited someone{to} as {role}", None
        case "InvitationAccepted":
            return f"{MEMBER} accepted an invitation and joined as {role}", d.get("user_id")
        case "MemberRoleChanged":
            return f"Made {MEMBER} {role}", d.get("user_id")
        case "MemberRemoved":
            return f"Removed {MEMBER} from the workspace", d.get("user_id")
        case "ApiTokenIssued":
            scopes = ", ".join(d.get("scopes") or [])
            one = " on one stack" if d.get("stack_id") else ""
            return f"Issued the API token {quote(str(d.get('name', '')))} ({scopes}){one}", None
        case "ApiTokenRevoked":
            named = f" {quote(token_name)}" if token_name else ""
            return f"Revoked the API token{named}", None
    return _words(type(event).__name__), None


def _words(name: str) -> str:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()
    return words[:1].upper() + words[1:]
