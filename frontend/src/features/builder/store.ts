import { applyNodeChanges, type NodeChange } from "@xyflow/react";
import { create } from "zustand";
import { canvasReducer, initialCanvasState, type CanvasAction, type CanvasState, type StackFlowNode } from "./canvasReducer";
import { NO_UNDO, type UndoInfo } from "./graph";
import type { Preview } from "./preview";

export interface CanvasStore extends CanvasState {
  /** A past version shown read-only by the history panel, drawn instead of the live graph. */
  preview: Preview | null;
  dispatch: (action: CanvasAction) => void;
  setPreview: (preview: Preview | null) => void;
  /** Measurements of the read-only preview's nodes (the minimap needs their sizes). */
  previewNodesChanged: (changes: NodeChange<StackFlowNode>[]) => void;
}

export function createCanvasStore() {
  return create<CanvasStore>((set) => ({
    ...initialCanvasState,
    preview: null,
    dispatch: (action) => set((state) => canvasReducer(state, action)),
    setPreview: (preview) => set({ preview }),
    previewNodesChanged: (changes) =>
      set(({ preview }) => {
        const sizes = changes.filter((c) => c.type === "dimensions");
        return preview && sizes.length ? { preview: { ...preview, nodes: applyNodeChanges(sizes, preview.nodes) } } : {};
      }),
  }));
}

export const useCanvasStore = createCanvasStore();

export function selectSelectedNodeId(state: CanvasState): string | null {
  let found: string | null = null;
  for (const node of state.nodes) {
    if (!node.selected) continue;
    if (found) return null; // several selected: no single node to configure
    found = node.id;
  }
  return found;
}

/** The stack's name as drawn: the last one still being saved, else the server's. */
export function selectName(state: CanvasState): string {
  const op = state.pending.findLast((o) => o.type === "rename");
  return op?.type === "rename" ? op.name : (state.server?.name ?? "");
}

/** The stack's description as drawn: the last one still being saved, else the server's. */
export function selectDescription(state: CanvasState): string {
  const op = state.pending.findLast((o) => o.type === "describe");
  return op?.type === "describe" ? op.description : (state.server?.description ?? "");
}

/**
 * What Undo and Redo would do now: the server's answer, except that an edit still being sent
 * is the newest change (so it is what Undo takes back, and Redo has nothing left).
 */
export function selectUndo(state: CanvasState): UndoInfo {
  const undo = state.server?.undo ?? NO_UNDO;
  const editing = state.pending.some((op) => op.type !== "undo" && op.type !== "redo");
  return editing ? UNDO_WHILE_EDITING : undo;
}

const UNDO_WHILE_EDITING: UndoInfo = { canUndo: true, canRedo: false, undoLabel: "your latest change", redoLabel: null };
