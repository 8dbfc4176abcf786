"""Undo and redo: each kind of change taken back as it applies to the workflow now, per
person, as events; the stacks derived from the events, so a replay has them too."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import InvalidCommand
from domain.graph import Edge, Node, Position
from domain.undo import UNDO_DEPTH
from domain.workflow import Workflow
from tests.unit.test_workflow import ME, SECRET, new_workflow
from tests.unit.test_workflow import wired as wired_workflow

YOU = "bob"


def wired() -> Workflow:
    return wired_workflow(new_workflow())


def state(wf: Workflow) -> dict[str, Any]:
    return {
        "name": wf.name,
        "description": wf.description,
        "nodes": {i: n.to_dict() for i, n in wf.nodes.items()},
        "edges": {i: e.to_dict() for i, e in wf.edges.items()},
    }


def replayed(wf: Workflow, events: list[Any]) -> Workflow:
    copy = None
    for e in events:
        copy = e.mutate(copy)
    assert isinstance(copy, Workflow)
    return copy


def _import(wf: Workflow, events: list[Any]) -> None:
    nodes = [
        Node.from_dict(
            {"id": "q2", "kind": "USER_QUERY", "label": "Ask", "position": {"x": 0, "y": 0}}
        ),
        Node.from_dict(
            {"id": "out2", "kind": "OUTPUT", "label": "Show", "position": {"x": 9, "y": 0}}
        ),
    ]
    wf.import_graph(nodes, [], ME)


def _roll_back(wf: Workflow, events: list[Any]) -> None:
    wf.roll_back(3, replayed(wf, events[:3]), ME)


# Every undoable command, applied to the wired workflow (after a change of someone else's).
CHANGES: dict[str, Any] = {
    "WorkflowRenamed": lambda wf, _: wf.rename("Helpdesk", ME),
    "WorkflowDescribed": lambda wf, _: wf.describe("now for the helpdesk", ME),
    "NodeAdded": lambda wf, _: wf.add_node("kb2", "KNOWLEDGE_BASE", Position(9, 9), ME),
    "NodeMoved": lambda wf, _: wf.move_node("kb", Position(210, 30), ME),
    "NodeRelabelled": lambda wf, _: wf.relabel_node("kb", "Manuals", ME),
    "NodeConfigured": lambda wf, _: wf.configure_node(
        "llm", {"provider": "openai", "model": "gpt-4o-mini", "apiKey": SECRET}, ME
    ),
    "NodeRemoved": lambda wf, _: wf.remove_node("kb", ME),
    "NodesConnected": lambda wf, _: wf.connect("e9", "q", "kb", ME),
    "NodesDisconnected": lambda wf, _: wf.disconnect("e3", ME),
    "GraphImported": _import,
    "WorkflowRolledBack": _roll_back,
}


@pytest.mark.parametrize("kind", list(CHANGES))
def test_undo_takes_back_each_kind_of_change_and_redo_makes_it_again(kind: str) -> None:
    wf = wired()
    wf.disconnect("e1", YOU)  # someone else's change, before: undo leaves it
    events = list(wf.collect_events())
    before = state(wf)
    CHANGES[kind](wf, events)
    after = state(wf)
    assert wf.undo_step(ME).type == kind  # type: ignore[union-attr]

    wf.undo(ME)
    assert state(wf) == before
    assert type(wf.collect_events()[-1]).__name__ == "ChangeUndone"
    assert wf.redo_step(ME).type == kind  # type: ignore[union-attr]

    wf.redo(ME)
    assert state(wf) == after
    assert wf.redo_step(ME) is None


def test_undoing_a_move_leaves_a_later_change_of_someone_else_to_the_same_node() -> None:
    wf = wired()
    wf.move_node("kb", Position(50, 50), ME)
    wf.configure_node("kb", {"topK": 7}, YOU)
    wf.undo(ME)
    assert wf.nodes["kb"].position == Position(200, 0)
    assert wf.nodes["kb"].config["topK"] == 7


def test_undoing_a_configure_sets_back_only_the_keys_it_changed() -> None:
    wf = wired()
    wf.configure_node("kb", {"topK": 3}, ME)
    wf.configure_node("kb", {"chunkSize": 500}, YOU)
    wf.undo(ME)
    assert (wf.nodes["kb"].config["topK"], wf.nodes["kb"].config["chunkSize"]) == (4, 500)


def test_undoing_a_remove_brings_back_the_node_and_only_the_edges_that_can_join() -> None:
    wf = wired()
    wf.remove_node("kb", ME)
    wf.remove_node("q", YOU)  # one end of e1 is gone for good
    wf.undo(ME)
    assert "kb" in wf.nodes and "q" not in wf.nodes
    assert set(wf.edges) == {"e3", "e4"}


def test_undoing_an_add_removes_the_node_with_the_edges_others_gave_it() -> None:
    wf = wired()
    wf.add_node("kb2", "KNOWLEDGE_BASE", Position(9, 9), ME)
    wf.connect("e9", "q", "kb2", YOU)
    wf.undo(ME)
    assert "kb2" not in wf.nodes and "e9" not in wf.edges


def test_undoing_a_change_to_a_node_removed_since_changes_nothing_but_is_recorded() -> None:
    wf = wired()
    wf.relabel_node("kb", "Manuals", ME)
    wf.remove_node("kb", YOU)
    version = wf.version
    wf.undo(ME)
    assert wf.version == version + 1 and "kb" not in wf.nodes
    assert wf.undo_step(ME) is not None  # the earlier ones are still there
    assert wf.redo_step(ME).type == "NodeRelabelled"  # type: ignore[union-attr]


def test_a_reconnection_is_not_undone_into_a_duplicate_edge() -> None:
    wf = wired()
    wf.disconnect("e3", ME)
    wf.connect("e9", "kb", "llm", YOU)  # the same ports, joined again by someone else
    wf.undo(ME)
    assert set(wf.edges) == {"e1", "e2", "e4", "e9"}


def test_stacks_are_per_person() -> None:
    wf = wired()
    wf.move_node("kb", Position(1, 1), ME)
    wf.rename("Yours", YOU)
    wf.undo(ME)
    assert wf.name == "Yours" and wf.nodes["kb"].position == Position(200, 0)
    assert wf.undo_step(YOU).type == "WorkflowRenamed"  # type: ignore[union-attr]
    assert wf.redo_step(YOU) is None


def test_a_new_change_ends_what_could_be_redone() -> None:
    wf = wired()
    wf.move_node("kb", Position(1, 1), ME)
    wf.undo(ME)
    wf.move_node("q", Position(5, 5), ME)
    assert wf.redo_step(ME) is None
    with pytest.raises(InvalidCommand, match="nothing|no undone"):
        wf.redo(ME)


def test_someone_elses_change_leaves_my_redo() -> None:
    wf = wired()
    wf.move_node("kb", Position(1, 1), ME)
    wf.undo(ME)
    wf.move_node("q", Position(5, 5), YOU)
    assert wf.redo_step(ME) is not None


def test_publishing_is_not_undone() -> None:
    wf = wired()
    wf.publish("first", ME)
    assert wf.undo_step(ME).type == "NodesConnected"  # type: ignore[union-attr]
    wf.undo(ME)
    assert len(wf.published) == 1 and "e4" not in wf.edges


def test_with_nothing_to_undo_undo_is_refused_before_any_event() -> None:
    wf = Workflow.create("Empty", "", ME)
    wf.collect_events()
    with pytest.raises(InvalidCommand, match="no change of yours to undo"):
        wf.undo(ME)
    assert wf.collect_events() == []


def test_a_change_that_changes_nothing_is_not_on_the_stack() -> None:
    wf = wired()
    wf.move_node("kb", Position(200, 0), ME)  # where it already was
    assert wf.undo_step(ME).type == "NodesConnected"  # type: ignore[union-attr]


def test_only_the_latest_steps_are_kept() -> None:
    wf = wired()
    for i in range(UNDO_DEPTH + 5):
        wf.move_node("kb", Position(i, 1), ME)
    for _ in range(UNDO_DEPTH):
        wf.undo(ME)
    assert wf.undo_step(ME) is None
    assert wf.nodes["kb"].position == Position(4, 1)


def test_undo_and_redo_stacks_come_back_from_a_replay_of_the_events() -> None:
    wf = wired()
    wf.move_node("kb", Position(1, 1), ME)
    wf.rename("X", YOU)
    wf.undo(ME)
    wf.configure_node("kb", {"topK": 9}, YOU)
    copy = replayed(wf, wf.collect_events())
    assert copy.undo_steps == wf.undo_steps and copy.redo_steps == wf.redo_steps
    assert state(copy) == state(wf)


def test_undo_events_carry_only_what_they_changed() -> None:
    wf = wired()
    wf.configure_node("kb", {"topK": 3}, ME)
    wf.collect_events()
    wf.undo(ME)
    [undone] = wf.collect_events()
    assert undone.change == wf.version - 1
    [[before, after]] = undone.delta["nodes"]
    assert (before["config"]["topK"], after["config"]["topK"]) == (3, 4)
    assert undone.delta["edges"] == [] and undone.actor == ME


def test_an_edge_whose_node_changed_kind_goes_when_an_import_is_undone() -> None:
    wf = wired()
    wf.import_graph(
        [
            Node.from_dict(
                {"id": "kb", "kind": "OUTPUT", "label": "Out", "position": {"x": 0, "y": 0}}
            ),
            Node.from_dict(
                {"id": "llm", "kind": "LLM_ENGINE", "label": "L", "position": {"x": 0, "y": 0}}
            ),
        ],
        [Edge("x", "llm", "kb", "answer", "answer")],
        ME,
    )
    wf.undo(ME)
    assert wf.nodes["kb"].kind == "KNOWLEDGE_BASE" and type(wf.nodes["kb"].kind).__name__ == (
        "NodeKind"
    )
    assert set(wf.edges) == {"e1", "e2", "e3", "e4"}
