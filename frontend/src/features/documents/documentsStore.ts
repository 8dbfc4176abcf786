import { create } from "zustand";
import type { DocumentFieldsFragment } from "../../gql/graphql";

export type Doc = DocumentFieldsFragment;

export interface Upload {
  tempId: string;
  nodeId: string;
  filename: string;
  size: number;
  loaded: number;
  error?: string;
}

export interface DocumentsState {
  workflowId: string | null;
  docs: Record<string, Doc>;
  uploads: Upload[];
  /** Documents removed here or reported removed: late reports about them are ignored. */
  removed: Record<string, true>;
  /** Counts the news about documents; `heard[id]` is when a document's last news came. */
  tick: number;
  heard: Record<string, number>;
}

export type DocumentsAction =
  | { type: "reset"; workflowId: string | null }
  /** `asOf`: the store's tick when the list was asked for (a list read while news came in). */
  | { type: "loaded"; docs: Doc[]; asOf?: number }
  | { type: "changed"; doc: Doc }
  | { type: "removed"; id: string }
  | { type: "uploadStarted"; upload: Upload }
  | { type: "uploadProgress"; tempId: string; loaded: number }
  | { type: "uploadFinished"; tempId: string; doc: Doc }
  | { type: "uploadFailed"; tempId: string; error: string }
  | { type: "uploadDismissed"; tempId: string };

export const initialDocumentsState: DocumentsState = { workflowId: null, docs: {}, uploads: [], removed: {}, tick: 0, heard: {} };

const STATUS_RANK: Record<Doc["status"], number> = { PENDING: 0, INDEXED: 1, FAILED: 1, REMOVED: 2 };

/** An ISO timestamp in microseconds: the server's have six decimals, Date.parse keeps three. */
export function instant(iso: string): number {
  const fraction = /\.(\d+)/.exec(iso)?.[1] ?? "";
  return Date.parse(iso) * 1000 + Number(fraction.padEnd(6, "0").slice(3, 6));
}

/**
 * Keeps the latest of two reports on one document: events and answers can cross. Every change
 * of a document (a retry too, which takes it back to PENDING) moves its updatedAt; progress
 * events carry the updatedAt of the state being indexed, and only they carry progress.
 */
function later(current: Doc | undefined, incoming: Doc): Doc {
  if (!current) return incoming;
  const age = instant(incoming.updatedAt) - instant(current.updatedAt);
  if (age < 0) return current;
  if (age === 0) {
    if (STATUS_RANK[incoming.status] < STATUS_RANK[current.status]) return current;
    if (!incoming.progress && current.progress) return { ...incoming, progress: current.progress };
  }
  return incoming;
}

function withDoc(state: DocumentsState, doc: Doc): Pick<DocumentsState, "docs" | "removed" | "tick" | "heard"> {
  if (state.removed[doc.id]) return state;
  const tick = state.tick + 1;
  const heard = { ...state.heard, [doc.id]: tick };
  if (doc.status === "REMOVED") {
    const { [doc.id]: _gone, ...docs } = state.docs;
    return { docs, removed: { ...state.removed, [doc.id]: true }, tick, heard };
  }
  return { docs: { ...state.docs, [doc.id]: later(state.docs[doc.id], doc) }, removed: state.removed, tick, heard };
}

/** Document state for one workflow, fed by the initial query, uploads and documentEvents. */
export function documentsReducer(state: DocumentsState, action: DocumentsAction): DocumentsState {
  switch (action.type) {
    case "reset":
      return { ...initialDocumentsState, workflowId: action.workflowId, tick: state.tick };
    case "loaded": {
      // The whole list as it stood when it was read: what it lacks is gone, unless news of it
      // came after the read was asked for (an upload that finished meanwhile); what it has may
      // be older than ours.
      const docs: Record<string, Doc> = {};
      for (const doc of action.docs) {
        if (!state.removed[doc.id] && doc.status !== "REMOVED") docs[doc.id] = later(state.docs[doc.id], doc);
      }
      if (action.asOf !== undefined) {
        for (const [id, doc] of Object.entries(state.docs)) {
          if (!(id in docs) && (state.heard[id] ?? 0) > action.asOf) docs[id] = doc;
        }
      }
      return { ...state, docs };
    }
    case "changed":
      if (state.workflowId && action.doc.workflowId !== state.workflowId) return state;
      return { ...state, ...withDoc(state, action.doc) };
    case "removed": {
      const { [action.id]: _gone, ...docs } = state.docs;
      const tick = state.tick + 1;
      return { ...state, docs, removed: { ...state.removed, [action.id]: true }, tick, heard: { ...state.heard, [action.id]: tick } };
    }
    case "uploadStarted":
      return { ...state, uploads: [...state.uploads, action.upload] };
    case "uploadProgress":
      return {
        ...state,
        uploads: state.uploads.map((u) => (u.tempId === action.tempId ? { ...u, loaded: action.loaded } : u)),
      };
    case "uploadFinished":
      return {
        ...state,
        uploads: state.uploads.filter((u) => u.tempId !== action.tempId),
        ...withDoc(state, action.doc),
      };
    case "uploadFailed":
      return {
        ...state,
        uploads: state.uploads.map((u) => (u.tempId === action.tempId ? { ...u, error: action.error } : u)),
      };
    case "uploadDismissed":
      return { ...state, uploads: state.uploads.filter((u) => u.tempId !== action.tempId) };
  }
}

export function docsFor(state: DocumentsState, nodeId: string): Doc[] {
  return Object.values(state.docs)
    .filter((d) => d.nodeId === nodeId)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/**
 * A node's uploads that still need a row of their own. Once its bytes are sent, an upload whose
 * document the server already reports (its events can beat the upload's own answer) is drawn
 * as that document only, not twice.
 */
export function uploadsFor(state: DocumentsState, nodeId: string): Upload[] {
  const docs = Object.values(state.docs);
  return state.uploads.filter(
    (u) =>
      u.nodeId === nodeId &&
      (u.error !== undefined || u.loaded < u.size || !docs.some((d) => d.nodeId === nodeId && d.filename === u.filename && d.sizeBytes === u.size)),
  );
}

export function countFor(state: DocumentsState, nodeId: string): number {
  let n = 0;
  for (const doc of Object.values(state.docs)) if (doc.nodeId === nodeId) n++;
  return n;
}

export interface Progress {
  percent: number;
  label: string;
  tone: "active" | "done" | "failed";
  /** Why it failed, when the label says where. */
  detail?: string;
}

/** Where indexing failed (Document.failedStage), as a person would say it. */
const FAILED_AT: Record<string, string> = {
  read: "Couldn't read the file",
  extract: "Couldn't read the text of the PDF",
  chunk: "Couldn't split the text into passages",
  embed: "Couldn't embed the passages",
  index: "Couldn't store the passages",
};

/** The server's share of the bar: the upload fills the part before it. */
const SERVER_FROM = 20;

function plural(count: number, word: string): string {
  return `${word}${count === 1 ? "" : "s"}`;
}

function indexing(progress: NonNullable<Doc["progress"]>): { label: string; fraction: number } {
  const { stage, pagesExtracted, pageTotal, chunksEmbedded, chunkTotal, fraction } = progress;
  if (stage === "extracting" && pageTotal > 0) {
    return { label: `Reading page ${Math.min(Math.max(pagesExtracted, 1), pageTotal)} of ${pageTotal}`, fraction };
  }
  if (stage === "loading") return { label: "Loading the embedding model…", fraction };
  if (stage === "embedding" && chunkTotal != null) {
    return { label: `Embedding ${chunksEmbedded} of ${chunkTotal} ${plural(chunkTotal, "passage")}`, fraction };
  }
  if (stage === "embedding") return { label: "Splitting into passages…", fraction };
  return { label: "Indexing…", fraction };
}

/** The progress of the generation the panel shows (the draft's), not of another one. */
function draftProgress(doc: Doc): Doc["progress"] {
  const draftKey = doc.indexes.find((i) => i.draft)?.key;
  const building = doc.progress?.indexKey;
  return building && draftKey && building !== draftKey ? null : doc.progress;
}

/**
 * What the published version answers from while the draft's settings are indexed apart
 * (an edit to chunking or embedder builds a new index; the published one is kept until Build).
 */
export function generationNote(doc: Doc, latestPublished: number | null): string | null {
  const draft = doc.indexes.find((i) => i.draft);
  const live = doc.indexes.find((i) => i.live);
  if (!draft || !live || draft.key === live.key || live.status !== "INDEXED") return null;
  const published = latestPublished ? `published v${latestPublished}` : "the published version";
  switch (draft.status) {
    case "PENDING":
      return `Indexing for the new settings · ${published} still answers from the current index`;
    case "INDEXED":
      return `Ready for the new settings · ${published} answers from the previous index until you build`;
    default:
      return `${published[0].toUpperCase()}${published.slice(1)} still answers from the current index`;
  }
}

/**
 * Where a document is on its way to being searchable: the upload in bytes, then the server's
 * own progress (pages read, passages embedded) from documentEvents while it is PENDING.
 */
export function progressOf(item: Doc | Upload): Progress {
  if ("tempId" in item) {
    if (item.error) return { percent: 100, label: item.error, tone: "failed" };
    const fraction = item.size > 0 ? Math.min(item.loaded / item.size, 1) : 0;
    return {
      percent: Math.round(2 + fraction * (SERVER_FROM - 2)),
      label: fraction < 1 ? "Uploading…" : "Uploaded, waiting for the server…",
      tone: "active",
    };
  }
  switch (item.status) {
    case "INDEXED":
      return { percent: 100, label: "Ready", tone: "done" };
    case "FAILED":
      return {
        percent: 100,
        label: (item.failedStage && FAILED_AT[item.failedStage]) || "Indexing failed",
        detail: item.error ?? undefined,
        tone: "failed",
      };
    case "REMOVED":
      return { percent: 0, label: "Removed", tone: "failed" };
    case "PENDING": {
      const progress = draftProgress(item);
      if (!progress) return { percent: SERVER_FROM, label: "Waiting to be indexed…", tone: "active" };
      const { label, fraction } = indexing(progress);
      const clamped = Math.min(Math.max(fraction, 0), 1);
      return { percent: Math.round(SERVER_FROM + clamped * (100 - SERVER_FROM)), label, tone: "active" };
    }
  }
}

export const useDocuments = create<DocumentsState & { dispatch: (a: DocumentsAction) => void }>((set) => ({
  ...initialDocumentsState,
  dispatch: (action) => set((state) => documentsReducer(state, action)),
}));
