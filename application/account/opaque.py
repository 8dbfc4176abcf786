"""Opaque secrets handed out once (refresh, API, invitation and setup tokens) and the hashes
kept in their place: 256 random bits, so one round of SHA-256 is enough to store them."""

from __future__ import annotations

import hashlib
import secrets

API_TOKEN_PREFIX = "gst_"  # recognizable by secret scanners
PUBLISHABLE_TOKEN_PREFIX = "gsp_"  # an embedded chat's, meant to be seen in a page's source


def new_token(prefix: str) -> str:
    """A new secret with a recognizable prefix (`gst_` for API tokens), for secret scanners."""
    return prefix + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
