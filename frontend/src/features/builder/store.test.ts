// @vitest-environment node
import { describe, expect, it } from "vitest";
import { snapshot } from "../../test/fixtures";
import { createCanvasStore, selectSelectedNodeId } from "./store";

describe("canvas store", () => {
  it("routes every change through the reducer and exposes the single selected node", () => {
    const store = createCanvasStore();
    const { dispatch } = store.getState();
    dispatch({ type: "reset", workflowId: "wf-1" });
    dispatch({
      type: "loaded",
      workflow: snapshot({
        nodes: [
          { id: "a", kind: "USER_QUERY", label: "a", position: { x: 0, y: 0 }, config: {} },
          { id: "b", kind: "OUTPUT", label: "b", position: { x: 0, y: 0 }, config: {} },
        ],
      }),
    });
    expect(selectSelectedNodeId(store.getState())).toBeNull();
    dispatch({ type: "nodesChanged", changes: [{ type: "select", id: "b", selected: true }] });
    expect(selectSelectedNodeId(store.getState())).toBe("b");
    dispatch({ type: "nodesChanged", changes: [{ type: "select", id: "a", selected: true }] });
    expect(selectSelectedNodeId(store.getState())).toBeNull();
  });

  it("keeps a history preview apart from the live graph", () => {
    const store = createCanvasStore();
    store.getState().dispatch({ type: "reset", workflowId: "wf-1" });
    store.getState().dispatch({ type: "loaded", workflow: snapshot({ version: 4 }) });
    store.getState().setPreview({ version: 2, currentVersion: 4, snapshot: snapshot({ version: 2 }), nodes: [], edges: [], counts: { added: 0, removed: 0, changed: 0 } });
    store.getState().dispatch({ type: "loaded", workflow: snapshot({ version: 5 }) });
    expect(store.getState().server?.version).toBe(5);
    expect(store.getState().preview?.version).toBe(2);
  });
});
