import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { InlineInput } from "./InlineInput";

function setup(initial = "Knowledge Base") {
  const onDone = vi.fn();
  const user = userEvent.setup();
  render(<InlineInput initial={initial} label="Node name" onDone={onDone} />);
  return { onDone, user, field: screen.getByLabelText("Node name") as HTMLInputElement };
}

describe("InlineInput", () => {
  it("starts with the text selected, so typing replaces it, and Enter keeps it trimmed", async () => {
    const { onDone, user, field } = setup();
    expect(document.activeElement).toBe(field);
    expect([field.selectionStart, field.selectionEnd]).toEqual([0, "Knowledge Base".length]);
    await user.keyboard("  Product manuals {Enter}");
    expect(onDone).toHaveBeenCalledTimes(1);
    expect(onDone).toHaveBeenCalledWith("Product manuals", true);
  });

  it("keeps the text when the field is left, and answers only once", async () => {
    const { onDone, user, field } = setup();
    await user.keyboard("Manuals");
    fireEvent.blur(field);
    fireEvent.keyDown(field, { key: "Enter" });
    expect(onDone.mock.calls).toEqual([["Manuals", false]]);
  });

  it("drops the edit on Escape, and gives nothing to save for an empty or unchanged text", async () => {
    const escaped = setup();
    await escaped.user.keyboard("Other{Escape}");
    expect(escaped.onDone).toHaveBeenCalledWith(null, true);
    cleanup();

    const emptied = setup("Output");
    await emptied.user.keyboard("{Backspace}   {Enter}");
    expect(emptied.onDone).toHaveBeenCalledWith(null, true);
  });

  it("keeps its keys from what holds it (a canvas must not delete the node on Backspace)", async () => {
    const outer = vi.fn();
    const onDone = vi.fn();
    const user = userEvent.setup();
    render(
      <div onKeyDown={outer}>
        <InlineInput initial="LLM" label="Node name" onDone={onDone} />
      </div>,
    );
    await user.keyboard("{Backspace}{Delete}x{Escape}");
    expect(outer).not.toHaveBeenCalled();
  });
});
