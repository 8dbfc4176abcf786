import { describe, expect, it } from "vitest";
import { snapshot } from "../../test/fixtures";
import { applyPending, canvasReducer, initialCanvasState, isBehind, type CanvasState } from "./canvasReducer";
import type { GraphNode } from "./graph";

const query: GraphNode = { id: "q", kind: "USER_QUERY", label: "User Query", position: { x: 0, y: 0 }, config: {} };
const llm: GraphNode = { id: "llm", kind: "LLM_ENGINE", label: "LLM Engine", position: { x: 300, y: 0 }, config: { provider: "openai" } };

function loaded(s = snapshot({ nodes: [query, llm] })): CanvasState {
  return canvasReducer(canvasReducer(initialCanvasState, { type: "reset", workflowId: s.id }), { type: "loaded", workflow: s });
}

describe("canvasReducer", () => {
  it("draws a loaded workflow as React Flow nodes and edges", () => {
    const state = loaded(snapshot({ nodes: [query, llm], edges: [{ id: "e", source: "q", target: "llm", sourceHandle: "query", targetHandle: "query" }] }));
    expect(state.nodes.map((n) => [n.id, n.type, n.data.kind])).toEqual([
      ["q", "stack", "USER_QUERY"],
      ["llm", "stack", "LLM_ENGINE"],
    ]);
    expect(state.edges[0]).toMatchObject({ id: "e", source: "q", target: "llm", sourceHandle: "query" });
  });

  it("shows an added node at once and keeps it when an older answer arrives", () => {
    let state = loaded();
    const kb: GraphNode = { id: "kb", kind: "KNOWLEDGE_BASE", label: "Knowledge Base", position: { x: 10, y: 20 }, config: {} };
    state = canvasReducer(state, { type: "opStarted", op: { opId: "op1", type: "addNode", node: kb } });
    expect(state.nodes.map((n) => n.id)).toContain("kb");
    expect(state.nodes.find((n) => n.id === "kb")?.data.saving).toBe(true);
    // An event-triggered refetch from before the add lands: the pending node stays drawn.
    state = canvasReducer(state, { type: "loaded", workflow: snapshot({ version: 1, nodes: [query, llm] }) });
    expect(state.nodes.map((n) => n.id)).toContain("kb");
    // The answer confirms it.
    state = canvasReducer(state, { type: "opSucceeded", opId: "op1", workflow: snapshot({ version: 2, nodes: [query, llm, kb] }) });
    expect(state.pending).toEqual([]);
    expect(state.server?.version).toBe(2);
    expect(state.nodes.find((n) => n.id === "kb")?.data.saving).toBe(false);
  });

  it("reverts an optimistic edit the server refused", () => {
    let state = loaded();
    state = canvasReducer(state, { type: "opStarted", op: { opId: "op1", type: "removeNode", nodeId: "llm" } });
    expect(state.nodes.map((n) => n.id)).toEqual(["q"]);
    state = canvasReducer(state, { type: "opFailed", opId: "op1" });
    expect(state.nodes.map((n) => n.id)).toEqual(["q", "llm"]);
  });

  it("never goes back to an older version when answers cross", () => {
    let state = loaded(snapshot({ version: 5, name: "new" }));
    state = canvasReducer(state, { type: "loaded", workflow: snapshot({ version: 3, name: "old" }) });
    expect(state.server?.version).toBe(5);
    expect(state.server?.name).toBe("new");
  });

  it("asks for a refetch when an event announces a newer version", () => {
    let state = loaded(snapshot({ version: 4, nodes: [query] }));
    state = canvasReducer(state, { type: "eventReceived", event: { workflowId: "wf-1", version: 4, type: "NodeAdded" } });
    expect(isBehind(state)).toBe(false);
    state = canvasReducer(state, { type: "eventReceived", event: { workflowId: "wf-1", version: 6, type: "NodeMoved" } });
    expect(isBehind(state)).toBe(true);
    state = canvasReducer(state, { type: "loaded", workflow: snapshot({ version: 6, nodes: [query] }) });
    expect(isBehind(state)).toBe(false);
  });

  it("ignores events of another workflow and notes a deletion", () => {
    let state = loaded();
    state = canvasReducer(state, { type: "eventReceived", event: { workflowId: "other", version: 99, type: "NodeAdded" } });
    expect(isBehind(state)).toBe(false);
    state = canvasReducer(state, { type: "eventReceived", event: { workflowId: "wf-1", version: 2, type: "WorkflowDeleted" } });
    expect(state.deleted).toBe(true);
  });

  it("keeps unchanged node objects so memoised nodes do not re-render", () => {
    let state = loaded();
    const before = state.nodes;
    state = canvasReducer(state, { type: "opStarted", op: { opId: "m", type: "moveNode", nodeId: "llm", position: { x: 500, y: 40 } } });
    expect(state.nodes[0]).toBe(before[0]);
    expect(state.nodes[1]).not.toBe(before[1]);
    expect(state.nodes[1].position).toEqual({ x: 500, y: 40 });
    expect(state.nodes[1].data).toBe(before[1].data);
  });

  it("holds a dragged node under the pointer while a refetch arrives", () => {
    let state = loaded();
    state = canvasReducer(state, {
      type: "nodesChanged",
      changes: [{ type: "position", id: "q", position: { x: 77, y: 88 }, dragging: true }],
    });
    state = canvasReducer(state, { type: "loaded", workflow: snapshot({ version: 2, nodes: [{ ...query, label: "Ask" }, llm] }) });
    const q = state.nodes.find((n) => n.id === "q")!;
    expect(q.position).toEqual({ x: 77, y: 88 });
    expect(q.data.label).toBe("Ask");
  });

  it("keeps selection and measured size across server updates", () => {
    let state = loaded();
    state = canvasReducer(state, { type: "nodesChanged", changes: [{ type: "select", id: "llm", selected: true }] });
    state = canvasReducer(state, {
      type: "nodesChanged",
      changes: [{ type: "dimensions", id: "llm", dimensions: { width: 240, height: 120 } }],
    });
    state = canvasReducer(state, { type: "loaded", workflow: snapshot({ version: 2, nodes: [query, { ...llm, config: { provider: "gemini" } }] }) });
    const node = state.nodes.find((n) => n.id === "llm")!;
    expect(node.selected).toBe(true);
    expect(node.measured).toEqual({ width: 240, height: 120 });
    expect(node.data.config).toEqual({ provider: "gemini" });
  });

  it("renames a node at once, marks it saving, and puts the old name back if refused", () => {
    let state = loaded();
    const before = state.nodes[0];
    state = canvasReducer(state, { type: "opStarted", op: { opId: "r", type: "relabelNode", nodeId: "llm", label: "Answer writer" } });
    const llmNode = state.nodes.find((n) => n.id === "llm")!;
    expect(llmNode.data).toMatchObject({ label: "Answer writer", saving: true });
    expect(llmNode.ariaLabel).toBe("Answer writer");
    expect(state.nodes[0]).toBe(before);
    // A refetch from before the rename lands: the new name stays drawn.
    state = canvasReducer(state, { type: "loaded", workflow: snapshot({ version: 2, nodes: [query, llm] }) });
    expect(state.nodes[1].data.label).toBe("Answer writer");
    state = canvasReducer(state, { type: "opFailed", opId: "r" });
    expect(state.nodes[1].data).toMatchObject({ label: "LLM Engine", saving: false });
  });

  it("ignores remove changes from the canvas: deletions go through commands", () => {
    const state = loaded();
    const next = canvasReducer(state, { type: "nodesChanged", changes: [{ type: "remove", id: "q" }] });
    expect(next).toBe(state);
  });

  it("shows validation issues on their nodes only once a build was attempted", () => {
    const issue = { code: "MISSING_KEY", message: "Needs an API key", nodeId: "llm", edgeId: null };
    let state = loaded(snapshot({ nodes: [query, llm], issues: [issue] }));
    expect(state.nodes[1].data.issues).toEqual([]);
    state = canvasReducer(state, { type: "issuesShown", show: true });
    expect(state.nodes[1].data.issues).toEqual([issue]);
    expect(state.nodes[0].data.issues).toEqual([]);
  });
});

describe("applyPending", () => {
  it("merges a config patch like configureNode: null removes, absent keeps", () => {
    const s = snapshot({ nodes: [{ ...llm, config: { provider: "openai", model: "gpt", baseUrl: "http://x" } }] });
    const out = applyPending(s, [{ opId: "c", type: "configureNode", nodeId: "llm", patch: { model: "gpt-4o", baseUrl: null } }]);
    expect(out.nodes[0].config).toEqual({ provider: "openai", model: "gpt-4o" });
  });

  it("drops a removed node's edges and applies ops in order", () => {
    const s = snapshot({
      nodes: [query, llm],
      edges: [{ id: "e", source: "q", target: "llm", sourceHandle: "query", targetHandle: "query" }],
    });
    const out = applyPending(s, [
      { opId: "1", type: "removeNode", nodeId: "llm" },
      { opId: "2", type: "rename", name: "Renamed" },
    ]);
    expect(out.edges).toEqual([]);
    expect(out.name).toBe("Renamed");
  });

  it("draws the last description and node label still in flight", () => {
    const s = snapshot({ description: "old", nodes: [query, llm] });
    const out = applyPending(s, [
      { opId: "1", type: "describe", description: "first" },
      { opId: "2", type: "relabelNode", nodeId: "q", label: "Question" },
      { opId: "3", type: "describe", description: "" },
    ]);
    expect(out.description).toBe("");
    expect(out.nodes.map((n) => n.label)).toEqual(["Question", "LLM Engine"]);
    expect(s.description).toBe("old");
  });
});
