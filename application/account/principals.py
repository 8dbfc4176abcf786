"""Who a request acts as, from the one credential it presents (or none)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from application.account.opaque import API_TOKEN_PREFIX, PUBLISHABLE_TOKEN_PREFIX
from application.account.ports import AccessTokens
from application.account.users import Users
from domain.policy import LOCAL_ACTOR, Principal

if TYPE_CHECKING:
    from application.account.handlers import ApiTokens

# The owner of a server bound to loopback: only someone on this machine can reach it.
LOCAL_OWNER = Principal(user_id=LOCAL_ACTOR, local=True)


class Principals:
    def __init__(
        self, users: Users, access: AccessTokens, api_tokens: ApiTokens, auto_login: bool
    ) -> None:
        self.users, self.access, self.api_tokens = users, access, api_tokens
        self.auto_login = auto_login

    @property
    def sign_in_required(self) -> bool:
        return not self.auto_login

    def resolve(self, credential: str | None) -> Principal | None:
        """An API token (`gst_…`, or a publishable `gsp_…`) or an access token; with none, the local owner when the
        server signs them in automatically. A credential that is not valid (expired,
        revoked, of a disabled user) is nobody, even on loopback: a client that sends one
        expects to be that one."""
        if credential:
            if credential.startswith((API_TOKEN_PREFIX, PUBLISHABLE_TOKEN_PREFIX)):
                return self.api_tokens.authenticate(credential)
            user_id = self.access.subject(credential)
            if user_id is not None and self.users.active(user_id) is not None:
                return Principal(user_id=user_id)
            return None
        return LOCAL_OWNER if self.auto_login else None

    def resolve_api_key(self, credential: str | None) -> Principal | None:
        """Who an OpenAI-style client is by the key it sends. Its SDKs will not send a
        request without one, so on a server that signs its owner in automatically a key
        that is no credential of ours at all (neither an API token nor an access token,
        e.g. `api_key="local"`) is the local owner, as no key is; a credential of ours that
        is not valid (revoked, expired) is nobody there too, as everywhere."""
        if credential and self.auto_login and not _ours(credential):
            return LOCAL_OWNER
        return self.resolve(credential)

    def still_valid(self, principal: Principal | None, credential: str | None) -> bool:
        """Whether the credential a long-lived request started with still names the same
        principal (a subscription ends once its token is revoked or its user disabled)."""
        return principal is not None and self.resolve(credential) == principal


def _ours(credential: str) -> bool:
    """Whether a credential has the form of one this server issues: an API token, or an
    access token (a JWT: three parts joined by dots)."""
    return credential.startswith(API_TOKEN_PREFIX) or credential.count(".") == 2
