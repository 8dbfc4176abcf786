// @vitest-environment node
import { describe, expect, it } from "vitest";
import type { GraphEdge, NodeKind } from "./graph";
import { connectionRefusal, type PortSpec } from "./ports";

const specs = new Map<NodeKind, PortSpec>([
  ["USER_QUERY", { kind: "USER_QUERY", title: "User Query", inputs: [], outputs: ["query"] }],
  ["KNOWLEDGE_BASE", { kind: "KNOWLEDGE_BASE", title: "Knowledge Base", inputs: ["query"], outputs: ["context"] }],
  ["LLM_ENGINE", { kind: "LLM_ENGINE", title: "LLM Engine", inputs: ["query", "context"], outputs: ["answer"] }],
  ["OUTPUT", { kind: "OUTPUT", title: "Output", inputs: ["answer"], outputs: [] }],
]);
const nodes = [
  { id: "q", kind: "USER_QUERY" as const },
  { id: "kb", kind: "KNOWLEDGE_BASE" as const },
  { id: "llm", kind: "LLM_ENGINE" as const },
  { id: "out", kind: "OUTPUT" as const },
];
const attempt = (source: string, sourceHandle: string, target: string, targetHandle: string) => ({ source, sourceHandle, target, targetHandle });

describe("connectionRefusal", () => {
  it("allows an output into the input of the same name", () => {
    expect(connectionRefusal(attempt("q", "query", "kb", "query"), nodes, [], specs)).toBeNull();
    expect(connectionRefusal(attempt("kb", "context", "llm", "context"), nodes, [], specs)).toBeNull();
    expect(connectionRefusal(attempt("llm", "answer", "out", "answer"), nodes, [], specs)).toBeNull();
  });

  it("refuses ports of different types, saying which input would fit", () => {
    const reason = connectionRefusal(attempt("q", "query", "llm", "context"), nodes, [], specs);
    expect(reason).toMatch(/can't go into/);
    expect(reason).toMatch(/“query” input instead/);
  });

  it("explains when the target takes nothing of that type", () => {
    expect(connectionRefusal(attempt("kb", "context", "out", "answer"), nodes, [], specs)).toMatch(/Output doesn't take “context”/);
  });

  it("refuses self-loops, duplicates and inputs of a node without any", () => {
    expect(connectionRefusal(attempt("llm", "answer", "llm", "query"), nodes, [], specs)).toMatch(/itself/);
    const existing: GraphEdge[] = [{ id: "e", source: "q", target: "kb", sourceHandle: "query", targetHandle: "query" }];
    expect(connectionRefusal(attempt("q", "query", "kb", "query"), nodes, existing, specs)).toMatch(/already connected/);
    expect(connectionRefusal({ source: "kb", sourceHandle: "context", target: "q", targetHandle: null }, nodes, [], specs)).toMatch(/no inputs/);
  });
});
