"""GraphQL operations on workflows, shared by the integration tests."""

from __future__ import annotations

import time
from typing import Any

from tests.integration.gql import GQL

WORKFLOW_FIELDS = """
  id name description version createdAt updatedAt
  nodes { id kind label position { x y } config }
  edges { id source target sourceHandle targetHandle }
  validation { valid issues { code message nodeId edgeId } }
  publishedVersions { number workflowVersion publishedAt note }
"""

CREATE = f"mutation($name: String!, $d: String) {{ createWorkflow(name: $name, description: $d) {{ {WORKFLOW_FIELDS} }} }}"
ADD = f"""mutation($w: UUID!, $kind: NodeKind!, $x: Float!, $y: Float!, $id: String, $config: JSON, $ev: Int) {{
  addNode(workflowId: $w, kind: $kind, position: {{x: $x, y: $y}}, nodeId: $id, config: $config, expectedVersion: $ev) {{ {WORKFLOW_FIELDS} }} }}"""
CONNECT = f"""mutation($w: UUID!, $s: String!, $t: String!, $sh: String, $th: String, $id: String, $ev: Int) {{
  connectNodes(workflowId: $w, source: $s, target: $t, sourceHandle: $sh, targetHandle: $th, edgeId: $id, expectedVersion: $ev) {{ {WORKFLOW_FIELDS} }} }}"""
CONFIGURE = f"""mutation($w: UUID!, $n: String!, $c: JSON!, $ev: Int) {{
  configureNode(workflowId: $w, nodeId: $n, config: $c, expectedVersion: $ev) {{ {WORKFLOW_FIELDS} }} }}"""
MOVE = f"""mutation($w: UUID!, $n: String!, $x: Float!, $y: Float!, $ev: Int) {{
  moveNode(workflowId: $w, nodeId: $n, position: {{x: $x, y: $y}}, expectedVersion: $ev) {{ {WORKFLOW_FIELDS} }} }}"""
REMOVE = f"mutation($w: UUID!, $n: String!, $ev: Int) {{ removeNode(workflowId: $w, nodeId: $n, expectedVersion: $ev) {{ {WORKFLOW_FIELDS} }} }}"
DISCONNECT = f"mutation($w: UUID!, $e: String!, $ev: Int) {{ disconnectNodes(workflowId: $w, edgeId: $e, expectedVersion: $ev) {{ {WORKFLOW_FIELDS} }} }}"
RENAME = f"mutation($w: UUID!, $name: String!, $ev: Int) {{ renameWorkflow(id: $w, name: $name, expectedVersion: $ev) {{ {WORKFLOW_FIELDS} }} }}"
PUBLISH = "mutation($w: UUID!, $note: String) { publishWorkflow(workflowId: $w, note: $note) { number workflowVersion publishedAt note } }"
ROLLBACK = f"mutation($w: UUID!, $v: Int!) {{ rollbackWorkflow(workflowId: $w, toVersion: $v) {{ {WORKFLOW_FIELDS} }} }}"
DELETE = "mutation($w: UUID!) { deleteWorkflow(id: $w) }"
GET = f"query($w: UUID!, $v: Int) {{ workflow(id: $w, version: $v) {{ {WORKFLOW_FIELDS} }} }}"
LIST = f"{{ workflows {{ {WORKFLOW_FIELDS} }} }}"
HISTORY = (
    "query($w: UUID!) { workflowHistory(id: $w) { workflowId version type timestamp actor data } }"
)
DIFF = """query($w: UUID!, $a: Int!, $b: Int!) { workflowDiff(id: $w, fromVersion: $a, toVersion: $b) {
  fromVersion toVersion addedNodes { id } removedNodes { id } changedNodes { id position { x y } config }
  addedEdges { id } removedEdges { id } } }"""


def build_pipeline(gql: GQL, name: str = "Manual Q&A") -> dict[str, Any]:
    """User Query → Knowledge Base → LLM Engine (extractive) → Output, wired and valid."""
    wf = gql(CREATE, name=name, d="answers from the manual")["createWorkflow"]
    w = wf["id"]
    for kind, node_id, x in (
        ("USER_QUERY", "q", 0),
        ("KNOWLEDGE_BASE", "kb", 250),
        ("LLM_ENGINE", "llm", 500),
        ("OUTPUT", "out", 750),
    ):
        wf = gql(ADD, w=w, kind=kind, x=x, y=100, id=node_id)["addNode"]
    for s, t, edge in (
        ("q", "kb", "e1"),
        ("q", "llm", "e2"),
        ("kb", "llm", "e3"),
        ("llm", "out", "e4"),
    ):
        wf = gql(CONNECT, w=w, s=s, t=t, id=edge)["connectNodes"]
    return wf


def wait_for(predicate: Any, timeout: float = 60.0, interval: float = 0.05) -> Any:
    """Polls until predicate() is truthy (read models follow the log asynchronously). The
    timeout only bounds a failure: generous, for a machine busy with parallel test workers."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        time.sleep(interval)


def listed(gql: GQL, workflow_id: str) -> dict[str, Any] | None:
    return next((w for w in gql(LIST)["workflows"] if w["id"] == workflow_id), None)
