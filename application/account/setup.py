"""The first admin of a server that requires sign-in: made through a one-time link printed
at a start with no users, so no default password ever exists."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from application.account.opaque import digest, new_token
from application.account.ports import Clock, SetupTokenStore
from application.account.users import Users
from application.account.views import UserView
from application.errors import Forbidden, Unauthenticated
from domain.account import check_password, normalize_email

if TYPE_CHECKING:
    from application.account.handlers import Workspaces

SETUP_PREFIX = "gsu_"
SETUP_ACTOR = "setup"


class FirstAdmin:
    def __init__(
        self,
        users: Users,
        workspaces: Workspaces,
        tokens: SetupTokenStore,
        clock: Clock,
        valid_hours: float = 24,
    ) -> None:
        self.users, self.workspaces, self.tokens = users, workspaces, tokens
        self.clock, self.valid_for = clock, timedelta(hours=valid_hours)

    def needed(self) -> bool:
        return self.users.count() == 0

    def new_link_token(self) -> str | None:
        """A one-time token for the setup link, while there is no user; else None."""
        if not self.needed():
            return None
        token = new_token(SETUP_PREFIX)
        self.tokens.add(digest(token), self.clock() + self.valid_for)
        return token

    def create(self, token: str, email: str, password: str, name: str) -> UserView:
        if not self.needed():
            raise Forbidden("this server has its first admin: sign in")
        check_password(password)  # before the token is spent on a refusal
        normalize_email(email)
        if not self.tokens.use(digest(token), self.clock()):
            raise Unauthenticated("this setup link is not valid any more: restart the server")
        user = self.users.register(email, password, name, SETUP_ACTOR, admin=True)
        self.workspaces.ensure_default(user.id, SETUP_ACTOR)
        return user
