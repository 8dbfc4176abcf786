import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { Provider } from "urql";
import { afterEach, describe, expect, it } from "vitest";
import { useLinkStatus } from "../../api/connection";
import { chatMessage as message } from "../../test/fixtures";
import { scriptedClient } from "../../test/scriptedClient";
import type { ChatEvent, Message } from "./chatReducer";
import { useChatSession } from "./useChatSession";

const ID = "0b9d6c3e-5a4f-4d6b-9e1a-2f3c4d5e6f70";

/** An event as the test writes it: on the session under test. */
type Heard<E = ChatEvent> = E extends unknown ? Omit<E, "sessionId"> : never;

/** A chat server whose reads answer when the test says, and whose events the test sends. */
function server() {
  const reads: Array<(messages: Message[] | Error | null, workflowId?: string) => void> = [];
  const scripted = scriptedClient({
    ChatSession: () =>
      new Promise((resolve, reject) =>
        reads.push((messages, workflowId = "wf") =>
          messages instanceof Error
            ? reject(messages)
            : resolve({ chatSession: messages && { id: ID, workflowId, draft: false, publishedVersion: 2, createdAt: "2026-01-01T00:00:00Z", messages } }),
        ),
      ),
  });
  const wrapper = ({ children }: { children: ReactNode }) => <Provider value={scripted.client}>{children}</Provider>;
  const hook = renderHook(({ id }: { id: string | null }) => useChatSession("wf", id), { wrapper, initialProps: { id: ID as string | null } });
  const readCount = () => scripted.ops().filter((op) => op === "ChatSession").length;

  return {
    ...scripted,
    hook,
    readCount,
    /** Answers the oldest read not answered yet. */
    answerRead: async (messages: Message[] | Error | null, workflowId?: string) => {
      await waitFor(() => expect(reads.length).toBeGreaterThan(0));
      await act(async () => reads.shift()!(messages, workflowId));
    },
    hear: (event: Heard) => act(() => scripted.emit("ChatEvents", { sessionId: ID }, { chatEvents: { ...event, sessionId: ID } })),
    shown: () => hook.result.current.state.items.map((i) => i.id),
  };
}

const question = (id: string, status = "answered") => message({ id, content: `question ${id}`, status });
const answer = (id: string, to: string) => message({ id, role: "ASSISTANT", replyTo: to, content: `answer ${id}` });
const added = (m: Message) => ({ __typename: "ChatMessageAdded" as const, message: m });

afterEach(() => useLinkStatus.setState({ status: "connecting", reconnects: 0 }));

describe("useChatSession", () => {
  it("listens to the session's events before it reads the session", async () => {
    const chat = server();
    await chat.answerRead([question("u1"), answer("a1", "u1")]);
    expect(chat.ops()).toEqual(["ChatEvents", "ChatSession"]);
    expect(chat.shown()).toEqual(["u1", "a1"]);
    expect([chat.hook.result.current.loaded, chat.hook.result.current.synced]).toEqual([true, true]);
  });

  it("keeps an event heard between subscribing and the read's answer, after the stored messages", async () => {
    const chat = server();
    await waitFor(() => expect(chat.readCount()).toBe(1));
    chat.hear(added(question("u2", "pending")));
    expect(chat.hook.result.current.loaded).toBe(false);
    await chat.answerRead([question("u1"), answer("a1", "u1")]);
    expect(chat.shown()).toEqual(["u1", "a1", "u2"]);
    expect(chat.hook.result.current.state.waiting).toBe(true);
  });

  it("shows once a message both heard and read", async () => {
    const chat = server();
    await waitFor(() => expect(chat.readCount()).toBe(1));
    chat.hear(added(answer("a1", "u1")));
    await chat.answerRead([question("u1"), answer("a1", "u1")]);
    await chat.answerRead([question("u1"), answer("a1", "u1")]); // read again once something was heard
    expect(chat.shown()).toEqual(["u1", "a1"]);
    expect(chat.hook.result.current.state.waiting).toBe(false);
  });

  it("reads again when the first event shows the server is listening: what happened before it joined is not lost", async () => {
    const chat = server();
    // Read before the server joined: the question was waiting. Its answer was stored before
    // the server joined too, so no event brings it.
    await chat.answerRead([question("u1", "pending")]);
    expect(chat.hook.result.current.state.waiting).toBe(true);
    chat.hear(added(question("u2", "pending"))); // asked from another tab, once the server listens
    await waitFor(() => expect(chat.readCount()).toBe(2));
    await chat.answerRead([question("u1"), answer("a1", "u1"), question("u2", "pending")]);
    expect(chat.shown()).toEqual(["u1", "a1", "u2"]);

    chat.hear({ __typename: "ChatThinking", stage: "retrieving" });
    chat.hear(added(answer("a2", "u2")));
    expect(chat.shown()).toEqual(["u1", "a1", "u2", "a2"]);
    expect(chat.readCount()).toBe(2); // events that follow are trusted: no more reads
  });

  it("reads again after the socket came back, merging what was missed", async () => {
    const chat = server();
    await chat.answerRead([question("u1", "pending")]);
    act(() => useLinkStatus.setState({ status: "live", reconnects: 1 }));
    await waitFor(() => expect(chat.readCount()).toBe(2));
    await chat.answerRead([question("u1"), answer("a1", "u1")]);
    expect(chat.shown()).toEqual(["u1", "a1"]);
    expect(chat.hook.result.current.state.waiting).toBe(false);
  });

  it("says when the read failed, and is in sync once a later read succeeds", async () => {
    const chat = server();
    await chat.answerRead(new Error("Failed to fetch"));
    expect(chat.hook.result.current.error?.message).toContain("Failed to fetch");
    expect([chat.hook.result.current.synced, chat.hook.result.current.missing, chat.hook.result.current.loaded]).toEqual([false, false, false]);
    act(() => useLinkStatus.setState({ status: "live", reconnects: 1 }));
    await chat.answerRead([question("u1")]);
    expect([chat.hook.result.current.error, chat.hook.result.current.synced, chat.shown()]).toEqual([null, true, ["u1"]]);
  });

  it("says the session is missing when the server has none, or it belongs to another stack", async () => {
    const chat = server();
    await chat.answerRead(null);
    expect([chat.hook.result.current.missing, chat.hook.result.current.synced, chat.hook.result.current.loaded]).toEqual([true, false, false]);

    const other = server();
    await other.answerRead([question("u1")], "another-stack");
    expect([other.hook.result.current.missing, other.hook.result.current.state.items]).toEqual([true, []]);
  });

  it("is empty without a session, and stops listening to the one it left", async () => {
    const chat = server();
    await chat.answerRead([question("u1")]);
    chat.hook.rerender({ id: null });
    expect([chat.shown(), chat.hook.result.current.loaded, chat.hook.result.current.synced]).toEqual([[], false, false]);
    expect(() => chat.hear(added(question("u9")))).not.toThrow();
    expect(chat.shown()).toEqual([]);
  });
});
