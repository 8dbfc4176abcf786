"""The smallest answering graph, built through the workflow use cases: User Query → LLM
Engine (offline by default) → Output, with nodes `q`, `llm`, `out` and edges `e1`, `e2`."""

from __future__ import annotations

from uuid import UUID

from application.workflow import commands as c
from application.workflow.handlers import WorkflowService
from domain.graph import Position

NODES = (("q", "USER_QUERY"), ("llm", "LLM_ENGINE"), ("out", "OUTPUT"))


def pipeline(workflows: WorkflowService, actor: str, name: str = "Tides") -> UUID:
    wid = workflows.create(c.CreateWorkflow(name=name, actor=actor)).id
    for x, (node_id, kind) in enumerate(NODES):
        at = Position(x, 0)
        workflows.add_node(
            c.AddNode(workflow_id=wid, node_id=node_id, kind=kind, position=at, actor=actor)
        )
    for edge_id, source, target in (("e1", "q", "llm"), ("e2", "llm", "out")):
        workflows.connect(
            c.ConnectNodes(
                workflow_id=wid, edge_id=edge_id, source=source, target=target, actor=actor
            )
        )
    return wid
