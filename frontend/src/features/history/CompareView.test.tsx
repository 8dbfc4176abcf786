import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { CompareView } from "./CompareDialog";

const diff = {
  fromVersion: 5,
  toVersion: 17,
  fromLabel: "Draft · change 5",
  toLabel: "v2 · change 17",
  stackChanges: [{ field: "name", label: "Name", before: "Rover", after: "Rover helper", text: "Renamed “Rover” → “Rover helper”" }],
  nodeChanges: [
    {
      nodeId: "llm",
      kind: "LLM_ENGINE" as const,
      label: "LLM Engine",
      status: "CHANGED" as const,
      fields: [
        { field: "config.provider", label: "Provider", before: "Extractive (offline)", after: "OpenAI", text: "Provider Extractive (offline) → OpenAI" },
        { field: "config.apiKey", label: "API key", before: null, after: null, text: "API key added" },
      ],
    },
    {
      nodeId: "kb",
      kind: "KNOWLEDGE_BASE" as const,
      label: "Knowledge Base",
      status: "ADDED" as const,
      fields: [
        { field: "node", label: "Knowledge Base", before: null, after: "Knowledge Base", text: "Added Knowledge Base" },
        { field: "config.topK", label: "Passages per question", before: null, after: "4", text: "Passages per question set to 4" },
      ],
    },
  ],
  edgeChanges: [{ edgeId: "e1", status: "ADDED" as const, text: "Connected User Query → Knowledge Base", connection: "User Query → Knowledge Base" }],
};

describe("CompareView", () => {
  it("puts two versions side by side, field by field", () => {
    render(<CompareView diff={diff} />);
    const view = screen.getByTestId("comparison");
    expect(view.textContent).toContain("Draft · change 5");
    expect(view.textContent).toContain("v2 · change 17");
    const llm = screen.getByRole("group", { name: "LLM Engine: changed" });
    const provider = llm.querySelector('[data-field="config.provider"]');
    expect(provider?.textContent).toBe("ProviderExtractive (offline)OpenAI");
    expect(llm.querySelector('[data-field="config.apiKey"]')?.textContent).toBe("API keyAPI key added");
    const kb = screen.getByRole("group", { name: "Knowledge Base: added" });
    expect(within(kb).getByText("Not in this version")).toBeTruthy();
    expect(kb.querySelector('[data-field="config.topK"]')?.textContent).toBe("Passages per question—4");
    expect(screen.getByRole("region", { name: "Stack" }).textContent).toContain("RoverRover helper");
    expect(screen.getByLabelText("Connected User Query → Knowledge Base").textContent).toBe("User Query → Knowledge Base—Connected");
  });

  it("says so when two versions hold the same stack", () => {
    render(<CompareView diff={{ ...diff, stackChanges: [], nodeChanges: [], edgeChanges: [] }} />);
    expect(screen.getByText(/These two versions hold the same stack/)).toBeTruthy();
  });
});
