// @vitest-environment node
import { describe, expect, it } from "vitest";
import { chatMessage as message } from "../../test/fixtures";
import { answeredByLabel, chatReducer, initialChatState, sessionTitle, stageLabel, type ChatEvent, type ChatState, type OpenSession } from "./chatReducer";

function session(partial: Partial<OpenSession> = {}): OpenSession {
  return { id: "s1", draft: false, publishedVersion: 2, messages: [], ...partial };
}

const opened: ChatState = chatReducer(initialChatState, { type: "opened", session: session() });

describe("chatReducer", () => {
  it("streams an answer: question, thinking stage, tokens, final message with sources", () => {
    let s = chatReducer(opened, { type: "sent", message: message({ id: "u1", content: "How long does the battery last?", status: "pending" }) });
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
      sources: [{ documentId: "d", filename: "manual.pdf", page: 2, chunk: 0, score: 0.9, text: "42 hours", ocr: false }],
      workflowVersion: 13,
      publishedVersion: 2,
    });
    s = chatReducer(s, { type: "event", event: { __typename: "ChatMessageAdded", sessionId: "s1", message: answer } });
    expect(s.streaming).toBeNull();
    expect(s.waiting).toBe(false);
    expect(s.items.map((i) => i.id)).toEqual(["u1", "a1"]);
  });

  it("does not duplicate the user's message when its event also arrives", () => {
    let s = chatReducer(opened, { type: "sent", message: message({ id: "u1", content: "hi", status: "pending" }) });
    s = chatReducer(s, { type: "event", event: { __typename: "ChatMessageAdded", sessionId: "s1", message: message({ id: "u1", content: "hi", status: "pending" }) } });
    expect(s.items).toHaveLength(1);
    expect(s.waiting).toBe(true);
  });

  it("shows a failure with its code, message and the version that failed, once", () => {
    let s = chatReducer(opened, { type: "sent", message: message({ id: "u1", status: "pending" }) });
    const failed = {
      __typename: "ChatFailed" as const,
      sessionId: "s1",
      questionId: "u1",
      code: "INVALID_WORKFLOW",
      reason: "The draft cannot answer until it is fixed: Add a Output node.",
      workflowVersion: 23,
      publishedVersion: null,
    };
    s = chatReducer(s, { type: "event", event: failed });
    expect(s.waiting).toBe(false);
    expect(s.items.at(-1)).toEqual({ kind: "failure", id: "failed-u1", code: "INVALID_WORKFLOW", text: failed.reason, workflowVersion: 23, publishedVersion: null });
    // the stored history, read again afterwards, holds the same failure on its question
    const stored = message({ id: "u1", status: "failed", error: { code: "INVALID_WORKFLOW", message: failed.reason }, workflowVersion: 23 });
    s = chatReducer(s, { type: "opened", session: session({ messages: [stored] }) });
    expect(s.items.map((i) => i.kind)).toEqual(["message", "failure"]);
  });

  it("is not left waiting when the answer came over the socket before the reply to sendMessage", () => {
    let s = chatReducer(opened, { type: "event", event: { __typename: "ChatMessageAdded", sessionId: "s1", message: message({ id: "u1", status: "pending" }) } });
    s = chatReducer(s, { type: "event", event: { __typename: "ChatToken", sessionId: "s1", messageId: "a1", delta: "Quick" } });
    s = chatReducer(s, { type: "event", event: { __typename: "ChatMessageAdded", sessionId: "s1", message: message({ id: "a1", role: "ASSISTANT", replyTo: "u1", content: "Quick." }) } });
    s = chatReducer(s, { type: "sent", message: message({ id: "u1", status: "pending" }) });
    expect(s.waiting).toBe(false);
    expect(s.items.map((i) => i.id)).toEqual(["u1", "a1"]);
  });

  it("keeps what streamed before the reply to sendMessage", () => {
    let s = chatReducer(opened, { type: "event", event: { __typename: "ChatToken", sessionId: "s1", messageId: "a1", delta: "Early" } });
    s = chatReducer(s, { type: "sent", message: message({ id: "u1", status: "pending" }) });
    expect([s.waiting, s.streaming?.content]).toEqual([true, "Early"]);
  });

  it("ignores another session's events", () => {
    const s = chatReducer(opened, { type: "event", event: { __typename: "ChatToken", sessionId: "other", messageId: "x", delta: "no" } });
    expect(s).toBe(opened);
  });

  it("settles from the stored history read again when the final event was missed", () => {
    let s = chatReducer(opened, { type: "sent", message: message({ id: "u1", status: "pending" }) });
    s = chatReducer(s, { type: "opened", session: session({ messages: [message({ id: "u1", status: "pending" })] }) });
    expect([s.waiting, s.joinedLate]).toEqual([true, false]);
    s = chatReducer(s, { type: "opened", session: session({ messages: [message({ id: "u1" }), message({ id: "a1", role: "ASSISTANT", content: "done" })] }) });
    expect(s.waiting).toBe(false);
    expect(s.items).toHaveLength(2);
  });

  it("waits for a question read again that it never heard being asked, whose first tokens it missed", () => {
    const s = chatReducer(opened, { type: "opened", session: session({ messages: [message({ id: "u1", status: "pending" })] }) });
    expect([s.waiting, s.joinedLate]).toEqual([true, true]);
  });

  describe("events heard before the session is read", () => {
    const watching = chatReducer(initialChatState, { type: "watch", sessionId: "s1" });
    const heard = (s: ChatState, event: ChatEvent) => chatReducer(s, { type: "event", event });

    it("are kept until the stored messages are in, then applied after them", () => {
      let s = heard(watching, { __typename: "ChatMessageAdded", sessionId: "s1", message: message({ id: "u2", content: "two", status: "pending" }) });
      s = heard(s, { __typename: "ChatThinking", sessionId: "s1", stage: "retrieving" });
      expect([s.loaded, s.items]).toEqual([false, []]);
      s = chatReducer(s, { type: "opened", session: session({ messages: [message({ id: "u1", content: "one" }), message({ id: "a1", role: "ASSISTANT" })] }) });
      expect(s.items.map((i) => i.id)).toEqual(["u1", "a1", "u2"]);
      expect([s.loaded, s.pending, s.waiting, s.thinking]).toEqual([true, [], true, "retrieving"]);
    });

    it("count once when the read holds them too", () => {
      const answer = message({ id: "a1", role: "ASSISTANT", replyTo: "u1", content: "done" });
      let s = heard(watching, { __typename: "ChatToken", sessionId: "s1", messageId: "a1", delta: "do" });
      s = heard(s, { __typename: "ChatMessageAdded", sessionId: "s1", message: answer });
      s = chatReducer(s, { type: "opened", session: session({ messages: [message({ id: "u1" }), answer] }) });
      expect(s.items.map((i) => i.id)).toEqual(["u1", "a1"]);
      expect([s.waiting, s.streaming, s.joinedLate]).toEqual([false, null, false]);
    });

    it("are stale when the read already holds the answer they lead to", () => {
      let s = heard(watching, { __typename: "ChatThinking", sessionId: "s1", stage: "generating" });
      s = heard(s, { __typename: "ChatToken", sessionId: "s1", messageId: "a1", delta: "do" });
      s = chatReducer(s, { type: "opened", session: session({ messages: [message({ id: "u1" }), message({ id: "a1", role: "ASSISTANT", replyTo: "u1" })] }) });
      expect([s.waiting, s.thinking, s.streaming]).toEqual([false, null, null]);
    });

    it("continue an answer under way: the stream was joined late", () => {
      let s = heard(watching, { __typename: "ChatToken", sessionId: "s1", messageId: "a1", delta: "rest" });
      s = chatReducer(s, { type: "opened", session: session({ messages: [message({ id: "u1", status: "pending" })] }) });
      expect([s.waiting, s.joinedLate, s.streaming?.content]).toEqual([true, true, "rest"]);
    });
  });

  it("keeps the chat started here when its session begins to be watched", () => {
    const s = chatReducer(opened, { type: "watch", sessionId: "s1" });
    expect(s).toBe(opened);
    expect(chatReducer(opened, { type: "watch", sessionId: "s2" })).toEqual({ ...initialChatState, sessionId: "s2" });
  });

  it("reopens a stored chat as it was: answers, failures after their questions, the session's kind", () => {
    const s = chatReducer(initialChatState, {
      type: "opened",
      session: session({
        id: "s9",
        draft: true,
        publishedVersion: 0,
        messages: [
          message({ id: "u1", content: "one" }),
          message({ id: "a1", role: "ASSISTANT", content: "1", workflowVersion: 22 }),
          message({ id: "u2", content: "two", status: "failed", error: { code: "INVALID_WORKFLOW", message: "Add a Output node." }, workflowVersion: 23 }),
        ],
      }),
    });
    expect([s.sessionId, s.draft, s.publishedVersion]).toEqual(["s9", true, 0]);
    expect(s.items.map((i) => i.id)).toEqual(["u1", "a1", "u2", "failed-u2"]);
    expect(s.items[3]).toMatchObject({ kind: "failure", code: "INVALID_WORKFLOW", workflowVersion: 23 });
    expect([s.waiting, s.joinedLate]).toEqual([false, false]);
  });

  it("reopens a chat whose answer is still streaming: waits, and marks the stream as joined late", () => {
    let s = chatReducer(initialChatState, { type: "opened", session: session({ messages: [message({ id: "u1", content: "one", status: "pending" })] }) });
    expect([s.waiting, s.joinedLate]).toEqual([true, true]);
    s = chatReducer(s, { type: "event", event: { __typename: "ChatToken", sessionId: "s1", messageId: "a1", delta: "rest of it" } });
    expect(s.streaming?.content).toBe("rest of it");
    s = chatReducer(s, { type: "event", event: { __typename: "ChatMessageAdded", sessionId: "s1", message: message({ id: "a1", role: "ASSISTANT", content: "all of it" }) } });
    expect([s.waiting, s.joinedLate, s.streaming]).toEqual([false, false, null]);
  });

  it("merges a session's history that arrives after its first live events", () => {
    let s = chatReducer(opened, { type: "sent", message: message({ id: "u1", status: "pending" }) });
    s = chatReducer(s, { type: "opened", session: session({ messages: [] }) });
    expect(s.items.map((i) => i.id)).toEqual(["u1"]);
    expect(s.waiting).toBe(true);
  });

  it("starts a new chat empty", () => {
    const s = chatReducer(chatReducer(opened, { type: "sent", message: message({ id: "u1" }) }), { type: "reset" });
    expect(s).toEqual(initialChatState);
  });

  it("titles a session by its first question", () => {
    expect(sessionTitle([])).toBe("New chat");
    expect(sessionTitle([{ role: "USER", content: "  What is it?  " }])).toBe("What is it?");
    expect(sessionTitle([{ role: "USER", content: "x".repeat(80) }])).toHaveLength(58);
  });

  it("labels an answer with the version that gave it", () => {
    expect(answeredByLabel({ workflowVersion: 17, publishedVersion: 2 })).toBe("v2 · change 17");
    expect(answeredByLabel({ workflowVersion: 23, publishedVersion: null })).toBe("Draft · change 23");
    expect(answeredByLabel({ workflowVersion: null, publishedVersion: null })).toBeNull();
  });
});
