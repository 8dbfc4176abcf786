import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { HistoryList, type HistoryListProps } from "./HistoryList";
import { historyEntry as entry } from "../../test/fixtures";
import { PAGE } from "./historyModel";

function setup(partial: Partial<HistoryListProps> = {}) {
  const props: HistoryListProps = {
    entries: [
      entry({ version: 1, type: "WorkflowCreated", category: "STRUCTURE", summary: "Created “Rover”" }),
      entry({
        version: 2,
        type: "NodeConfigured",
        category: "SETTINGS",
        summary: "LLM Engine: Provider Extractive (offline) → OpenAI; Model set to gpt-4o-mini; API key added",
        changes: [
          { field: "config.provider", label: "Provider", text: "Provider Extractive (offline) → OpenAI", nodeId: "llm" },
          { field: "config.model", label: "Model", text: "Model set to gpt-4o-mini", nodeId: "llm" },
          { field: "config.apiKey", label: "API key", text: "API key added", nodeId: "llm" },
        ],
      }),
      entry({ version: 3, type: "WorkflowPublished", category: "VERSIONS", summary: "Published v1", publishedVersion: 1 }),
      entry({ version: 3, id: "document-d-1", type: "DocumentFailed", category: "DOCUMENTS", documentId: "d", summary: "Couldn't index “scan.pdf”: no text", publishedVersion: 1 }),
      entry({ version: 4, type: "NodeMoved", category: "LAYOUT", summary: "Moved Output", publishedVersion: 1, undone: true }),
      entry({ version: 5, type: "ChangeUndone", category: "LAYOUT", summary: "Undid: Moved Output", publishedVersion: 1 }),
    ],
    current: 5,
    selected: 5,
    built: new Map([[3, 1]]),
    loadingVersion: null,
    onOpen: vi.fn(),
    comparing: false,
    picked: [],
    onPick: vi.fn(),
    ...partial,
  };
  render(<HistoryList {...props} />);
  return { props, user: userEvent.setup(), list: () => screen.getByRole("list", { name: "Changes" }) };
}

describe("HistoryList", () => {
  it("names who made each change, not their id", () => {
    setup({
      entries: [
        entry({ version: 1, type: "WorkflowCreated", summary: "Created “Rover”", actor: "5f0c", actorName: "Ada Lovelace" }),
        entry({ version: 2, summary: "Moved Output", actor: "token:9", actorName: "API token “bot”" }),
      ],
      current: 2,
      selected: 2,
    });
    expect(screen.getByText(/Ada Lovelace/)).toBeTruthy();
    expect(screen.getByText(/API token “bot”/)).toBeTruthy();
    expect(screen.queryByText(/5f0c|token:9/)).toBeNull();
  });

  it("reads each change in words with one numbering, newest first", () => {
    const { list } = setup();
    const rows = within(list()).getAllByRole("listitem");
    expect(rows.map((r) => r.textContent?.split("v1 ·")[0].split("Draft ·")[0])).toEqual([
      "Undid: Moved Output",
      "Moved Outputundone",
      "Couldn't index “scan.pdf”: no text",
      "Published v1v1 published",
      "LLM Engine: Provider Extractive (offline) → OpenAI; Model set to gpt-4o-mini; API key added",
      "Created “Rover”",
    ]);
    expect(within(list()).getByRole("button", { name: "Change 4: Moved Output, undone" }).textContent).toContain("v1 · change 4");
    expect(within(list()).getByRole("button", { name: "Change 1: Created “Rover”" }).textContent).toContain("Draft · change 1");
    expect(within(list()).getByRole("group", { name: /Document: Couldn't index/ }).textContent).toContain("v1 · after change 3");
  });

  it("filters by kind of change", async () => {
    const { user, list } = setup();
    await user.click(screen.getByRole("button", { name: "Builds & rollbacks (1)" }));
    expect(within(list()).getAllByRole("listitem")).toHaveLength(1);
    await user.click(screen.getByRole("button", { name: "Documents (1)" }));
    expect(within(list()).getByText("Couldn't index “scan.pdf”: no text")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Layout (2)" }));
    expect(within(list()).getAllByRole("listitem")).toHaveLength(2);
    await user.click(screen.getByRole("button", { name: "Structure (1)" }));
    expect(within(list()).getAllByRole("listitem")).toHaveLength(1);
  });

  it("opens a change, or picks it while comparing", async () => {
    const first = setup();
    await first.user.click(screen.getByRole("button", { name: /^Change 2:/ }));
    expect(first.props.onOpen).toHaveBeenCalledWith(2);
    first.props.onOpen = vi.fn();
    document.body.innerHTML = "";
    const second = setup({ comparing: true, picked: [4] });
    expect(screen.getByRole("button", { name: /^Change 4:/ }).getAttribute("aria-pressed")).toBe("true");
    await second.user.click(screen.getByRole("button", { name: /^Change 1:/ }));
    expect(second.props.onPick).toHaveBeenCalledWith(1);
    expect(second.props.onOpen).not.toHaveBeenCalled();
  });

  it("draws a long history a page at a time", async () => {
    const entries = Array.from({ length: PAGE + 30 }, (_, i) => entry({ version: i + 1, summary: `Moved node ${i + 1}` }));
    const { user, list } = setup({ entries, current: entries.length, selected: entries.length });
    // (counted by tag: jsdom's role queries over hundreds of items take seconds on a busy machine)
    expect(list().querySelectorAll(":scope > li")).toHaveLength(PAGE);
    await user.click(screen.getByRole("button", { name: "Show older (30 more)" }));
    expect(list().querySelectorAll(":scope > li")).toHaveLength(PAGE + 30);
    expect(within(list()).getByText("Moved node 1")).toBeTruthy();
  });
});
