"""Wires the account use cases (users, sessions, workspaces, API tokens, the principal of a
request) from settings: part of the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from application.account.api_tokens import ApiTokens
from application.account.principals import Principals
from application.account.sessions import Sessions
from application.account.setup import FirstAdmin
from application.account.users import Users
from application.account.workspaces import Workspaces
from application.eventstore import EventStore
from domain.policy import LOCAL_ACTOR
from infrastructure.accounts.stores import (
    SqlApiTokenStore,
    SqlCredentialStore,
    SqlRefreshTokenStore,
    SqlSetupTokenStore,
)
from infrastructure.accounts.workspaces import SqlWorkspaceReadModel, WorkspacesProjection
from infrastructure.feed import LogWatcher
from infrastructure.passwords import Argon2Hasher
from infrastructure.ratelimit import LimitsRateLimiter
from infrastructure.readmodel.runner import AdvisoryLock, ProjectionWorker
from infrastructure.readmodel.tracking import SqlTrackingView
from infrastructure.settings import Settings
from infrastructure.tokens import JwtAccessTokens, signing_key


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Accounts:
    users: Users
    sessions: Sessions
    workspaces: Workspaces
    api_tokens: ApiTokens
    principals: Principals
    first_admin: FirstAdmin
    secure_cookies: bool

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


def build_accounts(
    settings: Settings,
    store: EventStore,
    engine: Engine,
    watcher: LogWatcher,
    lock: AdvisoryLock | None,
) -> tuple[Accounts, ProjectionWorker]:
    worker = ProjectionWorker(
        store,
        WorkspacesProjection(SqlTrackingView(engine, "workspaces"), store),
        watcher,
        lock,
        settings.genai_poll_seconds,
    )
    credentials, refresh = SqlCredentialStore(engine), SqlRefreshTokenStore(engine)
    hasher = Argon2Hasher()
    users = Users(store, credentials, hasher, refresh, utc_now)
    secret = settings.genai_secret_key.get_secret_value() if settings.genai_secret_key else None
    jwt_key = settings.genai_jwt_key.get_secret_value() if settings.genai_jwt_key else None
    access = JwtAccessTokens(
        signing_key(jwt_key, secret, settings.data_dir()), settings.genai_access_token_minutes
    )
    limiter = LimitsRateLimiter(
        settings.genai_sign_in_limit, settings.redis_url, settings.genai_rate_limit_namespace
    )
    sessions = Sessions(
        users,
        credentials,
        hasher,
        access,
        refresh,
        limiter,
        utc_now,
        settings.genai_refresh_token_days,
    )
    workspaces = Workspaces(
        store, SqlWorkspaceReadModel(engine), credentials, utc_now, worker.caught_up
    )
    api_tokens = ApiTokens(workspaces, SqlApiTokenStore(engine), utc_now)
    accounts = Accounts(
        users,
        sessions,
        workspaces,
        api_tokens,
        Principals(users, access, api_tokens, settings.auto_login),
        FirstAdmin(users, workspaces, SqlSetupTokenStore(engine), utc_now),
        secure_cookies=(settings.genai_public_url or "").startswith("https://"),
    )
    return accounts, worker
