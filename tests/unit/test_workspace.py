"""The Workspace aggregate: members, invitations, roles and API tokens, given-when-then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidCommand, NotFound
from domain.workspace import Role, Scope, Workspace, parse_role, parse_scopes

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=7)


def team() -> Workspace:
    return Workspace.create("  Team  ", "ada", "ada")


def event_names(workspace: Workspace) -> list[str]:
    return [type(e).__name__ for e in workspace.collect_events()]


def test_creating_a_workspace_makes_its_creator_the_admin() -> None:
    workspace = team()
    assert workspace.name == "Team"
    assert workspace.members == {"ada": Role.ADMIN}


def test_an_empty_or_unprintable_name_is_refused() -> None:
    for name in ("   ", "a\x00b", "x" * 201):
        with pytest.raises(InvalidCommand):
            Workspace.create(name, "ada", "ada")


def test_an_accepted_invitation_makes_a_member_with_the_invited_role() -> None:
    workspace = team()
    workspace.invite("inv-1", Role.VIEWER, "hash-1", LATER, "ada", "bob@example.com")
    assert workspace.accept("inv-1", "hash-1", "bob", NOW) is Role.VIEWER
    assert workspace.members["bob"] is Role.VIEWER
    assert workspace.invitations == {}
    assert event_names(workspace) == ["WorkspaceCreated", "MemberInvited", "InvitationAccepted"]


def test_an_invitation_is_good_once() -> None:
    workspace = team()
    workspace.invite("inv-1", Role.EDITOR, "hash-1", LATER, "ada")
    workspace.accept("inv-1", "hash-1", "bob", NOW)
    with pytest.raises(NotFound):
        workspace.accept("inv-1", "hash-1", "cy", NOW)


def test_a_wrong_secret_reads_as_no_invitation() -> None:
    workspace = team()
    workspace.invite("inv-1", Role.EDITOR, "hash-1", LATER, "ada")
    with pytest.raises(NotFound):
        workspace.accept("inv-1", "hash-2", "bob", NOW)
    assert "bob" not in workspace.members


def test_an_expired_invitation_is_refused() -> None:
    workspace = team()
    workspace.invite("inv-1", Role.EDITOR, "hash-1", NOW, "ada")
    with pytest.raises(InvalidCommand):
        workspace.accept("inv-1", "hash-1", "bob", NOW)


def test_an_invitation_never_lowers_a_members_role() -> None:
    workspace = team()
    workspace.add_member("bob", Role.EDITOR, "ada")
    workspace.invite("inv-1", Role.VIEWER, "hash-1", LATER, "ada")
    assert workspace.accept("inv-1", "hash-1", "bob", NOW) is Role.EDITOR


def test_the_last_admin_can_neither_step_down_nor_be_removed() -> None:
    workspace = team()
    with pytest.raises(InvalidCommand):
        workspace.change_role("ada", Role.EDITOR, "ada")
    with pytest.raises(InvalidCommand):
        workspace.remove_member("ada", "ada")
    workspace.add_member("bob", Role.ADMIN, "ada")
    workspace.change_role("ada", Role.VIEWER, "bob")
    assert workspace.admins() == ["bob"]


def test_changing_to_the_same_role_records_nothing() -> None:
    workspace = team()
    workspace.add_member("bob", Role.EDITOR, "ada")
    workspace.collect_events()
    workspace.change_role("bob", Role.EDITOR, "ada")
    assert workspace.collect_events() == []


def test_roles_of_strangers_cannot_be_changed() -> None:
    workspace = team()
    with pytest.raises(NotFound):
        workspace.change_role("zed", Role.EDITOR, "ada")
    with pytest.raises(NotFound):
        workspace.remove_member("zed", "ada")


def test_issued_and_revoked_tokens_are_events_without_the_token() -> None:
    workspace = team()
    workspace.issue_token("tok-1", "ci", frozenset({Scope.READ, Scope.CHAT}), None, None, "ada")
    workspace.revoke_token("tok-1", "ada")
    workspace.revoke_token("tok-1", "ada")  # already revoked: nothing more happens
    assert workspace.tokens["tok-1"].revoked
    assert workspace.tokens["tok-1"].scopes == (Scope.CHAT, Scope.READ)
    events = workspace.collect_events()
    assert [type(e).__name__ for e in events][-2:] == ["ApiTokenIssued", "ApiTokenRevoked"]
    assert set(events[1].__dict__) >= {"token_id", "scopes", "actor"}


def test_revoking_an_unknown_token_is_refused() -> None:
    with pytest.raises(NotFound):
        team().revoke_token("nope", "ada")


def test_roles_and_scopes_are_parsed_or_refused() -> None:
    assert parse_role("Editor") is Role.EDITOR
    assert parse_scopes(["read", "CHAT"]) == {Scope.READ, Scope.CHAT}
    with pytest.raises(InvalidCommand):
        parse_role("owner")
    with pytest.raises(InvalidCommand):
        parse_scopes([])
    with pytest.raises(InvalidCommand):
        parse_scopes(["delete"])
