import { describe, expect, it } from "vitest";
import { chatReducer, initialChatState, sessionTitle, stageLabel, type ChatState, type Message } from "./chatReducer";

function message(partial: Partial<Message>): Message {
  return { id: "m", role: "USER", content: "", createdAt: "2026-01-01T00:00:00Z", sources: [], webSources: [], ...partial };
}

const opened: ChatState = chatReducer(initialChatState, { type: "opened", sessionId: "s1", messages: [] });

describe("chatReducer", () => {
  it("streams an answer: question, thinking stage, tokens, final message with sources", () => {
    let s = chatReducer(opened, { type: "sent", message: message({ id: "u1", content: "How long does the battery last?" }) });
    expect(s.waiting).toBe(true);
    s = chatReducer(s, { type: "event", event: { __typename: "ChatThinking", sessionId: "s1", stage: "retrieving" } });
    expect(stageLabel(s.thinking)).toBe("Searching your documents…");
    s = chatReducer(s, { type: "event", event: { __typename: "ChatToken", sessionId: "s1", messageId: "a1", delta: "It lasts " } });
    s = chatReducer(s, { type: "event", event: { __typename: "ChatToken", sessionId: "s1", messageId: "a1", delta: "42 hours [1]." } });
    expect(s.streaming).toEqual({ messageId: "a1", content: "It lasts 42 hours [1]." });
    expect(s.thinking).toBeNull();
    const answer = message({
      id: "a1",
      role: "ASSISTANT",
      content: "It lasts 42 hours [1].",
      sources: [{ documentId: "d", filename: "manual.pdf", page: 2, chunk: 0, score: 0.9, text: "42 hours" }],
    });
    s = chatReducer(s, { type: "event", event: { __typename: "ChatMessageAdded", sessionId: "s1", message: answer } });
    expect(s.streaming).toBeNull();
    expect(s.waiting).toBe(false);
    expect(s.items.map((i) => i.id)).toEqual(["u1", "a1"]);
  });

  it("does not duplicate the user's message when its event also arrives", () => {
    let s = chatReducer(opened, { type: "sent", message: message({ id: "u1", content: "hi" }) });
    s = chatReducer(s, { type: "event", event: { __typename: "ChatMessageAdded", sessionId: "s1", message: message({ id: "u1", content: "hi" }) } });
    expect(s.items).toHaveLength(1);
    expect(s.waiting).toBe(true);
  });

  it("shows a failure with its code and message", () => {
    let s = chatReducer(opened, { type: "sent", message: message({ id: "u1" }) });
    s = chatReducer(s, {
      type: "event",
      event: { __typename: "ChatFailed", sessionId: "s1", failedMessageId: "a1", code: "PROVIDER_ERROR", reason: "The API key was rejected" },
    });
    expect(s.waiting).toBe(false);
    expect(s.items.at(-1)).toEqual({ kind: "failure", id: "a1", code: "PROVIDER_ERROR", text: "The API key was rejected" });
  });

  it("ignores another session's events", () => {
    const s = chatReducer(opened, { type: "event", event: { __typename: "ChatToken", sessionId: "other", messageId: "x", delta: "no" } });
    expect(s).toBe(opened);
  });

  it("settles from a synced history when the final event was missed", () => {
    let s = chatReducer(opened, { type: "sent", message: message({ id: "u1" }) });
    s = chatReducer(s, { type: "synced", messages: [message({ id: "u1" })] });
    expect(s.waiting).toBe(true);
    s = chatReducer(s, { type: "synced", messages: [message({ id: "u1" }), message({ id: "a1", role: "ASSISTANT", content: "done" })] });
    expect(s.waiting).toBe(false);
    expect(s.items).toHaveLength(2);
  });

  it("titles a session by its first question", () => {
    expect(sessionTitle([])).toBe("New chat");
    expect(sessionTitle([{ role: "USER", content: "  What is it?  " }])).toBe("What is it?");
    expect(sessionTitle([{ role: "USER", content: "x".repeat(80) }])).toHaveLength(58);
  });
});
