"""The User aggregate: a person who signs in, and the changes of their access.

Registering, changing the password, being disabled or enabled, and linking an identity of a
single sign-on provider are events (the audit shows who did them); signing in is not. The
password itself, and its hash, never enter the log.
"""

from __future__ import annotations

import re

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidCommand

MAX_EMAIL = 254
MAX_NAME = 200
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # a hash of megabytes would be a cheap way to load the server

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > MAX_EMAIL or not _EMAIL.match(email) or not email.isprintable():
        raise InvalidCommand("that is not an email address")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidCommand(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidCommand(f"a password may have at most {MAX_PASSWORD} characters")
    if "\x00" in password:
        raise InvalidCommand("a password cannot contain the NUL character")
    return password


class User(Aggregate):
    @event("UserRegistered")
    def __init__(self, email: str, name: str, admin: bool, actor: str) -> None:
        self.email, self.name, self.admin = email, name, admin
        self.disabled = False
        self.password_changes = 0
        self.identities: list[list[str]] = []  # [issuer, subject] of each linked account
        self.last_actor = actor

    @classmethod
    def register(cls, email: str, name: str, admin: bool, actor: str) -> User:
        name = name.strip()
        if len(name) > MAX_NAME or not name.isprintable():
            raise InvalidCommand(f"a name must be at most {MAX_NAME} printable characters")
        return cls(normalize_email(email), name, admin, actor)

    def change_password(self, actor: str) -> None:
        """Records that the password changed (the new one is kept beside the log)."""
        self._password_changed(actor=actor)

    @event("PasswordChanged")
    def _password_changed(self, actor: str) -> None:
        self.password_changes += 1
        self.last_actor = actor

    def disable(self, actor: str) -> None:
        if not self.disabled:
            self._disabled(actor=actor)

    @event("UserDisabled")
    def _disabled(self, actor: str) -> None:
        self.disabled = True
        self.last_actor = actor

    def enable(self, actor: str) -> None:
        if self.disabled:
            self._enabled(actor=actor)

    @event("UserEnabled")
    def _enabled(self, actor: str) -> None:
        self.disabled = False
        self.last_actor = actor

    def link_identity(self, issuer: str, subject: str, actor: str) -> None:
        """Records that the account `subject` of the OpenID Connect provider `issuer` signs
        in as this user (the link itself is kept beside the log, unique per account)."""
        if [issuer, subject] not in getattr(self, "identities", []):
            self._identity_linked(issuer=issuer, subject=subject, actor=actor)

    @event("IdentityLinked")
    def _identity_linked(self, issuer: str, subject: str, actor: str) -> None:
        self.identities = [*getattr(self, "identities", []), [issuer, subject]]
        self.last_actor = actor
