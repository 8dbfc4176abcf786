"""Chooses and keeps one embedder per knowledge-base spec."""

from __future__ import annotations

import threading

from application.ports import Embedder, EmbedderSpec
from infrastructure.outbound import OutboundRules

LOCAL_MODELS = {"", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class DefaultEmbedderFactory:
    """local | openai | gemini; the SDKs and torch are imported on first use of each.

    Embedders are cached per spec (model, key and server), so their HTTP clients and the
    local model are reused across documents and questions.
    """

    def __init__(
        self,
        *,
        local_batch_size: int = 64,
        remote_batch_size: int | None = None,
        max_retries: int = 3,
        timeout: float = 60.0,
        outbound: OutboundRules | None = None,
    ) -> None:
        """`outbound`: where remote embedders' requests may go (None: anywhere)."""
        self.outbound = outbound
        self.local_batch_size = local_batch_size
        self.remote_batch_size = remote_batch_size
        self.max_retries = max_retries
        self.timeout = timeout
        self._cache: dict[EmbedderSpec, Embedder] = {}
        self._lock = threading.Lock()

    def for_spec(self, spec: EmbedderSpec) -> Embedder:
        """The embedder for `spec`; ValueError for an unknown embedder or local model,
        ProviderError when a remote one has no key."""
        with self._lock:
            embedder = self._cache.get(spec)
            if embedder is None:
                embedder = self._cache[spec] = self._make(spec)
            return embedder

    def _make(self, spec: EmbedderSpec) -> Embedder:
        kind = spec.embedder.strip().lower()
        if kind == "local":
            if spec.model.strip().lower() not in LOCAL_MODELS:
                raise ValueError(
                    f"The local embedder has only all-MiniLM-L6-v2, not {spec.model!r}."
                )
            from infrastructure.embedders.local import LocalEmbedder

            return LocalEmbedder(batch_size=self.local_batch_size)
        if kind == "openai":
            from infrastructure.embedders.openai import DEFAULT_BATCH, OpenAIEmbedder

            return OpenAIEmbedder(
                spec.api_key,
                spec.model,
                spec.base_url,
                batch_size=self.remote_batch_size or DEFAULT_BATCH,
                max_retries=self.max_retries,
                timeout=self.timeout,
                outbound=self.outbound,
            )
        if kind == "gemini":
            from infrastructure.embedders.gemini import MAX_BATCH, GeminiEmbedder

            return GeminiEmbedder(
                spec.api_key,
                spec.model,
                spec.base_url,
                batch_size=min(self.remote_batch_size or MAX_BATCH, MAX_BATCH),
                attempts=self.max_retries + 1,
                timeout=self.timeout,
                outbound=self.outbound,
            )
        raise ValueError(f"Unknown embedder {spec.embedder!r}: expected local, openai or gemini.")
