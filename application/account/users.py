"""User use cases: register, reset a password, disable and enable (from the console or the
first-admin setup), and reading a user back."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application.account.ports import Clock, CredentialStore, PasswordHasher, RefreshTokenStore
from application.account.views import UserView
from application.eventlog.log import EventLog, change_with_retry
from domain.account import User, check_password, normalize_email
from domain.errors import InvalidCommand, NotFound

# in place of a password hash: matches no password (no hash verifies against it)
NO_PASSWORD = "!"


class TooBusy(Exception):
    """Every attempt to save clashed with another writer."""


class Users:
    def __init__(
        self,
        store: EventLog,
        credentials: CredentialStore,
        hasher: PasswordHasher,
        sessions: RefreshTokenStore,
        clock: Clock,
    ) -> None:
        self.store, self.credentials, self.hasher = store, credentials, hasher
        self.sessions, self.clock = sessions, clock

    def register(
        self, email: str, password: str, name: str, actor: str, *, admin: bool = False
    ) -> UserView:
        """A new user; the email is claimed first (unique), so two registrations of one
        address at once leave one user."""
        check_password(password)
        user = User.register(email, name, admin, actor)
        if not self.credentials.claim(
            user.id, user.email, self.hasher.hash(password), self.clock()
        ):
            raise InvalidCommand(f"a user with the email {user.email} exists")
        try:
            self.store.save(user)
        except BaseException:
            self.credentials.release(user.id)
            raise
        return UserView.of(user)

    def register_without_password(self, email: str, name: str, actor: str) -> UserView:
        """A user who signs in through single sign-on: no password signs them in until one
        is set (`genai-stack users reset-password`)."""
        user = User.register(email, name, False, actor)
        if not self.credentials.claim(user.id, user.email, NO_PASSWORD, self.clock()):
            raise InvalidCommand(f"a user with the email {user.email} exists")
        try:
            self.store.save(user)
        except BaseException:
            self.credentials.release(user.id)
            raise
        return UserView.of(user)

    def link_identity(self, user_id: UUID, issuer: str, subject: str, actor: str) -> None:
        self._change(user_id, lambda user: user.link_identity(issuer, subject, actor))

    def get(self, user_id: str) -> User | None:
        try:
            user: object = self.store.repository.get(UUID(user_id))
        except (ValueError, AggregateNotFoundError):
            return None
        return user if isinstance(user, User) else None

    def view(self, user_id: str) -> UserView | None:
        user = self.get(user_id)
        return UserView.of(user) if user else None

    def active(self, user_id: str) -> User | None:
        user = self.get(user_id)
        return user if user is not None and not user.disabled else None

    def id_of(self, email: str) -> UUID:
        found = self.credentials.by_email(normalize_email(email))
        if found is None:
            raise NotFound(f"no user with the email {email.strip().lower()}")
        return found.user_id

    def count(self) -> int:
        return self.credentials.count()

    def set_password(
        self, user_id: UUID, password: str, actor: str, keep_session: UUID | None = None
    ) -> None:
        """Sets a new password and signs the user out everywhere (but the session `keep`)."""
        check_password(password)
        self._change(user_id, lambda user: user.change_password(actor))
        self.credentials.set_password(user_id, self.hasher.hash(password))
        self.sessions.revoke_user(user_id, self.clock(), keep=keep_session)

    def reset_password(self, email: str, password: str, actor: str) -> None:
        self.set_password(self.id_of(email), password, actor)

    def disable(self, email: str, actor: str) -> None:
        """Signs the user out everywhere; their access tokens stop working at once too (each
        request checks that its user is still enabled)."""
        user_id = self.id_of(email)
        self._change(user_id, lambda user: user.disable(actor))
        self.sessions.revoke_user(user_id, self.clock())

    def enable(self, email: str, actor: str) -> None:
        self._change(self.id_of(email), lambda user: user.enable(actor))

    def _change(self, user_id: UUID, command: Callable[[User], object]) -> User:
        return change_with_retry(
            self.store,
            lambda: self._load(user_id),
            command,
            too_busy=lambda: TooBusy(f"user {user_id} is changing too often: try again"),
        )

    def _load(self, user_id: UUID) -> User:
        user = self.get(str(user_id))
        if user is None:
            raise NotFound(f"no user {user_id}")
        return user
