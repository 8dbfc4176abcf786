import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeClient, workflow } from "../../../test/fakeClient";
import { createCommands } from "../commands";
import { CommandsContext } from "../context";
import { toSnapshot } from "../graph";
import { createCanvasStore } from "../store";
import { NodeTitle } from "./NodeTitle";

function setup(readOnly = false) {
  const store = createCanvasStore();
  store.getState().dispatch({ type: "reset", workflowId: "wf" });
  store.getState().dispatch({ type: "loaded", workflow: toSnapshot(workflow(3, ["n1"])) });
  let release!: () => void;
  const answered = new Promise<void>((r) => (release = r));
  const { client, sent } = fakeClient([
    async (vars) => {
      await answered;
      const answer = workflow(4, ["n1"]);
      answer.nodes[0].label = vars.label as string;
      return { data: { relabelNode: answer } };
    },
  ]);
  const commands = createCommands(client, store, "wf");
  const label = () => store.getState().nodes[0].data.label;
  render(
    <CommandsContext.Provider value={commands}>
      <NodeTitle nodeId="n1" label={label()} readOnly={readOnly} />
    </CommandsContext.Provider>,
  );
  return { store, sent, release, label, commands, user: userEvent.setup() };
}

describe("NodeTitle", () => {
  it("renames the node in place on a double-click, drawn before the server answers", async () => {
    const { user, sent, release, label, commands, store } = setup();
    await user.dblClick(screen.getByText("User Query"));
    const field = screen.getByRole("textbox", { name: "Node name" });
    expect(field.className).toMatch(/\bnodrag\b/);
    await user.keyboard("Customer question{Enter}");
    expect(screen.queryByRole("textbox")).toBeNull();
    expect(label()).toBe("Customer question");
    expect(store.getState().nodes[0].data.saving).toBe(true);
    release();
    await commands.idle();
    expect(sent).toEqual([{ op: "RelabelNode", vars: { workflowId: "wf", nodeId: "n1", label: "Customer question", expectedVersion: 3 } }]);
    expect(store.getState().server?.version).toBe(4);
    expect(store.getState().nodes[0].data.saving).toBe(false);
  });

  it("sends nothing when the edit is cancelled", async () => {
    const { user, sent, label } = setup();
    await user.dblClick(screen.getByText("User Query"));
    await user.keyboard("Something else{Escape}");
    expect(screen.getByText("User Query")).toBeTruthy();
    expect(label()).toBe("User Query");
    expect(sent).toEqual([]);
  });

  it("cannot be renamed on a read-only canvas (an old version in history)", async () => {
    const { user } = setup(true);
    await user.dblClick(screen.getByText("User Query"));
    expect(screen.queryByRole("textbox")).toBeNull();
  });
});
