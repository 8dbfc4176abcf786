"""How the SPA draws a node's settings form: the domain's settings (types, bounds, defaults)
with the hints a form needs — help texts, labelled choices, a password field for a key,
which field shows for which choice, the prompt editor. The SPA receives the merge as the
component's `configSchema` (JSON Schema with `x-` extensions)."""

from __future__ import annotations

from typing import Any

from domain.components import CHOICE_NAMES, ComponentSpec, NodeKind
from domain.node_settings import OLLAMA_BASE_URL

# The order keywords are served in, so that the merge reads as a hand-written schema would.
_KEYWORD_ORDER = (
    "type",
    "title",
    "description",
    "enum",
    "oneOf",
    "format",
    "writeOnly",
    "x-secret",
    "minimum",
    "maximum",
    "default",
    "maxLength",
    "examples",
    "x-widget",
    "x-show-if",
    "x-hint-by",
    "x-models-from",
)

_OPENAI_COMPATIBLE = "An OpenAI-compatible server (Ollama, vLLM, LM Studio…)."


def _help(text: str) -> dict[str, Any]:
    return {"description": text}


def _secret(text: str) -> dict[str, Any]:
    """A key: typed into a password field, never shown back."""
    return {"description": text, "format": "password", "writeOnly": True}


def _choices(**descriptions: str) -> dict[str, Any]:
    """An enum's choices as a form shows them: JSON Schema's labelled `oneOf` of `const`s."""
    return {
        "oneOf": [
            {"const": value, "title": CHOICE_NAMES[value], "description": text}
            for value, text in descriptions.items()
        ]
    }


_HINTS: dict[NodeKind, dict[str, dict[str, Any]]] = {
    NodeKind.KNOWLEDGE_BASE: {
        "embedder": {
            **_help("Turns passages into vectors."),
            **_choices(
                local="all-MiniLM-L6-v2 on this server: no key, nothing leaves it.",
                openai="OpenAI's embeddings, or an OpenAI-compatible server by its base URL.",
                gemini="Google's Gemini embeddings; needs a Gemini API key.",
            ),
        },
        "embeddingModel": _help(
            "e.g. all-MiniLM-L6-v2, text-embedding-3-small, text-embedding-004"
        ),
        "apiKey": {
            **_secret("Key of the embedding provider; the server's key if empty."),
            "x-show-if": {"embedder": ["openai", "gemini"]},
            "x-hint-by": {
                "embedder": {
                    "openai": "Your OpenAI API key; the server's key if empty.",
                    "gemini": "Your Gemini API key; the server's key if empty.",
                }
            },
        },
        "baseUrl": {**_help(_OPENAI_COMPATIBLE), "x-show-if": {"embedder": ["openai"]}},
        "chunkSize": _help("Characters per passage."),
        "chunkOverlap": _help("Characters shared by consecutive passages."),
    },
    NodeKind.LLM_ENGINE: {
        "provider": {
            **_help("Who writes the answer."),
            **_choices(
                openai="OpenAI's models, or any OpenAI-compatible server (Ollama, vLLM, "
                "LM Studio) by its base URL.",
                gemini="Google's Gemini models; needs a Gemini API key.",
                ollama="A model on your own Ollama server (llama3.2, qwen2.5…): no key, "
                "nothing leaves your network.",
                extractive="No model and no key: answers by quoting the passages of your "
                "documents that match the question.",
            ),
        },
        "model": {
            **_help("The provider's model name."),
            "examples": ["gpt-4o-mini", "gpt-4.1", "gemini-2.5-flash", "gemini-2.5-pro"],
            "x-show-if": {"provider": ["openai", "gemini", "ollama"]},
            "x-hint-by": {
                "provider": {
                    "openai": "e.g. gpt-4o-mini or gpt-4.1; with a base URL, the server's own "
                    "name (llama3.1).",
                    "gemini": "e.g. gemini-2.5-flash or gemini-2.5-pro.",
                    "ollama": "One of the models your Ollama server has (ollama pull adds more).",
                }
            },
            # the choices come from the provider's server (the providerModels query)
            "x-models-from": {"provider": ["ollama"]},
        },
        "apiKey": {
            **_secret("Key of the LLM provider; the server's key if empty."),
            "x-show-if": {"provider": ["openai", "gemini"]},
            "x-hint-by": {
                "provider": {
                    "openai": "Your OpenAI API key; the server's key if empty. A local server "
                    "with a base URL needs none.",
                    "gemini": "Your Gemini API key; the server's key if empty.",
                }
            },
        },
        "baseUrl": {
            **_help(_OPENAI_COMPATIBLE),
            "x-show-if": {"provider": ["openai", "ollama"]},
            "x-hint-by": {
                "provider": {
                    "ollama": f"Where Ollama listens; {OLLAMA_BASE_URL} if empty.",
                }
            },
        },
        "temperature": {"x-show-if": {"provider": ["openai", "gemini", "ollama"]}},
        "maxTokens": {"x-show-if": {"provider": ["openai", "gemini", "ollama"]}},
        "prompt": {
            **_help("A template: {query} is the question, {context} the passages."),
            "x-widget": "prompt",
        },
        "webSearch": _help("Add web results to the context."),
        "webSearchApiKey": {
            **_secret("A SerpAPI key; the server's key if empty."),
            "x-show-if": {"webSearch": [True]},
        },
    },
}


def form_schema(spec: ComponentSpec) -> dict[str, Any]:
    """The JSON Schema the SPA draws `spec`'s settings form from."""
    hints = _HINTS.get(spec.kind, {})
    properties = {
        name: _ordered({**prop, **hints.get(name, {})})
        for name, prop in spec.config_schema["properties"].items()
    }
    return {**spec.config_schema, "properties": properties}


def _ordered(prop: dict[str, Any]) -> dict[str, Any]:
    rank = {keyword: place for place, keyword in enumerate(_KEYWORD_ORDER)}
    return dict(sorted(prop.items(), key=lambda item: rank.get(item[0], len(rank))))
