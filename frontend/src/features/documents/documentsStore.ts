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
}

export type DocumentsAction =
  | { type: "reset"; workflowId: string | null }
  | { type: "loaded"; docs: Doc[] }
  | { type: "changed"; doc: Doc }
  | { type: "removed"; id: string }
  | { type: "uploadStarted"; upload: Upload }
  | { type: "uploadProgress"; tempId: string; loaded: number }
  | { type: "uploadFinished"; tempId: string; doc: Doc }
  | { type: "uploadFailed"; tempId: string; error: string }
  | { type: "uploadDismissed"; tempId: string };

export const initialDocumentsState: DocumentsState = { workflowId: null, docs: {}, uploads: [] };

const STATUS_RANK: Record<Doc["status"], number> = { PENDING: 0, INDEXED: 1, FAILED: 1, REMOVED: 2 };

/** Keeps the furthest along of two reports on one document: events and answers can cross. */
function later(current: Doc | undefined, incoming: Doc): Doc {
  if (!current) return incoming;
  if (STATUS_RANK[incoming.status] < STATUS_RANK[current.status]) return current;
  if (incoming.status === "PENDING" && current.status === "PENDING") {
    return {
      ...incoming,
      pageCount: incoming.pageCount ?? current.pageCount,
      chunkCount: Math.max(incoming.chunkCount ?? 0, current.chunkCount ?? 0) || incoming.chunkCount || current.chunkCount,
    };
  }
  return incoming;
}

function upsert(docs: Record<string, Doc>, doc: Doc): Record<string, Doc> {
  if (doc.status === "REMOVED") {
    if (!(doc.id in docs)) return docs;
    const { [doc.id]: _gone, ...rest } = docs;
    return rest;
  }
  return { ...docs, [doc.id]: later(docs[doc.id], doc) };
}

/** Document state for one workflow, fed by the initial query, uploads and documentEvents. */
export function documentsReducer(state: DocumentsState, action: DocumentsAction): DocumentsState {
  switch (action.type) {
    case "reset":
      return { ...initialDocumentsState, workflowId: action.workflowId };
    case "loaded":
      return { ...state, docs: action.docs.reduce(upsert, {} as Record<string, Doc>) };
    case "changed":
      if (state.workflowId && action.doc.workflowId !== state.workflowId) return state;
      return { ...state, docs: upsert(state.docs, action.doc) };
    case "removed": {
      if (!(action.id in state.docs)) return state;
      const { [action.id]: _gone, ...rest } = state.docs;
      return { ...state, docs: rest };
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
        docs: upsert(state.docs, action.doc),
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

export function countFor(state: DocumentsState, nodeId: string): number {
  let n = 0;
  for (const doc of Object.values(state.docs)) if (doc.nodeId === nodeId) n++;
  return n;
}

export interface Progress {
  percent: number;
  label: string;
  tone: "active" | "done" | "failed";
}

/**
 * Where a document is on its way to being searchable. The server reports pages, then passages,
 * while PENDING; the upload itself is measured in bytes.
 */
export function progressOf(item: Doc | Upload): Progress {
  if ("tempId" in item) {
    if (item.error) return { percent: 100, label: item.error, tone: "failed" };
    const fraction = item.size > 0 ? Math.min(item.loaded / item.size, 1) : 0;
    return { percent: Math.round(5 + fraction * 30), label: fraction < 1 ? "Uploading…" : "Uploaded, waiting for the server…", tone: "active" };
  }
  switch (item.status) {
    case "INDEXED":
      return { percent: 100, label: "Ready", tone: "done" };
    case "FAILED":
      return { percent: 100, label: item.error ?? "Indexing failed", tone: "failed" };
    case "REMOVED":
      return { percent: 0, label: "Removed", tone: "failed" };
    case "PENDING":
      if (item.chunkCount) return { percent: 85, label: `Embedding ${item.chunkCount} passages…`, tone: "active" };
      if (item.pageCount) return { percent: 65, label: `Read ${item.pageCount} page${item.pageCount === 1 ? "" : "s"}, splitting…`, tone: "active" };
      return { percent: 40, label: "Reading the PDF…", tone: "active" };
  }
}

export const useDocuments = create<DocumentsState & { dispatch: (a: DocumentsAction) => void }>((set) => ({
  ...initialDocumentsState,
  dispatch: (action) => set((state) => documentsReducer(state, action)),
}));
