"""The templates My Stacks offers: each a JSON file in `application/workflow/templates/`, made
into a new stack in one step.

What a template needs (an OpenAI key, a Gemini key, a web search key) is read from its graph,
not written beside it, so the gallery cannot say one thing while the graph does another.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from application.workflow import commands as c
from application.workflow.handlers import WorkflowService
from application.workflow.views import WorkflowView
from domain.components import NodeKind, parse_kind
from domain.errors import InvalidCommand, NotFound
from domain.key_policy import KeyPolicy
from domain.node_settings import WEB_SEARCH, ProviderAccess, parse_settings

TEMPLATE_FORMAT = "genai-stack.template"
TEMPLATE_FORMAT_VERSION = 1

_NEED_WORDS = {
    "openai": "an OpenAI API key",
    "gemini": "a Gemini API key",
    WEB_SEARCH: "a web search (SerpAPI) key",
}


@dataclass(frozen=True)
class Need:
    """A key a template's stack cannot answer without; `provided` when this server holds one
    it may use for it."""

    provider: str
    description: str
    provided: bool


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    description: str
    order: int
    nodes: tuple[Mapping[str, Any], ...]
    edges: tuple[Mapping[str, Any], ...]

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Template:
        if data.get("format") != TEMPLATE_FORMAT or data.get("formatVersion") != 1:
            raise ValueError(f"not a {TEMPLATE_FORMAT} of version {TEMPLATE_FORMAT_VERSION}")
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            description=str(data["description"]),
            order=int(data["order"]),
            nodes=tuple(data["nodes"]),
            edges=tuple(data["edges"]),
        )

    @property
    def kinds(self) -> tuple[NodeKind, ...]:
        return tuple(parse_kind(str(n["kind"])) for n in self.nodes)

    def accesses(self) -> list[ProviderAccess]:
        """Whom the stack's nodes call, in the order of its nodes."""
        calls: list[ProviderAccess] = []
        for node in self.nodes:
            settings = parse_settings(parse_kind(str(node["kind"])), dict(node.get("config", {})))
            access = getattr(settings, "access", None)
            if access is not None:
                calls.append(access)
            search = getattr(settings, "web_search", None)
            if search is not None:
                calls.append(search)
        return calls

    def needs(self, keys: KeyPolicy) -> list[Need]:
        needs: dict[str, Need] = {}
        for access in self.accesses():
            if access.keyless_ok or access.provider in needs:
                continue
            words = _NEED_WORDS.get(access.provider, f"a {access.provider} key")
            needs[access.provider] = Need(access.provider, words, keys.sends_server_key(access))
        return list(needs.values())


def load_templates() -> list[Template]:
    """Every template shipped with the package, in gallery order."""
    folder = resources.files("application.workflow").joinpath("templates")
    found = [
        Template.of(json.loads(entry.read_text(encoding="utf-8")))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    ]
    return sorted(found, key=lambda t: (t.order, t.id))


class Gallery:
    def __init__(self, workflows: WorkflowService, templates: list[Template] | None = None) -> None:
        self.workflows = workflows
        self._templates = load_templates() if templates is None else templates

    def templates(self) -> list[Template]:
        return list(self._templates)

    def template(self, template_id: str) -> Template:
        for template in self._templates:
            if template.id == template_id:
                return template
        known = ", ".join(t.id for t in self._templates)
        shown = template_id if len(template_id) <= 80 else template_id[:80] + "…"
        raise NotFound(f"there is no template {shown!r} (templates: {known})")

    def needs(self, template: Template) -> list[Need]:
        return template.needs(self.workflows.server_keys)

    def create(self, cmd: c.CreateFromTemplate) -> WorkflowView:
        """A new stack holding the template's graph, named `name` or after the template."""
        template = self.template(cmd.template_id)
        if cmd.name is not None and not cmd.name.strip():
            raise InvalidCommand("the name must not be empty")
        return self.workflows.create_with_graph(
            c.CreateWithGraph(
                actor=cmd.actor,
                name=cmd.name or template.title,
                description=template.description,
                workspace_id=cmd.workspace_id,
                nodes=[dict(n) for n in template.nodes],
                edges=[dict(e) for e in template.edges],
            )
        )
