"""Single sign-on with an OpenID Connect provider: who the provider vouches for signs in as
one of our users, with the same session a password sign-in gives.

Which user: the one the provider account (issuer, subject) was linked to before; else the
user with the account's email, when the provider says it verified that email (the link is
made then, an `IdentityLinked` event the user is the actor of); else, only when sign-up is
allowed, a new user without a password (`UserRegistered` by the actor `sso`), who joins no
workspace until invited, or the default workspace as a viewer when so configured. Signing in
itself is not an event. A disabled user is refused, whichever way they came.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from application.account.ports import (
    Clock,
    CredentialStore,
    ExternalIdentity,
    IdentityProvider,
    IdentityStore,
    LoginStart,
    RateLimiter,
)
from application.account.sessions import Sessions
from application.account.users import Users
from application.account.views import SignedIn
from application.errors import RateLimited, Unauthenticated
from domain.account import User, normalize_email
from domain.errors import InvalidCommand, NotFound
from domain.workspace import DEFAULT_WORKSPACE, Role

if TYPE_CHECKING:
    from application.account.handlers import Workspaces

SSO_ACTOR = "sso"


class SignOnRefused(Unauthenticated):
    """The provider's answer does not sign anyone in; the message is for that person."""


@dataclass(frozen=True)
class SignOnPolicy:
    sign_up: bool = False  # may a provider account with no user here become a new user?
    email_domains: Sequence[str] = field(default_factory=tuple)  # empty: any domain
    join_default_workspace: bool = False  # new users join the default workspace as viewers


class SingleSignOn:
    def __init__(
        self,
        provider: IdentityProvider,
        users: Users,
        credentials: CredentialStore,
        identities: IdentityStore,
        sessions: Sessions,
        workspaces: Workspaces,
        limiter: RateLimiter,
        clock: Clock,
        policy: SignOnPolicy,
    ) -> None:
        self.provider, self.users, self.credentials = provider, users, credentials
        self.identities, self.sessions, self.workspaces = identities, sessions, workspaces
        self.limiter, self.clock, self.policy = limiter, clock, policy

    @property
    def name(self) -> str:
        """What the sign-in button calls the provider."""
        return self.provider.name

    def begin(self, redirect_uri: str) -> LoginStart:
        return self.provider.begin(redirect_uri)

    def finish(
        self, flow: str | None, params: dict[str, str], redirect_uri: str, client: str
    ) -> SignedIn:
        """The callback: counts as a sign-in attempt of `client` (the same limit)."""
        wait = self.limiter.hit(f"sign-in:client:{client}")
        if wait is not None:
            raise RateLimited(wait)
        identity = self.provider.finish(flow, params, redirect_uri)
        self._check_domain(identity)
        return self.sessions.start(self._user_for(identity))

    # ------------------------------------------------------------------ which user

    def _user_for(self, identity: ExternalIdentity) -> User:
        linked = self.identities.user_of(identity.issuer, identity.subject)
        if linked is not None:
            return self._enabled(linked)
        email = self._verified_email(identity)
        found = self.credentials.by_email(email)
        if found is not None:
            return self._link(found.user_id, identity, actor=str(found.user_id))
        if not self.policy.sign_up:
            raise SignOnRefused(f"there is no account for {email} here: ask an admin to create one")
        if self.users.count() == 0:  # the setup link works only while there is no user
            raise SignOnRefused("this server has no admin yet: its first admin must be set up")
        try:
            created = self.users.register_without_password(email, identity.name, SSO_ACTOR)
        except InvalidCommand:
            # the email was claimed at the same moment (another sign-in of this person)
            again = self.credentials.by_email(email)
            if again is None:
                raise
            return self._link(again.user_id, identity, actor=str(again.user_id))
        user = self._link(UUID(created.id), identity, actor=SSO_ACTOR)
        if self.policy.join_default_workspace:
            self._join_default(created.id)
        return user

    def _link(self, user_id: UUID, identity: ExternalIdentity, actor: str) -> User:
        user = self._enabled(user_id)  # a disabled user gains no new way in
        if not self.identities.link(identity.issuer, identity.subject, user_id, self.clock()):
            owner = self.identities.user_of(identity.issuer, identity.subject)
            if owner != user_id:
                raise SignOnRefused("this account is linked to another user here")
            return user
        try:
            self.users.link_identity(user_id, identity.issuer, identity.subject, actor)
        except BaseException:
            self.identities.unlink(identity.issuer, identity.subject)  # no link without its event
            raise
        return user

    def _enabled(self, user_id: UUID) -> User:
        user = self.users.get(str(user_id))
        if user is None:
            raise SignOnRefused("the user this account signs in as does not exist any more")
        if user.disabled:
            raise SignOnRefused("this account is disabled")
        return user

    def _join_default(self, user_id: str) -> None:
        with suppress(NotFound):  # no default workspace on this server (yet): invitations only
            self.workspaces.change(
                DEFAULT_WORKSPACE,
                lambda workspace: workspace.add_member(user_id, Role.VIEWER, SSO_ACTOR),
            )

    # ------------------------------------------------------------------ checks

    def _verified_email(self, identity: ExternalIdentity) -> str:
        if not identity.email:
            raise SignOnRefused("the provider did not say which email address you have")
        if not identity.email_verified:
            raise SignOnRefused(f"the provider has not verified the email address {identity.email}")
        try:
            return normalize_email(identity.email)
        except InvalidCommand:
            raise SignOnRefused("the provider gave an email address that is not valid") from None

    def _check_domain(self, identity: ExternalIdentity) -> None:
        domains = {d.strip().lower().lstrip("@") for d in self.policy.email_domains if d.strip()}
        if not domains:
            return
        email = self._verified_email(identity)
        if email.rsplit("@", 1)[1] not in domains:
            raise SignOnRefused(f"accounts of {email.rsplit('@', 1)[1]} may not sign in here")
