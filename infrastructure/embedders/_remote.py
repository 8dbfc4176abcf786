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


class BatchingEmbedder:
    """Embeds in batches of `batch_size` through `_embed_batch`; names its vector space by
    `_model_id`. The providers' adapters differ only in how one batch is asked for."""

    batch_size: int
    _model_id: str

    @property
    def model_id(self) -> str:
        return self._model_id

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for batch in batches(texts, self.batch_size):
            vectors.extend(self._embed_batch(batch))
        return vectors

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        raise NotImplementedError


def batches(texts: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(texts), size):
        yield list(texts[start : start + size])


def scrubbed(message: str, secret: str | None) -> str:
    """The message with the key taken out, in case a server echoes it back."""
    if secret:
        message = message.replace(secret, "…")
    return message if len(message) <= 300 else message[:300] + "…"
