"""Property: whatever edits made a workflow (random sequences of up to 400 events, across
several snapshot intervals), a process that never held it in memory shows it the same through
the GraphQL API whether it loads it from snapshots or replays every event: now, at earlier
versions on both sides of each snapshot, in diffs and in its history, JSON types included;
and it is the workflow those edits made.

The history is built through the workflow service (each command loads the workflow from the
store, as a server does, so later snapshots are themselves taken from loads that started at a
snapshot); after each step the builder's own load is checked against the model too."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from application.eventlog.log import SNAPSHOT_EVERY
from application.workflow import commands as c
from domain.components import COMPONENTS, NodeKind
from domain.errors import InvalidWorkflow
from domain.graph import Position
from domain.workflow import Workflow
from tests.integration.gql import GQL
from tests.integration.reopen import (
    MAX_EVENTS,
    OnAFreshStore,
    assert_same_json,
    both_ways,
    expected_snapshots,
    run_on,
    snapshot_versions,
)
from tests.integration.workflow_ops import DIFF, GET, HISTORY

ACTOR = "tester"
# the port each sensible connection uses (an output joins the input of its own name)
PORTS = {
    ("USER_QUERY", "KNOWLEDGE_BASE"): "query",
    ("USER_QUERY", "LLM_ENGINE"): "query",
    ("KNOWLEDGE_BASE", "LLM_ENGINE"): "context",
    ("LLM_ENGINE", "OUTPUT"): "answer",
}

texts = (
    st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=40)
    .map(str.strip)
    .filter(bool)
)
coordinates = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.integers(-5000, 5000).map(float),
)
# a setting given as None is removed; numbers come as ints and as floats
PATCHES = {
    "KNOWLEDGE_BASE": st.fixed_dictionaries(
        {},
        optional={
            "topK": st.integers(1, 50),
            "chunkSize": st.integers(100, 8000),
            "chunkOverlap": st.integers(0, 2000),
            "embeddingModel": st.one_of(st.none(), texts),
        },
    ),
    "LLM_ENGINE": st.fixed_dictionaries(
        {},
        optional={
            "provider": st.sampled_from(["extractive", "openai", "gemini"]),
            "model": st.one_of(st.none(), st.sampled_from(["gpt-4o-mini", "gemini-2.5-flash"])),
            "temperature": st.one_of(st.floats(0, 2), st.integers(0, 2)),
            "maxTokens": st.integers(1, 32768),
            "webSearch": st.booleans(),
            "prompt": texts,
        },
    ),
}


@dataclass
class State:
    """The workflow as the edits made it, in the API's own words."""

    name: str
    description: str
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: dict[str, dict[str, Any]] = field(default_factory=dict)

    def graph(self) -> dict[str, Any]:
        return {"nodes": list(self.nodes.values()), "edges": list(self.edges.values())}


def node(node_id: str, kind: str, x: float, y: float, label: str | None = None) -> dict[str, Any]:
    spec = COMPONENTS[NodeKind(kind)]
    return {
        "id": node_id,
        "kind": kind,
        "label": label or spec.title,
        "position": {"x": x, "y": y},
        "config": spec.defaults(),
    }


class WorkflowEdits(OnAFreshStore):
    def __init__(self) -> None:
        super().__init__()
        self.service = self.builder.services.workflows
        self.id = self.service.create(c.CreateWorkflow(name="A stack", actor=ACTOR)).id
        self.states: list[State | None] = [None, State("A stack", "")]  # by version
        self.published: list[dict[str, Any]] = []
        self.made = 0

    # ---------------------------------------------------------------- bookkeeping

    @property
    def version(self) -> int:
        return len(self.states) - 1

    @property
    def now(self) -> State:
        state = self.states[-1]
        assert state is not None
        return state

    def room(self, wanted: int = 1) -> int:
        return max(0, min(wanted, MAX_EVENTS - self.version))

    def recorded(self, view: Any, state: State) -> None:
        """One command, one event: the service's answer names the next version."""
        self.states.append(state)
        assert view.version == self.version

    def fresh_id(self, prefix: str) -> str:
        self.made += 1
        return f"{prefix}{self.made}"

    def edit(self) -> State:
        return copy.deepcopy(self.now)

    # ---------------------------------------------------------------- edits

    @precondition(lambda self: self.room())
    @rule(kind=st.sampled_from([k.value for k in NodeKind]), x=coordinates, y=coordinates)
    def add_node(self, kind: str, x: float, y: float) -> None:
        node_id = self.fresh_id("n")
        view = self.service.add_node(
            c.AddNode(
                workflow_id=self.id,
                node_id=node_id,
                kind=kind,
                position=Position(x, y),
                actor=ACTOR,
            )
        )
        state = self.edit()
        state.nodes[node_id] = node(node_id, kind, x, y)
        self.recorded(view, state)

    @precondition(lambda self: self.room() and self.now.nodes)
    @rule(data=st.data(), times=st.integers(1, 30))
    def drag_a_node_about(self, data: st.DataObject, times: int) -> None:
        node_id = data.draw(st.sampled_from(sorted(self.now.nodes)))
        for _ in range(self.room(times)):
            x, y = data.draw(coordinates), data.draw(coordinates)
            view = self.service.move_node(
                c.MoveNode(
                    workflow_id=self.id, node_id=node_id, position=Position(x, y), actor=ACTOR
                )
            )
            state = self.edit()
            state.nodes[node_id]["position"] = {"x": x, "y": y}
            self.recorded(view, state)

    @precondition(lambda self: self.room() and self.now.nodes)
    @rule(data=st.data(), label=texts)
    def relabel(self, data: st.DataObject, label: str) -> None:
        node_id = data.draw(st.sampled_from(sorted(self.now.nodes)))
        view = self.service.relabel_node(
            c.RelabelNode(workflow_id=self.id, node_id=node_id, label=label, actor=ACTOR)
        )
        state = self.edit()
        state.nodes[node_id]["label"] = label
        self.recorded(view, state)

    @precondition(
        lambda self: self.room() and any(n["kind"] in PATCHES for n in self.now.nodes.values())
    )
    @rule(data=st.data(), times=st.integers(1, 10))
    def configure(self, data: st.DataObject, times: int) -> None:
        configurable = sorted(i for i, n in self.now.nodes.items() if n["kind"] in PATCHES)
        node_id = data.draw(st.sampled_from(configurable))
        for _ in range(self.room(times)):
            patch = data.draw(PATCHES[self.now.nodes[node_id]["kind"]])
            view = self.service.configure_node(
                c.ConfigureNode(workflow_id=self.id, node_id=node_id, patch=patch, actor=ACTOR)
            )
            state = self.edit()
            merged = {**state.nodes[node_id]["config"], **patch}
            state.nodes[node_id]["config"] = {k: v for k, v in merged.items() if v is not None}
            self.recorded(view, state)

    @precondition(lambda self: self.room() and self.now.nodes)
    @rule(data=st.data())
    def remove_node(self, data: st.DataObject) -> None:
        node_id = data.draw(st.sampled_from(sorted(self.now.nodes)))
        view = self.service.remove_node(
            c.RemoveNode(workflow_id=self.id, node_id=node_id, actor=ACTOR)
        )
        state = self.edit()
        del state.nodes[node_id]
        state.edges = {
            i: e for i, e in state.edges.items() if node_id not in (e["source"], e["target"])
        }
        self.recorded(view, state)

    def _open_pairs(self) -> list[tuple[str, str]]:
        nodes, taken = self.now.nodes, {(e["source"], e["target"]) for e in self.now.edges.values()}
        return [
            (s, t)
            for s in sorted(nodes)
            for t in sorted(nodes)
            if (nodes[s]["kind"], nodes[t]["kind"]) in PORTS and (s, t) not in taken
        ]

    @precondition(lambda self: self.room() and self._open_pairs())
    @rule(data=st.data())
    def connect(self, data: st.DataObject) -> None:
        source, target = data.draw(st.sampled_from(self._open_pairs()))
        edge_id = self.fresh_id("e")
        view = self.service.connect(
            c.ConnectNodes(
                workflow_id=self.id, edge_id=edge_id, source=source, target=target, actor=ACTOR
            )
        )
        state = self.edit()
        port = PORTS[(state.nodes[source]["kind"], state.nodes[target]["kind"])]
        state.edges[edge_id] = {
            "id": edge_id,
            "source": source,
            "target": target,
            "sourceHandle": port,
            "targetHandle": port,
        }
        self.recorded(view, state)

    @precondition(lambda self: self.room() and self.now.edges)
    @rule(data=st.data())
    def disconnect(self, data: st.DataObject) -> None:
        edge_id = data.draw(st.sampled_from(sorted(self.now.edges)))
        view = self.service.disconnect(
            c.DisconnectNodes(workflow_id=self.id, edge_id=edge_id, actor=ACTOR)
        )
        state = self.edit()
        del state.edges[edge_id]
        self.recorded(view, state)

    @precondition(lambda self: self.room())
    @rule(x=coordinates, with_knowledge=st.booleans(), then_publish=st.booleans())
    def import_a_pipeline(self, x: float, with_knowledge: bool, then_publish: bool) -> None:
        """A graph that can be published: User Query (→ Knowledge Base) → LLM → Output."""
        kinds = ["USER_QUERY", "KNOWLEDGE_BASE", "LLM_ENGINE", "OUTPUT"]
        if not with_knowledge:
            kinds.remove("KNOWLEDGE_BASE")
        nodes = {self.fresh_id("n"): kind for kind in kinds}
        ids = {kind: node_id for node_id, kind in nodes.items()}
        pairs = [p for p in PORTS if p[0] in ids and p[1] in ids]
        edges = {self.fresh_id("e"): (ids[s], ids[t], PORTS[(s, t)]) for s, t in pairs}
        view = self.service.import_graph(
            c.ImportGraph(
                workflow_id=self.id,
                nodes=[
                    {"id": i, "kind": k, "position": {"x": x + n, "y": 0.5}}
                    for n, (i, k) in enumerate(nodes.items())
                ],
                edges=[{"id": i, "source": s, "target": t} for i, (s, t, _) in edges.items()],
                actor=ACTOR,
            )
        )
        state = self.edit()
        state.nodes = {i: node(i, k, x + n, 0.5) for n, (i, k) in enumerate(nodes.items())}
        state.edges = {
            i: {"id": i, "source": s, "target": t, "sourceHandle": p, "targetHandle": p}
            for i, (s, t, p) in edges.items()
        }
        self.recorded(view, state)
        if then_publish and self.room():
            self.publish(note="")

    @precondition(lambda self: self.room())
    @rule(name=texts, describe=st.booleans())
    def rename_or_describe(self, name: str, describe: bool) -> None:
        state = self.edit()
        if describe:
            view = self.service.describe(
                c.DescribeWorkflow(workflow_id=self.id, description=name, actor=ACTOR)
            )
            state.description = name
        else:
            view = self.service.rename(
                c.RenameWorkflow(workflow_id=self.id, name=name, actor=ACTOR)
            )
            state.name = name
        self.recorded(view, state)

    @precondition(lambda self: self.room())
    @rule(note=st.one_of(st.just(""), texts))
    def publish(self, note: str) -> None:
        try:
            number = self.service.publish(
                c.Publish(workflow_id=self.id, note=note, actor=ACTOR)
            ).number
        except InvalidWorkflow:
            return  # nothing recorded: the graph cannot be published as it is
        assert number == len(self.published) + 1
        view = self.service.get(self.id)
        assert view is not None
        self.recorded(view, self.edit())
        self.published.append({"number": number, "workflowVersion": self.version, "note": note})

    @precondition(lambda self: self.room() and self.version > 1)
    @rule(data=st.data())
    def roll_back(self, data: st.DataObject) -> None:
        to = data.draw(st.integers(1, self.version - 1))
        view = self.service.roll_back(c.RollBack(workflow_id=self.id, to_version=to, actor=ACTOR))
        earlier = self.states[to]
        assert earlier is not None
        state = self.edit()
        state.nodes, state.edges = copy.deepcopy(earlier.nodes), copy.deepcopy(earlier.edges)
        # what else a rollback restores is rollback's business: take the service's word
        state.name, state.description = view.name, view.description
        self.recorded(view, state)

    # ---------------------------------------------------------------- checks

    @precondition(lambda self: not self.room())
    @rule()
    def full(self) -> None:
        """Enabled only when nothing else is: the history is as long as this test goes."""

    @invariant()
    def a_load_is_the_workflow_the_edits_made(self) -> None:
        """Now, and half an interval back (from the snapshot at or before it), as a server
        of this store loads it."""
        repository = self.builder.services.event_log.repository
        check_loaded(repository.get(self.id), self.now)
        back = self.version - SNAPSHOT_EVERY // 2
        if back >= 1:
            check_loaded(repository.get(self.id, version=back), self.states[back])

    def happened(self) -> bool:
        return self.version > 1

    def check_through_the_api(self) -> None:
        store = self.builder.services.event_log
        assert snapshot_versions(store, self.id) == expected_snapshots(self.version, SNAPSHOT_EVERY)
        versions = sample_versions(self.version)
        pairs = [(a, b) for a, b in zip(versions, versions[::-1], strict=True) if a != b]
        from_snapshots, replayed = both_ways(
            self.builder.settings, lambda gql: ask(gql, str(self.id), versions, pairs)
        )
        assert_same_json(from_snapshots, replayed)
        for version, shown in zip([None, *versions], from_snapshots["versions"], strict=True):
            state = self.states[version or self.version]
            assert state is not None
            assert_same_json(
                {k: shown[k] for k in ("name", "description", "nodes", "edges")},
                {"name": state.name, "description": state.description, **state.graph()},
            )
        published = from_snapshots["versions"][0]["publishedVersions"]
        assert_same_json(
            [{**p, "publishedAt": None} for p in published],
            [{**p, "publishedAt": None} for p in self.published],
        )
        history = from_snapshots["history"]
        assert [e["version"] for e in history] == list(range(1, self.version + 1))


def check_loaded(loaded: Workflow, state: State | None) -> None:
    assert state is not None
    assert (loaded.name, loaded.description) == (state.name, state.description)
    assert list(loaded.nodes) == list(state.nodes) and list(loaded.edges) == list(state.edges)
    for n in loaded.nodes.values():
        assert type(n.kind) is NodeKind and type(n.position) is Position
        assert type(n.position.x) is float and type(n.position.y) is float
        assert n.to_dict() == state.nodes[n.id]
        assert [type(v) for v in n.config.values()] == [
            type(v) for v in state.nodes[n.id]["config"].values()
        ]
    for p in loaded.published:
        assert all(type(n.kind) is NodeKind for n in p.nodes) and type(p.nodes) is tuple


def sample_versions(last: int) -> list[int]:
    """Versions on both sides of each snapshot, the first and the last."""
    around = {v + d for v in range(SNAPSHOT_EVERY, last + 1, SNAPSHOT_EVERY) for d in (-1, 0, 1)}
    return sorted(v for v in around | {1, last} if 1 <= v <= last)


def ask(gql: GQL, workflow_id: str, versions: list[int], pairs: list[tuple[int, int]]) -> Any:
    return {
        "versions": [gql(GET, w=workflow_id, v=v)["workflow"] for v in [None, *versions]],
        "diffs": [gql(DIFF, w=workflow_id, a=a, b=b)["workflowDiff"] for a, b in pairs],
        "history": gql(HISTORY, w=workflow_id)["workflowHistory"],
    }


@pytest.mark.slow
def test_a_workflow_reads_the_same_from_its_snapshots_as_from_a_full_replay(
    backend: str,
) -> None:
    run_on(WorkflowEdits, backend, examples=5, steps=100)
