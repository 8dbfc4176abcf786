"""The gallery's templates, as shipped: each file loads, is a graph the aggregate accepts and
could publish (given the keys it says it needs), sets only settings its node's form shows,
within their schema, and holds no secret."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import jsonschema
import pytest

from application.workflow.gallery import Template, load_templates
from application.workflow.imports import imported_edge, imported_node
from domain.components import COMPONENTS, SECRET_FIELDS, NodeKind
from domain.graph import validation_issues
from domain.key_policy import NO_SERVER_KEYS, KeyPolicy
from domain.workflow import Workflow
from interfaces.graphql.component_forms import form_schema

FOLDER = resources.files("application.workflow").joinpath("templates")
FILES = sorted(e.name for e in FOLDER.iterdir() if e.name.endswith(".json"))
EVERY_KEY = KeyPolicy.of(["openai", "gemini", "websearch"])


def _raw(name: str) -> dict[str, Any]:
    return json.loads(FOLDER.joinpath(name).read_text(encoding="utf-8"))


def _refuse_secrets(config: dict[str, Any]) -> dict[str, Any]:
    assert not set(config) & set(SECRET_FIELDS), "a template holds no key"
    return dict(config)


def _workflow(template: Template) -> Workflow:
    wf = Workflow.create(template.title, template.description, "test")
    nodes = [imported_node(n, i, _refuse_secrets) for i, n in enumerate(template.nodes, 1)]
    edges = [imported_edge(e, i) for i, e in enumerate(template.edges, 1)]
    wf.import_graph(nodes, edges, "test")
    return wf


def test_the_gallery_offers_the_five_templates_in_order() -> None:
    assert [t.title for t in load_templates()] == [
        "Ask your PDFs (offline)",
        "Ask your PDFs with OpenAI",
        "Chat with a model",
        "Research with web search",
        "Gemini with documents",
    ]
    assert len(FILES) == 5
    ids = [t.id for t in load_templates()]
    assert len(set(ids)) == len(ids)
    assert sorted(f"{i}.json" for i in ids) == FILES  # each file is named by its id


@pytest.mark.parametrize("name", FILES)
def test_a_template_is_a_graph_that_could_be_published(name: str) -> None:
    template = Template.of(_raw(name))
    wf = _workflow(template)
    assert [type(n.kind) for n in wf.nodes.values()] == [NodeKind] * len(template.nodes)
    assert len(wf.edges) == len(template.edges)
    assert validation_issues(wf.nodes, wf.edges, EVERY_KEY) == []
    # every edge names its ports, the ones the component specs give
    for edge in template.edges:
        source = next(n for n in template.nodes if n["id"] == edge["source"])
        target = next(n for n in template.nodes if n["id"] == edge["target"])
        assert edge["sourceHandle"] in COMPONENTS[NodeKind(source["kind"])].outputs
        assert edge["targetHandle"] in COMPONENTS[NodeKind(target["kind"])].inputs


@pytest.mark.parametrize("name", FILES)
def test_a_template_sets_only_settings_its_form_shows_within_their_schema(name: str) -> None:
    for node in _raw(name)["nodes"]:
        spec = COMPONENTS[NodeKind(node["kind"])]
        form = form_schema(spec)
        config = node.get("config", {})
        jsonschema.Draft202012Validator(form).validate(config)
        merged = {**spec.defaults(), **config}
        for setting in config:
            shown_if = form["properties"][setting].get("x-show-if", {})
            for field, values in shown_if.items():
                assert merged.get(field) in values, f"{node['id']}.{setting} is hidden"


@pytest.mark.parametrize("name", FILES)
def test_a_template_holds_no_secret(name: str) -> None:
    text = FOLDER.joinpath(name).read_text(encoding="utf-8")
    for secret in SECRET_FIELDS:
        assert f'"{secret}"' not in text
    assert "secretRef" not in text
    # what OpenAI's, Google's and SerpAPI's keys look like
    for key in (r"\bsk-[A-Za-z0-9]{20,}", r"AIza[0-9A-Za-z_-]{30,}", r"\b[0-9a-f]{64}\b"):
        assert re.search(key, text) is None


def test_what_each_template_needs_is_read_from_its_graph() -> None:
    needs = {t.id: [n.provider for n in t.needs(NO_SERVER_KEYS)] for t in load_templates()}
    assert needs == {
        "ask-your-pdfs-offline": [],
        "ask-your-pdfs-openai": ["openai"],
        "chat-with-a-model": ["openai"],
        "research-with-web-search": ["openai", "websearch"],
        "gemini-with-documents": ["gemini"],
    }
    offline = load_templates()[0]
    assert (
        validation_issues(_workflow(offline).nodes, _workflow(offline).edges, NO_SERVER_KEYS) == []
    )
    provided = {n.provider: n.provided for t in load_templates() for n in t.needs(EVERY_KEY)}
    assert provided == {"openai": True, "websearch": True, "gemini": True}


def test_a_template_of_another_format_is_not_loaded() -> None:
    data = _raw(FILES[0])
    with pytest.raises(ValueError, match="genai-stack.template"):
        Template.of({**data, "formatVersion": 2})
