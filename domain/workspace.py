"""The Workspace aggregate: who may work on a workspace's stacks, and in which role.

Every change of access is an event, so the log tells who let whom in, raised or lowered whose
role, and who issued or revoked which API token. Secrets never enter it: an invitation and an
API token are recorded by id, and an invitation by the hash of its one-time secret.
"""

from __future__ import annotations

import hmac
import math
import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidCommand, NotFound

# The workspace of a server's first owner (the local owner of a loopback server, or the first
# admin of a networked one), and of every stack created before workspaces existed. A fixed id,
# so processes started at once agree on it.
DEFAULT_WORKSPACE = UUID("0b1d2c9e-6a47-4c1e-9f0a-3d5e2a7c4b10")

MAX_NAME = 200
MAX_TOKEN_NAME = 100
MAX_ORIGINS = 20
MAX_ORIGIN = 300
# a host as a browser's Origin header has it: an ASCII name (IDNs in punycode), or an address
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|[0-9a-f:.]+")


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class Scope(StrEnum):
    """What an API token may do: read (open stacks, their history), chat, edit."""

    READ = "read"
    EDIT = "edit"
    CHAT = "chat"


def parse_role(value: str) -> Role:
    try:
        return Role(value.lower())
    except ValueError:
        raise InvalidCommand(f"unknown role {value!r}: admin, editor or viewer") from None


def parse_scopes(values: list[str]) -> frozenset[Scope]:
    scopes = set()
    for value in values:
        try:
            scopes.add(Scope(value.lower()))
        except ValueError:
            raise InvalidCommand(f"unknown scope {value!r}: read, edit or chat") from None
    if not scopes:
        raise InvalidCommand("a token needs at least one scope")
    return frozenset(scopes)


def parse_origin(value: str) -> str:
    """A web origin as a browser sends it (`https://shop.example.com`, `http://localhost:3000`):
    the scheme, the host and a port that is not the scheme's default, lower-case, nothing else."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidCommand(f"{value!r} is not an origin: give scheme://host[:port]") from None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise InvalidCommand(f"{value!r} is not an origin: give http(s)://host[:port]")
    if (
        parts.username
        or parts.password
        or parts.query
        or parts.fragment
        or parts.path not in ("", "/")
    ):
        raise InvalidCommand(
            f"{value!r} is not an origin: no path, query or user, only scheme://host[:port]"
        )
    if len(text) > MAX_ORIGIN or not _HOST.fullmatch(host):
        raise InvalidCommand(
            f"{value[:MAX_ORIGIN]!r} is not an origin: a host name as browsers send it"
        )
    scheme = parts.scheme.lower()
    shown = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{shown}" + (f":{port}" if port is not None and port != default else "")


def parse_origins(values: list[str]) -> tuple[str, ...]:
    """The origins a publishable token may be used from: at least one, each an origin."""
    origins = sorted({parse_origin(v) for v in values})
    if not origins:
        raise InvalidCommand("list at least one site (origin) the chat may be embedded on")
    if len(origins) > MAX_ORIGINS:
        raise InvalidCommand(f"at most {MAX_ORIGINS} origins")
    return tuple(origins)


@dataclass(frozen=True)
class Invitation:
    id: str
    role: Role
    secret_hash: str  # sha256 of the one-time secret; the secret itself is never stored
    expires_at: datetime
    email: str | None = None

    def __post_init__(self) -> None:
        # a snapshot's JSON gives the role and the time back as strings
        object.__setattr__(self, "role", Role(self.role))
        if not isinstance(self.expires_at, datetime):
            object.__setattr__(self, "expires_at", datetime.fromisoformat(str(self.expires_at)))


@dataclass(frozen=True)
class TokenGrant:
    """An API token as the workspace knows it: what it may do, never the token itself."""

    id: str
    name: str
    scopes: tuple[Scope, ...]  # sorted
    stack_id: str | None
    expires_at: datetime | None
    issued_by: str
    revoked: bool = False
    # a publishable token's: the sites it may be used from (None: an ordinary API token)
    allowed_origins: tuple[str, ...] | None = None

    @property
    def publishable(self) -> bool:
        return self.allowed_origins is not None

    def __post_init__(self) -> None:
        object.__setattr__(self, "scopes", tuple(sorted(Scope(s) for s in self.scopes)))
        if self.allowed_origins is not None:
            object.__setattr__(self, "allowed_origins", tuple(self.allowed_origins))
        if self.expires_at is not None and not isinstance(self.expires_at, datetime):
            object.__setattr__(self, "expires_at", datetime.fromisoformat(str(self.expires_at)))


def _name(value: str, what: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise InvalidCommand(f"{what} must not be empty")
    if len(value) > limit or not value.isprintable():
        raise InvalidCommand(f"{what} must be at most {limit} printable characters")
    return value


MAX_BUDGET_TOKENS = 2**31 - 1  # a month's tokens: what a GraphQL Int holds
MAX_BUDGET_USD = 10_000_000.0


@dataclass(frozen=True)
class Budget:
    """What a workspace's questions may use in one calendar month (UTC): tokens, estimated
    cost in USD, or both; None: no limit on that."""

    monthly_tokens: int | None = None
    monthly_cost_usd: float | None = None

    @classmethod
    def of(cls, monthly_tokens: int | None, monthly_cost_usd: float | None) -> Budget:
        """A budget from what an admin entered; raises InvalidCommand for a value that is not
        one (negative, not finite, absurdly large)."""
        if monthly_tokens is not None and not 0 <= monthly_tokens <= MAX_BUDGET_TOKENS:
            raise InvalidCommand(f"a monthly token budget is 0 to {MAX_BUDGET_TOKENS:,} tokens")
        if monthly_cost_usd is not None and not (
            math.isfinite(monthly_cost_usd) and 0 <= monthly_cost_usd <= MAX_BUDGET_USD
        ):
            raise InvalidCommand(f"a monthly cost budget is 0 to {MAX_BUDGET_USD:,.0f} USD")
        return cls(monthly_tokens, monthly_cost_usd)


class Workspace(Aggregate):
    budget: Budget = Budget()  # workspaces made (or snapshotted) before budgets: none

    @event("WorkspaceCreated")
    def __init__(self, name: str, owner: str, actor: str) -> None:
        self.name = name
        self.members: dict[str, Role] = {owner: Role.ADMIN}
        self.invitations: dict[str, Invitation] = {}
        self.tokens: dict[str, TokenGrant] = {}
        self.last_actor = actor

    @classmethod
    def create(
        cls, name: str, owner: str, actor: str, workspace_id: UUID | None = None
    ) -> Workspace:
        """A new workspace with `owner` as its admin; with `workspace_id`, under that id (one
        that every process agrees on)."""
        name = _name(name, "the workspace name", MAX_NAME)
        if workspace_id is None:
            return cls(name, owner, actor)
        return cls._create(
            cls.WorkspaceCreated,  # type: ignore[attr-defined]
            id=workspace_id,
            name=name,
            owner=owner,
            actor=actor,
        )

    def role_of(self, user_id: str) -> Role | None:
        return self.members.get(user_id)

    def admins(self) -> list[str]:
        return [user for user, role in self.members.items() if role is Role.ADMIN]

    # ---------------------------------------------------------------- members

    def add_member(self, user_id: str, role: Role, actor: str) -> None:
        """Joins a user directly (the first admin of a server, set up from the console)."""
        if self.members.get(user_id) is role:
            return
        if user_id in self.members:
            self.change_role(user_id, role, actor)
            return
        self._member_added(user_id=user_id, role=role.value, actor=actor)

    @event("MemberAdded")
    def _member_added(self, user_id: str, role: str, actor: str) -> None:
        self.members[user_id] = Role(role)
        self.last_actor = actor

    def invite(
        self,
        invitation_id: str,
        role: Role,
        secret_hash: str,
        expires_at: datetime,
        actor: str,
        email: str | None = None,
    ) -> None:
        if invitation_id in self.invitations:
            raise InvalidCommand(f"invitation {invitation_id} exists")
        self._member_invited(
            invitation_id=invitation_id,
            role=role.value,
            secret_hash=secret_hash,
            expires_at=expires_at,
            email=email,
            actor=actor,
        )

    @event("MemberInvited")
    def _member_invited(
        self,
        invitation_id: str,
        role: str,
        secret_hash: str,
        expires_at: datetime,
        email: str | None,
        actor: str,
    ) -> None:
        self.invitations[invitation_id] = Invitation(
            invitation_id, Role(role), secret_hash, expires_at, email
        )
        self.last_actor = actor

    def accept(self, invitation_id: str, secret_hash: str, user_id: str, now: datetime) -> Role:
        """A signed-in user takes up an invitation: once, before it expires. A wrong secret
        reads as an unknown invitation, so guessing tells nothing."""
        invitation = self.invitations.get(invitation_id)
        if invitation is None or not hmac.compare_digest(invitation.secret_hash, secret_hash):
            raise NotFound("no such invitation (it may have been used already)")
        if now >= invitation.expires_at:
            raise InvalidCommand("the invitation has expired: ask for a new one")
        role = invitation.role
        if user_id in self.members:
            # already a member: the invitation is used up, a role is never lowered by it
            role = max(self.members[user_id], role, key=_rank)
        self._invitation_accepted(
            invitation_id=invitation_id, user_id=user_id, role=role.value, actor=user_id
        )
        return role

    @event("InvitationAccepted")
    def _invitation_accepted(self, invitation_id: str, user_id: str, role: str, actor: str) -> None:
        del self.invitations[invitation_id]
        self.members[user_id] = Role(role)
        self.last_actor = actor

    def change_role(self, user_id: str, role: Role, actor: str) -> None:
        current = self._member(user_id)
        if current is role:
            return
        if current is Role.ADMIN and self.admins() == [user_id]:
            raise InvalidCommand("the last admin cannot give up the role: make another admin first")
        self._role_changed(user_id=user_id, role=role.value, actor=actor)

    @event("MemberRoleChanged")
    def _role_changed(self, user_id: str, role: str, actor: str) -> None:
        self.members[user_id] = Role(role)
        self.last_actor = actor

    def remove_member(self, user_id: str, actor: str) -> None:
        if self._member(user_id) is Role.ADMIN and self.admins() == [user_id]:
            raise InvalidCommand("the last admin cannot be removed: make another admin first")
        self._member_removed(user_id=user_id, actor=actor)

    @event("MemberRemoved")
    def _member_removed(self, user_id: str, actor: str) -> None:
        del self.members[user_id]
        self.last_actor = actor

    def _member(self, user_id: str) -> Role:
        role = self.members.get(user_id)
        if role is None:
            raise NotFound(f"{user_id} is not a member of this workspace")
        return role

    # ---------------------------------------------------------------- API tokens

    def issue_token(
        self,
        token_id: str,
        name: str,
        scopes: frozenset[Scope],
        stack_id: str | None,
        expires_at: datetime | None,
        actor: str,
        allowed_origins: tuple[str, ...] | None = None,
    ) -> None:
        """An API token; with `allowed_origins`, a publishable one: it is meant to be seen in
        a web page's source, so it only chats with its one stack, from those sites."""
        if token_id in self.tokens:
            raise InvalidCommand(f"token {token_id} exists")
        if allowed_origins is not None:
            if stack_id is None:
                raise InvalidCommand("a publishable token is for one stack: name it")
            if set(scopes) != {Scope.CHAT}:
                raise InvalidCommand("a publishable token can only chat")
            allowed_origins = parse_origins(list(allowed_origins))
        self._token_issued(
            token_id=token_id,
            name=_name(name, "the token name", MAX_TOKEN_NAME),
            scopes=sorted(s.value for s in scopes),
            stack_id=stack_id,
            expires_at=expires_at,
            actor=actor,
            allowed_origins=list(allowed_origins) if allowed_origins is not None else None,
        )

    @event("ApiTokenIssued")
    def _token_issued(
        self,
        token_id: str,
        name: str,
        scopes: list[str],
        stack_id: str | None,
        expires_at: datetime | None,
        actor: str,
        allowed_origins: list[str] | None = None,  # absent from tokens issued before embeds
    ) -> None:
        self.tokens[token_id] = TokenGrant(
            token_id,
            name,
            tuple(Scope(s) for s in scopes),
            stack_id,
            expires_at,
            actor,
            allowed_origins=tuple(allowed_origins) if allowed_origins is not None else None,
        )
        self.last_actor = actor

    def revoke_token(self, token_id: str, actor: str) -> None:
        grant = self.tokens.get(token_id)
        if grant is None:
            raise NotFound(f"no token {token_id} in this workspace")
        if not grant.revoked:
            self._token_revoked(token_id=token_id, actor=actor)

    @event("ApiTokenRevoked")
    def _token_revoked(self, token_id: str, actor: str) -> None:
        self.tokens[token_id] = replace(self.tokens[token_id], revoked=True)
        self.last_actor = actor

    # ---------------------------------------------------------------- budget

    def set_budget(self, budget: Budget, actor: str) -> None:
        if budget == self.budget:
            return
        self._budget_set(
            monthly_tokens=budget.monthly_tokens,
            monthly_cost_usd=budget.monthly_cost_usd,
            actor=actor,
        )

    @event("BudgetSet")
    def _budget_set(
        self, monthly_tokens: int | None, monthly_cost_usd: float | None, actor: str
    ) -> None:
        self.budget = Budget(monthly_tokens, monthly_cost_usd)
        self.last_actor = actor


def _rank(role: Role) -> int:
    return {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}[role]
