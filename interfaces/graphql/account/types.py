"""GraphQL types of accounts, workspaces and API tokens."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from application.account.views import (
    ApiTokenView,
    InvitationView,
    MemberView,
    PendingInvitationView,
    UserView,
    WorkspaceView,
)
from domain import workspace as domain
from interfaces.graphql.context import Info
from interfaces.graphql.resolve import read

Role = strawberry.enum(domain.Role, name="Role")
TokenScope = strawberry.enum(domain.Scope, name="TokenScope")


@strawberry.type(description="Who the request acts as.")
class User:
    id: str
    email: str | None
    name: str
    admin: bool
    local: bool = strawberry.field(
        description="The owner of a server bound to loopback, signed in automatically"
    )

    @classmethod
    def of(cls, view: UserView) -> User:
        return cls(id=view.id, email=view.email, name=view.name, admin=view.admin, local=view.local)


@strawberry.type
class Member:
    user_id: str
    email: str | None
    role: Role

    @classmethod
    def of(cls, view: MemberView) -> Member:
        return cls(user_id=view.user_id, email=view.email, role=view.role)


@strawberry.type
class PendingInvitation:
    id: UUID
    role: Role
    email: str | None
    expires_at: datetime

    @classmethod
    def of(cls, view: PendingInvitationView) -> PendingInvitation:
        return cls(id=view.id, role=view.role, email=view.email, expires_at=view.expires_at)


@strawberry.type
class Workspace:
    id: UUID
    name: str
    role: Role = strawberry.field(description="Your role in it")
    version: int

    @classmethod
    def of(cls, view: WorkspaceView) -> Workspace:
        return cls(id=view.id, name=view.name, role=view.role, version=view.version)

    @strawberry.field
    async def members(self, info: Info) -> list[Member]:
        context = info.context
        views = await read(context.services.accounts.workspaces.members, self.id, context.principal)
        return [Member.of(v) for v in views]

    @strawberry.field(description="Invitations not taken up yet (admins)")
    async def invitations(self, info: Info) -> list[PendingInvitation]:
        workspaces, principal = info.context.services.accounts.workspaces, info.context.principal
        views = await read(workspaces.invitations, self.id, principal)
        return [PendingInvitation.of(v) for v in views]


@strawberry.type
class Invitation:
    id: UUID
    workspace_id: UUID
    role: Role
    email: str | None
    expires_at: datetime
    token: str = strawberry.field(
        description="Shown once: give it to the person invited, who accepts it signed in"
    )

    @classmethod
    def of(cls, view: InvitationView) -> Invitation:
        return cls(
            id=view.id,
            workspace_id=view.workspace_id,
            role=view.role,
            email=view.email,
            expires_at=view.expires_at,
            token=view.token,
        )


@strawberry.type
class ApiToken:
    id: UUID
    workspace_id: UUID
    name: str
    scopes: list[TokenScope]
    stack_id: UUID | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    allowed_origins: list[str] | None = strawberry.field(
        description="A publishable token's sites (origins) its embedded chat may run on; "
        "null for an ordinary API token"
    )

    @strawberry.field(
        description="An embedded chat's token, seen in web pages: it only chats with its "
        "stack, from its allowed origins"
    )
    def publishable(self) -> bool:
        return self.allowed_origins is not None

    @classmethod
    def of(cls, view: ApiTokenView) -> ApiToken:
        return cls(
            id=view.id,
            workspace_id=view.workspace_id,
            name=view.name,
            scopes=[domain.Scope(s) for s in view.scopes],
            stack_id=view.stack_id,
            created_at=view.created_at,
            expires_at=view.expires_at,
            revoked_at=view.revoked_at,
            last_used_at=view.last_used_at,
            allowed_origins=(
                list(view.allowed_origins) if view.allowed_origins is not None else None
            ),
        )


@strawberry.type
class NewApiToken:
    token: str = strawberry.field(description="Shown once, now: only its hash is kept")
    api_token: ApiToken
