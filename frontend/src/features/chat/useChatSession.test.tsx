import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { Provider } from "urql";
import { afterEach, describe, expect, it } from "vitest";
import { useLinkStatus } from "../../api/connection";
import { chatMessage as message } from "../../test/fixtures";
import { scriptedClient } from "../../test/scriptedClient";
import type { ChatEventsSubscription } from "../../gql/graphql";
import type { Message } from "./chatReducer";
import { useChatSession } from "./useChatSession";

const ID = "0b9d6c3e-5a4f-4d6b-9e1a-2f3c4d5e6f70";

/** An event as the test writes it: on the session under test. */
type Heard<E = ChatEventsSubscription["chatEvents"]> = E extends unknown ? Omit<E, "sessionId"> : never;

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
    /** The server says it listens (first on each subscription, so again after a reconnect). */
    listening: async (version = 1) => {
      await waitFor(() => expect(scripted.ops()).toContain("ChatEvents"));
      act(() => scripted.emit("ChatEvents", { sessionId: ID }, { chatEvents: { __typename: "ChatListening", sessionId: ID, version } }));
    },
    /** The server refuses the subscription (no such session, or it failed). */
    refused: async (error: Error) => {
      await waitFor(() => expect(scripted.ops()).toContain("ChatEvents"));
      act(() => scripted.refuse("ChatEvents", { sessionId: ID }, error));
    },
    shown: () => hook.result.current.state.items.map((i) => i.id),
  };
}

const question = (id: string, status = "answered") => message({ id, content: `question ${id}`, status });
const answer = (id: string, to: string) => message({ id, role: "ASSISTANT", replyTo: to, content: `answer ${id}` });
const added = (m: Message) => ({ __typename: "ChatMessageAdded" as const, message: m });

afterEach(() => useLinkStatus.setState({ status: "connecting", reconnects: 0 }));

describe("useChatSession", () => {
  it("reads the session only once the server says it listens to it", async () => {
    const chat = server();
    await waitFor(() => expect(chat.ops()).toEqual(["ChatEvents"]));
    expect([chat.hook.result.current.loaded, chat.hook.result.current.synced]).toEqual([false, false]);
    await chat.listening();
    await chat.answerRead([question("u1"), answer("a1", "u1")]);
    expect(chat.ops()).toEqual(["ChatEvents", "ChatSession"]);
    expect(chat.shown()).toEqual(["u1", "a1"]);
    expect([chat.hook.result.current.loaded, chat.hook.result.current.synced]).toEqual([true, true]);
  });

  it("shows a question asked and answered entirely between subscribing and the server's listening, from the read after it", async () => {
    const chat = server();
    // The whole turn is stored before the server joins: no event will ever bring it.
    await waitFor(() => expect(chat.ops()).toEqual(["ChatEvents"]));
    await chat.listening(3);
    await chat.answerRead([question("u1"), answer("a1", "u1")]);
    expect(chat.shown()).toEqual(["u1", "a1"]);
    expect([chat.hook.result.current.state.waiting, chat.hook.result.current.synced]).toEqual([false, true]);
  });

  it("counts no read as in sync before the server listens, whatever else is heard or the socket does", async () => {
    const chat = server();
    await waitFor(() => expect(chat.ops()).toEqual(["ChatEvents"]));
    chat.hear(added(question("u1", "pending")));
    act(() => useLinkStatus.setState({ status: "live", reconnects: 1 }));
    expect(chat.readCount()).toBe(0);
    expect([chat.hook.result.current.loaded, chat.hook.result.current.synced]).toEqual([false, false]);
    await chat.listening(2);
    await chat.answerRead([question("u1", "pending")]);
    expect([chat.shown(), chat.hook.result.current.synced]).toEqual([["u1"], true]);
  });

  it("keeps an event heard while the read is out, after the stored messages", async () => {
    const chat = server();
    await chat.listening(3);
    await waitFor(() => expect(chat.readCount()).toBe(1));
    chat.hear(added(question("u2", "pending")));
    expect(chat.hook.result.current.loaded).toBe(false);
    await chat.answerRead([question("u1"), answer("a1", "u1")]);
    expect(chat.shown()).toEqual(["u1", "a1", "u2"]);
    expect(chat.hook.result.current.state.waiting).toBe(true);
  });

  it("shows once a message both heard and read, and trusts the events that follow", async () => {
    const chat = server();
    await chat.listening(2);
    await waitFor(() => expect(chat.readCount()).toBe(1));
    chat.hear(added(answer("a1", "u1")));
    await chat.answerRead([question("u1"), answer("a1", "u1")]);
    expect(chat.shown()).toEqual(["u1", "a1"]);
    chat.hear(added(question("u2", "pending")));
    chat.hear({ __typename: "ChatThinking", stage: "retrieving" });
    chat.hear(added(answer("a2", "u2")));
    expect(chat.shown()).toEqual(["u1", "a1", "u2", "a2"]);
    expect([chat.hook.result.current.state.waiting, chat.readCount()]).toEqual([false, 1]);
  });

  it("reads again when the server listens anew after the socket came back, merging what was missed", async () => {
    const chat = server();
    await chat.listening(2);
    await chat.answerRead([question("u1", "pending")]);
    expect(chat.hook.result.current.state.waiting).toBe(true);
    // the socket came back and the subscription was made anew: its first event again
    act(() => useLinkStatus.setState({ status: "live", reconnects: 1 }));
    await chat.listening(3);
    await waitFor(() => expect(chat.readCount()).toBe(2));
    await chat.answerRead([question("u1"), answer("a1", "u1")]);
    expect(chat.shown()).toEqual(["u1", "a1"]);
    expect(chat.hook.result.current.state.waiting).toBe(false);
  });

  it("says when the read failed, and is in sync once a later read succeeds", async () => {
    const chat = server();
    await chat.listening();
    await chat.answerRead(new Error("Failed to fetch"));
    expect(chat.hook.result.current.error?.message).toContain("Failed to fetch");
    expect([chat.hook.result.current.synced, chat.hook.result.current.missing, chat.hook.result.current.loaded]).toEqual([false, false, false]);
    await chat.listening();
    await chat.answerRead([question("u1")]);
    expect([chat.hook.result.current.error, chat.hook.result.current.synced, chat.shown()]).toEqual([null, true, ["u1"]]);
  });

  it("says the session is missing when the server refuses to listen to it and has none, or it belongs to another stack", async () => {
    const chat = server();
    await chat.refused(new Error("No chat session 0b9d6c3e"));
    await chat.answerRead(null);
    expect([chat.hook.result.current.missing, chat.hook.result.current.error, chat.hook.result.current.synced]).toEqual([true, null, false]);

    const other = server();
    await other.listening();
    await other.answerRead([question("u1")], "another-stack");
    expect([other.hook.result.current.missing, other.hook.result.current.state.items]).toEqual([true, []]);
  });

  it("shows a session the server refuses to listen to, but not as in sync", async () => {
    const chat = server();
    await chat.refused(new Error("Internal server error"));
    await chat.answerRead([question("u1")]);
    expect(chat.shown()).toEqual(["u1"]);
    expect([chat.hook.result.current.synced, chat.hook.result.current.missing]).toEqual([false, false]);
    expect(chat.hook.result.current.error?.message).toContain("Internal server error");
  });

  it("is empty without a session, and stops listening to the one it left", async () => {
    const chat = server();
    await chat.listening();
    await chat.answerRead([question("u1")]);
    chat.hook.rerender({ id: null });
    expect([chat.shown(), chat.hook.result.current.loaded, chat.hook.result.current.synced]).toEqual([[], false, false]);
    expect(() => chat.hear(added(question("u9")))).not.toThrow();
    expect(chat.shown()).toEqual([]);
  });
});
