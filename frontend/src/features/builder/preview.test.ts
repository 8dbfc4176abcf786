// @vitest-environment node
import { describe, expect, it } from "vitest";
import { snapshot } from "../../test/fixtures";
import type { GraphNode } from "./graph";
import { buildPreview } from "./preview";

const node = (id: string, kind: GraphNode["kind"] = "USER_QUERY"): GraphNode => ({ id, kind, label: id, position: { x: 0, y: 0 }, config: {} });

describe("buildPreview", () => {
  it("marks removed and changed nodes and draws added ones as ghosts, all read-only", () => {
    const old = snapshot({
      version: 3,
      nodes: [node("a"), node("b"), node("c")],
      edges: [{ id: "e1", source: "a", target: "b", sourceHandle: "query", targetHandle: "query" }],
    });
    const preview = buildPreview(
      old,
      {
        addedNodes: [node("d", "OUTPUT")],
        removedNodes: [{ id: "b" }],
        changedNodes: [{ id: "c" }],
        addedEdges: [{ id: "e2", source: "c", target: "d", sourceHandle: "answer", targetHandle: "answer" }],
        removedEdges: [{ id: "e1" }],
      },
      9,
    );
    expect(Object.fromEntries(preview.nodes.map((n) => [n.id, n.data.diff]))).toEqual({ a: undefined, b: "removed", c: "changed", d: "added" });
    expect(preview.nodes.every((n) => n.draggable === false && n.data.readOnly)).toBe(true);
    expect(preview.edges.map((e) => [e.id, e.className])).toEqual([
      ["e1", "edge-removed"],
      ["e2", "edge-added"],
    ]);
    expect(preview.counts).toEqual({ added: 1, removed: 1, changed: 1 });
    expect(preview.version).toBe(3);
    expect(preview.currentVersion).toBe(9);
  });
});
