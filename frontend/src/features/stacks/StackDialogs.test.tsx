import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { CombinedError, Provider } from "urql";
import { describe, expect, it, vi } from "vitest";
import { fakeClient, type Reply } from "../../test/fakeClient";
import { EditStackDialog } from "./StackDialogs";

const stack = { id: "wf", name: "Policies", description: "HR answers.", version: 7 };

function setup(replies: Array<() => Reply>) {
  const { client, sent } = fakeClient(replies);
  const onClose = vi.fn();
  const onSaved = vi.fn();
  render(
    <Provider value={client}>
      <EditStackDialog stack={stack} onClose={onClose} onSaved={onSaved} />
    </Provider>,
  );
  return { sent, onClose, onSaved, user: userEvent.setup() };
}

const ok = (field: string, version = 8) => () => ({ data: { [field]: { id: "wf", version } } });

describe("EditStackDialog", () => {
  it("sends only the description when only it changed", async () => {
    const { user, sent, onClose, onSaved } = setup([ok("describeWorkflow")]);
    const description = screen.getByRole("textbox", { name: "Description" });
    await user.clear(description);
    await user.type(description, "Answers HR questions from the 2026 handbook. ");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(sent).toEqual([{ op: "DescribeStack", vars: { id: "wf", description: "Answers HR questions from the 2026 handbook.", expectedVersion: 7 } }]);
    expect(onSaved).toHaveBeenCalledTimes(1);
    expect(onClose).toHaveBeenCalled();
  });

  it("renames, then describes on the rename's version, when both changed; a cleared description is sent empty", async () => {
    const { user, sent } = setup([ok("renameWorkflow", 8), ok("describeWorkflow", 9)]);
    await user.clear(screen.getByRole("textbox", { name: "Name" }));
    await user.type(screen.getByRole("textbox", { name: "Name" }), "HR policies");
    await user.clear(screen.getByRole("textbox", { name: "Description" }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(sent.map((s) => [s.op, s.vars])).toEqual([
      ["RenameStack", { id: "wf", name: "HR policies", expectedVersion: 7 }],
      ["DescribeStack", { id: "wf", description: "", expectedVersion: 8 }],
    ]);
  });

  it("on CONFLICT, says the stack changed elsewhere, saves nothing more and reads the list again", async () => {
    const moved = new CombinedError({ graphQLErrors: [{ message: "workflow is at version 9, not 7", extensions: { code: "CONFLICT" } }] });
    const { user, sent, onClose, onSaved } = setup([() => ({ error: moved })]);
    await user.clear(screen.getByRole("textbox", { name: "Name" }));
    await user.type(screen.getByRole("textbox", { name: "Name" }), "HR policies");
    await user.clear(screen.getByRole("textbox", { name: "Description" }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(sent.map((s) => s.op)).toEqual(["RenameStack"]);
    expect(screen.getByText(/changed elsewhere since you opened it/)).toBeTruthy();
    expect(onSaved).toHaveBeenCalledTimes(1);
    expect(onClose).not.toHaveBeenCalled();
  });

  it("refuses an empty name in place and says what the server refused", async () => {
    const tooLong = new CombinedError({ graphQLErrors: [{ message: "the description is longer than 2000 characters", extensions: { code: "BAD_USER_INPUT" } }] });
    const { user, sent, onClose, onSaved } = setup([() => ({ error: tooLong })]);
    await user.clear(screen.getByRole("textbox", { name: "Name" }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(screen.getByText("The name can't be empty.")).toBeTruthy();
    expect(sent).toEqual([]);

    await user.type(screen.getByRole("textbox", { name: "Name" }), "Policies");
    await user.type(screen.getByRole("textbox", { name: "Description" }), " More.");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(sent.map((s) => s.op)).toEqual(["DescribeStack"]);
    expect(screen.getByText(/the description is longer than 2000 characters/)).toBeTruthy();
    expect(screen.getByRole("textbox", { name: "Description" }).getAttribute("aria-invalid")).toBe("true");
    expect(onClose).not.toHaveBeenCalled();
    expect(onSaved).not.toHaveBeenCalled();
  });
});
