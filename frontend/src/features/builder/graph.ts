import type { NodeKind, WorkflowGraphFragment } from "../../gql/graphql";

export type { NodeKind };

export interface XY {
  x: number;
  y: number;
}

export type Config = Record<string, unknown>;

export interface GraphNode {
  id: string;
  kind: NodeKind;
  label: string;
  position: XY;
  config: Config;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle: string | null;
  targetHandle: string | null;
}

export interface Issue {
  code: string;
  message: string;
  nodeId: string | null;
  edgeId: string | null;
}

export interface Published {
  number: number;
  workflowVersion: number;
  publishedAt: string;
  note: string;
}

/** What the person can undo and redo of their own changes, as the server says. */
export interface UndoInfo {
  canUndo: boolean;
  canRedo: boolean;
  undoLabel: string | null;
  redoLabel: string | null;
}

export const NO_UNDO: UndoInfo = { canUndo: false, canRedo: false, undoLabel: null, redoLabel: null };

/** The workflow as the server last told it, in the shape the canvas works with. */
export interface Snapshot {
  id: string;
  name: string;
  description: string;
  version: number;
  updatedAt: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
  valid: boolean;
  issues: Issue[];
  published: Published[];
  /** The number of the latest published version, if any: what Chat answers with. */
  latestPublished: number | null;
  /** Changes a Build would publish (moves do not count). */
  unpublishedChanges: number;
  undo: UndoInfo;
}

export function asConfig(value: unknown): Config {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Config) : {};
}

export function toSnapshot(wf: WorkflowGraphFragment): Snapshot {
  return {
    id: wf.id,
    name: wf.name,
    description: wf.description,
    version: wf.version,
    updatedAt: wf.updatedAt,
    nodes: wf.nodes.map((n) => ({
      id: n.id,
      kind: n.kind,
      label: n.label,
      position: { x: n.position.x, y: n.position.y },
      config: asConfig(n.config),
    })),
    edges: wf.edges.map((e) => ({
      id: e.id,
      source: e.source,
      target: e.target,
      sourceHandle: e.sourceHandle ?? null,
      targetHandle: e.targetHandle ?? null,
    })),
    valid: wf.validation.valid,
    issues: wf.validation.issues.map((i) => ({
      code: i.code,
      message: i.message,
      nodeId: i.nodeId ?? null,
      edgeId: i.edgeId ?? null,
    })),
    published: wf.publishedVersions.map((p) => ({ ...p })),
    latestPublished: wf.latestPublishedVersion ?? null,
    unpublishedChanges: wf.unpublishedChanges,
    undo: {
      canUndo: wf.undo.canUndo,
      canRedo: wf.undo.canRedo,
      undoLabel: wf.undo.undoLabel ?? null,
      redoLabel: wf.undo.redoLabel ?? null,
    },
  };
}

/** Applies a config patch the way configureNode does: null removes, absent keeps. */
export function mergeConfig(config: Config, patch: Config): Config {
  const next: Config = { ...config };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

export function newId(prefix: string): string {
  const random = globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random()}`;
  return `${prefix}_${random.replace(/-/g, "").slice(0, 10)}`;
}

export function isSecretRef(value: unknown): value is { secretRef: string; hint?: string } {
  return !!value && typeof value === "object" && "secretRef" in value;
}
