"""What the account use cases return: read models, never a credential (but a new token, once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.account import User
from domain.workspace import Role


@dataclass(frozen=True)
class UserView:
    id: str
    email: str | None
    name: str
    admin: bool
    disabled: bool
    local: bool = False

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(str(user.id), user.email, user.name, user.admin, user.disabled)


@dataclass(frozen=True)
class SignedIn:
    user: UserView
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


@dataclass(frozen=True)
class WorkspaceView:
    id: UUID
    name: str
    role: Role  # the reader's role
    version: int


@dataclass(frozen=True)
class MemberView:
    user_id: str
    email: str | None
    role: Role


@dataclass(frozen=True)
class PendingInvitationView:
    id: UUID
    role: Role
    email: str | None
    expires_at: datetime


@dataclass(frozen=True)
class InvitationView:
    id: UUID
    workspace_id: UUID
    role: Role
    email: str | None
    expires_at: datetime
    token: str  # shown once, to the admin who invited


@dataclass(frozen=True)
class ApiTokenView:
    id: UUID
    workspace_id: UUID
    name: str
    scopes: tuple[str, ...]
    stack_id: UUID | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    allowed_origins: tuple[str, ...] | None = None  # a publishable token's sites


@dataclass(frozen=True)
class NewApiToken:
    token: str  # shown once, at creation
    view: ApiTokenView
