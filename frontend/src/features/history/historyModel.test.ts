// @vitest-environment node
import { describe, expect, it } from "vitest";
import {
  builtAt,
  comparePair,
  countsByFilter,
  detailLines,
  newestChange,
  publishedAt,
  shown,
  togglePick,
  toneOf,
  versionLabel,
} from "./historyModel";
import { historyEntry as entry } from "../../test/fixtures";

const published = [
  { number: 1, workflowVersion: 10, publishedAt: "", note: "" },
  { number: 2, workflowVersion: 15, publishedAt: "", note: "" },
];

describe("history model", () => {
  it("numbers changes one way: the published version in force, then the change", () => {
    expect(versionLabel(17, 2)).toBe("v2 · change 17");
    expect(versionLabel(4, null)).toBe("Draft · change 4");
    expect([9, 10, 14, 15, 99].map((v) => publishedAt(v, published))).toEqual([null, 1, 1, 2, 2]);
    expect(builtAt(published).get(15)).toBe(2);
  });

  it("shows newest first, by kind, with counts for each filter", () => {
    const entries = [
      entry({ version: 1, type: "WorkflowCreated", category: "STRUCTURE" }),
      entry({ version: 2, type: "NodeConfigured", category: "SETTINGS" }),
      entry({ version: 2, id: "document-d-1", type: "DocumentUploaded", category: "DOCUMENTS", documentId: "d" }),
      entry({ version: 3, type: "NodeMoved", category: "LAYOUT" }),
    ];
    expect(shown(entries, "ALL").map((e) => e.id)).toEqual(["change-3", "document-d-1", "change-2", "change-1"]);
    expect(shown(entries, "SETTINGS").map((e) => e.version)).toEqual([2]);
    expect(countsByFilter(entries)).toMatchObject({ ALL: 4, STRUCTURE: 1, SETTINGS: 1, LAYOUT: 1, VERSIONS: 0, DOCUMENTS: 1 });
    expect(newestChange(entries)).toBe(3);
  });

  it("shows detail lines only when they add to the summary", () => {
    const one = { field: "config.topK", label: "Passages per question", text: "Passages per question 4 → 3", nodeId: "kb" };
    expect(detailLines(entry({ version: 1, summary: "Knowledge Base: Passages per question 4 → 3", changes: [one] }))).toEqual([]);
    const undo = entry({ version: 2, summary: "Undid: Knowledge Base: Passages per question 3 → 4", changes: [{ ...one, text: "Passages per question 4 → 3" }] });
    expect(detailLines(undo)).toEqual(["Passages per question 4 → 3"]);
  });

  it("gives each kind of entry a tone", () => {
    expect(toneOf(entry({ version: 1, type: "NodeRemoved" }))).toBe("remove");
    expect(toneOf(entry({ version: 1, type: "WorkflowPublished" }))).toBe("publish");
    expect(toneOf(entry({ version: 1, type: "ChangeRedone" }))).toBe("redo");
    expect(toneOf(entry({ version: 1, type: "NodeMoved" }))).toBe("move");
    expect(toneOf(entry({ version: 1, type: "DocumentFailed", documentId: "d" }))).toBe("failed");
    expect(toneOf(entry({ version: 1, type: "DocumentGenerationBuilt", documentId: "d" }))).toBe("document");
  });

  it("picks two changes to compare, oldest first, a third letting go of the first", () => {
    let picked = togglePick([], 17);
    expect(comparePair(picked)).toBeNull();
    picked = togglePick(picked, 5);
    expect(comparePair(picked)).toEqual([5, 17]);
    picked = togglePick(picked, 9);
    expect(picked).toEqual([5, 9]);
    expect(togglePick(picked, 5)).toEqual([9]);
  });
});
