"""The one place a request's principal is found: from its `Authorization: Bearer …` header
(an access token or an API token), from a WebSocket's `connection_init` payload, or, with no
credentials on a loopback server, the local owner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio

from application.account.principals import Principals
from domain.errors import InvalidCommand
from domain.policy import Principal
from domain.workspace import parse_origin

NOT_ALLOWED = "this site is not allowed to use this chat"


def bearer(authorization: str | None) -> str | None:
    """The credential of an `Authorization: Bearer <credential>` value (also given bare, as a
    WebSocket client may); None when there is none."""
    if not authorization:
        return None
    scheme, _, credential = authorization.strip().partition(" ")
    if credential and scheme.lower() == "bearer":
        return credential.strip() or None
    return None if credential else authorization.strip() or None


def authorization_of(connection_params: Mapping[str, Any] | None) -> str | None:
    """The credential a `connection_init` payload carries: `{"authorization": "Bearer …"}`."""
    if not isinstance(connection_params, Mapping):
        return None
    for key in ("authorization", "Authorization"):
        value = connection_params.get(key)
        if isinstance(value, str):
            return value
    return None


async def principal_of(principals: Principals, authorization: str | None) -> Principal | None:
    credential = bearer(authorization)
    if credential is None:
        return principals.resolve(None)  # no I/O: the local owner, or nobody
    return await anyio.to_thread.run_sync(principals.resolve, credential)


def origin_refusal(principal: Principal | None, origin: str | None) -> str | None:
    """Why a request of `principal` from a page of `origin` is refused: a publishable token
    is only used from the sites its owner listed. None when it is not refused (any other
    principal: the Origin is then the guards' business, as ever)."""
    if principal is None or principal.origins is None:
        return None
    if not origin:
        return f"{NOT_ALLOWED}: a publishable token is used from a web page, with its Origin"
    try:
        site = parse_origin(origin)
    except InvalidCommand:
        return f"{NOT_ALLOWED}: {origin[:100]!r} is not an origin"
    if site in principal.origins:
        return None
    return f"{NOT_ALLOWED}: {site} is not among the sites its owner listed"
