"""Account queries and mutations: each builds a command (or a read), calls one use case,
and maps the result; the use cases check who may do what."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from application.account import commands as c
from application.account.access import Resource
from application.account.handlers import Accounts
from application.account.views import UserView
from application.errors import Unauthenticated
from domain.policy import LOCAL_ACTOR, Action
from domain.workspace import Role as DomainRole
from domain.workspace import Scope
from interfaces.graphql.account.types import (
    ApiToken,
    Invitation,
    Member,
    NewApiToken,
    Role,
    TokenScope,
    User,
    Workspace,
)
from interfaces.graphql.authorize import needs
from interfaces.graphql.context import Info
from interfaces.graphql.resolve import execute, read

LOCAL_OWNER = UserView(
    id=LOCAL_ACTOR, email=None, name="Local owner", admin=True, disabled=False, local=True
)


def _accounts(info: Info) -> Accounts:
    return info.context.services.accounts


@strawberry.type
class AccountQueries:
    @strawberry.field(
        extensions=needs(Action.ACCOUNT),
        description="The signed-in user (UNAUTHENTICATED without credentials)",
    )
    async def me(self, info: Info) -> User:
        principal = info.context.principal
        if principal is None:
            raise Unauthenticated("sign in first")
        if principal.local:
            return User.of(LOCAL_OWNER)
        if principal.user_id is None:
            raise Unauthenticated("an API token is not a user")
        view = await read(_accounts(info).users.view, principal.user_id)
        if view is None:
            raise Unauthenticated("sign in first")
        return User.of(view)

    @strawberry.field(
        extensions=needs(Action.ACCOUNT), description="The workspaces you are a member of"
    )
    async def workspaces(self, info: Info) -> list[Workspace]:
        views = await read(_accounts(info).workspaces.visible_to, info.context.principal)
        return [Workspace.of(v) for v in views]

    @strawberry.field(
        extensions=needs(Action.OPEN, Resource.WORKSPACE, "id"),
        description="A workspace you are a member of (else NOT_FOUND)",
    )
    async def workspace(self, info: Info, id: UUID) -> Workspace:
        view = await read(_accounts(info).workspaces.get, id, info.context.principal)
        return Workspace.of(view)

    @strawberry.field(
        extensions=needs(Action.MANAGE_TOKENS, Resource.WORKSPACE, "workspace_id"),
        description="A workspace's API tokens (admins)",
    )
    async def api_tokens(self, info: Info, workspace_id: UUID) -> list[ApiToken]:
        views = await read(
            _accounts(info).api_tokens.of_workspace, workspace_id, info.context.principal
        )
        return [ApiToken.of(v) for v in views]

    @strawberry.field(
        extensions=needs(Action.MANAGE_TOKENS, Resource.WORKFLOW, "stack_id"),
        description="The publishable tokens of a stack's embedded chat, revoked ones too (admins)",
    )
    async def publishable_tokens(self, info: Info, stack_id: UUID) -> list[ApiToken]:
        views = await read(
            _accounts(info).api_tokens.publishable_of, stack_id, info.context.principal
        )
        return [ApiToken.of(v) for v in views]


@strawberry.type
class AccountMutations:
    @strawberry.mutation(extensions=needs(Action.ACCOUNT))
    async def create_workspace(self, info: Info, name: str) -> Workspace:
        view = await execute(
            info,
            _accounts(info).workspaces.create,
            c.CreateWorkspace,
            principal=info.context.principal,
            name=name,
        )
        return Workspace.of(view)

    @strawberry.mutation(
        extensions=needs(Action.MANAGE_MEMBERS, Resource.WORKSPACE, "workspace_id"),
        description="An invitation whose token is shown once (admins)",
    )
    async def invite_member(
        self, info: Info, workspace_id: UUID, role: Role, email: str | None = None
    ) -> Invitation:
        view = await execute(
            info,
            _accounts(info).workspaces.invite,
            c.InviteMember,
            principal=info.context.principal,
            workspace_id=workspace_id,
            role=DomainRole(role),
            email=email,
        )
        return Invitation.of(view)

    @strawberry.mutation(
        extensions=needs(Action.ACCOUNT),
        description="Joins the workspace of an invitation, signed in",
    )
    async def accept_invitation(self, info: Info, token: str) -> Workspace:
        view = await execute(
            info,
            _accounts(info).workspaces.accept,
            c.AcceptInvitation,
            principal=info.context.principal,
            token=token,
        )
        return Workspace.of(view)

    @strawberry.mutation(
        extensions=needs(Action.MANAGE_MEMBERS, Resource.WORKSPACE, "workspace_id")
    )
    async def change_role(
        self, info: Info, workspace_id: UUID, user_id: str, role: Role
    ) -> list[Member]:
        views = await execute(
            info,
            _accounts(info).workspaces.change_role,
            c.ChangeRole,
            principal=info.context.principal,
            workspace_id=workspace_id,
            user_id=user_id,
            role=DomainRole(role),
        )
        return [Member.of(v) for v in views]

    @strawberry.mutation(
        extensions=needs(Action.MANAGE_MEMBERS, Resource.WORKSPACE, "workspace_id")
    )
    async def remove_member(self, info: Info, workspace_id: UUID, user_id: str) -> list[Member]:
        views = await execute(
            info,
            _accounts(info).workspaces.remove_member,
            c.RemoveMember,
            principal=info.context.principal,
            workspace_id=workspace_id,
            user_id=user_id,
        )
        return [Member.of(v) for v in views]

    @strawberry.mutation(
        extensions=needs(Action.MANAGE_TOKENS, Resource.WORKSPACE, "workspace_id"),
        description="A token for programs, shown once (admins)",
    )
    async def create_api_token(
        self,
        info: Info,
        workspace_id: UUID,
        name: str,
        scopes: list[TokenScope],
        stack_id: UUID | None = None,
        expires_at: datetime | None = None,
    ) -> NewApiToken:
        created = await execute(
            info,
            _accounts(info).api_tokens.create,
            c.CreateApiToken,
            principal=info.context.principal,
            workspace_id=workspace_id,
            name=name,
            scopes=tuple(Scope(s).value for s in scopes),
            stack_id=stack_id,
            expires_at=expires_at,
        )
        return NewApiToken(token=created.token, api_token=ApiToken.of(created.view))

    @strawberry.mutation(
        extensions=needs(Action.MANAGE_TOKENS, Resource.WORKFLOW, "stack_id"),
        description="A publishable token to embed the chat of a published stack on the sites "
        "listed (e.g. https://shop.example.com), shown once (admins). It only chats with that "
        "stack, from those sites, at its own rate limit.",
    )
    async def create_publishable_token(
        self,
        info: Info,
        stack_id: UUID,
        name: str,
        allowed_origins: list[str],
        expires_at: datetime | None = None,
    ) -> NewApiToken:
        created = await execute(
            info,
            _accounts(info).api_tokens.create_publishable,
            c.CreatePublishableToken,
            principal=info.context.principal,
            stack_id=stack_id,
            name=name,
            allowed_origins=tuple(allowed_origins),
            expires_at=expires_at,
        )
        return NewApiToken(token=created.token, api_token=ApiToken.of(created.view))

    @strawberry.mutation(extensions=needs(Action.MANAGE_TOKENS, Resource.API_TOKEN, "id"))
    async def revoke_api_token(self, info: Info, id: UUID) -> ApiToken:
        view = await execute(
            info,
            _accounts(info).api_tokens.revoke,
            c.RevokeApiToken,
            principal=info.context.principal,
            token_id=id,
        )
        return ApiToken.of(view)
