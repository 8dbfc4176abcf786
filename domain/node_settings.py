"""A node's settings, typed: parsed once from its config (a JSON object that the components'
schemas check), so that no other module reads a config by its string keys.

A node that calls a provider holds a `ProviderAccess`: which provider, at which address, with
which key of its own. A key is bound to the address it was entered with: when the address
changes, the stored key is cleared and the node asks for it again (`rebind_keys`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from domain.components import (
    COMPONENTS,
    DEFAULT_PROMPT,
    KEY_CLEARED,
    NodeKind,
    config_problems,
    is_cleared_key,
    is_secret_reference,
)
from domain.errors import InvalidCommand

LOCAL_EMBEDDER = "local"
EXTRACTIVE = "extractive"
OLLAMA = "ollama"
# Where Ollama listens unless told otherwise (its own default).
OLLAMA_BASE_URL = "http://127.0.0.1:11434"
WEB_SEARCH = "websearch"
KEY_LENGTH = 12


@dataclass(frozen=True)
class ProviderAccess:
    """Whom a node's requests go to, and the key of its own it holds for them."""

    provider: str  # openai | gemini | ollama | websearch
    base_url: str | None = None  # None: the provider's own address
    key_ref: str | None = None  # the node's stored key, entered for this address
    key_cleared: bool = False  # the address changed since the key was entered

    @property
    def keyless_ok(self) -> bool:
        """Whether a request may go without a key: Ollama and an OpenAI-compatible server of
        one's own (vLLM, LM Studio…) want none, OpenAI itself and Gemini always do."""
        return self.provider == OLLAMA or (self.provider == "openai" and self.base_url is not None)


@dataclass(frozen=True)
class IndexSettings:
    """How a knowledge base turns a document into vectors: its node's settings that matter."""

    embedder: str
    model: str  # "" means the provider's default model
    chunk_size: int
    chunk_overlap: int
    base_url: str | None = None
    api_key_ref: str | None = None

    @classmethod
    def of_node(cls, config: Mapping[str, Any]) -> IndexSettings:
        merged = {**COMPONENTS[NodeKind.KNOWLEDGE_BASE].defaults(), **config}
        embedder = str(merged["embedder"])
        model = str(merged.get("embeddingModel") or "")
        # The form's default model is the local one: a person who switches the embedder to
        # OpenAI or Gemini and leaves the model alone means that provider's default.
        if embedder != LOCAL_EMBEDDER and model == _default_embedding_model():
            model = ""
        return cls(
            embedder=embedder,
            model=model,
            chunk_size=int(merged["chunkSize"]),
            chunk_overlap=int(merged["chunkOverlap"]),
            base_url=merged.get("baseUrl") or None,
            api_key_ref=_key_ref(merged.get("apiKey")),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IndexSettings:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def same_vectors(self, other: IndexSettings) -> bool:
        """Whether both settings give the same chunks and vectors (the key changes neither)."""
        return self.key == other.key

    @property
    def key(self) -> str:
        """The index generation these settings make: a short fingerprint of all that decides
        the chunks and vectors (not the API key). Stored in vector ids and metadata, so it
        must never change for the same settings."""
        basis = [self.embedder, self.model, self.chunk_size, self.chunk_overlap, self.base_url]
        digest = hashlib.sha256(json.dumps(basis, separators=(",", ":")).encode())
        return digest.hexdigest()[:KEY_LENGTH]


@dataclass(frozen=True)
class KnowledgeBaseSettings:
    index: IndexSettings
    top_k: int
    access: ProviderAccess | None  # None for the local embedder: nothing leaves the server

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> KnowledgeBaseSettings:
        _check(NodeKind.KNOWLEDGE_BASE, config)
        index = IndexSettings.of_node(config)
        access = (
            None
            if index.embedder == LOCAL_EMBEDDER
            else ProviderAccess(
                index.embedder,
                index.base_url,
                index.api_key_ref,
                is_cleared_key(config.get("apiKey")),
            )
        )
        return cls(index, _integer(config.get("topK")) or int(_default("topK")), access)


@dataclass(frozen=True)
class LlmSettings:
    provider: str  # openai | gemini | ollama | extractive
    model: str  # "" when none is chosen
    prompt: str
    temperature: float | None  # None: the provider's own default
    max_tokens: int | None
    access: ProviderAccess | None  # None for the extractive provider: it calls nobody
    web_search: ProviderAccess | None  # None when web search is off

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> LlmSettings:
        _check(NodeKind.LLM_ENGINE, config)
        provider = str(config.get("provider") or EXTRACTIVE)
        access = (
            None
            if provider == EXTRACTIVE
            # Ollama takes no key: none is ever sent there, not even one the node still
            # holds from another provider.
            else ProviderAccess(OLLAMA, config.get("baseUrl") or OLLAMA_BASE_URL)
            if provider == OLLAMA
            else ProviderAccess(
                provider,
                config.get("baseUrl") or None,
                _key_ref(config.get("apiKey")),
                is_cleared_key(config.get("apiKey")),
            )
        )
        search_key = config.get("webSearchApiKey")
        web_search = (
            ProviderAccess(WEB_SEARCH, None, _key_ref(search_key), is_cleared_key(search_key))
            if config.get("webSearch") is True
            else None
        )
        return cls(
            provider=provider,
            model=str(config.get("model") or ""),
            prompt=str(config.get("prompt") or DEFAULT_PROMPT),
            temperature=_number(config.get("temperature")),
            max_tokens=_integer(config.get("maxTokens")),
            access=access,
            web_search=web_search,
        )


NodeSettings = LlmSettings | KnowledgeBaseSettings | None


def parse_settings(kind: NodeKind, config: Mapping[str, Any]) -> NodeSettings:
    """The settings of a node of `kind` (None for a kind without any); InvalidCommand naming
    every problem when the config does not fit its kind's schema."""
    if kind == NodeKind.LLM_ENGINE:
        return LlmSettings.of(config)
    if kind == NodeKind.KNOWLEDGE_BASE:
        return KnowledgeBaseSettings.of(config)
    _check(kind, config)
    return None


def rebind_keys(before: Mapping[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """`after` (a node's next config) with its stored key cleared when the address it was
    entered for changed: the key must not follow the node to another server. A key given
    in the same change is the new address's own."""
    moved = (before.get("baseUrl") or None) != (after.get("baseUrl") or None)
    key = after.get("apiKey")
    if moved and is_secret_reference(key) and key == before.get("apiKey"):
        return {**after, "apiKey": dict(KEY_CLEARED)}
    return after


def _check(kind: NodeKind, config: Mapping[str, Any]) -> None:
    problems = config_problems(kind, dict(config))
    if problems:
        raise InvalidCommand(f"{COMPONENTS[kind].title} settings: " + "; ".join(problems))


def _key_ref(value: object) -> str | None:
    return (
        str(value["secretRef"]) if isinstance(value, dict) and is_secret_reference(value) else None
    )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _default(name: str) -> Any:
    return COMPONENTS[NodeKind.KNOWLEDGE_BASE].config_schema["properties"][name]["default"]


def _default_embedding_model() -> str:
    return str(_default("embeddingModel"))
