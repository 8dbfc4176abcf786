import { useEffect } from "react";
import type { Commands } from "./commands";
import { selectUndo, useCanvasStore } from "./store";

export type UndoAction = "undo" | "redo";

/** Ctrl+Z undoes; Ctrl+Shift+Z and Ctrl+Y redo (⌘ on a Mac). */
export function undoActionOf(e: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "shiftKey" | "altKey">): UndoAction | null {
  if (!(e.ctrlKey || e.metaKey) || e.altKey) return null;
  const key = e.key.toLowerCase();
  if (key === "z") return e.shiftKey ? "redo" : "undo";
  if (key === "y" && !e.shiftKey) return "redo";
  return null;
}

/** A text field keeps its own undo: typing there is not a canvas change. */
function editsText(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

export function isMac(): boolean {
  return typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
}

/** The canvas's undo and redo keys, while the live canvas (not an old version, not a dialog) has them. */
export function useUndoKeys(commands: Commands): void {
  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      const action = undoActionOf(e);
      if (!action || e.defaultPrevented || editsText(e.target) || document.querySelector("dialog[open]")) return;
      const state = useCanvasStore.getState();
      if (state.preview || !state.server) return;
      e.preventDefault();
      const undo = selectUndo(state);
      if (action === "undo" ? undo.canUndo : undo.canRedo) void commands[action]();
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [commands]);
}
