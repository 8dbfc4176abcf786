import type { DiffMark, StackFlowEdge, StackFlowNode } from "./canvasReducer";
import type { GraphEdge, GraphNode, Snapshot } from "./graph";

export interface DiffIds {
  addedNodes: GraphNode[];
  removedNodes: { id: string }[];
  changedNodes: { id: string }[];
  addedEdges: GraphEdge[];
  removedEdges: { id: string }[];
}

export interface Preview {
  version: number;
  currentVersion: number;
  snapshot: Snapshot;
  nodes: StackFlowNode[];
  edges: StackFlowEdge[];
  counts: Record<DiffMark, number>;
}

/**
 * The canvas as it stood at an old version, with the diff to now marked on it: nodes removed
 * or changed since then are highlighted, nodes added since are drawn as ghosts.
 */
export function buildPreview(snapshot: Snapshot, diff: DiffIds, currentVersion: number): Preview {
  const removed = new Set(diff.removedNodes.map((n) => n.id));
  const changed = new Set(diff.changedNodes.map((n) => n.id));
  const removedEdges = new Set(diff.removedEdges.map((e) => e.id));
  const present = new Set(snapshot.nodes.map((n) => n.id));

  const toNode = (node: GraphNode, mark?: DiffMark): StackFlowNode => ({
    id: node.id,
    type: "stack",
    position: node.position,
    draggable: false,
    connectable: false,
    deletable: false,
    data: { kind: node.kind, label: node.label, config: node.config, issues: [], saving: false, diff: mark, readOnly: true },
  });
  const nodes = [
    ...snapshot.nodes.map((n) => toNode(n, removed.has(n.id) ? "removed" : changed.has(n.id) ? "changed" : undefined)),
    ...diff.addedNodes.filter((n) => !present.has(n.id)).map((n) => toNode(n, "added")),
  ];
  const shown = new Set(nodes.map((n) => n.id));
  const toEdge = (edge: GraphEdge, mark?: DiffMark): StackFlowEdge => ({
    id: edge.id,
    source: edge.source,
    target: edge.target,
    sourceHandle: edge.sourceHandle,
    targetHandle: edge.targetHandle,
    deletable: false,
    selectable: false,
    className: mark ? `edge-${mark}` : undefined,
    data: { diff: mark },
  });
  const edges = [
    ...snapshot.edges.map((e) => toEdge(e, removedEdges.has(e.id) ? "removed" : undefined)),
    ...diff.addedEdges
      .filter((e) => !snapshot.edges.some((old) => old.id === e.id) && shown.has(e.source) && shown.has(e.target))
      .map((e) => toEdge(e, "added")),
  ];
  return {
    version: snapshot.version,
    currentVersion,
    snapshot,
    nodes,
    edges,
    counts: {
      added: diff.addedNodes.filter((n) => !present.has(n.id)).length,
      removed: removed.size,
      changed: changed.size,
    },
  };
}
