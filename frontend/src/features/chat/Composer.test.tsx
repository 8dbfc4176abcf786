import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { Composer, type ComposerProps } from "./Composer";

function setup(props: Partial<ComposerProps> = {}) {
  const onSend = vi.fn();
  function Harness() {
    const [text, setText] = useState(props.text ?? "");
    return <Composer ready busy={false} sending={false} draft={false} offline={false} {...props} text={text} onText={setText} onSend={onSend} />;
  }
  render(<Harness />);
  return { onSend, input: screen.getByLabelText("Your question") as HTMLTextAreaElement, send: screen.getByRole("button", { name: "Send" }) as HTMLButtonElement, user: userEvent.setup() };
}

describe("Composer", () => {
  it("sends on Enter, and starts a new line on Shift+Enter", async () => {
    const { input, onSend, user } = setup();
    await user.type(input, "one{Shift>}{Enter}{/Shift}two");
    expect(input.value).toBe("one\ntwo");
    expect(onSend).not.toHaveBeenCalled();
    await user.type(input, "{Enter}");
    expect(onSend).toHaveBeenCalledOnce();
  });

  it("sends with the button once there is a question", async () => {
    const { input, send, onSend, user } = setup();
    expect(send.disabled).toBe(true);
    await user.type(input, "  ");
    expect(send.disabled).toBe(true);
    await user.type(input, "Why?");
    await user.click(send);
    expect(onSend).toHaveBeenCalledOnce();
  });

  it("takes no second question while one awaits its answer", () => {
    const { send } = setup({ text: "Next?", busy: true });
    expect(send.disabled).toBe(true);
  });

  it("is closed while the chat opens", () => {
    const { input, send } = setup({ text: "Early?", ready: false });
    expect([input.disabled, input.placeholder, send.disabled]).toEqual([true, "Opening the chat…", true]);
  });

  it("asks the draft in its words, and says when the connection is being made again", () => {
    const { input } = setup({ draft: true, offline: true });
    expect(input.placeholder).toBe("Ask the draft a question…");
    expect(screen.getByText(/Reconnecting to the server…/)).toBeTruthy();
  });
});
