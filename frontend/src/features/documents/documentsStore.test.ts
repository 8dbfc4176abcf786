import { describe, expect, it } from "vitest";
import { countFor, docsFor, documentsReducer, initialDocumentsState, progressOf, type Doc } from "./documentsStore";

function doc(partial: Partial<Doc> = {}): Doc {
  return {
    id: "d1",
    workflowId: "wf",
    nodeId: "kb",
    filename: "manual.pdf",
    sizeBytes: 2048,
    status: "PENDING",
    pageCount: null,
    chunkCount: null,
    error: null,
    createdAt: "2026-01-01T00:00:00Z",
    ...partial,
  };
}

const start = documentsReducer(initialDocumentsState, { type: "reset", workflowId: "wf" });

describe("documentsReducer", () => {
  it("follows a document from upload to indexed through documentEvents", () => {
    let s = documentsReducer(start, { type: "uploadStarted", upload: { tempId: "u", nodeId: "kb", filename: "manual.pdf", size: 2048, loaded: 0 } });
    s = documentsReducer(s, { type: "uploadProgress", tempId: "u", loaded: 1024 });
    expect(progressOf(s.uploads[0])).toMatchObject({ tone: "active", label: "Uploading…" });
    s = documentsReducer(s, { type: "uploadFinished", tempId: "u", doc: doc() });
    expect(s.uploads).toEqual([]);
    expect(progressOf(s.docs.d1).label).toBe("Reading the PDF…");
    s = documentsReducer(s, { type: "changed", doc: doc({ pageCount: 3 }) });
    expect(progressOf(s.docs.d1).percent).toBeGreaterThan(40);
    s = documentsReducer(s, { type: "changed", doc: doc({ pageCount: 3, chunkCount: 12 }) });
    expect(progressOf(s.docs.d1).label).toBe("Embedding 12 passages…");
    s = documentsReducer(s, { type: "changed", doc: doc({ status: "INDEXED", pageCount: 3, chunkCount: 12 }) });
    expect(progressOf(s.docs.d1)).toEqual({ percent: 100, label: "Ready", tone: "done" });
  });

  it("does not let a late PENDING report undo an INDEXED one", () => {
    let s = documentsReducer(start, { type: "changed", doc: doc({ status: "INDEXED", pageCount: 3, chunkCount: 12 }) });
    s = documentsReducer(s, { type: "uploadFinished", tempId: "x", doc: doc() });
    expect(s.docs.d1.status).toBe("INDEXED");
  });

  it("keeps counts already known when a PENDING update lacks them", () => {
    let s = documentsReducer(start, { type: "changed", doc: doc({ pageCount: 5, chunkCount: 9 }) });
    s = documentsReducer(s, { type: "changed", doc: doc({ pageCount: null, chunkCount: null }) });
    expect(s.docs.d1.pageCount).toBe(5);
    expect(s.docs.d1.chunkCount).toBe(9);
  });

  it("shows a failure with its reason", () => {
    const s = documentsReducer(start, { type: "changed", doc: doc({ status: "FAILED", error: "No text could be extracted" }) });
    expect(progressOf(s.docs.d1)).toMatchObject({ tone: "failed", label: "No text could be extracted" });
    const failedUpload = documentsReducer(start, { type: "uploadStarted", upload: { tempId: "u", nodeId: "kb", filename: "a.pdf", size: 1, loaded: 0 } });
    const after = documentsReducer(failedUpload, { type: "uploadFailed", tempId: "u", error: "The file is too large." });
    expect(progressOf(after.uploads[0])).toMatchObject({ tone: "failed", label: "The file is too large." });
  });

  it("drops removed documents and ignores other workflows", () => {
    let s = documentsReducer(start, { type: "loaded", docs: [doc(), doc({ id: "d2", nodeId: "other" })] });
    expect(countFor(s, "kb")).toBe(1);
    s = documentsReducer(s, { type: "changed", doc: doc({ status: "REMOVED" }) });
    expect(countFor(s, "kb")).toBe(0);
    s = documentsReducer(s, { type: "changed", doc: doc({ id: "d3", workflowId: "elsewhere" }) });
    expect(Object.keys(s.docs)).toEqual(["d2"]);
  });

  it("lists a node's documents newest first", () => {
    const s = documentsReducer(start, {
      type: "loaded",
      docs: [doc({ id: "a", createdAt: "2026-01-01T00:00:00Z" }), doc({ id: "b", createdAt: "2026-02-01T00:00:00Z" })],
    });
    expect(docsFor(s, "kb").map((d) => d.id)).toEqual(["b", "a"]);
  });
});
