"""An OpenID Connect provider through authlib: discovery, the authorization-code flow with
PKCE (S256), state and nonce, and the ID token verified (signature against the provider's
JWKS, iss, aud, nonce, exp, at_hash).

What one sign-in must remember between the redirect to the provider and its way back (state,
nonce, PKCE verifier, redirect URI) is kept by the browser in a short-lived cookie signed
with the server's key (HS256); nothing is kept here, so any process of the server can finish
a sign-in another began. The client secret is only ever sent to the token endpoint.
"""

from __future__ import annotations

import hmac
import threading
from datetime import timedelta
from typing import Any

import httpx
import jwt
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt as jose_jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from application.account.ports import Clock, ExternalIdentity, LoginStart
from application.account.single_sign_on import SignOnRefused

FLOW_TYPE = "oidc-flow"
FLOW_ALGORITHM = "HS256"
MAX_MESSAGE = 200  # of a provider's error description, shown to the person signing in
LEEWAY_SECONDS = 60  # clocks of the provider and of this server may differ this much


class OidcProvider:
    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        *,
        name: str,
        scopes: str,
        flow_key: bytes,
        clock: Clock,
        timeout: float = 10,
        flow_minutes: float = 10,
    ) -> None:
        self.issuer, self.name = issuer.rstrip("/"), name
        self.client_id, self._secret, self.scopes = client_id, client_secret, scopes
        self._key, self.clock = flow_key, clock
        self.timeout, self.flow_for = timeout, timedelta(minutes=flow_minutes)
        self._metadata: dict[str, Any] | None = None
        self._jwks: dict[str, Any] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the two legs

    def begin(self, redirect_uri: str) -> LoginStart:
        metadata = self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=state,
                nonce=nonce,
                code_verifier=verifier,
            )
        now = self.clock()
        flow = jwt.encode(
            {
                "typ": FLOW_TYPE,
                "iss": self.issuer,
                "state": state,
                "nonce": nonce,
                "verifier": verifier,
                "redirect_uri": redirect_uri,
                "iat": now,
                "exp": now + self.flow_for,
            },
            self._key,
            algorithm=FLOW_ALGORITHM,
        )
        return LoginStart(url, flow)

    def finish(
        self, flow: str | None, params: dict[str, str], redirect_uri: str
    ) -> ExternalIdentity:
        pending = self._pending(flow)
        if not hmac.compare_digest(params.get("state", ""), pending["state"]):
            raise SignOnRefused("this answer is not for the sign-in begun here: try again")
        if "error" in params:  # after the state: only the provider asked may say why
            said = params.get("error_description") or params["error"]
            raise SignOnRefused(f"the provider did not sign you in: {_printable(said)}")
        if "iss" in params and params["iss"].rstrip("/") != self.issuer:  # RFC 9207: mix-up
            raise SignOnRefused("the answer comes from another provider than the one asked")
        code = params.get("code")
        if not code:
            raise SignOnRefused("the provider's answer has no authorization code")
        if pending["redirect_uri"] != redirect_uri:
            raise SignOnRefused("this answer is not for the sign-in begun here: try again")
        metadata = self.metadata()
        with self._client(redirect_uri) as client:
            try:
                token = client.fetch_token(
                    metadata["token_endpoint"],
                    code=code,
                    code_verifier=pending["verifier"],
                    redirect_uri=redirect_uri,
                )
            except AuthlibBaseError as error:
                said = error.description or error.error
                raise SignOnRefused(
                    f"the provider did not accept the sign-in: {_printable(said or '')}"
                ) from None
            except (httpx.HTTPError, ValueError):
                raise SignOnRefused("the sign-in provider cannot be reached: try again") from None
            claims = self._verified_claims(token, pending["nonce"])
            info = self._userinfo(client, metadata, token, claims)
        email = info.get("email", claims.get("email"))
        verified = info.get("email_verified", claims.get("email_verified"))
        name = info.get("name", claims.get("name")) or ""
        return ExternalIdentity(
            issuer=self.issuer,
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) else None,
            email_verified=verified is True or verified == "true",
            name=_printable(name) if isinstance(name, str) else "",
        )

    # ------------------------------------------------------------------ the provider

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, fetched once (and again after a failure)."""
        with self._lock:
            if self._metadata is not None:
                return self._metadata
            url = f"{self.issuer}/.well-known/openid-configuration"
            try:
                response = httpx.get(url, timeout=self.timeout)
                response.raise_for_status()
                found = response.json()
            except (httpx.HTTPError, ValueError):
                raise SignOnRefused("the sign-in provider cannot be reached: try again") from None
            needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
            if not isinstance(found, dict) or not all(
                isinstance(found.get(k), str) for k in needed
            ):
                raise SignOnRefused("the sign-in provider's configuration is not usable")
            if found["issuer"].rstrip("/") != self.issuer:
                raise SignOnRefused("the sign-in provider names another issuer than configured")
            self._metadata = found
            return found

    def _keys(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._jwks is None or refresh:
                assert self._metadata is not None
                try:
                    response = httpx.get(self._metadata["jwks_uri"], timeout=self.timeout)
                    response.raise_for_status()
                    self._jwks = response.json()
                except (httpx.HTTPError, ValueError):
                    raise SignOnRefused("the sign-in provider cannot be reached") from None
            try:
                return KeySet.import_key_set(self._jwks)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError):
                raise SignOnRefused("the sign-in provider's keys are not usable") from None

    def _verified_claims(self, token: dict[str, Any], nonce: str) -> CodeIDToken:
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignOnRefused("the provider's answer has no ID token (is 'openid' a scope?)")
        algorithms = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        registry = JWSRegistry(
            algorithms=[a for a in algorithms if a != "none"], strict_check_header=False
        )
        try:
            try:
                decoded = jose_jwt.decode(id_token, self._keys(), registry=registry)
            except InvalidKeyIdError:  # the provider rotated its keys: fetch them again
                decoded = jose_jwt.decode(id_token, self._keys(refresh=True), registry=registry)
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": self.issuer},
                    "aud": {"essential": True, "value": self.client_id},
                    "sub": {"essential": True},
                },
                {
                    "nonce": nonce,
                    "client_id": self.client_id,
                    "access_token": token.get("access_token"),
                },
            )
            claims.validate(now=int(self.clock().timestamp()), leeway=LEEWAY_SECONDS)
        except (JoseError, ValueError) as error:
            raise SignOnRefused(
                f"the provider's ID token is not valid ({_reason(error)})"
            ) from None
        if not claims.get("nonce"):  # validate_nonce passes a token without one
            raise SignOnRefused("the provider's ID token is not valid (nonce)")
        return claims

    def _userinfo(
        self,
        client: OAuth2Client,
        metadata: dict[str, Any],
        token: dict[str, Any],
        claims: CodeIDToken,
    ) -> dict[str, Any]:
        """The userinfo endpoint's claims, when the ID token leaves out the email (providers
        that follow the spec closely put scope claims only there); only for the same sub."""
        endpoint = metadata.get("userinfo_endpoint")
        if "email" in claims or not isinstance(endpoint, str) or "access_token" not in token:
            return {}
        try:
            response = client.get(endpoint)  # with the access token fetch_token kept
            response.raise_for_status()
            info = response.json()
        except (httpx.HTTPError, ValueError, AuthlibBaseError):
            return {}
        if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
            return {}
        return info

    def _client(self, redirect_uri: str) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.client_id,
            client_secret=self._secret,
            token_endpoint_auth_method="client_secret_basic" if self._secret else "none",
            scope=self.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.timeout,
        )

    def _pending(self, flow: str | None) -> dict[str, Any]:
        if not flow:
            raise SignOnRefused(
                "this sign-in was not begun in this browser (or its cookie was refused): try again"
            )
        try:
            pending: dict[str, Any] = jwt.decode(
                flow,
                self._key,
                algorithms=[FLOW_ALGORITHM],
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise SignOnRefused("the sign-in took too long: try again") from None
        except jwt.PyJWTError:
            raise SignOnRefused("this sign-in was not begun here: try again") from None
        keys = ("state", "nonce", "verifier", "redirect_uri")
        if pending.get("typ") != FLOW_TYPE or not all(
            isinstance(pending.get(k), str) for k in keys
        ):
            raise SignOnRefused("this sign-in was not begun here: try again")
        return pending


def _printable(text: str) -> str:
    return "".join(c for c in text if c.isprintable())[:MAX_MESSAGE]


def _reason(error: Exception) -> str:
    """Which check failed, without the token: the claim's name, or the kind of failure."""
    claim = getattr(error, "claim", None)
    if isinstance(claim, str):
        return claim
    return getattr(error, "error", None) or type(error).__name__
