"""The User aggregate: a person who signs in, and the changes of their access.

Registering, changing the password and being disabled or enabled are events (the audit shows
who did them); signing in is not. The password itself, and its hash, never enter the log.
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
