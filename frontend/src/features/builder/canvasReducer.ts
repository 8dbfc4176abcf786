import {
  applyEdgeChanges,
  applyNodeChanges,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
} from "@xyflow/react";
import { mergeConfig, type Config, type GraphEdge, type GraphNode, type Issue, type Snapshot, type XY } from "./graph";

/** How a node of an old version relates to the current one, when history shows it. */
export type DiffMark = "added" | "removed" | "changed";

export type StackNodeData = {
  kind: GraphNode["kind"];
  label: string;
  config: Config;
  issues: Issue[];
  /** An edit of this node has not been confirmed by the server yet. */
  saving: boolean;
  diff?: DiffMark;
  readOnly?: boolean;
};

export type StackFlowNode = Node<StackNodeData, "stack">;
export type StackFlowEdge = Edge<{ invalid?: boolean; diff?: DiffMark }>;

export type PendingOp =
  | { opId: string; type: "addNode"; node: GraphNode }
  | { opId: string; type: "moveNode"; nodeId: string; position: XY }
  | { opId: string; type: "relabelNode"; nodeId: string; label: string }
  | { opId: string; type: "configureNode"; nodeId: string; patch: Config }
  | { opId: string; type: "removeNode"; nodeId: string }
  | { opId: string; type: "connect"; edge: GraphEdge }
  | { opId: string; type: "disconnect"; edgeId: string }
  | { opId: string; type: "rename"; name: string }
  | { opId: string; type: "describe"; description: string }
  /** Undo and redo draw nothing ahead: the server decides what they take back. */
  | { opId: string; type: "undo" }
  | { opId: string; type: "redo" };

export interface WorkflowEventSummary {
  workflowId: string;
  version: number;
  type: string;
}

export interface CanvasState {
  workflowId: string | null;
  /** The workflow as last confirmed by the server (the highest version seen). */
  server: Snapshot | null;
  /** Edits sent (or about to be) whose answer has not come back. Drawn on top of `server`. */
  pending: PendingOp[];
  /** The highest version announced by workflowEvents; above server.version means refetch. */
  announcedVersion: number;
  deleted: boolean;
  /** Validation issues are drawn on nodes once a build has been attempted. */
  showIssues: boolean;
  nodes: StackFlowNode[];
  edges: StackFlowEdge[];
}

export type CanvasAction =
  | { type: "reset"; workflowId: string | null }
  | { type: "loaded"; workflow: Snapshot }
  | { type: "opStarted"; op: PendingOp }
  | { type: "opSucceeded"; opId: string; workflow?: Snapshot }
  | { type: "opFailed"; opId: string }
  | { type: "eventReceived"; event: WorkflowEventSummary }
  | { type: "nodesChanged"; changes: NodeChange<StackFlowNode>[] }
  | { type: "edgesChanged"; changes: EdgeChange<StackFlowEdge>[] }
  | { type: "issuesShown"; show: boolean };

export const initialCanvasState: CanvasState = {
  workflowId: null,
  server: null,
  pending: [],
  announcedVersion: 0,
  deleted: false,
  showIssues: false,
  nodes: [],
  edges: [],
};

/** The graph the person sees: the server's, with the edits still in flight applied in order. */
export function applyPending(server: Snapshot, pending: readonly PendingOp[]): Snapshot {
  let nodes = server.nodes;
  let edges = server.edges;
  let { name, description } = server;
  for (const op of pending) {
    switch (op.type) {
      case "addNode":
        nodes = [...nodes.filter((n) => n.id !== op.node.id), op.node];
        break;
      case "moveNode":
        nodes = nodes.map((n) => (n.id === op.nodeId ? { ...n, position: op.position } : n));
        break;
      case "relabelNode":
        nodes = nodes.map((n) => (n.id === op.nodeId ? { ...n, label: op.label } : n));
        break;
      case "configureNode":
        nodes = nodes.map((n) => (n.id === op.nodeId ? { ...n, config: mergeConfig(n.config, op.patch) } : n));
        break;
      case "removeNode":
        nodes = nodes.filter((n) => n.id !== op.nodeId);
        edges = edges.filter((e) => e.source !== op.nodeId && e.target !== op.nodeId);
        break;
      case "connect":
        if (!edges.some((e) => e.id === op.edge.id)) edges = [...edges, op.edge];
        break;
      case "disconnect":
        edges = edges.filter((e) => e.id !== op.edgeId);
        break;
      case "rename":
        name = op.name;
        break;
      case "describe":
        description = op.description;
        break;
      case "undo":
      case "redo":
        break;
    }
  }
  return { ...server, name, description, nodes, edges };
}

/** Nodes whose content awaits the server (a move is not worth a spinner). */
function touchedNodeIds(pending: readonly PendingOp[]): Set<string> {
  const ids = new Set<string>();
  for (const op of pending) {
    if (op.type === "addNode") ids.add(op.node.id);
    else if (op.type === "configureNode" || op.type === "relabelNode") ids.add(op.nodeId);
  }
  return ids;
}

function sameIssues(a: Issue[], b: Issue[]): boolean {
  return a.length === b.length && a.every((issue, i) => issue.code === b[i].code && issue.message === b[i].message);
}

const NO_ISSUES: Issue[] = [];

/**
 * Turns a graph into React Flow nodes, reusing the previous objects where nothing changed so
 * that memoised node components do not re-render (this is what keeps 300 nodes smooth).
 */
export function projectNodes(
  graph: readonly GraphNode[],
  previous: readonly StackFlowNode[],
  issues: readonly Issue[],
  saving: ReadonlySet<string>,
): StackFlowNode[] {
  const prevById = new Map(previous.map((n) => [n.id, n]));
  const issuesByNode = new Map<string, Issue[]>();
  for (const issue of issues) {
    if (!issue.nodeId) continue;
    issuesByNode.set(issue.nodeId, [...(issuesByNode.get(issue.nodeId) ?? []), issue]);
  }
  return graph.map((node) => {
    const prev = prevById.get(node.id);
    const nodeIssues = issuesByNode.get(node.id) ?? NO_ISSUES;
    const isSaving = saving.has(node.id);
    const prevData = prev?.data;
    const data: StackNodeData =
      prevData &&
      prevData.kind === node.kind &&
      prevData.label === node.label &&
      prevData.saving === isSaving &&
      sameIssues(prevData.issues, nodeIssues) &&
      (prevData.config === node.config || JSON.stringify(prevData.config) === JSON.stringify(node.config))
        ? prevData
        : { kind: node.kind, label: node.label, config: node.config, issues: nodeIssues, saving: isSaving };
    // A node being dragged keeps the pointer's position until the drag ends.
    const position = prev?.dragging ? prev.position : node.position;
    if (prev && prev.data === data && prev.position.x === position.x && prev.position.y === position.y) {
      return prev;
    }
    return {
      ...prev,
      id: node.id,
      type: "stack",
      position: prev && prev.position.x === position.x && prev.position.y === position.y ? prev.position : position,
      data,
      ariaLabel: `${node.label}${nodeIssues.length ? `, ${nodeIssues.length} issue${nodeIssues.length === 1 ? "" : "s"}` : ""}`,
    };
  });
}

export function projectEdges(
  graph: readonly GraphEdge[],
  previous: readonly StackFlowEdge[],
  issues: readonly Issue[],
): StackFlowEdge[] {
  const prevById = new Map(previous.map((e) => [e.id, e]));
  const invalid = new Set(issues.filter((i) => i.edgeId).map((i) => i.edgeId));
  return graph.map((edge) => {
    const prev = prevById.get(edge.id);
    const isInvalid = invalid.has(edge.id);
    if (
      prev &&
      prev.source === edge.source &&
      prev.target === edge.target &&
      (prev.sourceHandle ?? null) === edge.sourceHandle &&
      (prev.targetHandle ?? null) === edge.targetHandle &&
      !!prev.data?.invalid === isInvalid
    ) {
      return prev;
    }
    return {
      ...prev,
      id: edge.id,
      source: edge.source,
      target: edge.target,
      sourceHandle: edge.sourceHandle,
      targetHandle: edge.targetHandle,
      className: isInvalid ? "edge-invalid" : undefined,
      data: { invalid: isInvalid },
    };
  });
}

function project(state: CanvasState): CanvasState {
  if (!state.server) return { ...state, nodes: [], edges: [] };
  const graph = applyPending(state.server, state.pending);
  const issues = state.showIssues ? state.server.issues : NO_ISSUES;
  return {
    ...state,
    nodes: projectNodes(graph.nodes, state.nodes, issues, touchedNodeIds(state.pending)),
    edges: projectEdges(graph.edges, state.edges, issues),
  };
}

/** Keeps the newer of two snapshots: answers and refetches can arrive out of order. */
function newer(current: Snapshot | null, incoming: Snapshot): Snapshot {
  if (!current || current.id !== incoming.id) return incoming;
  return incoming.version >= current.version ? incoming : current;
}

const UI_NODE_CHANGES = new Set(["select", "dimensions", "position"]);
const UI_EDGE_CHANGES = new Set(["select"]);

/** The one place canvas state changes: mutation answers, subscription events and UI gestures. */
export function canvasReducer(state: CanvasState, action: CanvasAction): CanvasState {
  switch (action.type) {
    case "reset":
      return { ...initialCanvasState, workflowId: action.workflowId };
    case "loaded": {
      if (state.workflowId && action.workflow.id !== state.workflowId) return state;
      return project({ ...state, workflowId: action.workflow.id, server: newer(state.server, action.workflow) });
    }
    case "opStarted":
      return project({ ...state, pending: [...state.pending, action.op] });
    case "opSucceeded": {
      const pending = state.pending.filter((op) => op.opId !== action.opId);
      const server = action.workflow ? newer(state.server, action.workflow) : state.server;
      return project({ ...state, pending, server });
    }
    case "opFailed":
      return project({ ...state, pending: state.pending.filter((op) => op.opId !== action.opId) });
    case "eventReceived": {
      const { event } = action;
      if (event.workflowId !== state.workflowId) return state;
      const deleted = state.deleted || event.type === "WorkflowDeleted";
      if (event.version <= state.announcedVersion && deleted === state.deleted) return state;
      return { ...state, deleted, announcedVersion: Math.max(state.announcedVersion, event.version) };
    }
    case "nodesChanged": {
      const changes = action.changes.filter((c) => UI_NODE_CHANGES.has(c.type));
      if (changes.length === 0) return state;
      return { ...state, nodes: applyNodeChanges(changes, state.nodes) };
    }
    case "edgesChanged": {
      const changes = action.changes.filter((c) => UI_EDGE_CHANGES.has(c.type));
      if (changes.length === 0) return state;
      return { ...state, edges: applyEdgeChanges(changes, state.edges) };
    }
    case "issuesShown":
      return state.showIssues === action.show ? state : project({ ...state, showIssues: action.show });
  }
}

/** True when an event announced a version the canvas has not fetched yet. */
export function isBehind(state: CanvasState): boolean {
  return !!state.server && state.announcedVersion > state.server.version;
}

export function currentGraph(state: CanvasState): Snapshot | null {
  return state.server ? applyPending(state.server, state.pending) : null;
}
