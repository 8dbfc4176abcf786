"""The permission table, as a specification: each row is a principal, an action and whether
it is allowed in the workspace."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.policy import Action, Principal, belongs, can
from domain.workspace import Role, Scope, Workspace

A = Action
WORKSPACE = Workspace.create("Team", "ada", "ada")
WORKSPACE.add_member("bob", Role.EDITOR, "ada")
WORKSPACE.add_member("cy", Role.VIEWER, "ada")
OTHER = Workspace.create("Elsewhere", "eve", "eve")

ADMIN, EDITOR, VIEWER = Principal("ada"), Principal("bob"), Principal("cy")
STRANGER = Principal("dan")


def token(*scopes: Scope, workspace: Workspace = WORKSPACE, stack: str | None = None) -> Principal:
    return Principal(
        token_id=str(uuid4()),
        workspace_id=str(workspace.id),
        scopes=frozenset(scopes),
        stack_id=stack,
    )


EVERY = list(Action)
VIEWER_MAY = {A.ACCOUNT, A.OPEN, A.CHAT, A.LIST_CHATS, A.READ_HISTORY}
EDITOR_MAY = VIEWER_MAY | {A.EDIT, A.UPLOAD, A.PUBLISH}

TABLE = (
    [(ADMIN, action, True) for action in EVERY]
    + [(EDITOR, action, action in EDITOR_MAY) for action in EVERY]
    + [(VIEWER, action, action in VIEWER_MAY) for action in EVERY]
    + [(STRANGER, action, False) for action in EVERY]
    + [(None, action, False) for action in EVERY]
    + [
        (token(Scope.READ), action, action in {A.ACCOUNT, A.OPEN, A.READ_HISTORY})
        for action in EVERY
    ]
    + [(token(Scope.CHAT), action, action in {A.ACCOUNT, A.CHAT, A.LIST_CHATS}) for action in EVERY]
    + [
        (token(Scope.EDIT), action, action in {A.ACCOUNT, A.EDIT, A.UPLOAD, A.PUBLISH})
        for action in EVERY
    ]
    + [(token(*Scope), action, action in EDITOR_MAY) for action in EVERY]
    + [(token(*Scope, workspace=OTHER), action, False) for action in EVERY]
)


def row_name(principal: Principal | None) -> str:
    """A row's principal, named the same in every process (a token's id is random, and
    pytest-xdist's workers must collect the same test ids)."""
    if principal is None:
        return "nobody"
    if principal.token_id is None:
        return principal.actor
    scopes = "+".join(sorted(scope.value for scope in principal.scopes))
    elsewhere = "-elsewhere" if principal.workspace_id == str(OTHER.id) else ""
    return f"token:{scopes}{elsewhere}"


@pytest.mark.parametrize(
    ("principal", "action", "allowed"),
    TABLE,
    ids=[f"{row_name(p)}-{a.value}" for p, a, _ in TABLE],
)
def test_the_permission_table(principal: Principal | None, action: Action, allowed: bool) -> None:
    assert can(principal, action, WORKSPACE) is allowed


def test_a_token_for_one_stack_may_act_on_that_stack_only() -> None:
    limited = token(Scope.CHAT, stack="stack-1")
    assert can(limited, A.CHAT, WORKSPACE, stack_id="stack-1")
    assert not can(limited, A.CHAT, WORKSPACE, stack_id="stack-2")
    assert not can(limited, A.CHAT, WORKSPACE)


def test_no_token_manages_members_tokens_or_the_audit() -> None:
    every_scope = token(*Scope)
    for action in (A.MANAGE_MEMBERS, A.MANAGE_TOKENS, A.READ_AUDIT):
        assert not can(every_scope, action, WORKSPACE)


def test_only_members_and_the_workspaces_own_tokens_belong() -> None:
    assert belongs(VIEWER, WORKSPACE)
    assert belongs(token(Scope.CHAT), WORKSPACE)
    assert not belongs(STRANGER, WORKSPACE)
    assert not belongs(token(Scope.READ, workspace=OTHER), WORKSPACE)
    assert not belongs(None, WORKSPACE)


def test_a_removed_member_may_do_nothing() -> None:
    workspace = Workspace.create("Team", "ada", "ada")
    workspace.add_member("bob", Role.ADMIN, "ada")
    workspace.remove_member("bob", "ada")
    assert not any(can(Principal("bob"), action, workspace) for action in EVERY)


def test_events_name_users_by_id_and_tokens_as_tokens() -> None:
    assert Principal("ada").actor == "ada"
    assert token(Scope.READ).actor.startswith("token:")
