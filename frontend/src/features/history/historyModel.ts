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

/** A history line in words, from the event's type and whatever its data recorded. */
export function describeEvent(event: HistoryEvent): string {
  const { data } = event;
  const kind = text(field(data, "kind"));
  const label = text(field(data, "label")) ?? (kind ? KIND_WORDS[kind] ?? kind : undefined);
  const node = label ?? text(field(data, "node_id", "nodeId"));
  const keys = field(data, "config", "changes", "patch");
  switch (event.type) {
    case "WorkflowCreated":
    case "Created":
      return `Created “${text(field(data, "name")) ?? "stack"}”`;
    case "WorkflowRenamed":
    case "Renamed":
      return `Renamed to “${text(field(data, "name")) ?? "…"}”`;
    case "WorkflowDescribed":
      return "Description changed";
    case "NodeAdded":
      return `Added ${node ?? "a node"}`;
    case "NodeMoved":
      return `Moved ${node ?? "a node"}`;
    case "NodeConfigured": {
      const changed = keys && typeof keys === "object" ? Object.keys(keys) : [];
      return `Configured ${node ?? "a node"}${changed.length ? ` (${changed.join(", ")})` : ""}`;
    }
    case "NodeRemoved":
      return `Removed ${node ?? "a node"}`;
    case "NodesConnected": {
      const handle = text(field(data, "source_handle", "sourceHandle"));
      return handle ? `Connected ${handle}` : "Connected two nodes";
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
      return "Deleted";
    default:
      return event.type.replace(/([a-z])([A-Z])/g, "$1 $2");
  }
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
