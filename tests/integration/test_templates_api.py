"""The gallery through GraphQL: the templates in order with what each needs (and whether this
server provides it), a stack from each in one step holding the template's graph, and clear
refusals that make nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from application.workflow.gallery import Template, load_templates
from domain.key_policy import NO_SERVER_KEYS
from interfaces.app import create_app
from tests.conftest import make_settings
from tests.integration.gql import GQL, GraphQLError
from tests.integration.workflow_ops import LIST

TEMPLATES = "{ templates { id title description kinds needs { provider description provided } } }"
FROM_TEMPLATE = """mutation($t: String!, $n: String) { createStackFromTemplate(templateId: $t, name: $n) {
  id name description version
  nodes { id kind label position { x y } config }
  edges { id source target sourceHandle targetHandle }
  validation { valid issues { code message nodeId } } } }"""


def test_the_gallery_lists_the_templates_with_what_they_need(gql: GQL) -> None:
    templates = gql(TEMPLATES)["templates"]
    assert [t["title"] for t in templates] == [
        "Ask your PDFs (offline)",
        "Ask your PDFs with OpenAI",
        "Chat with a model",
        "Research with web search",
        "Gemini with documents",
    ]
    assert templates[0]["kinds"] == ["USER_QUERY", "KNOWLEDGE_BASE", "LLM_ENGINE", "OUTPUT"]
    assert {t["id"]: [n["description"] for n in t["needs"]] for t in templates} == {
        "ask-your-pdfs-offline": [],
        "ask-your-pdfs-openai": ["an OpenAI API key"],
        "chat-with-a-model": ["an OpenAI API key"],
        "research-with-web-search": ["an OpenAI API key", "a web search (SerpAPI) key"],
        "gemini-with-documents": ["a Gemini API key"],
    }
    assert not any(n["provided"] for t in templates for n in t["needs"])


def test_a_server_with_a_key_says_the_templates_needing_it_are_ready(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, None, openai_api_key=SecretStr("sk-server-0123456789abcd"))
    with TestClient(create_app(settings)) as client:
        gql = GQL(client)
        provided = {
            (t["id"], n["provider"]): n["provided"]
            for t in gql(TEMPLATES)["templates"]
            for n in t["needs"]
        }
        assert provided[("chat-with-a-model", "openai")] is True
        assert provided[("research-with-web-search", "websearch")] is False
        made = gql(FROM_TEMPLATE, t="chat-with-a-model")["createStackFromTemplate"]
        assert made["validation"] == {"valid": True, "issues": []}


@pytest.mark.parametrize("template", load_templates(), ids=lambda t: t.id)
def test_a_stack_from_a_template_holds_its_graph(gql: GQL, template: Template) -> None:
    made = gql(FROM_TEMPLATE, t=template.id)["createStackFromTemplate"]
    assert (made["name"], made["description"]) == (template.title, template.description)
    assert made["version"] == 2  # created with its graph: two events, one save
    assert [(n["id"], n["kind"], n["label"]) for n in made["nodes"]] == [
        (n["id"], n["kind"], n["label"]) for n in template.nodes
    ]
    for node, given in zip(made["nodes"], template.nodes, strict=True):
        assert node["position"] == {k: float(v) for k, v in given["position"].items()}
        assert {k: node["config"][k] for k in given["config"]} == given["config"]
    assert made["edges"] == [dict(e) for e in template.edges]
    needs_keys = bool(template.needs(NO_SERVER_KEYS))
    assert made["validation"]["valid"] is not needs_keys
    if needs_keys:  # what it lacks is a key, said on the node that needs it
        assert {i["code"] for i in made["validation"]["issues"]} == {"MISSING_API_KEY"}


def test_a_stack_from_a_template_may_be_named(gql: GQL) -> None:
    made = gql(FROM_TEMPLATE, t="ask-your-pdfs-offline", n="Rover manual")
    assert made["createStackFromTemplate"]["name"] == "Rover manual"


@pytest.mark.parametrize(
    ("template", "name", "code", "words"),
    [
        ("no-such-template", None, "NOT_FOUND", "there is no template 'no-such-template'"),
        ("ask-your-pdfs-offline", "   ", "BAD_USER_INPUT", "the name must not be empty"),
        ("ask-your-pdfs-offline", "x" * 500, "BAD_USER_INPUT", "name"),
    ],
)
def test_refusals_make_no_stack(
    gql: GQL, template: str, name: str | None, code: str, words: str
) -> None:
    with pytest.raises(GraphQLError) as refused:
        gql(FROM_TEMPLATE, t=template, n=name)
    assert refused.value.code == code and words in refused.value.message
    assert gql(LIST)["workflows"] == []
