"""API tokens for programs: issued by a workspace's admin, shown once, stored as a hash,
revocable; each use is recorded (beside the log: a use changes no one's access)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from application.account.opaque import digest, new_token
from application.account.ports import ApiTokenRecord, ApiTokenStore, Clock
from application.account.views import ApiTokenView, NewApiToken
from application.account.workspaces import Workspaces
from domain.errors import InvalidCommand, NotFound
from domain.policy import Action, Principal
from domain.workspace import parse_scopes

API_TOKEN_PREFIX = "gst_"


class ApiTokens:
    def __init__(self, workspaces: Workspaces, store: ApiTokenStore, clock: Clock) -> None:
        self.workspaces, self.store, self.clock = workspaces, store, clock

    def create(
        self,
        workspace_id: UUID,
        name: str,
        scopes: list[str],
        principal: Principal | None,
        stack_id: UUID | None = None,
        expires_at: datetime | None = None,
    ) -> NewApiToken:
        self.workspaces.load_for(workspace_id, principal, Action.MANAGE_TOKENS)
        assert principal is not None
        granted = parse_scopes(scopes)
        now = self.clock()
        if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
            raise InvalidCommand("expiresAt must be a time in the future, with its time zone")
        token_id, token = uuid4(), new_token(API_TOKEN_PREFIX)
        workspace = self.workspaces.change(
            workspace_id,
            lambda ws: ws.issue_token(
                str(token_id),
                name,
                granted,
                str(stack_id) if stack_id else None,
                expires_at,
                principal.actor,
            ),
        )
        grant = workspace.tokens[str(token_id)]
        record = ApiTokenRecord(
            token_id,
            workspace_id,
            grant.name,
            tuple(sorted(s.value for s in grant.scopes)),
            stack_id,
            principal.actor,
            now,
            expires_at,
        )
        self.store.add(record, digest(token))
        return NewApiToken(token, record.view())

    def of_workspace(self, workspace_id: UUID, principal: Principal | None) -> list[ApiTokenView]:
        self.workspaces.load_for(workspace_id, principal, Action.MANAGE_TOKENS)
        return [record.view() for record in self.store.of_workspace(workspace_id)]

    def revoke(self, token_id: UUID, principal: Principal | None) -> ApiTokenView:
        found = self._find(token_id, principal)
        assert principal is not None
        self.workspaces.change(
            found.workspace_id, lambda ws: ws.revoke_token(str(token_id), principal.actor)
        )
        self.store.revoke(token_id, self.clock())
        return self._find(token_id, principal).view()

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
        )

    def _find(self, token_id: UUID, principal: Principal | None) -> ApiTokenRecord:
        record = self.store.by_id(token_id)
        if record is None:
            raise NotFound(f"no token {token_id}")
        self.workspaces.load_for(record.workspace_id, principal, Action.MANAGE_TOKENS)
        return record
