"""The one place a request's principal is found: from its `Authorization: Bearer …` header
(an access token or an API token), from a WebSocket's `connection_init` payload, or, with no
credentials on a loopback server, the local owner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio

from application.account.principals import Principals
from domain.policy import Principal


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
