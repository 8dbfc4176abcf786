import { describe, expect, it } from "vitest";
import { describeEvent, eventTone, publishedAt } from "./historyModel";

const ev = (type: string, data: unknown = {}) => ({ version: 1, type, timestamp: "2026-01-01T00:00:00Z", actor: "local", data });

describe("history model", () => {
  it("describes events in words from what they recorded", () => {
    expect(describeEvent(ev("WorkflowCreated", { name: "Docs" }))).toBe("Created “Docs”");
    expect(describeEvent(ev("NodeAdded", { kind: "KNOWLEDGE_BASE", node_id: "kb_1" }))).toBe("Added Knowledge Base");
    expect(describeEvent(ev("NodeConfigured", { node_id: "llm_1", config: { provider: "extractive" } }))).toBe("Configured llm_1 (provider)");
    expect(describeEvent(ev("WorkflowPublished", { number: 2 }))).toBe("Published v2");
    expect(describeEvent(ev("WorkflowRolledBack", { to_version: 4 }))).toBe("Rolled back to version 4");
    expect(describeEvent(ev("SomethingNew"))).toBe("Something New");
  });

  it("gives each kind of event a tone and marks published versions", () => {
    expect(eventTone("NodeRemoved")).toBe("remove");
    expect(eventTone("WorkflowPublished")).toBe("publish");
    expect(eventTone("NodeMoved")).toBe("edit");
    expect(publishedAt([{ number: 1, workflowVersion: 7, publishedAt: "", note: "" }]).get(7)).toBe(1);
  });
});
