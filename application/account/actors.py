"""Events name their actor by id (a user id, `token:<id>`, `local`); people read names.
This turns the ids into what history and diffs show: a user's name (or email), an API
token's name, the local owner as "local (you)"."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from application.account.ports import ApiTokenStore
from application.account.users import Users
from domain.policy import LOCAL_ACTOR

LOCAL_NAME = "local (you)"  # read as before accounts: "· local"
KNOWN = {
    LOCAL_ACTOR: LOCAL_NAME,
    "console": "Console",
    "setup": "First-admin setup",
    "sso": "Single sign-on",
}
TOKEN_PREFIX = "token:"


class ActorNames:
    def __init__(self, users: Users, tokens: ApiTokenStore) -> None:
        self.users, self.tokens = users, tokens

    def names(self, actors: Iterable[str]) -> dict[str, str]:
        """Each actor's name; an actor that names no one known is shown as recorded."""
        return {actor: self._name(actor) for actor in set(actors)}

    def _name(self, actor: str) -> str:
        if actor in KNOWN:
            return KNOWN[actor]
        if actor.startswith(TOKEN_PREFIX):
            record = self.tokens.by_id(_uuid(actor.removeprefix(TOKEN_PREFIX)))
            return f"API token “{record.name}”" if record else "An API token"
        user = self.users.get(actor)
        if user is None:
            return actor
        return user.name or user.email


def _uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        return UUID(int=0)
