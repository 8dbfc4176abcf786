"""Sign-in sessions: a short-lived access token, and a refresh token that rotates on each use.

Refresh tokens of one sign-in form a family. Each is good for one refresh; presenting one that
was already used means it was copied, so the whole family is revoked and both holders must
sign in again.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

from application.account.opaque import digest, new_token
from application.account.ports import (
    AccessTokens,
    Clock,
    CredentialStore,
    PasswordHasher,
    RateLimiter,
    RefreshTokenStore,
)
from application.account.users import NO_PASSWORD, Users
from application.account.views import SignedIn, UserView
from application.errors import RateLimited, Unauthenticated
from domain.account import MAX_PASSWORD, User, normalize_email
from domain.errors import InvalidCommand

REFRESH_PREFIX = "grt_"
WRONG = "wrong email or password"


class Sessions:
    def __init__(
        self,
        users: Users,
        credentials: CredentialStore,
        hasher: PasswordHasher,
        access: AccessTokens,
        refresh_tokens: RefreshTokenStore,
        limiter: RateLimiter,
        clock: Clock,
        refresh_days: float = 14,
    ) -> None:
        self.users, self.credentials, self.hasher = users, credentials, hasher
        self.access, self.refresh_tokens, self.limiter = access, refresh_tokens, limiter
        self.clock, self.refresh_for = clock, timedelta(days=refresh_days)

    def sign_in(self, email: str, password: str, client: str) -> SignedIn:
        try:
            address = normalize_email(email)
        except InvalidCommand:
            address = email.strip().lower()[:254]
        wait = self.limiter.hit(f"sign-in:email:{address}", f"sign-in:client:{client}")
        if wait is not None:
            raise RateLimited(wait)
        found = self.credentials.by_email(address)
        if found is None or len(password) > MAX_PASSWORD or found.password_hash == NO_PASSWORD:
            self.hasher.hash(password[:MAX_PASSWORD])  # as slow as a real check: no oracle
            raise Unauthenticated(WRONG)
        if not self.hasher.verify(found.password_hash, password):
            raise Unauthenticated(WRONG)
        user = self.users.active(str(found.user_id))
        if user is None:
            raise Unauthenticated("this account is disabled")
        if self.hasher.needs_rehash(found.password_hash):
            self.credentials.set_password(found.user_id, self.hasher.hash(password))
        return self._issue(UserView.of(user), uuid4())

    def start(self, user: User) -> SignedIn:
        """A new session for a user who proved who they are some other way (single sign-on)."""
        if user.disabled:
            raise Unauthenticated("this account is disabled")
        return self._issue(UserView.of(user), uuid4())

    def refresh(self, refresh_token: str | None) -> SignedIn:
        """A new access token and the next refresh token of the family."""
        record = self.refresh_tokens.get(digest(refresh_token)) if refresh_token else None
        now = self.clock()
        if record is None or record.revoked or now >= record.expires_at:
            raise Unauthenticated("the session has ended: sign in again")
        assert refresh_token is not None
        if record.used or not self.refresh_tokens.use(digest(refresh_token), now):
            self.refresh_tokens.revoke_family(record.family, now)
            raise Unauthenticated("this session was used elsewhere: sign in again")
        user = self.users.active(str(record.user_id))
        if user is None:
            self.refresh_tokens.revoke_family(record.family, now)
            raise Unauthenticated("this account is disabled")
        return self._issue(UserView.of(user), record.family)

    def sign_out(self, refresh_token: str | None) -> None:
        record = self.refresh_tokens.get(digest(refresh_token)) if refresh_token else None
        if record is not None:
            self.refresh_tokens.revoke_family(record.family, self.clock())

    def family_of(self, refresh_token: str | None) -> UUID | None:
        record = self.refresh_tokens.get(digest(refresh_token)) if refresh_token else None
        return record.family if record is not None else None

    def change_password(
        self, user_id: str, current: str, new: str, refresh_token: str | None
    ) -> None:
        """Needs the current password; signs out every other session of the user."""
        found = self.credentials.by_id(UUID(user_id))
        if found is None or not self.hasher.verify(found.password_hash, current[:MAX_PASSWORD]):
            raise Unauthenticated("the current password is wrong")
        keep = self.family_of(refresh_token)
        self.users.set_password(found.user_id, new, user_id, keep_session=keep)

    def _issue(self, user: UserView, family: UUID) -> SignedIn:
        now = self.clock()
        access, access_expires = self.access.issue(user.id, now)
        refresh = new_token(REFRESH_PREFIX)
        expires = now + self.refresh_for
        self.refresh_tokens.add(digest(refresh), family, UUID(user.id), expires, now)
        return SignedIn(user, access, access_expires, refresh, expires)
