"""The workflow lifecycle through GraphQL, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from starlette.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.app import create_app
from tests.integration.gql import GQL, GraphQLError
from tests.integration.workflow_ops import (
    ADD,
    CONFIGURE,
    CONNECT,
    CREATE,
    DELETE,
    DIFF,
    DISCONNECT,
    GET,
    HISTORY,
    MOVE,
    PUBLISH,
    REMOVE,
    RENAME,
    ROLLBACK,
    build_pipeline,
    listed,
    wait_for,
)


def node_of(wf: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in wf["nodes"] if n["id"] == node_id)


@pytest.fixture
def pipeline(gql: GQL) -> dict[str, Any]:
    """User Query → Knowledge Base → LLM Engine → Output, wired: nine changes."""
    return build_pipeline(gql)


@pytest.fixture
def edited(gql: GQL, pipeline: dict[str, Any]) -> dict[str, Any]:
    """The pipeline after five edits (changes 10 to 14): the Knowledge Base moved and
    configured, the stack renamed, the query's edge to the LLM Engine removed and put back."""
    w = pipeline["id"]
    gql(MOVE, w=w, n="kb", x=260.5, y=-40)
    gql(CONFIGURE, w=w, n="kb", c={"topK": 6, "chunkSize": 800})
    gql(RENAME, w=w, name="Handbook bot")
    gql(DISCONNECT, w=w, e="e2")
    return gql(CONNECT, w=w, s="q", t="llm", id="e2")["connectNodes"]


def test_a_wired_pipeline_is_valid(pipeline: dict[str, Any]) -> None:
    assert pipeline["version"] == 9
    assert pipeline["validation"] == {"valid": True, "issues": []}


def test_connecting_two_nodes_joins_the_ports_that_fit(pipeline: dict[str, Any]) -> None:
    assert {
        (e["source"], e["sourceHandle"], e["target"], e["targetHandle"]) for e in pipeline["edges"]
    } == {
        ("q", "query", "kb", "query"),
        ("q", "query", "llm", "query"),
        ("kb", "context", "llm", "context"),
        ("llm", "answer", "out", "answer"),
    }


def test_a_moved_node_stands_exactly_where_it_was_put(gql: GQL, pipeline: dict[str, Any]) -> None:
    wf = gql(MOVE, w=pipeline["id"], n="kb", x=260.5, y=-40)["moveNode"]
    assert node_of(wf, "kb")["position"] == {"x": 260.5, "y": -40.0}


def test_configuring_a_node_keeps_the_settings_it_does_not_name(
    gql: GQL, pipeline: dict[str, Any]
) -> None:
    wf = gql(CONFIGURE, w=pipeline["id"], n="kb", c={"topK": 6, "chunkSize": 800})
    kb = node_of(wf["configureNode"], "kb")
    assert kb["config"]["topK"] == 6 and kb["config"]["chunkSize"] == 800
    assert kb["config"]["embedder"] == "local"


def test_a_disconnected_input_makes_the_workflow_invalid(
    gql: GQL, pipeline: dict[str, Any]
) -> None:
    wf = gql(DISCONNECT, w=pipeline["id"], e="e2")["disconnectNodes"]
    assert wf["validation"]["valid"] is False
    assert {i["code"] for i in wf["validation"]["issues"]} == {"MISSING_INPUT"}


def test_each_edit_is_one_new_version_that_keeps_the_earlier_edits(
    edited: dict[str, Any],
) -> None:
    assert edited["version"] == 14 and edited["name"] == "Handbook bot"
    assert node_of(edited, "kb")["position"] == {"x": 260.5, "y": -40.0}
    assert edited["validation"] == {"valid": True, "issues": []}  # reconnected


def test_the_workflow_reads_back_at_its_latest_version(gql: GQL, edited: dict[str, Any]) -> None:
    assert gql(GET, w=edited["id"])["workflow"]["version"] == 14


def test_the_list_of_workflows_catches_up_with_the_latest_version(
    gql: GQL, edited: dict[str, Any]
) -> None:
    row = wait_for(lambda: (r := listed(gql, edited["id"])) and r["version"] == 14 and r)
    assert row["name"] == "Handbook bot" and len(row["nodes"]) == 4 and len(row["edges"]) == 4


def test_the_history_holds_one_entry_per_change_in_order(gql: GQL, edited: dict[str, Any]) -> None:
    history = gql(HISTORY, w=edited["id"])["workflowHistory"]
    assert [h["version"] for h in history] == list(range(1, 15))  # no gaps
    assert [h["type"] for h in history[:2]] == ["WorkflowCreated", "NodeAdded"]
    assert history[1]["data"]["node_id"] == "q" and history[1]["actor"] == "local"
    assert history[9]["type"] == "NodeMoved"  # the first edit after the nine that built it


def test_removing_a_node_removes_its_connections(gql: GQL, pipeline: dict[str, Any]) -> None:
    wf = gql(REMOVE, w=pipeline["id"], n="llm")["removeNode"]
    assert {n["id"] for n in wf["nodes"]} == {"q", "kb", "out"}
    assert {e["id"] for e in wf["edges"]} == {"e1"}


def test_a_deleted_workflow_is_gone_but_its_history_outlives_it(
    gql: GQL, pipeline: dict[str, Any]
) -> None:
    w = pipeline["id"]
    assert gql(DELETE, w=w)["deleteWorkflow"] is True
    assert gql(GET, w=w)["workflow"] is None
    wait_for(lambda: listed(gql, w) is None)
    history = gql(HISTORY, w=w)["workflowHistory"]
    assert [h["version"] for h in history] == list(range(1, 11))
    assert history[-1]["type"] == "WorkflowDeleted"


def test_time_travel_shows_the_workflow_as_it_stood(gql: GQL) -> None:
    w = build_pipeline(gql)["id"]
    gql(REMOVE, w=w, n="kb")
    at_5 = gql(GET, w=w, v=5)["workflow"]
    assert at_5["version"] == 5 and [n["id"] for n in at_5["nodes"]] == ["q", "kb", "llm", "out"]
    assert at_5["edges"] == []
    at_1 = gql(GET, w=w, v=1)["workflow"]
    assert at_1["nodes"] == [] and at_1["name"] == "Manual Q&A"
    now = gql(GET, w=w)["workflow"]
    assert [n["id"] for n in now["nodes"]] == ["q", "llm", "out"]
    with pytest.raises(GraphQLError) as e:
        gql(GET, w=w, v=99)
    assert e.value.code == "NOT_FOUND"


def test_diff_between_two_versions(gql: GQL) -> None:
    w = build_pipeline(gql)["id"]
    gql(MOVE, w=w, n="llm", x=1, y=1)
    gql(REMOVE, w=w, n="kb")
    gql(ADD, w=w, kind="KNOWLEDGE_BASE", x=9, y=9, id="kb2")
    d = gql(DIFF, w=w, a=9, b=12)["workflowDiff"]
    assert (d["fromVersion"], d["toVersion"]) == (9, 12)
    assert [n["id"] for n in d["addedNodes"]] == ["kb2"]
    assert [n["id"] for n in d["removedNodes"]] == ["kb"]
    assert [n["id"] for n in d["changedNodes"]] == ["llm"]
    assert d["changedNodes"][0]["position"] == {"x": 1.0, "y": 1.0}
    assert {e["id"] for e in d["removedEdges"]} == {"e1", "e3"} and d["addedEdges"] == []
    backwards = gql(DIFF, w=w, a=12, b=9)["workflowDiff"]
    assert [n["id"] for n in backwards["addedNodes"]] == ["kb"]


def test_publishing_numbers_versions_and_refuses_an_invalid_graph(gql: GQL) -> None:
    w = gql(CREATE, name="Half built")["createWorkflow"]["id"]
    gql(ADD, w=w, kind="USER_QUERY", x=0, y=0, id="q")
    with pytest.raises(GraphQLError) as refused:
        gql(PUBLISH, w=w)
    assert refused.value.code == "INVALID_WORKFLOW"
    issues = refused.value.errors[0]["extensions"]["issues"]
    assert {"MISSING_OUTPUT"} <= {i["code"] for i in issues}

    w = build_pipeline(gql)["id"]
    first = gql(PUBLISH, w=w, note="first cut")["publishWorkflow"]
    assert (first["number"], first["workflowVersion"], first["note"]) == (1, 10, "first cut")
    gql(MOVE, w=w, n="q", x=-10, y=0)
    second = gql(PUBLISH, w=w)["publishWorkflow"]
    assert (second["number"], second["workflowVersion"]) == (2, 12)
    published = gql(GET, w=w)["workflow"]["publishedVersions"]
    assert [p["number"] for p in published] == [1, 2]
    row = wait_for(lambda: (r := listed(gql, w)) and len(r["publishedVersions"]) == 2 and r)
    assert row["publishedVersions"][0]["note"] == "first cut"


def test_rollback_restores_an_earlier_graph_as_a_new_event(gql: GQL) -> None:
    w = build_pipeline(gql)["id"]
    gql(REMOVE, w=w, n="kb")
    gql(CONFIGURE, w=w, n="llm", c={"prompt": "Just answer: {query}"})
    wf = gql(ROLLBACK, w=w, v=9)["rollbackWorkflow"]
    assert wf["version"] == 12
    assert {n["id"] for n in wf["nodes"]} == {"q", "kb", "llm", "out"} and len(wf["edges"]) == 4
    assert "{context}" in node_of(wf, "llm")["config"]["prompt"]
    history = gql(HISTORY, w=w)["workflowHistory"]
    assert history[-1]["type"] == "WorkflowRolledBack" and history[-1]["data"]["to_version"] == 9
    assert len(history) == 12  # nothing erased
    for bad in (12, 0, 50):
        with pytest.raises(GraphQLError) as e:
            gql(ROLLBACK, w=w, v=bad)
        assert e.value.code == "BAD_USER_INPUT"


def test_a_stale_expected_version_is_a_conflict(gql: GQL) -> None:
    wf = build_pipeline(gql)
    w, seen = wf["id"], wf["version"]
    gql(MOVE, w=w, n="q", x=5, y=5, ev=seen)  # the first editor wins
    with pytest.raises(GraphQLError) as e:
        gql(MOVE, w=w, n="kb", x=5, y=5, ev=seen)  # the second saw an old version
    assert e.value.code == "CONFLICT"
    assert e.value.errors[0]["extensions"]["currentVersion"] == seen + 1
    assert gql(GET, w=w)["workflow"]["version"] == seen + 1  # nothing half-applied


@pytest.mark.parametrize(
    "op, variables, code",
    [
        (ADD, {"kind": "USER_QUERY", "x": 0, "y": 0, "id": "q"}, "BAD_USER_INPUT"),  # duplicate id
        (ADD, {"kind": "ROBOT", "x": 0, "y": 0}, "BAD_USER_INPUT"),  # unknown kind
        (ADD, {"kind": "OUTPUT", "x": 0, "y": 0, "config": {"x": 1}}, "BAD_USER_INPUT"),
        (CONNECT, {"s": "q", "t": "ghost"}, "NOT_FOUND"),  # missing node
        (CONNECT, {"s": "llm", "t": "llm"}, "BAD_USER_INPUT"),  # self-loop
        (CONNECT, {"s": "q", "t": "kb"}, "BAD_USER_INPUT"),  # duplicate edge
        (CONNECT, {"s": "q", "t": "kb", "id": "e9"}, "BAD_USER_INPUT"),  # duplicate again
        (CONNECT, {"s": "kb", "t": "out", "id": "e9"}, "BAD_USER_INPUT"),  # incompatible ports
        (CONNECT, {"s": "q", "t": "llm", "sh": "query", "th": "context"}, "BAD_USER_INPUT"),
        (CONNECT, {"s": "kb", "t": "llm", "id": "e1"}, "BAD_USER_INPUT"),  # duplicate edge id
        (CONFIGURE, {"n": "llm", "c": {"temperature": 9}}, "BAD_USER_INPUT"),
        (CONFIGURE, {"n": "llm", "c": {"provider": "claude"}}, "BAD_USER_INPUT"),
        (
            CONFIGURE,
            {"n": "llm", "c": {"apiKey": {"secretRef": "sec_forged", "hint": "…"}}},
            "BAD_USER_INPUT",
        ),
        (CONFIGURE, {"n": "ghost", "c": {}}, "NOT_FOUND"),
        (MOVE, {"n": "ghost", "x": 0, "y": 0}, "NOT_FOUND"),
        (REMOVE, {"n": "ghost"}, "NOT_FOUND"),
        (DISCONNECT, {"e": "ghost"}, "NOT_FOUND"),
        (RENAME, {"name": "   "}, "BAD_USER_INPUT"),
    ],
)
def test_every_refusal_has_its_code_and_changes_nothing(
    gql: GQL, op: str, variables: dict, code: str
) -> None:
    wf = build_pipeline(gql)
    with pytest.raises(GraphQLError) as refused:
        gql(op, w=wf["id"], **variables)
    assert refused.value.code == code, refused.value.errors
    assert refused.value.message
    assert gql(GET, w=wf["id"])["workflow"]["version"] == wf["version"]


def test_unknown_workflows_and_malformed_requests(gql: GQL) -> None:
    ghost = "00000000-0000-4000-8000-000000000000"
    assert gql(GET, w=ghost)["workflow"] is None
    for op, variables in (
        (ADD, {"kind": "OUTPUT", "x": 0, "y": 0}),
        (RENAME, {"name": "x"}),
        (PUBLISH, {}),
        (HISTORY, {}),
        (DELETE, {}),
    ):
        with pytest.raises(GraphQLError) as e:
            gql(op, w=ghost, **variables)
        assert e.value.code == "NOT_FOUND"
    body = gql.raw("{ workflow(id: 12) { id } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = gql.raw("{ workflows { nope } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_components_describe_the_four_kinds(gql: GQL) -> None:
    specs = {
        c["kind"]: c
        for c in gql("{ components { kind title description configSchema inputs outputs } }")[
            "components"
        ]
    }
    assert set(specs) == {"USER_QUERY", "KNOWLEDGE_BASE", "LLM_ENGINE", "OUTPUT"}
    assert specs["LLM_ENGINE"]["inputs"] == ["query", "context"]
    props = specs["LLM_ENGINE"]["configSchema"]["properties"]
    assert props["provider"]["enum"] == ["openai", "gemini", "ollama", "extractive"]
    assert props["apiKey"]["x-secret"] is True
    assert set(specs["KNOWLEDGE_BASE"]["configSchema"]["properties"]) == {
        "embedder",
        "embeddingModel",
        "apiKey",
        "baseUrl",
        "chunkSize",
        "chunkOverlap",
        "topK",
    }


def test_the_list_shows_a_change_its_client_just_made(settings: Settings) -> None:
    """`workflows` reads the read model, which a projection fills after the command returns:
    the query waits for it to hold what was stored before, so a list refetched after a
    rename or a delete does not show the old stack."""
    with TestClient(create_app(settings.model_copy(update={"genai_run_projections": False}))) as c:
        gql = GQL(c)
        worker = c.app.state.services.worker("workflows")  # type: ignore[attr-defined]
        w = gql(CREATE, name="Before")["createWorkflow"]["id"]
        worker.catch_up()
        gql(RENAME, w=w, name="After")
        late = threading.Timer(0.3, worker.catch_up)  # the projection, a little behind
        late.start()
        try:
            listed = gql("{ workflows { id name } }")["workflows"]
        finally:
            late.join()
        assert listed == [{"id": w, "name": "After"}]
