"""The four kinds of node a canvas offers: their ports and the JSON Schema of their config.

Ports are typed by name: an output port joins only an input port of the same name, so each
sensible connection has exactly one port pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from domain.errors import InvalidCommand


class NodeKind(StrEnum):
    USER_QUERY = "USER_QUERY"
    KNOWLEDGE_BASE = "KNOWLEDGE_BASE"
    LLM_ENGINE = "LLM_ENGINE"
    OUTPUT = "OUTPUT"


SECRET_FIELDS = ("apiKey", "webSearchApiKey")

DEFAULT_PROMPT = (
    "You are a helpful assistant. Answer the question using the context below. "
    "If the context does not contain the answer, say so.\n\n"
    "Context:\n{context}\n\nQuestion: {query}\n\nAnswer:"
)


def _secret(title: str) -> dict[str, Any]:
    return {"type": "string", "title": title, "x-secret": True}


# What people call each choice of a setting: the history and the messages say "OpenAI".
CHOICE_NAMES = {
    "local": "Local",
    "openai": "OpenAI",
    "gemini": "Gemini",
    "ollama": "Ollama",
    "extractive": "Extractive (offline)",
}

# The settings' types, bounds and defaults: what a config must satisfy. How a form shows
# them (help, widgets, which field shows when) is the interface's:
# interfaces/graphql/component_forms.py.
_KNOWLEDGE_BASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "embedder": {
            "type": "string",
            "title": "Embedder",
            "enum": ["local", "openai", "gemini"],
            "default": "local",
        },
        "embeddingModel": {
            "type": "string",
            "title": "Embedding model",
            "default": "all-MiniLM-L6-v2",
            "maxLength": 200,
        },
        "apiKey": _secret("API key"),
        "baseUrl": {"type": "string", "title": "Base URL", "format": "uri", "maxLength": 500},
        "chunkSize": {
            "type": "integer",
            "title": "Chunk size",
            "minimum": 100,
            "maximum": 8000,
            "default": 1000,
        },
        "chunkOverlap": {
            "type": "integer",
            "title": "Chunk overlap",
            "minimum": 0,
            "maximum": 2000,
            "default": 150,
        },
        "topK": {
            "type": "integer",
            "title": "Passages per question",
            "minimum": 1,
            "maximum": 50,
            "default": 4,
        },
    },
}

_LLM_ENGINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "provider": {
            "type": "string",
            "title": "Provider",
            "enum": ["openai", "gemini", "ollama", "extractive"],
            "default": "extractive",
        },
        "model": {"type": "string", "title": "Model", "maxLength": 200},
        "apiKey": _secret("API key"),
        "baseUrl": {"type": "string", "title": "Base URL", "format": "uri", "maxLength": 500},
        "temperature": {
            "type": "number",
            "title": "Temperature",
            "minimum": 0,
            "maximum": 2,
            "default": 0.2,
        },
        "maxTokens": {
            "type": "integer",
            "title": "Max tokens",
            "minimum": 1,
            "maximum": 32768,
            "default": 1024,
        },
        "prompt": {
            "type": "string",
            "title": "Prompt",
            "default": DEFAULT_PROMPT,
            "maxLength": 20000,
        },
        "webSearch": {"type": "boolean", "title": "Web search", "default": False},
        "webSearchApiKey": _secret("Web search API key"),
    },
}

_NO_CONFIG: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}


@dataclass(frozen=True)
class ComponentSpec:
    kind: NodeKind
    title: str
    description: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    config_schema: dict[str, Any]

    def defaults(self) -> dict[str, Any]:
        props = self.config_schema["properties"]
        return {name: p["default"] for name, p in props.items() if "default" in p}


COMPONENTS: dict[NodeKind, ComponentSpec] = {
    NodeKind.USER_QUERY: ComponentSpec(
        NodeKind.USER_QUERY,
        "User Query",
        "Where the conversation starts: the question a person types.",
        inputs=(),
        outputs=("query",),
        config_schema=_NO_CONFIG,
    ),
    NodeKind.KNOWLEDGE_BASE: ComponentSpec(
        NodeKind.KNOWLEDGE_BASE,
        "Knowledge Base",
        "Your PDFs, split into passages and embedded; finds the passages that answer the query.",
        inputs=("query",),
        outputs=("context",),
        config_schema=_KNOWLEDGE_BASE_SCHEMA,
    ),
    NodeKind.LLM_ENGINE: ComponentSpec(
        NodeKind.LLM_ENGINE,
        "LLM Engine",
        "Writes the answer from the query and the context, with OpenAI, Gemini, a local "
        "model (Ollama) or offline.",
        inputs=("query", "context"),
        outputs=("answer",),
        config_schema=_LLM_ENGINE_SCHEMA,
    ),
    NodeKind.OUTPUT: ComponentSpec(
        NodeKind.OUTPUT,
        "Output",
        "Shows the answer in the chat, with its sources.",
        inputs=("answer",),
        outputs=(),
        config_schema=_NO_CONFIG,
    ),
}

# Inputs a node cannot run without; the LLM's context is optional (a graph may have no KB).
REQUIRED_INPUTS: dict[NodeKind, tuple[str, ...]] = {
    NodeKind.USER_QUERY: (),
    NodeKind.KNOWLEDGE_BASE: ("query",),
    NodeKind.LLM_ENGINE: ("query",),
    NodeKind.OUTPUT: ("answer",),
}


def parse_kind(kind: str) -> NodeKind:
    try:
        return NodeKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in NodeKind)
        raise InvalidCommand(f"unknown node kind {kind!r}; known kinds: {known}") from None


def is_secret_reference(value: object) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"secretRef", "hint"}
        and all(isinstance(v, str) for v in value.values())
    )


# What a key's setting holds once the address it was entered for has changed: the key is
# gone, and the node asks for it again (see domain.node_settings.rebind_keys).
KEY_CLEARED: dict[str, str] = {"cleared": "the address changed"}


def is_cleared_key(value: object) -> bool:
    return value == KEY_CLEARED


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def config_problems(kind: NodeKind, config: dict[str, Any]) -> list[str]:
    """What is wrong with a (secret-free) config against its kind's schema; empty when fine."""
    schema = COMPONENTS[kind].config_schema["properties"]
    problems = []
    for name, value in config.items():
        prop = schema.get(name)
        if prop is None:
            known = ", ".join(schema) or "none"
            problems.append(f"{name}: not a setting of {kind.value} (settings: {known})")
        elif prop.get("x-secret"):
            if not (is_secret_reference(value) or is_cleared_key(value)):
                problems.append(f"{name}: a secret must be stored before it is configured")
        else:
            problems.extend(_value_problems(name, prop, value))
    return problems


def _value_problems(name: str, prop: dict[str, Any], value: object) -> list[str]:
    expected = _JSON_TYPES[prop["type"]]
    # bool is an int in Python; JSON keeps them apart
    if not isinstance(value, expected) or (isinstance(value, bool) and prop["type"] != "boolean"):
        return [f"{name}: expected a {prop['type']}, got {value!r}"]
    if "enum" in prop and value not in prop["enum"]:
        return [f"{name}: {value!r} is not one of {', '.join(map(str, prop['enum']))}"]
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in prop and value < prop["minimum"]:
            return [f"{name}: must be at least {prop['minimum']}"]
        if "maximum" in prop and value > prop["maximum"]:
            return [f"{name}: must be at most {prop['maximum']}"]
    if isinstance(value, str):
        if "maxLength" in prop and len(value) > prop["maxLength"]:
            return [f"{name}: longer than {prop['maxLength']} characters"]
        if prop.get("format") == "uri" and value:
            return _url_problems(name, value)
    return []


def _url_problems(name: str, url: str) -> list[str]:
    """An http(s) address without credentials in it (they would be stored, shown and logged
    with the URL); never quoted back, for the same reason."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return [f"{name}: not a valid URL"]
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"{name}: must be an http(s) URL"]
    if parts.username is not None or parts.password is not None:
        return [f"{name}: must not carry a user name or password; give the key in its own field"]
    return []
