"""What a person can ask of a workspace, one small frozen dataclass per use case: its
members, invitations and API tokens. Each carries the principal it is asked by (who may do
what is decided against it) and the actor that the events record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.policy import Principal
from domain.workspace import Role


@dataclass(frozen=True, kw_only=True)
class AccountCommand:
    actor: str
    principal: Principal | None


@dataclass(frozen=True, kw_only=True)
class CreateWorkspace(AccountCommand):
    name: str


@dataclass(frozen=True, kw_only=True)
class InviteMember(AccountCommand):
    """An invitation with a one-time token, for `email` when given (else for whoever holds
    the token)."""

    workspace_id: UUID
    role: Role
    email: str | None = None


@dataclass(frozen=True, kw_only=True)
class AcceptInvitation(AccountCommand):
    token: str


@dataclass(frozen=True, kw_only=True)
class ChangeRole(AccountCommand):
    workspace_id: UUID
    user_id: str
    role: Role


@dataclass(frozen=True, kw_only=True)
class RemoveMember(AccountCommand):
    workspace_id: UUID
    user_id: str


@dataclass(frozen=True, kw_only=True)
class CreateApiToken(AccountCommand):
    """A token for programs in `workspace_id`, with `scopes` (read, edit, chat), on one
    stack when `stack_id` is given, until `expires_at` when given."""

    workspace_id: UUID
    name: str
    scopes: tuple[str, ...]
    stack_id: UUID | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class RevokeApiToken(AccountCommand):
    token_id: UUID


@dataclass(frozen=True, kw_only=True)
class SetBudget(AccountCommand):
    """A workspace's monthly budget for questions; None: no limit on that measure."""

    workspace_id: UUID
    monthly_tokens: int | None = None
    monthly_cost_usd: float | None = None


@dataclass(frozen=True, kw_only=True)
class CreatePublishableToken(AccountCommand):
    """A token for an embedded chat on `stack_id`'s web pages: it is seen in the pages' source,
    so it only chats with that stack, from `allowed_origins`, until `expires_at` when given."""

    stack_id: UUID
    name: str
    allowed_origins: tuple[str, ...]
    expires_at: datetime | None = None
