"""Workspace use cases: create, invite, accept, change roles, remove members.

A workspace the principal cannot open reads as one that does not exist (NOT_FOUND), so its
existence is not revealed; one they can open but not change refuses with FORBIDDEN.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.account.errors import Forbidden, Unauthenticated
from application.account.opaque import digest, new_token
from application.account.ports import Clock, CredentialStore, WorkspaceReadModel
from application.account.users import TooBusy
from application.account.views import (
    InvitationView,
    MemberView,
    PendingInvitationView,
    WorkspaceView,
)
from application.eventstore import EventStore, change_with_retry
from domain.account import normalize_email
from domain.errors import NotFound
from domain.policy import Action, Principal, belongs, can
from domain.workspace import Role, Workspace

# The workspace of a server's first owner: the local owner of a loopback server, or the
# first admin of a networked one. A fixed id, so processes started at once agree on it.
DEFAULT_WORKSPACE = UUID("0b1d2c9e-6a47-4c1e-9f0a-3d5e2a7c4b10")
DEFAULT_NAME = "My workspace"
INVITATION_PREFIX = "gsi_"


class Workspaces:
    def __init__(
        self,
        store: EventStore,
        read_model: WorkspaceReadModel,
        credentials: CredentialStore,
        clock: Clock,
        caught_up: Callable[[], object] = lambda: None,
        invitation_days: float = 7,
    ) -> None:
        self.store, self.read_model, self.clock = store, read_model, clock
        self.credentials = credentials
        self.caught_up, self.invitation_for = caught_up, timedelta(days=invitation_days)

    # ---------------------------------------------------------------- reads

    def visible_to(self, principal: Principal | None) -> list[WorkspaceView]:
        principal = _signed_in(principal)
        self.caught_up()
        if principal.token_id is not None:
            workspace = self._get(UUID(str(principal.workspace_id)))
            return [_view(workspace, _role_of(principal, workspace))] if workspace else []
        assert principal.user_id is not None
        return self.read_model.of_user(principal.user_id)

    def get(self, workspace_id: UUID, principal: Principal | None) -> WorkspaceView:
        workspace = self.load_for(workspace_id, principal, Action.OPEN)
        return _view(workspace, _role_of(principal, workspace))

    def members(self, workspace_id: UUID, principal: Principal | None) -> list[MemberView]:
        workspace = self.load_for(workspace_id, principal, Action.OPEN)
        emails = self.credentials.emails(list(workspace.members))
        return [
            MemberView(user, emails.get(user), role)
            for user, role in sorted(workspace.members.items())
        ]

    def invitations(
        self, workspace_id: UUID, principal: Principal | None
    ) -> list[PendingInvitationView]:
        """Invitations not taken up yet (expired ones too, marked by their time)."""
        workspace = self.load_for(workspace_id, principal, Action.MANAGE_MEMBERS)
        return [
            PendingInvitationView(UUID(i.id), i.role, i.email, i.expires_at)
            for i in sorted(workspace.invitations.values(), key=lambda i: (i.expires_at, i.id))
        ]

    def load_for(
        self, workspace_id: UUID, principal: Principal | None, action: Action
    ) -> Workspace:
        """The workspace, if the principal may do `action` there."""
        principal = _signed_in(principal)
        workspace = self._get(workspace_id)
        if workspace is None or not belongs(principal, workspace):
            raise NotFound(f"no workspace {workspace_id}")
        if not can(principal, action, workspace):
            raise Forbidden(f"your role in this workspace does not allow {action.value}")
        return workspace

    # ---------------------------------------------------------------- commands

    def create(self, name: str, principal: Principal | None) -> WorkspaceView:
        user = _user(principal)
        workspace = Workspace.create(name, user, user)
        self.store.save(workspace)
        return _view(workspace, Role.ADMIN)

    def ensure_default(self, owner: str, actor: str) -> UUID:
        """The default workspace, with `owner` among its admins; made on first use."""
        for _ in range(3):
            workspace = self._get(DEFAULT_WORKSPACE)
            if workspace is None:
                workspace = Workspace.create(DEFAULT_NAME, owner, actor, DEFAULT_WORKSPACE)
            else:
                workspace.add_member(owner, Role.ADMIN, actor)
            try:
                self.store.save(workspace)
                return DEFAULT_WORKSPACE
            except IntegrityError:
                continue  # another process made or changed it first: look again
        raise TooBusy("the default workspace is changing too often: try again")

    def invite(
        self, workspace_id: UUID, role: Role, email: str | None, principal: Principal | None
    ) -> InvitationView:
        """An invitation with a one-time token, to hand to the person invited."""
        self.load_for(workspace_id, principal, Action.MANAGE_MEMBERS)
        assert principal is not None
        invitation_id, secret = uuid4(), new_token("")
        address = normalize_email(email) if email else None
        expires = self.clock() + self.invitation_for
        self.change(
            workspace_id,
            lambda ws: ws.invite(
                str(invitation_id), role, digest(secret), expires, principal.actor, address
            ),
        )
        token = f"{INVITATION_PREFIX}{workspace_id.hex}{invitation_id.hex}{secret}"
        return InvitationView(invitation_id, workspace_id, role, address, expires, token)

    def accept(self, token: str, principal: Principal | None) -> WorkspaceView:
        user = _user(principal)
        workspace_id, invitation_id, secret = _parse_invitation(token)
        now = self.clock()
        if self._get(workspace_id) is None:
            raise NotFound("no such invitation (it may have been used already)")
        roles: list[Role] = []
        workspace = self.change(
            workspace_id,
            lambda ws: roles.append(ws.accept(str(invitation_id), digest(secret), user, now)),
        )
        return _view(workspace, roles[-1])

    def change_role(
        self, workspace_id: UUID, user_id: str, role: Role, principal: Principal | None
    ) -> None:
        self.load_for(workspace_id, principal, Action.MANAGE_MEMBERS)
        assert principal is not None
        self.change(workspace_id, lambda ws: ws.change_role(user_id, role, principal.actor))

    def remove_member(self, workspace_id: UUID, user_id: str, principal: Principal | None) -> None:
        self.load_for(workspace_id, principal, Action.MANAGE_MEMBERS)
        assert principal is not None
        self.change(workspace_id, lambda ws: ws.remove_member(user_id, principal.actor))

    def change(self, workspace_id: UUID, command: Callable[[Workspace], object]) -> Workspace:
        return change_with_retry(
            self.store,
            lambda: self._load(workspace_id),
            command,
            too_busy=lambda: TooBusy(f"workspace {workspace_id} is changing too often"),
        )

    def _load(self, workspace_id: UUID) -> Workspace:
        workspace = self._get(workspace_id)
        if workspace is None:
            raise NotFound(f"no workspace {workspace_id}")
        return workspace

    def _get(self, workspace_id: UUID) -> Workspace | None:
        try:
            found: object = self.store.repository.get(workspace_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, Workspace) else None


def _view(workspace: Workspace, role: Role) -> WorkspaceView:
    return WorkspaceView(workspace.id, workspace.name, role, workspace.version)


def _role_of(principal: Principal | None, workspace: Workspace) -> Role:
    """The principal's role; a token is shown as a viewer (its scopes say the rest)."""
    if principal is not None and principal.user_id is not None:
        return workspace.role_of(principal.user_id) or Role.VIEWER
    return Role.VIEWER


def _signed_in(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthenticated("sign in first")
    return principal


def _user(principal: Principal | None) -> str:
    """The signed-in user; an API token acts for a program, not for a person."""
    principal = _signed_in(principal)
    if principal.user_id is None:
        raise Forbidden("an API token cannot do this: sign in as a user")
    return principal.user_id


def _parse_invitation(token: str) -> tuple[UUID, UUID, str]:
    body = token.strip().removeprefix(INVITATION_PREFIX)
    try:
        return UUID(hex=body[:32]), UUID(hex=body[32:64]), body[64:]
    except ValueError:
        raise NotFound("no such invitation (it may have been used already)") from None
