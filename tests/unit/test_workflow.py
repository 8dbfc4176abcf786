"""The Workflow aggregate's rules: given events, when a command, then events or a refusal."""

from __future__ import annotations

import pytest

from domain.components import NodeKind
from domain.errors import InvalidCommand, InvalidWorkflow, NotFound
from domain.graph import Position
from domain.key_policy import KeyPolicy
from domain.workflow import Workflow

ME = "alice"
SECRET = {"secretRef": "sec_1", "hint": "…abcd"}


def new_workflow() -> Workflow:
    return Workflow.create("Support bot", "answers from the manual", ME)


def four_nodes(wf: Workflow) -> Workflow:
    wf.add_node("q", "USER_QUERY", Position(0, 0), ME)
    wf.add_node("kb", "KNOWLEDGE_BASE", Position(200, 0), ME)
    wf.add_node("llm", "LLM_ENGINE", Position(400, 0), ME)
    wf.add_node("out", "OUTPUT", Position(600, 0), ME)
    return wf


def wired(wf: Workflow) -> Workflow:
    four_nodes(wf)
    wf.connect("e1", "q", "kb", ME)
    wf.connect("e2", "q", "llm", ME)
    wf.connect("e3", "kb", "llm", ME)
    wf.connect("e4", "llm", "out", ME)
    return wf


def names(wf: Workflow) -> list[str]:
    return [type(e).__name__ for e in wf.collect_events()]


def test_creating_a_workflow_records_its_name_and_actor() -> None:
    wf = new_workflow()
    [created] = wf.collect_events()
    assert type(created).__name__ == "WorkflowCreated"
    assert (created.name, created.description, created.actor) == (
        "Support bot",
        "answers from the manual",
        ME,
    )
    assert wf.version == 1


def test_a_blank_name_is_refused() -> None:
    with pytest.raises(InvalidCommand):
        Workflow.create("   ", "", ME)


def test_adding_a_node_fills_its_config_with_defaults() -> None:
    wf = new_workflow()
    wf.add_node("llm", "LLM_ENGINE", Position(1, 2), ME)
    node = wf.nodes["llm"]
    assert node.kind == NodeKind.LLM_ENGINE
    assert node.config["provider"] == "extractive"
    assert "{query}" in node.config["prompt"] and "{context}" in node.config["prompt"]
    assert names(wf)[-1] == "NodeAdded"


def test_an_unknown_kind_is_refused_before_any_event() -> None:
    wf = new_workflow()
    wf.collect_events()
    with pytest.raises(InvalidCommand, match="unknown node kind"):
        wf.add_node("x", "WEB_SCRAPER", Position(0, 0), ME)
    assert wf.collect_events() == []


def test_a_duplicate_node_id_is_refused() -> None:
    wf = four_nodes(new_workflow())
    with pytest.raises(InvalidCommand, match="already a node"):
        wf.add_node("q", "OUTPUT", Position(0, 0), ME)


def test_connecting_without_handles_uses_the_one_compatible_port_pair() -> None:
    wf = four_nodes(new_workflow())
    wf.connect("e", "kb", "llm", ME)
    edge = wf.edges["e"]
    assert (edge.source_handle, edge.target_handle) == ("context", "context")


def test_connecting_ports_of_different_types_is_refused() -> None:
    wf = four_nodes(new_workflow())
    with pytest.raises(InvalidCommand, match="cannot feed"):
        wf.connect("e", "q", "out", ME)
    with pytest.raises(InvalidCommand, match="no input port"):
        wf.connect("e", "q", "llm", ME, source_handle="query", target_handle="answer")


def test_connecting_backwards_is_refused() -> None:
    wf = four_nodes(new_workflow())
    with pytest.raises(InvalidCommand):
        wf.connect("e", "out", "llm", ME)


def test_a_self_loop_is_refused() -> None:
    wf = four_nodes(new_workflow())
    with pytest.raises(InvalidCommand, match="itself"):
        wf.connect("e", "llm", "llm", ME)


def test_a_duplicate_edge_is_refused() -> None:
    wf = four_nodes(new_workflow())
    wf.connect("e1", "q", "llm", ME)
    with pytest.raises(InvalidCommand, match="already connected"):
        wf.connect("e2", "q", "llm", ME)
    with pytest.raises(InvalidCommand, match="already an edge"):
        wf.connect("e1", "kb", "llm", ME)


def test_connecting_a_missing_node_is_not_found() -> None:
    wf = four_nodes(new_workflow())
    with pytest.raises(NotFound):
        wf.connect("e", "q", "ghost", ME)


def test_removing_a_node_disconnects_its_edges() -> None:
    wf = wired(new_workflow())
    wf.remove_node("llm", ME)
    assert "llm" not in wf.nodes
    assert set(wf.edges) == {"e1"}


def test_disconnecting_an_unknown_edge_is_not_found() -> None:
    wf = wired(new_workflow())
    with pytest.raises(NotFound):
        wf.disconnect("nope", ME)


def test_configuring_merges_and_null_removes() -> None:
    wf = four_nodes(new_workflow())
    wf.configure_node("llm", {"provider": "openai", "model": "gpt-4o-mini"}, ME)
    wf.configure_node("llm", {"model": None, "temperature": 0.7}, ME)
    config = wf.nodes["llm"].config
    assert config["provider"] == "openai" and config["temperature"] == 0.7
    assert "model" not in config


@pytest.mark.parametrize(
    "patch, problem",
    [
        ({"provider": "anthropic"}, "not one of"),
        ({"temperature": 3}, "at most 2"),
        ({"maxTokens": "many"}, "expected a integer"),
        ({"maxTokens": True}, "expected a integer"),
        ({"colour": "red"}, "not a setting"),
        ({"apiKey": "sk-raw-key-1234"}, "secret must be stored"),
        ({"baseUrl": "ftp://x"}, "http"),
    ],
)
def test_a_bad_config_is_refused(patch: dict, problem: str) -> None:
    wf = four_nodes(new_workflow())
    with pytest.raises(InvalidCommand, match=problem):
        wf.configure_node("llm", patch, ME)


def test_a_secret_reference_is_accepted_as_a_key() -> None:
    wf = four_nodes(new_workflow())
    wf.configure_node("llm", {"provider": "openai", "model": "m", "apiKey": SECRET}, ME)
    assert wf.nodes["llm"].config["apiKey"] == SECRET


def test_a_wired_graph_validates() -> None:
    assert wired(new_workflow()).validate() == []


def test_validation_names_what_blocks_a_publish() -> None:
    wf = new_workflow()
    wf.add_node("llm", "LLM_ENGINE", Position(0, 0), ME)
    wf.add_node("q1", "USER_QUERY", Position(0, 0), ME)
    wf.add_node("q2", "USER_QUERY", Position(0, 0), ME)
    codes = {(i.code, i.node_id) for i in wf.validate()}
    assert ("MISSING_OUTPUT", None) in codes
    assert ("EXTRA_USER_QUERY", "q2") in codes
    assert ("MISSING_INPUT", "llm") in codes


def test_an_unconnected_knowledge_base_is_reported() -> None:
    wf = wired(new_workflow())
    wf.add_node("kb2", "KNOWLEDGE_BASE", Position(0, 0), ME)
    codes = {(i.code, i.node_id) for i in wf.validate()}
    assert ("MISSING_INPUT", "kb2") in codes
    assert ("DEAD_END", "kb2") in codes


def test_a_provider_needs_a_model_and_a_usable_key() -> None:
    wf = wired(new_workflow())
    wf.configure_node("llm", {"provider": "openai"}, ME)
    assert {i.code for i in wf.validate()} == {"MISSING_MODEL", "MISSING_API_KEY"}
    wf.configure_node("llm", {"model": "gpt-4o-mini"}, ME)
    assert wf.validate(KeyPolicy.of({"openai"})) == []
    wf.configure_node("llm", {"baseUrl": "http://127.0.0.1:11434/v1"}, ME)
    assert wf.validate() == []  # a local OpenAI-compatible server needs no key


def test_publishing_an_invalid_graph_raises_with_its_issues() -> None:
    wf = four_nodes(new_workflow())
    wf.collect_events()
    with pytest.raises(InvalidWorkflow) as refused:
        wf.publish("", ME)
    assert {i.code for i in refused.value.issues} >= {"MISSING_INPUT"}
    assert wf.collect_events() == []


def test_publishing_pins_the_graph_as_numbered_versions() -> None:
    wf = wired(new_workflow())
    assert wf.publish("first", ME) == 1
    wf.move_node("q", Position(5, 5), ME)
    assert wf.publish("second", ME) == 2
    first, second = wf.published
    assert first.workflow_version == 10 and second.workflow_version == 12
    assert next(n for n in first.nodes if n.id == "q").position == Position(0, 0)
    assert wf.published_version(None).number == 2
    with pytest.raises(NotFound):
        wf.published_version(3)


def test_a_workflow_never_published_has_no_published_version() -> None:
    with pytest.raises(InvalidWorkflow, match="never been published"):
        new_workflow().published_version(None)


def test_rolling_back_restores_an_earlier_graph_as_a_new_event() -> None:
    wf = wired(new_workflow())
    events = wf.collect_events()
    earlier = None
    for e in events[:5]:  # the workflow after its four nodes, before any edge
        earlier = e.mutate(earlier)
    wf.remove_node("kb", ME)
    wf.roll_back(5, earlier, ME)
    assert set(wf.nodes) == {"q", "kb", "llm", "out"} and wf.edges == {}
    assert names(wf)[-1] == "WorkflowRolledBack"


def test_rolling_back_to_a_later_version_is_refused() -> None:
    wf = wired(new_workflow())
    with pytest.raises(InvalidCommand):
        wf.roll_back(wf.version, wf, ME)


def test_replaying_the_events_gives_the_same_workflow() -> None:
    wf = wired(new_workflow())
    wf.configure_node("kb", {"topK": 7}, ME)
    wf.remove_node("q", ME)
    replayed = None
    for e in wf.collect_events():
        replayed = e.mutate(replayed)
    assert replayed.nodes == wf.nodes and replayed.edges == wf.edges
    assert replayed.version == wf.version


def test_importing_checks_the_graph_as_if_built_edit_by_edit() -> None:
    wf = wired(new_workflow())
    nodes = list(wf.nodes.values())
    edges = list(wf.edges.values())
    fresh = new_workflow()
    fresh.import_graph(nodes, edges, ME)
    assert fresh.nodes == wf.nodes and fresh.validate() == []
    with pytest.raises(InvalidCommand):
        fresh.import_graph(nodes + nodes[:1], [], ME)
