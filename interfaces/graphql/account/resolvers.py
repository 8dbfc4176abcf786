"""Account queries and mutations: each translates its arguments, calls one use case, and
maps the result; the use cases check who may do what."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from application.account.errors import Unauthenticated
from application.account.views import UserView
from domain.policy import LOCAL_ACTOR
from interfaces.accounts import Accounts
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
from interfaces.graphql.context import Info

LOCAL_OWNER = UserView(
    id=LOCAL_ACTOR, email=None, name="Local owner", admin=True, disabled=False, local=True
)


def _accounts(info: Info) -> Accounts:
    accounts = info.context.container.accounts
    assert accounts is not None, "the container was built without accounts"
    return accounts


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The signed-in user (UNAUTHENTICATED without credentials)")
    async def me(self, info: Info) -> User:
        principal = info.context.principal
        if principal is None:
            raise Unauthenticated("sign in first")
        if principal.local:
            return User.of(LOCAL_OWNER)
        if principal.user_id is None:
            raise Unauthenticated("an API token is not a user")
        view = await info.context.run(_accounts(info).users.view, principal.user_id)
        if view is None:
            raise Unauthenticated("sign in first")
        return User.of(view)

    @strawberry.field(description="The workspaces you are a member of")
    async def workspaces(self, info: Info) -> list[Workspace]:
        views = await info.context.run(
            _accounts(info).workspaces.visible_to, info.context.principal
        )
        return [Workspace.of(v) for v in views]

    @strawberry.field(description="A workspace you are a member of (else NOT_FOUND)")
    async def workspace(self, info: Info, id: UUID) -> Workspace:
        view = await info.context.run(_accounts(info).workspaces.get, id, info.context.principal)
        return Workspace.of(view)

    @strawberry.field(description="A workspace's API tokens (admins)")
    async def api_tokens(self, info: Info, workspace_id: UUID) -> list[ApiToken]:
        views = await info.context.run(
            _accounts(info).api_tokens.of_workspace, workspace_id, info.context.principal
        )
        return [ApiToken.of(v) for v in views]


@strawberry.type
class AccountMutations:
    @strawberry.mutation
    async def create_workspace(self, info: Info, name: str) -> Workspace:
        view = await info.context.run(
            _accounts(info).workspaces.create, name, info.context.principal
        )
        return Workspace.of(view)

    @strawberry.mutation(description="An invitation whose token is shown once (admins)")
    async def invite_member(
        self, info: Info, workspace_id: UUID, role: Role, email: str | None = None
    ) -> Invitation:
        view = await info.context.run(
            _accounts(info).workspaces.invite,
            workspace_id,
            role.domain(),
            email,
            info.context.principal,
        )
        return Invitation.of(view)

    @strawberry.mutation(description="Joins the workspace of an invitation, signed in")
    async def accept_invitation(self, info: Info, token: str) -> Workspace:
        view = await info.context.run(
            _accounts(info).workspaces.accept, token, info.context.principal
        )
        return Workspace.of(view)

    @strawberry.mutation
    async def change_role(
        self, info: Info, workspace_id: UUID, user_id: str, role: Role
    ) -> list[Member]:
        accounts, principal = _accounts(info), info.context.principal
        await info.context.run(
            accounts.workspaces.change_role, workspace_id, user_id, role.domain(), principal
        )
        views = await info.context.run(accounts.workspaces.members, workspace_id, principal)
        return [Member.of(v) for v in views]

    @strawberry.mutation
    async def remove_member(self, info: Info, workspace_id: UUID, user_id: str) -> list[Member]:
        accounts, principal = _accounts(info), info.context.principal
        await info.context.run(accounts.workspaces.remove_member, workspace_id, user_id, principal)
        views = await info.context.run(accounts.workspaces.members, workspace_id, principal)
        return [Member.of(v) for v in views]

    @strawberry.mutation(description="A token for programs, shown once (admins)")
    async def create_api_token(
        self,
        info: Info,
        workspace_id: UUID,
        name: str,
        scopes: list[TokenScope],
        stack_id: UUID | None = None,
        expires_at: datetime | None = None,
    ) -> NewApiToken:
        created = await info.context.run(
            _accounts(info).api_tokens.create,
            workspace_id,
            name,
            [s.value for s in scopes],
            info.context.principal,
            stack_id,
            expires_at,
        )
        return NewApiToken(token=created.token, api_token=ApiToken.of(created.view))

    @strawberry.mutation
    async def revoke_api_token(self, info: Info, id: UUID) -> ApiToken:
        view = await info.context.run(_accounts(info).api_tokens.revoke, id, info.context.principal)
        return ApiToken.of(view)
