"""Provider name → LLM adapter, for the workflow engine's LLM node."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping, Sequence

from application.ports import LLM, ModelCatalog, ModelInfo
from infrastructure.outbound import OutboundRules


class ProviderLLMFactory:
    """One adapter per provider, made on first use: the SDKs take about a second each to
    import, which the server's start and keyless setups need not pay. Adapters keep no
    state between requests, so one is shared. `adapters` replaces or adds providers.
    Safe from several threads: each adapter is made once."""

    def __init__(
        self,
        adapters: Mapping[str, LLM] | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 2,
        openai_base_url: str | None = None,
        gemini_base_url: str | None = None,
        outbound: OutboundRules | None = None,
    ) -> None:
        def openai_llm() -> LLM:
            from infrastructure.llm.openai import OpenAILLM

            return OpenAILLM(
                base_url=openai_base_url, timeout=timeout, retries=retries, outbound=outbound
            )

        def gemini_llm() -> LLM:
            from infrastructure.llm.gemini import GeminiLLM

            return GeminiLLM(
                base_url=gemini_base_url, timeout=timeout, retries=retries, outbound=outbound
            )

        def ollama_llm() -> LLM:
            from infrastructure.llm.ollama import OllamaLLM

            return OllamaLLM(timeout=timeout, retries=retries, outbound=outbound)

        def extractive_llm() -> LLM:
            from infrastructure.llm.extractive import ExtractiveLLM

            return ExtractiveLLM(embedder=_loaded_local_model)

        self._builders: dict[str, Callable[[], LLM]] = {
            "openai": openai_llm,
            "gemini": gemini_llm,
            "ollama": ollama_llm,
            "extractive": extractive_llm,
        }
        self._made = {name.strip().lower(): llm for name, llm in (adapters or {}).items()}
        self._lock = threading.Lock()

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(sorted(self._builders.keys() | self._made.keys()))

    def for_provider(self, provider: str) -> LLM:
        key = provider.strip().lower()
        made = self._made.get(key)
        if made is not None:
            return made
        if key not in self._builders:
            known = ", ".join(self.providers)
            raise ValueError(f"unknown LLM provider {provider!r} (known: {known})")
        with self._lock:
            if key not in self._made:
                self._made[key] = self._builders[key]()
            return self._made[key]


class _LazyCatalog:
    """A model catalog whose adapter (and client library) is made on first use."""

    def __init__(self, make: Callable[[], ModelCatalog]) -> None:
        self._make, self._made = make, None
        self._lock = threading.Lock()

    def _adapter(self) -> ModelCatalog:
        with self._lock:
            if self._made is None:
                self._made = self._make()
            return self._made

    async def models(self, base_url: str | None) -> list[ModelInfo]:
        adapter = await asyncio.to_thread(self._adapter)  # the import takes a moment
        return await adapter.models(base_url)


def model_catalogs(outbound: OutboundRules | None = None) -> dict[str, ModelCatalog]:
    """The providers whose servers list their models, by provider name."""

    def ollama_models() -> ModelCatalog:
        from infrastructure.llm.ollama import OllamaModels

        return OllamaModels(outbound=outbound)

    return {"ollama": _LazyCatalog(ollama_models)}


def _loaded_local_model() -> Callable[[Sequence[str]], list[list[float]]] | None:
    """all-MiniLM-L6-v2's sentence vectors once the model is in memory: an answer weighs
    meaning with it, but never waits seconds for it to load (words alone meanwhile)."""
    from infrastructure.embedders.local import LocalEmbedder, model_loaded

    return LocalEmbedder().embed if model_loaded() else None
