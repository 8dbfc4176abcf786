"""A history people can read, comparisons of two versions, rollback of all a version holds,
the unpublished-changes count, and undo / redo, through GraphQL on SQLite and PostgreSQL."""

# ruff: noqa: F811  (the backend fixtures are imported, then named as parameters)

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from application.eventlog.log import EventLog
from domain.workflow import Workflow
from infrastructure.settings import Settings
from interfaces.app import create_app
from tests import pdfs
from tests.integration.documents_client import (  # noqa: F401  (fixtures)
    settings,
    upload,
    wait_for_status,
)
from tests.integration.gql import GQL, GraphQLError
from tests.integration.old_events import stored_as_version_1
from tests.integration.workflow_ops import (
    CONFIGURE,
    CONNECT,
    DISCONNECT,
    GET,
    LIST,
    MOVE,
    PUBLISH,
    REMOVE,
    RENAME,
    ROLLBACK,
    build_pipeline,
    wait_for,
)
from tests.integration.ws import InProcessSubscription

HISTORY = """query($w: UUID!, $docs: Boolean) { workflowHistory(id: $w, withDocuments: $docs) {
  id workflowId version type actor summary category publishedVersion undone documentId
  changes { field label before after text nodeId } } }"""
DIFF = """query($w: UUID!, $a: Int!, $b: Int!) { workflowDiff(id: $w, fromVersion: $a, toVersion: $b) {
  fromVersion toVersion fromLabel toLabel addedNodes { id } changedNodes { id }
  stackChanges { field label before after text }
  nodeChanges { nodeId kind label status before { label } after { label } fields { field label before after text } }
  edgeChanges { edgeId status text connection before { id } after { id } } } }"""
STATE = """query($w: UUID!) { workflow(id: $w) { version name description unpublishedChanges
  undo { canUndo canRedo undoLabel redoLabel } nodes { id label position { x y } config } edges { id } } }"""
UNDO = """mutation($w: UUID!, $ev: Int) { undoWorkflow(workflowId: $w, expectedVersion: $ev) {
  version undo { canUndo canRedo undoLabel redoLabel } nodes { id position { x y } config } edges { id } } }"""
REDO = """mutation($w: UUID!) { redoWorkflow(workflowId: $w) {
  version undo { canUndo canRedo undoLabel redoLabel } nodes { id position { x y } } } }"""
DESCRIBE = (
    """mutation($w: UUID!, $d: String!) { describeWorkflow(id: $w, description: $d) { version } }"""
)
KEY = "sk-live-abcdefgh5678"


def history(gql: GQL, w: str, docs: bool = False) -> list[dict[str, Any]]:
    return list(gql(HISTORY, w=w, docs=docs)["workflowHistory"])


def test_every_change_reads_in_words_with_old_and_new_values(gql: GQL) -> None:
    w = build_pipeline(gql)["id"]
    gql(CONFIGURE, w=w, n="kb", c={"topK": 3})
    gql(CONFIGURE, w=w, n="llm", c={"provider": "openai", "model": "gpt-4o-mini", "apiKey": KEY})
    gql(PUBLISH, w=w, note="first cut")
    gql(MOVE, w=w, n="kb", x=260, y=100)
    gql(RENAME, w=w, name="Handbook bot")
    gql(DISCONNECT, w=w, e="e2")

    entries = history(gql, w)
    assert [e["summary"] for e in entries] == [
        "Created “Manual Q&A”",
        "Added User Query",
        "Added Knowledge Base",
        "Added LLM Engine",
        "Added Output",
        "Connected User Query → Knowledge Base",
        "Connected User Query → LLM Engine",
        "Connected Knowledge Base → LLM Engine",
        "Connected LLM Engine → Output",
        "Knowledge Base: Passages per question 4 → 3",
        "LLM Engine: Provider Extractive (offline) → OpenAI; Model set to gpt-4o-mini; "
        "API key added",
        "Published v1: “first cut”",
        "Moved Knowledge Base",
        "Renamed “Manual Q&A” → “Handbook bot”",
        "Disconnected User Query → LLM Engine",
    ]
    assert [e["version"] for e in entries] == list(range(1, 16))
    assert [e["publishedVersion"] for e in entries[10:13]] == [None, 1, 1]
    assert [e["category"] for e in entries[9:]] == [
        "SETTINGS",
        "SETTINGS",
        "VERSIONS",
        "LAYOUT",
        "SETTINGS",
        "STRUCTURE",
    ]
    assert entries[9]["changes"] == [
        {
            "field": "config.topK",
            "label": "Passages per question",
            "before": "4",
            "after": "3",
            "text": "Passages per question 4 → 3",
            "nodeId": "kb",
        }
    ]
    key_line = entries[10]["changes"][2]
    assert (key_line["field"], key_line["before"], key_line["after"]) == (
        "config.apiKey",
        None,
        None,
    )
    words = json.dumps([(e["summary"], e["changes"]) for e in entries])
    assert "5678" not in words and KEY not in words  # neither the key nor its hint
    assert len({e["id"] for e in entries}) == 15
    assert all(e["documentId"] is None and e["undone"] is False for e in entries)
    assert all(isinstance(e["version"], int) and e["actor"] == "local" for e in entries)


def test_the_documents_of_a_stack_join_its_history_where_they_happened(
    client: TestClient, gql: GQL
) -> None:
    w = build_pipeline(gql)["id"]
    gql(CONFIGURE, w=w, n="kb", c={"topK": 5})
    doc = upload(client, w, pdfs.image_only_pdf(), "scan.pdf")
    wait_for_status(gql, doc["id"])
    gql(MOVE, w=w, n="q", x=1, y=1)
    gql(
        "mutation($id: UUID!) { removeDocument(id: $id) }",
        id=doc["id"],
    )

    entries = wait_for(
        lambda: (
            (found := history(gql, w, docs=True))
            and any(e["type"] == "DocumentRemoved" for e in found)
            and found
        )
    )
    documents = [e for e in entries if e["documentId"] is not None]
    assert [e["summary"] for e in documents[:1]] == ["Uploaded “scan.pdf” to Knowledge Base"]
    failed = next(e for e in documents if e["type"] == "DocumentFailed")
    assert failed["summary"].startswith("Couldn't index “scan.pdf”: ")
    assert "no extractable text" in failed["summary"]
    assert documents[-1]["summary"] == "Removed “scan.pdf”"
    assert {e["category"] for e in documents} == {"DOCUMENTS"}
    assert {e["documentId"] for e in documents} == {doc["id"]}
    assert {e["version"] for e in documents[:2]} == {10}  # after the topK change
    assert documents[-1]["version"] == 11  # after the move
    # woven in by time: the upload after change 10, the removal after change 11
    order = [e["id"] for e in entries]
    assert order.index(documents[0]["id"]) == order.index("change-10") + 1
    assert order.index(documents[-1]["id"]) > order.index("change-11")
    assert [e for e in history(gql, w) if e["documentId"]] == []  # only when asked


def test_two_versions_compare_field_by_field(gql: GQL) -> None:
    w = build_pipeline(gql)["id"]
    gql(CONFIGURE, w=w, n="kb", c={"chunkSize": 800})
    gql(CONFIGURE, w=w, n="llm", c={"apiKey": KEY})
    gql(REMOVE, w=w, n="out")
    gql(RENAME, w=w, name="Smaller")
    d = gql(DIFF, w=w, a=9, b=13)["workflowDiff"]
    assert (d["fromLabel"], d["toLabel"]) == ("Draft · change 9", "Draft · change 13")
    assert d["stackChanges"] == [
        {
            "field": "name",
            "label": "Name",
            "before": "Manual Q&A",
            "after": "Smaller",
            "text": "Renamed “Manual Q&A” → “Smaller”",
        }
    ]
    nodes = {n["nodeId"]: n for n in d["nodeChanges"]}
    assert [n["status"] for n in d["nodeChanges"]] == ["CHANGED", "CHANGED", "REMOVED"]
    assert nodes["kb"]["fields"] == [
        {
            "field": "config.chunkSize",
            "label": "Chunk size",
            "before": "1000",
            "after": "800",
            "text": "Chunk size 1000 → 800",
        }
    ]
    assert [(f["field"], f["before"], f["after"], f["text"]) for f in nodes["llm"]["fields"]] == [
        ("config.apiKey", None, None, "API key added")
    ]
    out = nodes["out"]
    assert (out["kind"], out["before"], out["after"]) == ("OUTPUT", {"label": "Output"}, None)
    assert out["fields"][0]["text"] == "Removed Output"
    assert [(e["status"], e["text"], e["after"]) for e in d["edgeChanges"]] == [
        ("REMOVED", "Disconnected LLM Engine → Output", None)
    ]
    assert "5678" not in json.dumps(d["nodeChanges"][1]["fields"])
    backwards = gql(DIFF, w=w, a=13, b=9)["workflowDiff"]
    assert [n["status"] for n in backwards["nodeChanges"]] == ["CHANGED", "CHANGED", "ADDED"]
    assert backwards["edgeChanges"][0]["text"] == "Connected LLM Engine → Output"
    with pytest.raises(GraphQLError) as e:
        gql(DIFF, w=w, a=0, b=13)
    assert e.value.code == "NOT_FOUND"


def test_a_rollback_restores_all_a_version_held_as_one_event(gql: GQL) -> None:
    w = build_pipeline(gql)["id"]
    gql(RENAME, w=w, name="Renamed")
    gql(DESCRIBE, w=w, d="Something else now")
    gql(CONFIGURE, w=w, n="kb", c={"topK": 9})
    gql(
        'mutation($w: UUID!) { relabelNode(workflowId: $w, nodeId: "llm", label: "Writer") { id } }',
        w=w,
    )
    wf = gql(ROLLBACK, w=w, v=9)["rollbackWorkflow"]
    now = gql(STATE, w=w)["workflow"]
    assert (now["version"], now["name"], now["description"]) == (
        14,
        "Manual Q&A",
        "answers from the manual",
    )
    labels = {n["id"]: n["label"] for n in now["nodes"]}
    assert labels["llm"] == "LLM Engine" and wf["nodes"][1]["config"]["topK"] == 4
    rolled = history(gql, w)[-1]
    assert rolled["type"] == "WorkflowRolledBack" and rolled["category"] == "VERSIONS"
    assert rolled["summary"] == (
        "Rolled back to Draft · change 9: 2 nodes changed, renamed “Manual Q&A”, "
        "description changed"
    )
    assert [c["text"] for c in rolled["changes"]] == [
        "Renamed “Renamed” → “Manual Q&A”",
        "Description “Something else now” → “answers from the manual”",
        "Knowledge Base: Passages per question 9 → 4",
        "Renamed node “Writer” → “LLM Engine”",
    ]


def test_a_rollback_stored_before_it_restored_names_still_loads(
    client: TestClient, gql: GQL
) -> None:
    w = build_pipeline(gql)["id"]
    gql(RENAME, w=w, name="Kept")
    store: EventLog = client.app.state.services.event_log  # type: ignore[attr-defined]
    wf = store.repository.get(uuid.UUID(w))
    assert isinstance(wf, Workflow)
    wf.roll_back(3, store.repository.get(uuid.UUID(w), version=3), "local")
    [rolled] = wf.collect_events()
    # as the code before this one stored it: no name, no description, no class_version
    store.recorder.insert_events([stored_as_version_1(store, rolled, "name", "description")])

    loaded = gql(GET, w=w)["workflow"]
    assert (loaded["version"], loaded["name"]) == (11, "Kept")  # the old event kept the name
    assert [n["id"] for n in loaded["nodes"]] == ["q", "kb"] and loaded["edges"] == []
    [old] = [e for e in store.events.get(uuid.UUID(w)) if e.originator_version == 11]
    assert (old.name, old.description) == (None, None)
    assert history(gql, w)[-1]["summary"] == (
        "Rolled back to Draft · change 3: 2 nodes removed, 4 connections removed"
    )


def test_unpublished_changes_count_what_a_build_would_publish(gql: GQL) -> None:
    w = build_pipeline(gql)["id"]
    assert gql(STATE, w=w)["workflow"]["unpublishedChanges"] == 8  # four nodes, four edges
    gql(PUBLISH, w=w)
    assert gql(STATE, w=w)["workflow"]["unpublishedChanges"] == 0
    gql(MOVE, w=w, n="kb", x=5, y=5)
    gql(RENAME, w=w, name="Names are not built")
    assert gql(STATE, w=w)["workflow"]["unpublishedChanges"] == 0
    gql(CONFIGURE, w=w, n="kb", c={"topK": 2, "chunkSize": 500})
    gql(DISCONNECT, w=w, e="e2")
    assert gql(STATE, w=w)["workflow"]["unpublishedChanges"] == 3
    gql(CONNECT, w=w, s="q", t="llm", id="e2")
    gql(CONFIGURE, w=w, n="kb", c={"topK": 4})
    state = gql(STATE, w=w)["workflow"]
    assert state["unpublishedChanges"] == 1  # only the chunk size is left
    listed = wait_for(
        lambda: next(
            (
                r
                for r in gql(LIST)["workflows"]
                if r["id"] == w and r["version"] == state["version"]
            ),
            None,
        )
    )
    assert gql("query { workflows { id unpublishedChanges } }")["workflows"] == [
        {"id": w, "unpublishedChanges": 1}
    ]
    assert listed["name"] == "Names are not built"


def test_undo_and_redo_take_back_ones_own_changes_as_new_events(gql: GQL) -> None:
    w = build_pipeline(gql)["id"]
    gql(MOVE, w=w, n="kb", x=900, y=900)
    gql(CONFIGURE, w=w, n="kb", c={"topK": 2})
    state = gql(STATE, w=w)["workflow"]
    assert state["undo"] == {
        "canUndo": True,
        "canRedo": False,
        "undoLabel": "Knowledge Base: Passages per question 4 → 2",
        "redoLabel": None,
    }
    undone = gql(UNDO, w=w, ev=state["version"])["undoWorkflow"]
    kb = next(n for n in undone["nodes"] if n["id"] == "kb")
    assert (undone["version"], kb["config"]["topK"], kb["position"]) == (
        12,
        4,
        {"x": 900.0, "y": 900.0},
    )
    assert undone["undo"]["undoLabel"] == "Moved Knowledge Base"
    assert undone["undo"]["redoLabel"] == "Knowledge Base: Passages per question 4 → 2"
    with pytest.raises(GraphQLError) as stale:
        gql(UNDO, w=w, ev=11)
    assert stale.value.code == "CONFLICT"

    redone = gql(REDO, w=w)["redoWorkflow"]
    assert redone["version"] == 13 and redone["undo"]["canRedo"] is False
    with pytest.raises(GraphQLError) as nothing:
        gql(REDO, w=w)
    assert (nothing.value.code, nothing.value.message) == (
        "BAD_USER_INPUT",
        "there is no undone change of yours to redo",
    )

    entries = history(gql, w)
    assert [e["summary"] for e in entries[-2:]] == [
        "Undid: Knowledge Base: Passages per question 4 → 2",
        "Redid: Knowledge Base: Passages per question 4 → 2",
    ]
    assert [c["text"] for c in entries[-2]["changes"]] == ["Passages per question 2 → 4"]
    assert entries[-2]["category"] == "SETTINGS" and entries[10]["undone"] is False


def test_undo_and_redo_survive_a_restart(settings: Settings) -> None:
    with TestClient(create_app(settings)) as first:
        gql = GQL(first)
        w = build_pipeline(gql)["id"]
        gql(REMOVE, w=w, n="kb")
        gql(MOVE, w=w, n="q", x=-50, y=0)
        gql(UNDO, w=w)
    with TestClient(create_app(settings)) as second:  # a process that never held it
        gql = GQL(second)
        state = gql(STATE, w=w)["workflow"]
        assert state["undo"] == {
            "canUndo": True,
            "canRedo": True,
            "undoLabel": "Removed Knowledge Base and its 2 connections",
            "redoLabel": "Moved User Query",
        }
        back = gql(UNDO, w=w)["undoWorkflow"]
        assert {n["id"] for n in back["nodes"]} == {"q", "kb", "llm", "out"}
        assert {e["id"] for e in back["edges"]} == {"e1", "e2", "e3", "e4"}
        assert back["undo"]["redoLabel"] == "Removed Knowledge Base and its 2 connections"
        assert gql(REDO, w=w)["redoWorkflow"]["undo"]["redoLabel"] == "Moved User Query"
        removed = [e for e in history(gql, w) if e["type"] == "NodeRemoved"]
        assert [e["undone"] for e in removed] == [False]


def test_live_events_carry_their_words(client: TestClient, gql: GQL) -> None:
    w = build_pipeline(gql)["id"]
    sub = InProcessSubscription(
        client,
        "subscription($w: UUID!) { workflowEvents(workflowId: $w) { version type summary "
        "category publishedVersion changes { text } } }",
        {"w": w},
    )
    try:
        hub = client.app.state.services.hub  # type: ignore[attr-defined]
        wait_for(lambda: hub.subscriber_count(f"workflow:{w}") == 1)
        gql(CONFIGURE, w=w, n="kb", c={"topK": 7})
        gql(UNDO, w=w)
        events = [sub.next()["data"]["workflowEvents"] for _ in range(2)]
    finally:
        sub.close()
    assert events == [
        {
            "version": 10,
            "type": "NodeConfigured",
            "summary": "Knowledge Base: Passages per question 4 → 7",
            "category": "SETTINGS",
            "publishedVersion": None,
            "changes": [{"text": "Passages per question 4 → 7"}],
        },
        {
            "version": 11,
            "type": "ChangeUndone",
            "summary": "Undid: Knowledge Base: Passages per question 4 → 7",
            "category": "SETTINGS",
            "publishedVersion": None,
            "changes": [{"text": "Passages per question 7 → 4"}],
        },
    ]


def test_a_history_past_the_snapshot_interval_reads_the_same(settings: Settings) -> None:
    with TestClient(create_app(settings)) as c:
        gql = GQL(c)
        w = build_pipeline(gql)["id"]
        for i in range(240):
            gql(MOVE, w=w, n="kb", x=float(i), y=0)
        gql(CONFIGURE, w=w, n="kb", c={"topK": 6})
        gql(UNDO, w=w)
        entries = history(gql, w)
        assert len(entries) == 251
        assert entries[-1]["summary"] == "Undid: Knowledge Base: Passages per question 4 → 6"
        assert entries[120]["summary"] == "Moved Knowledge Base"
        assert [c["text"] for c in entries[120]["changes"]] == ["Moved (110, 0) → (111, 0)"]
        state = gql(STATE, w=w)["workflow"]
        assert state["undo"]["undoLabel"] == "Moved Knowledge Base"
        d = gql(DIFF, w=w, a=9, b=251)["workflowDiff"]
        assert [f["text"] for f in d["nodeChanges"][0]["fields"]] == ["Moved (250, 100) → (239, 0)"]
        rolled = gql(ROLLBACK, w=w, v=120)["rollbackWorkflow"]
        assert next(n for n in rolled["nodes"] if n["id"] == "kb")["position"]["x"] == 110.0
        undone = gql(UNDO, w=w)["undoWorkflow"]
        assert next(n for n in undone["nodes"] if n["id"] == "kb")["position"]["x"] == 239.0
