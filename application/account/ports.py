"""What the account use cases need from outside: hashing, signing, and the tables that hold
credentials (which cannot be rebuilt from the log, so a rebuild leaves them alone)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from application.account.views import ApiTokenView, WorkspaceView
from domain.workflow import Workflow

Clock = Callable[[], datetime]


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, stored: str, password: str) -> bool: ...

    def needs_rehash(self, stored: str) -> bool: ...


class AccessTokens(Protocol):
    """Short-lived signed access tokens (JWT)."""

    def issue(self, user_id: str, now: datetime) -> tuple[str, datetime]: ...

    def subject(self, token: str) -> str | None:
        """The user id a valid, unexpired token was issued to; None for any other string."""
        ...


@dataclass(frozen=True)
class Credentials:
    user_id: UUID
    email: str
    password_hash: str


class CredentialStore(Protocol):
    """Each user's email (unique: the claim that makes it so) and password hash."""

    def claim(self, user_id: UUID, email: str, password_hash: str, now: datetime) -> bool:
        """False when the email is taken."""
        ...

    def release(self, user_id: UUID) -> None: ...

    def by_email(self, email: str) -> Credentials | None: ...

    def by_id(self, user_id: UUID) -> Credentials | None: ...

    def set_password(self, user_id: UUID, password_hash: str) -> None: ...

    def emails(self, user_ids: list[str]) -> dict[str, str]: ...

    def count(self) -> int: ...


@dataclass(frozen=True)
class RefreshRecord:
    family: UUID
    user_id: UUID
    expires_at: datetime
    used: bool
    revoked: bool


class RefreshTokenStore(Protocol):
    def add(
        self, token_hash: str, family: UUID, user_id: UUID, expires_at: datetime, now: datetime
    ) -> None: ...

    def get(self, token_hash: str) -> RefreshRecord | None: ...

    def use(self, token_hash: str, now: datetime) -> bool:
        """Marks a token used (rotated); False when it already was."""
        ...

    def revoke_family(self, family: UUID, now: datetime) -> None: ...

    def revoke_user(self, user_id: UUID, now: datetime, keep: UUID | None = None) -> None:
        """Revokes every session of a user, but the family `keep`."""
        ...


@dataclass(frozen=True)
class ApiTokenRecord:
    id: UUID
    workspace_id: UUID
    name: str
    scopes: tuple[str, ...]
    stack_id: UUID | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    allowed_origins: tuple[str, ...] | None = None  # a publishable token's sites

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def view(self) -> ApiTokenView:
        return ApiTokenView(
            self.id,
            self.workspace_id,
            self.name,
            self.scopes,
            self.stack_id,
            self.created_at,
            self.expires_at,
            self.revoked_at,
            self.last_used_at,
            self.allowed_origins,
        )


class ApiTokenStore(Protocol):
    def add(self, record: ApiTokenRecord, token_hash: str) -> None: ...

    def by_hash(self, token_hash: str) -> ApiTokenRecord | None: ...

    def by_id(self, token_id: UUID) -> ApiTokenRecord | None: ...

    def touch(self, token_id: UUID, now: datetime) -> None:
        """Records a use (not an event: it changes no one's access)."""
        ...

    def revoke(self, token_id: UUID, now: datetime) -> None: ...

    def of_workspace(self, workspace_id: UUID) -> list[ApiTokenRecord]: ...

    def publishable(self) -> list[ApiTokenRecord]:
        """Every publishable token, revoked and expired ones too."""
        ...


class Stacks(Protocol):
    """What issuing a token for one stack needs to know of it."""

    def workspace_of(self, wid: UUID) -> UUID: ...

    def load(self, wid: UUID) -> Workflow: ...


class SetupTokenStore(Protocol):
    def add(self, token_hash: str, expires_at: datetime) -> None: ...

    def use(self, token_hash: str, now: datetime) -> bool:
        """Spends a valid, unexpired, unused token; False for any other."""
        ...


class WorkspaceReadModel(Protocol):
    def of_user(self, user_id: str) -> list[WorkspaceView]: ...


class RateLimiter(Protocol):
    def hit(self, *keys: str) -> int | None:
        """Counts an attempt under each key; the seconds to wait when any is over its limit."""
        ...


# ------------------------------------------------------------------ single sign-on


@dataclass(frozen=True)
class ExternalIdentity:
    """Who an OpenID Connect provider says signed in, from an ID token it signed (and its
    userinfo endpoint, for the claims the ID token leaves out)."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str


@dataclass(frozen=True)
class LoginStart:
    """Where to send the browser, and what it must bring back (a signed, short-lived value
    that holds the state, nonce and PKCE verifier of this one sign-in, kept in a cookie)."""

    url: str
    flow: str


class IdentityProvider(Protocol):
    """An OpenID Connect provider, through the authorization-code flow with PKCE."""

    issuer: str
    name: str

    def begin(self, redirect_uri: str) -> LoginStart: ...

    def finish(
        self, flow: str | None, params: dict[str, str], redirect_uri: str
    ) -> ExternalIdentity:
        """The identity the provider vouches for: the callback's `params` must answer the
        `flow` begun here (state), and the ID token must verify (signature, iss, aud, nonce,
        exp). Raises `SignOnRefused` with a message for the person signing in."""
        ...


class IdentityStore(Protocol):
    """Which user each provider account (issuer, subject) signs in as."""

    def user_of(self, issuer: str, subject: str) -> UUID | None: ...

    def link(self, issuer: str, subject: str, user_id: UUID, now: datetime) -> bool:
        """False when the account is linked already (to whichever user)."""
        ...

    def unlink(self, issuer: str, subject: str) -> None: ...
