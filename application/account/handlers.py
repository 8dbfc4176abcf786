"""Workspace and API token use cases: create a workspace, invite, accept, change roles,
remove members; issue and revoke API tokens (shown once, stored as a hash, each use recorded
beside the log: a use changes no one's access). And `Accounts`, the account use cases of one
process together.

A workspace the principal cannot open reads as one that does not exist (NOT_FOUND), so its
existence is not revealed; one they can open but not change refuses with FORBIDDEN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.account import commands as c
from application.account.actors import ActorNames
from application.account.opaque import (
    API_TOKEN_PREFIX,
    PUBLISHABLE_TOKEN_PREFIX,
    digest,
    new_token,
)
from application.account.ports import (
    ApiTokenRecord,
    ApiTokenStore,
    Clock,
    CredentialStore,
    Stacks,
    WorkspaceReadModel,
)
from application.account.principals import Principals
from application.account.sessions import Sessions
from application.account.setup import FirstAdmin
from application.account.single_sign_on import SingleSignOn
from application.account.users import TooBusy, Users
from application.account.views import (
    ApiTokenView,
    InvitationView,
    MemberView,
    NewApiToken,
    PendingInvitationView,
    WorkspaceView,
)
from application.errors import Forbidden, Unauthenticated
from application.eventlog.log import EventLog, change_with_retry
from domain.account import normalize_email
from domain.errors import InvalidCommand, NotFound
from domain.policy import LOCAL_ACTOR, Action, Principal, belongs, can
from domain.workspace import DEFAULT_WORKSPACE, Role, Scope, Workspace, parse_origin, parse_scopes

DEFAULT_NAME = "My workspace"
INVITATION_PREFIX = "gsi_"


class Workspaces:
    def __init__(
        self,
        store: EventLog,
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

    def administers(self, principal: Principal | None) -> bool:
        """Whether the principal is a signed-in user who is an admin of some workspace (the
        server's tools are theirs too). Not an API token, and not the local owner, who is
        whoever reaches a loopback server."""
        if principal is None or principal.token_id is not None or principal.local:
            return False
        if principal.user_id is None:
            return False
        return any(v.role is Role.ADMIN for v in self.read_model.of_user(principal.user_id))

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

    def create(self, cmd: c.CreateWorkspace) -> WorkspaceView:
        user = _user(cmd.principal)
        workspace = Workspace.create(cmd.name, user, cmd.actor)
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

    def invite(self, cmd: c.InviteMember) -> InvitationView:
        """An invitation with a one-time token, to hand to the person invited."""
        workspace_id = cmd.workspace_id
        self.load_for(workspace_id, cmd.principal, Action.MANAGE_MEMBERS)
        invitation_id, secret = uuid4(), new_token("")
        address = normalize_email(cmd.email) if cmd.email else None
        expires = self.clock() + self.invitation_for
        self.change(
            workspace_id,
            lambda ws: ws.invite(
                str(invitation_id), cmd.role, digest(secret), expires, cmd.actor, address
            ),
        )
        token = f"{INVITATION_PREFIX}{workspace_id.hex}{invitation_id.hex}{secret}"
        return InvitationView(invitation_id, workspace_id, cmd.role, address, expires, token)

    def accept(self, cmd: c.AcceptInvitation) -> WorkspaceView:
        user = _user(cmd.principal)
        workspace_id, invitation_id, secret = _parse_invitation(cmd.token)
        now = self.clock()
        if self._get(workspace_id) is None:
            raise NotFound("no such invitation (it may have been used already)")
        roles: list[Role] = []
        workspace = self.change(
            workspace_id,
            lambda ws: roles.append(ws.accept(str(invitation_id), digest(secret), user, now)),
        )
        return _view(workspace, roles[-1])

    def change_role(self, cmd: c.ChangeRole) -> list[MemberView]:
        """The members after the change."""
        self.load_for(cmd.workspace_id, cmd.principal, Action.MANAGE_MEMBERS)
        self.change(cmd.workspace_id, lambda ws: ws.change_role(cmd.user_id, cmd.role, cmd.actor))
        return self.members(cmd.workspace_id, cmd.principal)

    def remove_member(self, cmd: c.RemoveMember) -> list[MemberView]:
        """The members after the removal."""
        self.load_for(cmd.workspace_id, cmd.principal, Action.MANAGE_MEMBERS)
        self.change(cmd.workspace_id, lambda ws: ws.remove_member(cmd.user_id, cmd.actor))
        return self.members(cmd.workspace_id, cmd.principal)

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

    def find(self, workspace_id: UUID) -> Workspace | None:
        """The workspace as the log holds it now, None when there is none (for the access
        checks). To read only: it may be the one the event log keeps for every reader."""
        return self._get(workspace_id, to_change=False)

    def _get(self, workspace_id: UUID, to_change: bool = True) -> Workspace | None:
        try:
            found: object = self.store.repository.get(workspace_id, deepcopy_from_cache=to_change)
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


class ApiTokens:
    def __init__(
        self,
        workspaces: Workspaces,
        store: ApiTokenStore,
        clock: Clock,
        stacks: Stacks | None = None,
    ) -> None:
        self.workspaces, self.store, self.clock = workspaces, store, clock
        self.stacks = stacks

    def create(self, cmd: c.CreateApiToken) -> NewApiToken:
        self.workspaces.load_for(cmd.workspace_id, cmd.principal, Action.MANAGE_TOKENS)
        if cmd.stack_id is not None:
            self._check_stack_of(cmd.workspace_id, cmd.stack_id)
        return self._issue(
            cmd.workspace_id,
            cmd.name,
            parse_scopes(list(cmd.scopes)),
            cmd.stack_id,
            cmd.expires_at,
            cmd.actor,
        )

    def _check_stack_of(self, workspace_id: UUID, stack_id: UUID) -> None:
        """A token limited to a stack names one of its own workspace: another workspace's stack
        reads as none, as it does everywhere else."""
        assert self.stacks is not None, "tokens limited to a stack need the stacks"
        if self.stacks.workspace_of(stack_id) != workspace_id:
            raise NotFound("no such stack in this workspace")

    def create_publishable(self, cmd: c.CreatePublishableToken) -> NewApiToken:
        """A token to embed the chat of a published stack on the sites listed."""
        assert self.stacks is not None, "publishable tokens need the stacks"
        workspace_id = self.stacks.workspace_of(cmd.stack_id)
        self.workspaces.load_for(workspace_id, cmd.principal, Action.MANAGE_TOKENS)
        if not self.stacks.load(cmd.stack_id).published:
            raise InvalidCommand("publish the stack first: an embedded chat answers from it")
        return self._issue(
            workspace_id,
            cmd.name,
            frozenset({Scope.CHAT}),
            cmd.stack_id,
            cmd.expires_at,
            cmd.actor,
            tuple(cmd.allowed_origins),
        )

    def _issue(
        self,
        workspace_id: UUID,
        name: str,
        scopes: frozenset[Scope],
        stack_id: UUID | None,
        expires_at: datetime | None,
        actor: str,
        allowed_origins: tuple[str, ...] | None = None,
    ) -> NewApiToken:
        now = self.clock()
        if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
            raise InvalidCommand("expiresAt must be a time in the future, with its time zone")
        prefix = API_TOKEN_PREFIX if allowed_origins is None else PUBLISHABLE_TOKEN_PREFIX
        token_id, token = uuid4(), new_token(prefix)
        workspace = self.workspaces.change(
            workspace_id,
            lambda ws: ws.issue_token(
                str(token_id),
                name,
                scopes,
                str(stack_id) if stack_id else None,
                expires_at,
                actor,
                allowed_origins,
            ),
        )
        grant = workspace.tokens[str(token_id)]
        record = ApiTokenRecord(
            token_id,
            workspace_id,
            grant.name,
            tuple(sorted(s.value for s in grant.scopes)),
            stack_id,
            actor,
            now,
            expires_at,
            allowed_origins=grant.allowed_origins,
        )
        self.store.add(record, digest(token))
        return NewApiToken(token, record.view())

    def origin_listed(self, origin: str) -> bool:
        """Whether a live publishable token lists `origin`: a page there may be an embedded
        chat, so its cross-origin requests are let as far as the token's own check."""
        try:
            wanted = parse_origin(origin)
        except InvalidCommand:
            return False
        now = self.clock()
        return any(
            r.live(now) and wanted in (r.allowed_origins or ()) for r in self.store.publishable()
        )

    def of_workspace(self, workspace_id: UUID, principal: Principal | None) -> list[ApiTokenView]:
        self.workspaces.load_for(workspace_id, principal, Action.MANAGE_TOKENS)
        return [record.view() for record in self.store.of_workspace(workspace_id)]

    def publishable_of(self, stack_id: UUID, principal: Principal | None) -> list[ApiTokenView]:
        """The publishable tokens of one stack's embedded chat."""
        assert self.stacks is not None, "publishable tokens need the stacks"
        workspace_id = self.stacks.workspace_of(stack_id)
        self.workspaces.load_for(workspace_id, principal, Action.MANAGE_TOKENS)
        return [
            record.view()
            for record in self.store.of_workspace(workspace_id)
            if record.stack_id == stack_id and record.allowed_origins is not None
        ]

    def revoke(self, cmd: c.RevokeApiToken) -> ApiTokenView:
        found = self._find(cmd.token_id, cmd.principal)
        self.workspaces.change(
            found.workspace_id, lambda ws: ws.revoke_token(str(cmd.token_id), cmd.actor)
        )
        self.store.revoke(cmd.token_id, self.clock())
        return self._find(cmd.token_id, cmd.principal).view()

    def authenticate(self, token: str) -> Principal | None:
        """The principal a token acts as, or None for a token unknown, revoked or expired."""
        record = self.store.by_hash(digest(token))
        now = self.clock()
        if record is None or record.revoked_at is not None:
            return None
        if record.expires_at is not None and now >= record.expires_at:
            return None
        self.store.touch(record.id, now)
        return Principal(
            token_id=str(record.id),
            workspace_id=str(record.workspace_id),
            scopes=parse_scopes(list(record.scopes)),
            stack_id=str(record.stack_id) if record.stack_id else None,
            origins=(
                frozenset(record.allowed_origins) if record.allowed_origins is not None else None
            ),
        )

    def _find(self, token_id: UUID, principal: Principal | None) -> ApiTokenRecord:
        record = self.store.by_id(token_id)
        if record is None:
            raise NotFound(f"no token {token_id}")
        self.workspaces.load_for(record.workspace_id, principal, Action.MANAGE_TOKENS)
        return record


@dataclass
class Accounts:
    """The account use cases of one process."""

    users: Users
    sessions: Sessions
    workspaces: Workspaces
    api_tokens: ApiTokens
    principals: Principals
    first_admin: FirstAdmin
    actors: ActorNames  # who an event's actor is, by name
    single_sign_on: SingleSignOn | None = None  # when an OpenID Connect provider is set

    def on_server_start(self, public_url: str, announce: Callable[[str], None]) -> None:
        """On loopback the local owner gets their workspace; on a network, a server with no
        user yet prints a one-time link to create the first admin (to the console only)."""
        if self.principals.auto_login:
            self.workspaces.ensure_default(LOCAL_ACTOR, LOCAL_ACTOR)
            return
        token = self.first_admin.new_link_token()
        if token is not None:
            announce(
                "No user yet. Create the first admin (the link works once, for 24 hours): "
                f"{public_url.rstrip('/')}/setup?token={token}"
            )
