import type { Published } from "../builder/graph";

export interface HistoryEvent {
  version: number;
  type: string;
  timestamp: string;
  actor?: string | null;
  data: unknown;
}

const KIND_WORDS: Record<string, string> = {
  USER_QUERY: "User Query",
  KNOWLEDGE_BASE: "Knowledge Base",
  LLM_ENGINE: "LLM Engine",
  OUTPUT: "Output",
};

function field(data: unknown, ...names: string[]): unknown {
  if (!data || typeof data !== "object") return undefined;
  const record = data as Record<string, unknown>;
  for (const name of names) if (record[name] !== undefined && record[name] !== null) return record[name];
  return undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
}

/** What earlier events tell about the nodes, so that later ones can be described by name. */
export interface HistoryContext {
  labels: Map<string, string>;
  configs: Map<string, string>;
}

function changedKeys(before: string | undefined, after: unknown): string[] {
  if (!after || typeof after !== "object") return [];
  const old = before ? (JSON.parse(before) as Record<string, unknown>) : {};
  const next = after as Record<string, unknown>;
  const keys = new Set([...Object.keys(old), ...Object.keys(next)]);
  return [...keys].filter((k) => JSON.stringify(old[k]) !== JSON.stringify(next[k]));
}

/** A history line in words, from the event's type, what its data recorded and what came before. */
export function describeEvent(event: HistoryEvent, context: HistoryContext = { labels: new Map(), configs: new Map() }): string {
  const { data } = event;
  const nodeId = text(field(data, "node_id", "nodeId"));
  const kind = text(field(data, "kind"));
  const nameOf = (id: string | undefined) => (id ? (context.labels.get(id) ?? id) : "a node");
  switch (event.type) {
    case "WorkflowCreated":
      return `Created “${text(field(data, "name")) ?? "stack"}”`;
    case "WorkflowRenamed":
      return `Renamed to “${text(field(data, "name")) ?? "…"}”`;
    case "WorkflowDescribed":
      return "Changed the description";
    case "NodeAdded":
      return `Added ${text(field(data, "label")) ?? (kind ? (KIND_WORDS[kind] ?? kind) : "a node")}`;
    case "NodeMoved":
      return `Moved ${nameOf(nodeId)}`;
    case "NodeRelabeled":
    case "NodeRelabelled":
      return `Renamed ${nameOf(nodeId)} to “${text(field(data, "label")) ?? "…"}”`;
    case "NodeConfigured": {
      const keys = nodeId ? changedKeys(context.configs.get(nodeId), field(data, "config")) : [];
      return `Configured ${nameOf(nodeId)}${keys.length ? `: ${keys.join(", ")}` : ""}`;
    }
    case "NodeRemoved":
      return `Removed ${nameOf(nodeId)}`;
    case "NodesConnected": {
      const handles = field(data, "handles");
      const port = text(field(handles, "source")) ?? text(field(data, "source_handle", "sourceHandle"));
      const from = text(field(data, "source"));
      const to = text(field(data, "target"));
      return `Connected ${nameOf(from)} → ${nameOf(to)}${port ? ` (${port})` : ""}`;
    }
    case "NodesDisconnected":
      return "Removed a connection";
    case "GraphImported":
      return "Imported a graph";
    case "WorkflowPublished": {
      const number = text(field(data, "number"));
      return number ? `Published v${number}` : "Published";
    }
    case "WorkflowRolledBack": {
      const to = text(field(data, "to_version", "toVersion"));
      return to ? `Rolled back to version ${to}` : "Rolled back";
    }
    case "WorkflowDeleted":
      return "Deleted the stack";
    default:
      return event.type.replace(/([a-z])([A-Z])/g, "$1 $2");
  }
}

function remember(context: HistoryContext, event: HistoryEvent): void {
  const nodeId = text(field(event.data, "node_id", "nodeId"));
  const label = text(field(event.data, "label"));
  const config = field(event.data, "config");
  if (nodeId && label) context.labels.set(nodeId, label);
  if (nodeId && config !== undefined) context.configs.set(nodeId, JSON.stringify(config));
  for (const node of [field(event.data, "nodes")].flat()) {
    const id = text(field(node, "id", "node_id"));
    const nodeLabel = text(field(node, "label"));
    if (id && nodeLabel) context.labels.set(id, nodeLabel);
    if (id && field(node, "config") !== undefined) context.configs.set(id, JSON.stringify(field(node, "config")));
  }
}

/** Every event's line, by version, each described with what the events before it recorded. */
export function describeHistory(events: readonly HistoryEvent[]): Map<number, string> {
  const context: HistoryContext = { labels: new Map(), configs: new Map() };
  const lines = new Map<number, string>();
  for (const event of [...events].sort((a, b) => a.version - b.version)) {
    lines.set(event.version, describeEvent(event, context));
    remember(context, event);
  }
  return lines;
}

export type EventTone = "create" | "edit" | "remove" | "publish" | "rollback";

export function eventTone(type: string): EventTone {
  if (type.includes("Published")) return "publish";
  if (type.includes("RolledBack")) return "rollback";
  if (type.includes("Removed") || type.includes("Disconnected") || type.includes("Deleted")) return "remove";
  if (type.includes("Added") || type.includes("Created") || type.includes("Connected") || type.includes("Imported")) return "create";
  return "edit";
}

/** Published version numbers by the workflow version they pinned. */
export function publishedAt(published: readonly Published[]): Map<number, number> {
  return new Map(published.map((p) => [p.workflowVersion, p.number]));
}
