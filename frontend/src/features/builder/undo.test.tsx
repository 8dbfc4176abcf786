import { fireEvent, render, renderHook, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { fakeClient, workflow } from "../../test/fakeClient";
import { snapshot } from "../../test/fixtures";
import { createCommands, type Commands } from "./commands";
import { CommandsContext } from "./context";
import { toSnapshot, type UndoInfo } from "./graph";
import { createCanvasStore, selectUndo, useCanvasStore } from "./store";
import { PublishedBadge, UndoRedo } from "./TopBar";
import { undoActionOf, useUndoKeys } from "./useUndoKeys";

const MOVED: UndoInfo = { canUndo: true, canRedo: false, undoLabel: "Moved Output", redoLabel: null };

function at(version: number, x: number, undo: UndoInfo = MOVED) {
  const wf = workflow(version, ["out"]);
  return { ...wf, nodes: wf.nodes.map((n) => ({ ...n, position: { x, y: 0 } })), undo };
}

describe("undo and redo", () => {
  it("knows its keys: Ctrl+Z undoes, Ctrl+Shift+Z and Ctrl+Y redo, ⌘ too", () => {
    const key = (k: string, mods: Partial<KeyboardEvent> = {}) => undoActionOf({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });
    expect(key("z", { ctrlKey: true })).toBe("undo");
    expect(key("Z", { ctrlKey: true, shiftKey: true })).toBe("redo");
    expect(key("y", { ctrlKey: true })).toBe("redo");
    expect(key("z", { metaKey: true })).toBe("undo");
    expect(key("z")).toBeNull();
    expect(key("z", { ctrlKey: true, altKey: true })).toBeNull();
  });

  it("takes the server's word, except that an edit still being sent is what undo takes back", () => {
    const store = createCanvasStore();
    store.getState().dispatch({ type: "reset", workflowId: "wf" });
    store.getState().dispatch({ type: "loaded", workflow: toSnapshot(at(4, 0, { canUndo: true, canRedo: true, undoLabel: "Moved Output", redoLabel: "Renamed node" })) });
    expect(selectUndo(store.getState())).toMatchObject({ canUndo: true, canRedo: true, undoLabel: "Moved Output" });
    store.getState().dispatch({ type: "opStarted", op: { opId: "o", type: "moveNode", nodeId: "out", position: { x: 5, y: 5 } } });
    expect(selectUndo(store.getState())).toMatchObject({ canUndo: true, canRedo: false });
    store.getState().dispatch({ type: "opStarted", op: { opId: "u", type: "undo" } });
    store.getState().dispatch({ type: "opSucceeded", opId: "o" });
    expect(selectUndo(store.getState()).undoLabel).toBe("Moved Output");
  });

  it("undoes after the edits sent before it, and the canvas ends in the server's state", async () => {
    const store = createCanvasStore();
    store.getState().dispatch({ type: "reset", workflowId: "wf" });
    store.getState().dispatch({ type: "loaded", workflow: toSnapshot(at(4, 0)) });
    const { client, sent } = fakeClient([
      () => ({ data: { moveNode: at(5, 300) } }),
      () => ({ data: { undoWorkflow: at(6, 0, { canUndo: true, canRedo: true, undoLabel: "Added Output", redoLabel: "Moved Output" }) } }),
      () => ({ data: { redoWorkflow: at(7, 300) } }),
    ]);
    const commands = createCommands(client, store, "wf");
    void commands.moveNode("out", { x: 300, y: 0 });
    const undone = commands.undo();
    expect(store.getState().nodes[0].position).toEqual({ x: 300, y: 0 });
    expect(await undone).toBe(true);
    expect(sent.map((s) => s.op)).toEqual(["MoveNode", "UndoWorkflow"]);
    expect(store.getState().nodes[0].position).toEqual({ x: 0, y: 0 });
    expect(store.getState().pending).toEqual([]);
    expect(selectUndo(store.getState()).redoLabel).toBe("Moved Output");
    expect(await commands.redo()).toBe(true);
    expect(store.getState().nodes[0].position).toEqual({ x: 300, y: 0 });
    expect(sent.at(-1)).toEqual({ op: "RedoWorkflow", vars: { workflowId: "wf" } });
  });
});

describe("undo keys and buttons", () => {
  const commands = { undo: vi.fn(async () => true), redo: vi.fn(async () => true) } as unknown as Commands;

  beforeEach(() => {
    vi.clearAllMocks();
    useCanvasStore.getState().dispatch({ type: "reset", workflowId: "wf-1" });
    useCanvasStore.getState().setPreview(null);
    useCanvasStore.getState().dispatch({ type: "loaded", workflow: snapshot({ version: 3, undo: { canUndo: true, canRedo: false, undoLabel: "Moved Output", redoLabel: null } }) });
  });

  it("undo with the keys on the canvas, not while typing or looking at an old version", () => {
    renderHook(() => useUndoKeys(commands));
    fireEvent.keyDown(window, { key: "z", ctrlKey: true });
    expect(commands.undo).toHaveBeenCalledTimes(1);
    fireEvent.keyDown(window, { key: "y", ctrlKey: true });
    expect(commands.redo).not.toHaveBeenCalled(); // nothing to redo
    const input = document.createElement("input");
    document.body.append(input);
    fireEvent.keyDown(input, { key: "z", ctrlKey: true });
    expect(commands.undo).toHaveBeenCalledTimes(1);
    useCanvasStore.getState().setPreview({ version: 2, currentVersion: 3, snapshot: snapshot({ version: 2 }), nodes: [], edges: [], counts: { added: 0, removed: 0, changed: 0 } });
    fireEvent.keyDown(window, { key: "z", ctrlKey: true });
    expect(commands.undo).toHaveBeenCalledTimes(1);
  });

  it("the buttons name what they would take back", async () => {
    render(
      <CommandsContext.Provider value={commands}>
        <UndoRedo />
      </CommandsContext.Provider>,
    );
    const undo = screen.getByRole("button", { name: /^Undo: Moved Output/ });
    expect(screen.getByRole("button", { name: "Nothing to redo" })).toHaveProperty("disabled", true);
    await userEvent.setup().click(undo);
    expect(commands.undo).toHaveBeenCalledTimes(1);
  });
});

describe("the published badge", () => {
  it("says how many changes a Build would publish", () => {
    useCanvasStore.getState().dispatch({ type: "reset", workflowId: "wf-1" });
    useCanvasStore.getState().dispatch({
      type: "loaded",
      workflow: snapshot({ version: 20, published: [{ number: 2, workflowVersion: 17, publishedAt: "2026-01-01T00:00:00Z", note: "" }], unpublishedChanges: 3 }),
    });
    const { rerender } = render(<PublishedBadge />);
    expect(screen.getByTestId("published-status").textContent).toBe("Published v23 changes not built");
    useCanvasStore.getState().dispatch({ type: "loaded", workflow: snapshot({ version: 21, published: [{ number: 2, workflowVersion: 17, publishedAt: "2026-01-01T00:00:00Z", note: "" }], unpublishedChanges: 1 }) });
    rerender(<PublishedBadge />);
    expect(screen.getByTestId("published-status").textContent).toBe("Published v21 change not built");
    useCanvasStore.getState().dispatch({ type: "loaded", workflow: snapshot({ version: 22, published: [{ number: 3, workflowVersion: 22, publishedAt: "2026-01-01T00:00:00Z", note: "" }], unpublishedChanges: 0 }) });
    rerender(<PublishedBadge />);
    expect(screen.getByTestId("published-status").textContent).toBe("Published v3");
  });
});
