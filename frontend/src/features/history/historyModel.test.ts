import { describe, expect, it } from "vitest";
import { describeEvent, describeHistory, eventTone, publishedAt } from "./historyModel";

const ev = (type: string, data: unknown = {}, version = 1) => ({ version, type, timestamp: "2026-01-01T00:00:00Z", actor: "local", data });

describe("history model", () => {
  it("describes events in words from what they recorded", () => {
    expect(describeEvent(ev("WorkflowCreated", { name: "Docs" }))).toBe("Created “Docs”");
    expect(describeEvent(ev("NodeAdded", { kind: "KNOWLEDGE_BASE", node_id: "kb_1" }))).toBe("Added Knowledge Base");
    expect(describeEvent(ev("NodeConfigured", { node_id: "llm_1", config: { provider: "extractive" } }))).toBe("Configured llm_1: provider");
    expect(describeEvent(ev("WorkflowPublished", { number: 2 }))).toBe("Published v2");
    expect(describeEvent(ev("WorkflowRolledBack", { to_version: 4 }))).toBe("Rolled back to version 4");
    expect(describeEvent(ev("SomethingNew"))).toBe("Something New");
  });

  it("names nodes and changed settings from the events before", () => {
    const lines = describeHistory([
      ev("NodeConfigured", { node_id: "kb", config: { topK: 3, chunkSize: 1000 } }, 3),
      ev("NodeAdded", { node_id: "q", kind: "USER_QUERY", label: "User Query", config: {} }, 1),
      ev("NodeAdded", { node_id: "kb", kind: "KNOWLEDGE_BASE", label: "Knowledge Base", config: { topK: 4, chunkSize: 1000 } }, 2),
      ev("NodesConnected", { edge_id: "e", source: "q", target: "kb", handles: { source: "query", target: "query" } }, 4),
      ev("NodeMoved", { node_id: "kb", position: { x: 1, y: 2 } }, 5),
    ]);
    expect(lines.get(3)).toBe("Configured Knowledge Base: topK");
    expect(lines.get(4)).toBe("Connected User Query → Knowledge Base (query)");
    expect(lines.get(5)).toBe("Moved Knowledge Base");
  });

  it("gives each kind of event a tone and marks published versions", () => {
    expect(eventTone("NodeRemoved")).toBe("remove");
    expect(eventTone("WorkflowPublished")).toBe("publish");
    expect(eventTone("NodeMoved")).toBe("edit");
    expect(publishedAt([{ number: 1, workflowVersion: 7, publishedAt: "", note: "" }]).get(7)).toBe(1);
  });
});
