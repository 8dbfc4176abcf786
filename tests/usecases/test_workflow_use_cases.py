"""Workflow use cases on the in-memory log: each command, what it stores, what it returns."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from application.workflow import commands as c
from domain.components import NodeKind
from domain.errors import Conflict, InvalidCommand, InvalidWorkflow
from domain.graph import Position
from interfaces.bootstrap import Services
from tests.pipelines import pipeline
from tests.usecases.conftest import ACTOR


def new_pipeline(app: Services) -> UUID:
    """User Query → LLM Engine → Output, not published (six events)."""
    return pipeline(app.workflows, ACTOR)


def event_names(app: Services, wid: UUID) -> list[str]:
    return [type(e).__name__ for e in app.event_log.events.get(wid)]


def test_adding_a_node_stores_it_with_its_component_defaults(app: Services) -> None:
    wid = app.workflows.create(c.CreateWorkflow(name="Tides", actor=ACTOR)).id
    view = app.workflows.add_node(
        c.AddNode(workflow_id=wid, kind="LLM_ENGINE", position=Position(1, 2), actor=ACTOR)
    )
    [node] = view.nodes
    assert type(node.kind) is NodeKind and node.kind is NodeKind.LLM_ENGINE
    assert node.id.startswith("llm_engine-") and node.label == "LLM Engine"
    assert node.config["provider"] == "extractive"
    assert (view.version, event_names(app, wid)) == (2, ["WorkflowCreated", "NodeAdded"])


def test_moving_relabelling_and_configuring_a_node_are_one_event_each(app: Services) -> None:
    wid = new_pipeline(app)
    app.workflows.move_node(
        c.MoveNode(workflow_id=wid, node_id="llm", position=Position(5, 6), actor=ACTOR)
    )
    app.workflows.relabel_node(
        c.RelabelNode(workflow_id=wid, node_id="llm", label="Writer", actor=ACTOR)
    )
    view = app.workflows.configure_node(
        c.ConfigureNode(workflow_id=wid, node_id="llm", patch={"temperature": 0.7}, actor=ACTOR)
    )
    llm = next(n for n in view.nodes if n.id == "llm")
    assert (llm.position, llm.label, llm.config["temperature"]) == (Position(5, 6), "Writer", 0.7)
    assert event_names(app, wid)[-3:] == ["NodeMoved", "NodeRelabelled", "NodeConfigured"]


def test_an_api_key_is_sealed_before_it_reaches_the_log(app: Services) -> None:
    wid = new_pipeline(app)
    view = app.workflows.configure_node(
        c.ConfigureNode(
            workflow_id=wid, node_id="llm", patch={"apiKey": "sk-very-secret-1234"}, actor=ACTOR
        )
    )
    key = next(n for n in view.nodes if n.id == "llm").config["apiKey"]
    assert set(key) == {"secretRef", "hint"} and key["hint"].endswith("1234")
    stored = [e.__dict__ for e in app.event_log.events.get(wid)]
    assert "sk-very-secret" not in json.dumps(stored, default=str)


def test_an_edit_on_a_stale_version_is_refused_with_the_current_one(app: Services) -> None:
    wid = new_pipeline(app)
    current = app.workflows.get(wid)
    assert current is not None
    with pytest.raises(Conflict) as refused:
        app.workflows.rename(
            c.RenameWorkflow(workflow_id=wid, name="Old", expected=current.version - 1, actor=ACTOR)
        )
    assert refused.value.actual == current.version
    assert event_names(app, wid)[-1] == "NodesConnected"  # nothing stored


def test_publishing_returns_the_version_it_pinned(app: Services) -> None:
    wid = new_pipeline(app)
    first = app.workflows.publish(c.Publish(workflow_id=wid, note="first", actor=ACTOR))
    app.workflows.rename(c.RenameWorkflow(workflow_id=wid, name="Tides 2", actor=ACTOR))
    second = app.workflows.publish(c.Publish(workflow_id=wid, actor=ACTOR))
    assert (first.number, first.workflow_version, first.note) == (1, 7, "first")
    assert (second.number, second.workflow_version) == (2, 9)  # the publication counts


def test_an_invalid_graph_is_not_published(app: Services) -> None:
    wid = app.workflows.create(c.CreateWorkflow(name="Empty", actor=ACTOR)).id
    with pytest.raises(InvalidWorkflow):
        app.workflows.publish(c.Publish(workflow_id=wid, actor=ACTOR))
    assert event_names(app, wid) == ["WorkflowCreated"]


def test_rolling_back_restores_the_graph_as_a_new_event(app: Services) -> None:
    wid = new_pipeline(app)
    app.workflows.remove_node(c.RemoveNode(workflow_id=wid, node_id="out", actor=ACTOR))
    view = app.workflows.roll_back(c.RollBack(workflow_id=wid, to_version=6, actor=ACTOR))
    assert {n.id for n in view.nodes} == {"q", "llm", "out"} and len(view.edges) == 2
    assert (view.version, event_names(app, wid)[-1]) == (8, "WorkflowRolledBack")


def test_rolling_back_to_a_version_it_never_had_is_refused(app: Services) -> None:
    wid = new_pipeline(app)
    with pytest.raises(InvalidCommand):
        app.workflows.roll_back(c.RollBack(workflow_id=wid, to_version=99, actor=ACTOR))


def test_undo_takes_back_only_the_askers_change_and_redo_makes_it_again(app: Services) -> None:
    wid = new_pipeline(app)
    app.workflows.move_node(
        c.MoveNode(workflow_id=wid, node_id="q", position=Position(9, 9), actor="bob")
    )
    app.workflows.relabel_node(
        c.RelabelNode(workflow_id=wid, node_id="out", label="Say", actor=ACTOR)
    )
    undone = app.workflows.undo(c.Undo(workflow_id=wid, actor=ACTOR))
    nodes = {n.id: n for n in undone.nodes}
    assert nodes["out"].label == "Output" and nodes["q"].position == Position(9, 9)
    redone = app.workflows.redo(c.Redo(workflow_id=wid, actor=ACTOR))
    assert {n.id: n.label for n in redone.nodes}["out"] == "Say"
    assert event_names(app, wid)[-2:] == ["ChangeUndone", "ChangeRedone"]


def test_an_imported_graph_replaces_the_old_one(app: Services) -> None:
    wid = new_pipeline(app)
    view = app.workflows.import_graph(
        c.ImportGraph(
            workflow_id=wid,
            nodes=[{"id": "a", "kind": "USER_QUERY"}, {"id": "b", "kind": "OUTPUT"}],
            edges=[],
            actor=ACTOR,
        )
    )
    assert [(n.id, n.position) for n in view.nodes] == [
        ("a", Position(0, 0)),
        ("b", Position(260, 0)),
    ]
    assert view.edges == ()
