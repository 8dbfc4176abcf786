import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import { fakeClient, workflow } from "../../test/fakeClient";
import { createCommands } from "./commands";
import { CommandsContext } from "./context";
import { toSnapshot } from "./graph";
import { DescriptionEditor, NameEditor } from "./StackTitle";
import { useCanvasStore } from "./store";

function setup(description = "") {
  let release!: () => void;
  const answered = new Promise<void>((r) => (release = r));
  const { client, sent } = fakeClient([
    async (vars) => {
      await answered;
      const name = (vars.name as string | undefined) ?? "Stack";
      return { data: { describeWorkflow: workflow(5, [], name, vars.description as string), renameWorkflow: workflow(5, [], name) } };
    },
  ]);
  useCanvasStore.getState().dispatch({ type: "loaded", workflow: toSnapshot(workflow(4, [], "Stack", description)) });
  const commands = createCommands(client, useCanvasStore, "wf");
  render(
    <CommandsContext.Provider value={commands}>
      <NameEditor />
      <DescriptionEditor />
    </CommandsContext.Provider>,
  );
  return { sent, release, commands, user: userEvent.setup() };
}

beforeEach(() => useCanvasStore.getState().dispatch({ type: "reset", workflowId: "wf" }));

describe("the stack's title in the builder", () => {
  it("adds a description from the header, shown at once and saved with the version it was made on", async () => {
    const { user, sent, release, commands } = setup();
    await user.click(screen.getByRole("button", { name: "Add a description" }));
    const field = screen.getByRole("textbox", { name: "Description" });
    expect(document.activeElement).toBe(field);
    await user.type(field, "  Answers from the X200 manual.  ");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(screen.getByRole("button", { name: "Edit description: Answers from the X200 manual." })).toBeTruthy();
    release();
    await commands.idle();
    expect(sent).toEqual([{ op: "DescribeWorkflowInBuilder", vars: { id: "wf", description: "Answers from the X200 manual.", expectedVersion: 4 } }]);
    expect(useCanvasStore.getState().server?.description).toBe("Answers from the X200 manual.");
  });

  it("drops the edit on Escape and gives the focus back", async () => {
    const { user, sent } = setup("Old words");
    const trigger = screen.getByRole("button", { name: "Edit description: Old words" });
    await user.click(trigger);
    await user.keyboard(" and more{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(trigger);
    expect(sent).toEqual([]);
  });

  it("renames the stack inline", async () => {
    const { user, sent, release, commands } = setup();
    await user.click(screen.getByRole("button", { name: "Rename stack Stack" }));
    await user.keyboard("Rover help{Enter}");
    // The focus is back on the name, which Enter did not press again.
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Rename stack Rover help" }));
    release();
    await commands.idle();
    expect(sent.map((s) => [s.op, s.vars.name])).toEqual([["RenameWorkflowInBuilder", "Rover help"]]);
  });
});
