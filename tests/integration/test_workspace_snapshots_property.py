"""Property: whatever happened to a workspace's access (random invitations, acceptances, role
changes, removals, API tokens issued and revoked, across several snapshot intervals), a
process that never held it in memory shows the same workspace through the GraphQL API whether
it loads it from snapshots or replays every event, and it is the workspace those commands made.

The history is built through the account use cases, as a server does (each command loads the
workspace from the store), by the local owner of a loopback server, its admin."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from application.account import commands as c
from application.account.principals import LOCAL_OWNER
from application.eventlog.log import SNAPSHOT_EVERY
from domain.errors import InvalidCommand
from domain.policy import Principal
from domain.workspace import Budget, Role, Scope, Workspace
from tests.integration.reopen import (
    MAX_EVENTS,
    OnAFreshStore,
    assert_same_json,
    both_ways,
    expected_snapshots,
    run_on,
    snapshot_versions,
)

PEOPLE = [f"user-{n}" for n in range(6)]
WORKSPACE = """query($w: UUID!) { workspace(id: $w) { id name role version
  members { userId email role } invitations { id role email } } }"""

BUDGET = """query($w: UUID!) { workspaceBudget(workspaceId: $w) {
  monthlyTokens monthlyCostUsd } }"""
AS_OWNER: dict[str, Any] = {"actor": LOCAL_OWNER.actor, "principal": LOCAL_OWNER}
roles = st.sampled_from(list(Role))
emails = st.one_of(st.none(), st.sampled_from(["a@example.com", "b@example.org"]))


class AccessHistory(OnAFreshStore):
    def __init__(self) -> None:
        super().__init__()
        accounts = self.builder.services.accounts
        assert accounts is not None
        self.workspaces, self.tokens = accounts.workspaces, accounts.api_tokens
        self.store = self.builder.services.event_log
        self.id = self.workspaces.create(c.CreateWorkspace(name="Team", **AS_OWNER)).id
        self.version = 1
        self.members: dict[str, str] = {"local": "ADMIN"}
        self.invitations: dict[str, tuple[str, str, str | None]] = {}  # id: token, role, email
        self.issued: dict[str, bool] = {}  # token id: revoked
        self.budget = Budget()

    def room(self) -> int:
        return MAX_EVENTS - self.version

    def others(self) -> list[str]:
        return sorted(user for user in self.members if user != "local")

    # ---------------------------------------------------------------- what happens

    @precondition(lambda self: self.room())
    @rule(invited=st.lists(st.tuples(roles, emails), min_size=1, max_size=15))
    def invite(self, invited: list[tuple[Role, str | None]]) -> None:
        for role, email in invited[: self.room()]:
            made = self.workspaces.invite(
                c.InviteMember(workspace_id=self.id, role=role, email=email, **AS_OWNER)
            )
            self.version += 1
            self.invitations[str(made.id)] = (made.token, role.name, email)

    @precondition(lambda self: self.room() and self.invitations)
    @rule(data=st.data(), person=st.sampled_from(PEOPLE))
    def accept(self, data: st.DataObject, person: str) -> None:
        invitation = data.draw(st.sampled_from(sorted(self.invitations)))
        token, role, _ = self.invitations.pop(invitation)
        joined = self.workspaces.accept(
            c.AcceptInvitation(token=token, actor=person, principal=Principal(user_id=person))
        )
        self.version += 1
        held = self.members.get(person)
        ranks = ["VIEWER", "EDITOR", "ADMIN"]
        expected = role if held is None else max(held, role, key=ranks.index)
        assert joined.role.name == expected
        self.members[person] = expected

    @precondition(lambda self: self.room() and self.others())
    @rule(data=st.data(), role=roles)
    def change_role(self, data: st.DataObject, role: Role) -> None:
        person = data.draw(st.sampled_from(self.others()))
        self.workspaces.change_role(
            c.ChangeRole(workspace_id=self.id, user_id=person, role=role, **AS_OWNER)
        )
        if self.members[person] != role.name:
            self.version += 1
        self.members[person] = role.name

    @precondition(lambda self: self.room() and self.others())
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        person = data.draw(st.sampled_from(self.others()))
        self.workspaces.remove_member(
            c.RemoveMember(workspace_id=self.id, user_id=person, **AS_OWNER)
        )
        self.version += 1
        del self.members[person]

    @precondition(lambda self: self.room())
    @rule(scopes=st.sets(st.sampled_from(list(Scope)), min_size=1))
    def issue_token(self, scopes: set[Scope]) -> None:
        made = self.tokens.create(
            c.CreateApiToken(
                workspace_id=self.id,
                name="program",
                scopes=tuple(s.value for s in scopes),
                **AS_OWNER,
            )
        )
        self.version += 1
        self.issued[str(made.view.id)] = False

    @precondition(lambda self: self.room() and any(not r for r in self.issued.values()))
    @rule(data=st.data())
    def revoke_token(self, data: st.DataObject) -> None:
        token = data.draw(st.sampled_from(sorted(t for t, r in self.issued.items() if not r)))
        self.tokens.revoke(c.RevokeApiToken(token_id=UUID(token), **AS_OWNER))
        self.version += 1
        self.issued[token] = True

    @precondition(lambda self: self.room())
    @rule(
        tokens=st.one_of(st.none(), st.integers(0, 2**31 - 1)),
        cost=st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)),
    )
    def set_budget(self, tokens: int | None, cost: float | None) -> None:
        self.builder.services.budgets.set(
            c.SetBudget(
                workspace_id=self.id, monthly_tokens=tokens, monthly_cost_usd=cost, **AS_OWNER
            )
        )
        if Budget(tokens, cost) != self.budget:
            self.version += 1
        self.budget = Budget(tokens, cost)

    @precondition(lambda self: self.room() and list(self.members.values()).count("ADMIN") == 1)
    @rule()
    def the_last_admin_stays(self) -> None:
        """Refused before any event exists, from any load."""
        with pytest.raises(InvalidCommand):
            self.workspaces.change_role(
                c.ChangeRole(workspace_id=self.id, user_id="local", role=Role.VIEWER, **AS_OWNER)
            )

    @precondition(lambda self: not self.room())
    @rule()
    def full(self) -> None:
        """Enabled only when nothing else is: the history is as long as this test goes."""

    # ---------------------------------------------------------------- checks

    @invariant()
    def a_load_is_the_workspace_the_commands_made(self) -> None:
        workspace = self.store.repository.get(self.id)
        assert isinstance(workspace, Workspace)
        assert workspace.version == self.version
        assert {u: r.name for u, r in workspace.members.items()} == self.members
        assert all(type(r) is Role for r in workspace.members.values())
        assert sorted(workspace.invitations) == sorted(self.invitations)
        assert {t: g.revoked for t, g in workspace.tokens.items()} == self.issued
        for grant in workspace.tokens.values():
            assert all(type(s) is Scope for s in grant.scopes)
        assert workspace.budget == self.budget
        assert type(workspace.budget) is Budget
        assert workspace.budget.monthly_cost_usd is None or (
            type(workspace.budget.monthly_cost_usd) is float
        )

    def happened(self) -> bool:
        return self.version > 1

    def check_through_the_api(self) -> None:
        assert snapshot_versions(self.store, self.id) == expected_snapshots(
            self.version, SNAPSHOT_EVERY
        )
        from_snapshots, replayed = both_ways(self.builder.settings, self.ask_the_api)
        assert_same_json(from_snapshots, replayed)
        assert_same_json(
            from_snapshots,
            {
                "id": str(self.id),
                "name": "Team",
                "role": "ADMIN",
                "version": self.version,
                "members": [
                    {"userId": user, "email": None, "role": role}
                    for user, role in sorted(self.members.items())
                ],
                "invitations": sorted(
                    (
                        {"id": i, "role": role, "email": email}
                        for i, (_, role, email) in self.invitations.items()
                    ),
                    key=lambda shown: shown["id"],
                ),
                "budget": {
                    "monthlyTokens": self.budget.monthly_tokens,
                    "monthlyCostUsd": self.budget.monthly_cost_usd,
                },
            },
        )

    def ask_the_api(self, gql: Any) -> dict[str, Any]:
        shown = gql(WORKSPACE, w=str(self.id))["workspace"]
        # invitations of one moment are listed by id: all expire at about the same time
        shown["invitations"] = sorted(shown["invitations"], key=lambda i: i["id"])
        shown["budget"] = gql(BUDGET, w=str(self.id))["workspaceBudget"]
        return shown


@pytest.mark.slow
def test_a_workspace_reads_the_same_from_its_snapshots_as_from_a_full_replay(
    backend: str,
) -> None:
    run_on(AccessHistory, backend, examples=5, steps=60)
