"""What the embedders that call a provider over HTTP share."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit


def remote_model_id(embedder: str, model: str, base_url: str | None, default_host: str) -> str:
    """`{embedder}/{model}`, plus `@host:port` when the vectors come from another server.

    Two servers may serve different weights under one model name, so their vectors get
    different ids (and so different collections); the provider's own host adds nothing.
    """
    model_id = f"{embedder}/{model}"
    host = server_of(base_url)
    if host and host != default_host:
        model_id += f"@{host}"
    return model_id


def server_of(base_url: str | None) -> str | None:
    """`host[:port]` of a URL, lower case, without any credentials in it."""
    if not base_url:
        return None
    parts = urlsplit(base_url if "//" in base_url else f"//{base_url}")
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host or None


def batches(texts: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(texts), size):
        yield list(texts[start : start + size])


def scrubbed(message: str, secret: str | None) -> str:
    """The message with the key taken out, in case a server echoes it back."""
    if secret:
        message = message.replace(secret, "…")
    return message if len(message) <= 300 else message[:300] + "…"
