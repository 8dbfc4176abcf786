"""Who may do what: the principal a request acts as, and the one table of permissions.

A signed-in user acts with the role they hold in a workspace. An API token acts in the one
workspace that issued it, within its scopes (and, when it names one, on one stack only), and
never manages members, tokens or the audit. A publishable token (an embedded chat's, seen in
a web page's source) only chats with its one stack: start a session, ask, read that session.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.workspace import Role, Scope

LOCAL_ACTOR = "local"


class Action(StrEnum):
    """What a GraphQL field or a use case needs. `ACCOUNT` is what anyone signed in may do
    for themselves (read who they are, their workspaces, make one, accept an invitation):
    it needs no role."""

    ACCOUNT = "account"
    OPEN = "open"
    CHAT = "chat"
    LIST_CHATS = "list_chats"
    READ_HISTORY = "read_history"
    EDIT = "edit"
    UPLOAD = "upload"
    PUBLISH = "publish"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_TOKENS = "manage_tokens"
    READ_AUDIT = "read_audit"
    MANAGE_BUDGET = "manage_budget"


_VIEWER = frozenset(
    {Action.ACCOUNT, Action.OPEN, Action.CHAT, Action.LIST_CHATS, Action.READ_HISTORY}
)
_EDITOR = _VIEWER | {Action.EDIT, Action.UPLOAD, Action.PUBLISH}
_ADMIN = _EDITOR | {
    Action.MANAGE_MEMBERS,
    Action.MANAGE_TOKENS,
    Action.READ_AUDIT,
    Action.MANAGE_BUDGET,
}

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.VIEWER: _VIEWER,
    Role.EDITOR: _EDITOR,
    Role.ADMIN: _ADMIN,
}

SCOPE_ACTIONS: dict[Scope, frozenset[Action]] = {
    Scope.READ: frozenset({Action.ACCOUNT, Action.OPEN, Action.READ_HISTORY}),
    Scope.CHAT: frozenset({Action.ACCOUNT, Action.CHAT, Action.LIST_CHATS}),
    Scope.EDIT: frozenset({Action.ACCOUNT, Action.EDIT, Action.UPLOAD, Action.PUBLISH}),
}

# Everything a publishable token may do, whatever its scopes say.
PUBLISHABLE_ACTIONS = frozenset({Action.CHAT})


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a user (`user_id`), or an API token (`token_id`, issued by a
    workspace, with scopes). The local owner of a server bound to loopback is a user too,
    signed in automatically (`local`)."""

    user_id: str | None = None
    token_id: str | None = None
    workspace_id: str | None = None  # a token's workspace
    scopes: frozenset[Scope] = frozenset()
    stack_id: str | None = None  # a token limited to one stack
    local: bool = False
    # a publishable token's: the sites (origins) its requests may come from
    origins: frozenset[str] | None = None

    @property
    def publishable(self) -> bool:
        return self.origins is not None

    @property
    def actor(self) -> str:
        """The name events record for what this principal did."""
        if self.token_id is not None:
            return f"token:{self.token_id}"
        assert self.user_id is not None
        return self.user_id


class Members(Protocol):
    """What the policy needs of a workspace."""

    @property
    def id(self) -> object: ...

    def role_of(self, user_id: str) -> Role | None: ...


def permits(principal: Principal, action: Action) -> bool:
    """Whether the kind of principal may do `action` anywhere at all (a publishable token
    only chats): checked also where no resource is named, as in lists."""
    return not principal.publishable or action in PUBLISHABLE_ACTIONS


def can(
    principal: Principal | None, action: Action, workspace: Members, stack_id: str | None = None
) -> bool:
    """Whether `principal` may do `action` in `workspace` (on `stack_id`, when the action is
    about one stack)."""
    if principal is None or not permits(principal, action):
        return False
    if principal.publishable and (principal.stack_id is None or stack_id != principal.stack_id):
        return False
    if principal.token_id is not None:
        if principal.workspace_id != str(workspace.id):
            return False
        if principal.stack_id is not None and stack_id != principal.stack_id:
            return False
        return any(action in SCOPE_ACTIONS[scope] for scope in principal.scopes)
    if principal.user_id is None:
        return False
    role = workspace.role_of(principal.user_id)
    return role is not None and action in ROLE_ACTIONS[role]


def belongs(principal: Principal | None, workspace: Members) -> bool:
    """Whether the principal is of the workspace at all: a member, or one of its tokens.
    To anyone else the workspace and what is in it do not exist."""
    if principal is None:
        return False
    if principal.token_id is not None:
        return principal.workspace_id == str(workspace.id)
    return principal.user_id is not None and workspace.role_of(principal.user_id) is not None
