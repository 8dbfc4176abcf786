// @vitest-environment node
import { describe, expect, it } from "vitest";
import { countFor, docsFor, documentsReducer, generationNote, initialDocumentsState, instant, progressOf, uploadsFor, type Doc } from "./documentsStore";

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
    failedStage: null,
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:00:00.000100+00:00",
    progress: null,
    indexes: [],
    ...partial,
  };
}

type Live = NonNullable<Doc["progress"]>;

function reading(pagesExtracted: number, pageTotal: number): Live {
  return { stage: "extracting", indexKey: null, pagesExtracted, pageTotal, chunksEmbedded: 0, chunkTotal: null, fraction: 0.2 * (pagesExtracted / pageTotal) };
}

function embedding(chunksEmbedded: number, chunkTotal: number, pageTotal = 100): Live {
  return { stage: "embedding", indexKey: null, pagesExtracted: pageTotal, pageTotal, chunksEmbedded, chunkTotal, fraction: 0.2 + 0.8 * (chunksEmbedded / chunkTotal) };
}

const start = documentsReducer(initialDocumentsState, { type: "reset", workflowId: "wf" });

describe("documentsReducer", () => {
  it("follows a document from upload to indexed through documentEvents, page by page and passage by passage", () => {
    let s = documentsReducer(start, { type: "uploadStarted", upload: { tempId: "u", nodeId: "kb", filename: "manual.pdf", size: 2048, loaded: 0 } });
    s = documentsReducer(s, { type: "uploadProgress", tempId: "u", loaded: 1024 });
    expect(progressOf(s.uploads[0])).toMatchObject({ tone: "active", label: "Uploading…" });
    const uploading = progressOf(s.uploads[0]).percent;
    s = documentsReducer(s, { type: "uploadFinished", tempId: "u", doc: doc() });
    expect(s.uploads).toEqual([]);
    expect(progressOf(s.docs.d1)).toMatchObject({ label: "Waiting to be indexed…", tone: "active" });

    const seen: Array<{ label: string; percent: number }> = [];
    for (const progress of [reading(1, 100), reading(12, 100), reading(100, 100), embedding(0, 310), embedding(40, 310), embedding(310, 310)]) {
      s = documentsReducer(s, { type: "changed", doc: doc({ progress }) });
      seen.push(progressOf(s.docs.d1));
    }
    expect(seen.map((p) => p.label)).toEqual([
      "Reading page 1 of 100",
      "Reading page 12 of 100",
      "Reading page 100 of 100",
      "Embedding 0 of 310 passages",
      "Embedding 40 of 310 passages",
      "Embedding 310 of 310 passages",
    ]);
    const percents = [uploading, ...seen.map((p) => p.percent)];
    expect(percents).toEqual([...percents].sort((a, b) => a - b)); // the bar only moves forward
    expect(seen.at(-1)!.percent).toBe(100);

    s = documentsReducer(s, { type: "changed", doc: doc({ status: "INDEXED", pageCount: 100, chunkCount: 310, updatedAt: "2026-01-01T00:00:09.5+00:00" }) });
    expect(progressOf(s.docs.d1)).toEqual({ percent: 100, label: "Ready", tone: "done" });
    expect(s.docs.d1.progress).toBeNull();
  });

  it("says a single passage in the singular and copes with a stage it does not know", () => {
    expect(progressOf(doc({ progress: embedding(0, 1) })).label).toBe("Embedding 0 of 1 passage");
    expect(progressOf(doc({ progress: { ...embedding(0, 204), stage: "loading" } })).label).toBe("Loading the embedding model…");
    expect(progressOf(doc({ progress: { ...embedding(0, 1), chunkTotal: null } })).label).toBe("Splitting into passages…");
    expect(progressOf(doc({ progress: { ...reading(0, 3), stage: "indexing" } })).label).toBe("Indexing…");
    expect(progressOf(doc({ progress: reading(0, 3) })).label).toBe("Reading page 1 of 3");
  });

  it("keeps the live progress when the list, which has none, is loaded again", () => {
    let s = documentsReducer(start, { type: "changed", doc: doc({ progress: embedding(40, 310) }) });
    s = documentsReducer(s, { type: "loaded", docs: [doc()] });
    expect(progressOf(s.docs.d1).label).toBe("Embedding 40 of 310 passages");
  });

  it("does not let a late PENDING report undo an INDEXED one", () => {
    let s = documentsReducer(start, { type: "changed", doc: doc({ status: "INDEXED", pageCount: 3, chunkCount: 12, updatedAt: "2026-01-01T00:00:05+00:00" }) });
    s = documentsReducer(s, { type: "uploadFinished", tempId: "x", doc: doc() });
    s = documentsReducer(s, { type: "changed", doc: doc({ progress: embedding(12, 12, 3) }) });
    expect(s.docs.d1.status).toBe("INDEXED");
    expect(s.docs.d1.progress).toBeNull();
  });

  it("orders reports to the microsecond, beyond what Date.parse keeps", () => {
    expect(instant("2026-01-01T00:00:00.000200+00:00")).toBeGreaterThan(instant("2026-01-01T00:00:00.000100+00:00"));
    expect(instant("2026-01-01T00:00:01+00:00")).toBeGreaterThan(instant("2026-01-01T00:00:00.999999+00:00"));
    expect(instant("2026-01-01T00:00:00.5Z")).toBe(instant("2026-01-01T00:00:00.500000+00:00"));
  });

  it("shows where a failure happened and why, and a retry takes it back to indexing", () => {
    const failedAt = "2026-01-01T00:00:03+00:00";
    let s = documentsReducer(start, {
      type: "changed",
      doc: doc({ status: "FAILED", failedStage: "embed", error: "The embedding service refused the key.", updatedAt: failedAt }),
    });
    expect(progressOf(s.docs.d1)).toMatchObject({
      tone: "failed",
      label: "Couldn't embed the passages",
      detail: "The embedding service refused the key.",
    });
    // reindexDocument's answer: PENDING again, and newer than the failure.
    s = documentsReducer(s, { type: "changed", doc: doc({ updatedAt: "2026-01-01T00:00:07+00:00" }) });
    expect(s.docs.d1.status).toBe("PENDING");
    expect(progressOf(s.docs.d1).label).toBe("Waiting to be indexed…");
    // A progress report of the failed run, arriving late, changes nothing.
    s = documentsReducer(s, { type: "changed", doc: doc({ status: "FAILED", failedStage: "embed", error: "x", updatedAt: failedAt }) });
    expect(s.docs.d1.status).toBe("PENDING");
  });

  it("shows a failure without a stage, and a refused upload, with their reasons", () => {
    const s = documentsReducer(start, { type: "changed", doc: doc({ status: "FAILED", error: "No text could be extracted" }) });
    expect(progressOf(s.docs.d1)).toMatchObject({ tone: "failed", label: "Indexing failed", detail: "No text could be extracted" });
    const failedUpload = documentsReducer(start, { type: "uploadStarted", upload: { tempId: "u", nodeId: "kb", filename: "a.pdf", size: 1, loaded: 0 } });
    const after = documentsReducer(failedUpload, { type: "uploadFailed", tempId: "u", error: "The file is too large." });
    expect(progressOf(after.uploads[0])).toMatchObject({ tone: "failed", label: "The file is too large." });
  });

  it("does not bring back a removed document when its indexing still reports progress", () => {
    let s = documentsReducer(start, { type: "changed", doc: doc({ progress: reading(3, 100) }) });
    s = documentsReducer(s, { type: "removed", id: "d1" });
    s = documentsReducer(s, { type: "changed", doc: doc({ progress: reading(50, 100) }) });
    s = documentsReducer(s, { type: "loaded", docs: [doc()] });
    expect(s.docs).toEqual({});
  });

  it("draws an upload once when the server's events about its document beat the upload's answer", () => {
    let s = documentsReducer(start, { type: "uploadStarted", upload: { tempId: "u", nodeId: "kb", filename: "manual.pdf", size: 2048, loaded: 0 } });
    s = documentsReducer(s, { type: "changed", doc: doc({ progress: reading(1, 100) }) });
    expect(uploadsFor(s, "kb")).toHaveLength(1); // still sending: the bytes are the news
    s = documentsReducer(s, { type: "uploadProgress", tempId: "u", loaded: 2300 });
    expect(uploadsFor(s, "kb")).toEqual([]);
    expect(docsFor(s, "kb").map((d) => progressOf(d).label)).toEqual(["Reading page 1 of 100"]);
    s = documentsReducer(s, { type: "uploadFinished", tempId: "u", doc: doc() });
    expect(progressOf(s.docs.d1).label).toBe("Reading page 1 of 100");
  });

  it("drops removed documents and ignores other workflows", () => {
    let s = documentsReducer(start, { type: "loaded", docs: [doc(), doc({ id: "d2", nodeId: "other" })] });
    expect(countFor(s, "kb")).toBe(1);
    s = documentsReducer(s, { type: "changed", doc: doc({ status: "REMOVED" }) });
    expect(countFor(s, "kb")).toBe(0);
    s = documentsReducer(s, { type: "changed", doc: doc({ id: "d3", workflowId: "elsewhere" }) });
    expect(Object.keys(s.docs)).toEqual(["d2"]);
  });

  it("keeps a document heard of after the list was asked for, and drops one the list no longer has", () => {
    let s = documentsReducer(start, { type: "loaded", docs: [doc({ id: "old" })] });
    const asOf = s.tick;
    // While the list is read again, an upload finishes and its document fails at once.
    s = documentsReducer(s, { type: "uploadStarted", upload: { tempId: "u", nodeId: "kb", filename: "scanned.pdf", size: 10, loaded: 10 } });
    s = documentsReducer(s, { type: "uploadFinished", tempId: "u", doc: doc({ id: "new", filename: "scanned.pdf", sizeBytes: 10 }) });
    s = documentsReducer(s, { type: "changed", doc: doc({ id: "new", filename: "scanned.pdf", status: "FAILED", updatedAt: "2026-01-01T00:00:01+00:00" }) });
    // The list, read before all that, has neither the new document nor the old one (removed elsewhere).
    s = documentsReducer(s, { type: "loaded", docs: [], asOf });
    expect(Object.keys(s.docs)).toEqual(["new"]);
    expect(s.docs.new.status).toBe("FAILED");
    // A list asked for later is the truth about both.
    s = documentsReducer(s, { type: "loaded", docs: [], asOf: s.tick });
    expect(s.docs).toEqual({});
  });

  it("lists a node's documents newest first", () => {
    const s = documentsReducer(start, {
      type: "loaded",
      docs: [doc({ id: "a", createdAt: "2026-01-01T00:00:00Z" }), doc({ id: "b", createdAt: "2026-02-01T00:00:00Z" })],
    });
    expect(docsFor(s, "kb").map((d) => d.id)).toEqual(["b", "a"]);
  });
});

describe("index generations", () => {
  const live = { key: "a", status: "INDEXED" as const, chunkCount: 10, chunkSize: 300, chunkOverlap: 0, embeddingModel: "m", draft: false, live: true };
  const draft = { ...live, key: "b", status: "PENDING" as const, chunkCount: null, chunkSize: 1000, draft: true, live: false };

  it("shows the progress of the draft's generation only, not of the published one's", () => {
    const indexes = [live, draft];
    expect(progressOf(doc({ indexes, progress: { ...embedding(3, 10), indexKey: "a" } })).label).toBe("Waiting to be indexed…");
    expect(progressOf(doc({ indexes, progress: { ...embedding(3, 10), indexKey: "b" } })).label).toBe("Embedding 3 of 10 passages");
  });

  it("notes what the published version answers from only while the draft's settings differ", () => {
    expect(generationNote(doc({ indexes: [live, draft] }), null)).toBe(
      "Indexing for the new settings · the published version still answers from the current index",
    );
    expect(generationNote(doc({ indexes: [live, { ...draft, status: "FAILED" }] }), 3)).toBe("Published v3 still answers from the current index");
    expect(generationNote(doc({ indexes: [{ ...live, draft: true }] }), 3)).toBeNull(); // one generation for both
    expect(generationNote(doc({ indexes: [draft] }), null)).toBeNull(); // nothing published
    expect(generationNote(doc({ indexes: [{ ...live, status: "PENDING" }, draft] }), 1)).toBeNull();
  });
});
