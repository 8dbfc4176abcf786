import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { chatMessage } from "../../test/fixtures";
import type { ChatItem } from "./chatReducer";
import { Conversation, type ConversationProps } from "./Conversation";

const ITEMS: ChatItem[] = [
  { kind: "message", id: "u1", message: chatMessage({ id: "u1", content: "How long does it last?" }) },
  { kind: "message", id: "a1", message: chatMessage({ id: "a1", role: "ASSISTANT", content: "About 42 hours." }) },
];
const EMPTY = { items: [], streaming: null, thinking: null, joinedLate: false };

function setup(props: Partial<ConversationProps> = {}) {
  const onAsk = vi.fn();
  render(<Conversation chat={EMPTY} loading={false} busy={false} draft={false} ready onAsk={onAsk} {...props} />);
  return { onAsk, user: userEvent.setup() };
}

beforeAll(() => {
  // jsdom lays nothing out, so it has no scrolling; the conversation scrolls to its end.
  Element.prototype.scrollTo ??= () => {};
});

describe("Conversation", () => {
  it("offers questions to start an empty chat with, which ask", async () => {
    const { onAsk, user } = setup();
    expect(screen.getByText("Ask your stack anything")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Summarize the key points." }));
    expect(onAsk).toHaveBeenCalledWith("Summarize the key points.");
  });

  it("offers them for the draft in its words, and only once the chat can take a question", () => {
    setup({ draft: true, ready: false });
    expect(screen.getByText("Try your changes before you build")).toBeTruthy();
    expect((screen.getByRole("button", { name: "Summarize the key points." }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows the questions and answers in order", () => {
    setup({ chat: { ...EMPTY, items: ITEMS } });
    expect(screen.getByTestId("chat-user-message").textContent).toBe("How long does it last?");
    expect(screen.getByTestId("chat-assistant-message").textContent).toContain("About 42 hours.");
    expect(screen.queryByText("Ask your stack anything")).toBeNull();
  });

  it("says what the stack is doing while the answer has not begun", () => {
    setup({ chat: { ...EMPTY, items: ITEMS.slice(0, 1), thinking: "retrieving" }, busy: true });
    expect(screen.getByRole("status").textContent).toContain("Searching your documents…");
  });

  it("streams the answer, marked as joined late when its beginning went by before the chat was opened", () => {
    setup({ chat: { ...EMPTY, items: ITEMS.slice(0, 1), streaming: { messageId: "a1", content: "rest of it" }, joinedLate: true }, busy: true });
    expect(screen.getByTestId("chat-streaming").textContent).toBe("…rest of it");
    expect(screen.queryByTestId("chat-thinking")).toBeNull();
  });

  it("shows a spinner, not the messages, while the chat is being read", () => {
    setup({ chat: { ...EMPTY, items: ITEMS }, loading: true });
    expect(screen.getByRole("status", { name: "Opening the chat" })).toBeTruthy();
    expect(screen.queryByTestId("chat-user-message")).toBeNull();
  });
});
