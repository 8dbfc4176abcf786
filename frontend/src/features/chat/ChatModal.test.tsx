import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { Provider } from "urql";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { chatMessage } from "../../test/fixtures";
import { scriptedClient, type Handler } from "../../test/scriptedClient";
import ChatModal from "./ChatModal";
import type { Message } from "./chatReducer";
import type { ChatTarget } from "./chatTarget";

const NEW_ID = "7c1e9a52-3b7d-4f0e-8a61-5d2c9b4e7f10";
const OLD_ID = "0b9d6c3e-5a4f-4d6b-9e1a-2f3c4d5e6f70";
const CREATED = "2026-01-01T00:00:00Z";

interface Summary {
  id: string;
  draft: boolean;
  publishedVersion: number;
  messages: Message[];
}

function listed(s: Summary) {
  return { ...s, createdAt: CREATED, messages: s.messages.map(({ id, role, content }) => ({ id, role, content })) };
}

function setup({
  target,
  latestPublished = 2,
  sessions = [],
  stored = {},
  unreadable = false,
}: {
  target: ChatTarget;
  latestPublished?: number | null;
  sessions?: Summary[];
  stored?: Record<string, Summary>;
  /** Reading a session fails (the server, or the network). */
  unreadable?: boolean;
}) {
  const handlers: Record<string, Handler> = {
    ChatSessions: () => ({ chatSessions: sessions.map(listed) }),
    ChatSession: (v) => {
      if (unreadable) throw new Error("Failed to fetch");
      const s = stored[v.id as string];
      return { chatSession: s ? { ...s, workflowId: "wf", createdAt: CREATED } : null };
    },
    StartChat: (v) => {
      const started = { id: NEW_ID, draft: v.draft as boolean, publishedVersion: v.draft ? 0 : (v.publishedVersion as number), messages: [] };
      stored[NEW_ID] = started;
      return { startChat: { ...started, workflowId: "wf", createdAt: CREATED } };
    },
    SendMessage: (v) => ({ sendMessage: chatMessage({ id: "u1", content: v.content as string, status: "pending" }) }),
  };
  const scripted = scriptedClient(handlers);
  const targets: Array<{ target: ChatTarget; replace: boolean }> = [];
  const settle = vi.fn(async () => {});

  function Harness() {
    // The URL, as far as the modal is concerned.
    const [current, setCurrent] = useState(target);
    return (
      <ChatModal
        workflowId="wf"
        target={current}
        onTarget={(next, how) => {
          targets.push({ target: next, replace: !!how?.replace });
          setCurrent(next);
        }}
        onClose={() => {}}
        latestPublished={latestPublished}
        draftVersion={23}
        settle={settle}
      />
    );
  }
  render(
    <Provider value={scripted.client}>
      <Harness />
    </Provider>,
  );
  return { ...scripted, targets, settle, user: userEvent.setup() };
}

async function ask(user: ReturnType<typeof userEvent.setup>, text: string) {
  const input = screen.getByLabelText("Your question");
  await waitFor(() => expect((input as HTMLTextAreaElement).disabled).toBe(false));
  await user.type(input, text);
  await user.click(screen.getByRole("button", { name: "Send" }));
}

beforeAll(() => {
  // jsdom lays nothing out, so it has no scrolling; the conversation scrolls to its end.
  Element.prototype.scrollTo ??= () => {};
});

describe("ChatModal", () => {
  it("creates no session on opening: the first question starts one on the version shown, then is sent on it", async () => {
    const { ops, sent, targets, emit, user } = setup({ target: { kind: "new", mode: "published" } });
    expect((await screen.findByRole("radio", { name: /Published v2/ })).getAttribute("aria-checked")).toBe("true");
    await screen.findByText("Ask your stack anything");
    expect(new Set(ops())).toEqual(new Set(["ChatSessions"])); // the list only

    await ask(user, "How long does it last?");

    await waitFor(() => expect(ops()).toContain("SendMessage"));
    expect(sent.find((s) => s.op === "StartChat")?.vars).toEqual({ workflowId: "wf", publishedVersion: 2, draft: false });
    expect(sent.find((s) => s.op === "SendMessage")?.vars).toEqual({ sessionId: NEW_ID, content: "How long does it last?" });
    expect(ops().filter((op) => op === "StartChat")).toHaveLength(1);
    // the question goes out once the new session is listened to, then read
    expect(ops().indexOf("ChatEvents")).toBeLessThan(ops().indexOf("ChatSession"));
    expect(ops().indexOf("ChatSession")).toBeLessThan(ops().indexOf("SendMessage"));
    expect(targets).toEqual([{ target: { kind: "session", sessionId: NEW_ID }, replace: true }]);

    await screen.findByText("How long does it last?");
    const answer = chatMessage({ id: "a1", role: "ASSISTANT", content: "About 42 hours.", workflowVersion: 13, publishedVersion: 2 });
    emit("ChatEvents", { sessionId: NEW_ID }, { chatEvents: { __typename: "ChatMessageAdded", sessionId: NEW_ID, message: answer } });
    expect((await screen.findByTestId("answered-by")).textContent).toBe("v2 · change 13");
  });

  it("fails the first question of a new chat visibly when its new session cannot be read, instead of waiting", async () => {
    const { ops, user } = setup({ target: { kind: "new", mode: "published" }, unreadable: true });
    await ask(user, "Anyone there?");
    expect(within(await screen.findByRole("alert")).getByText(/Can.t reach the server/)).toBeTruthy();
    expect(ops()).not.toContain("SendMessage");
    expect((screen.getByLabelText("Your question") as HTMLTextAreaElement).value).toBe("Anyone there?"); // kept, to send again
  });

  it("with nothing published, previews the draft: marked as such, started as a draft chat", async () => {
    const { sent, settle, user } = setup({ target: { kind: "new", mode: "published" }, latestPublished: null });
    expect((await screen.findByRole("radio", { name: "Draft" })).getAttribute("aria-checked")).toBe("true");
    expect((screen.getByRole("radio", { name: "Published" }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("draft-banner").textContent).toContain("Draft preview — answers from unpublished changes.");
    expect(screen.getByTestId("draft-banner").textContent).toContain("now change 23");

    await ask(user, "Does my change work?");

    await waitFor(() => expect(sent.map((s) => s.op)).toContain("SendMessage"));
    expect(sent.find((s) => s.op === "StartChat")?.vars).toEqual({ workflowId: "wf", publishedVersion: null, draft: true });
    expect(settle).toHaveBeenCalled(); // the canvas's edits are saved before the draft is asked
  });

  it("switches a new chat between the published version and the draft without creating anything", async () => {
    const { ops, targets, user } = setup({ target: { kind: "new", mode: "published" } });
    await user.click(await screen.findByRole("radio", { name: "Draft" }));
    expect(targets).toEqual([{ target: { kind: "new", mode: "draft" }, replace: true }]);
    expect(await screen.findByTestId("draft-banner")).toBeTruthy();
    expect(screen.getByText("Try your changes before you build")).toBeTruthy();
    await user.click(screen.getByRole("radio", { name: /Published v2/ }));
    expect(screen.queryByTestId("draft-banner")).toBeNull();
    expect(ops()).not.toContain("StartChat");
  });

  it("reopens the session the URL names with its history, kind and versions", async () => {
    const session: Summary = {
      id: OLD_ID,
      draft: true,
      publishedVersion: 0,
      messages: [
        chatMessage({ id: "u1", content: "First try?" }),
        chatMessage({ id: "a1", role: "ASSISTANT", content: "It works.", workflowVersion: 22 }),
        chatMessage({ id: "u2", content: "And now?", status: "failed", error: { code: "INVALID_WORKFLOW", message: "Add a Output node." }, workflowVersion: 23 }),
      ],
    };
    const { ops, user } = setup({ target: { kind: "session", sessionId: OLD_ID }, sessions: [session], stored: { [OLD_ID]: session } });

    expect(await screen.findByText("It works.")).toBeTruthy();
    expect(screen.getAllByTestId("answered-by").map((e) => e.textContent)).toEqual(["Draft · change 22", "Draft · change 23"]);
    expect(within(screen.getByRole("alert")).getByText("Add a Output node.")).toBeTruthy();
    expect(screen.getByRole("radio", { name: "Draft" }).getAttribute("aria-checked")).toBe("true");
    expect(screen.getByRole("button", { name: /First try\?/ }).getAttribute("aria-current")).toBe("true");
    expect(ops()).toEqual(expect.arrayContaining(["ChatSessions", "ChatSession", "ChatEvents"]));

    await ask(user, "Once more");
    await waitFor(() => expect(ops()).toContain("SendMessage"));
    expect(ops()).not.toContain("StartChat"); // the question goes to the session shown
  });

  it("continues an empty session left from before instead of starting another", async () => {
    const empty: Summary = { id: OLD_ID, draft: false, publishedVersion: 2, messages: [] };
    const { ops, targets } = setup({ target: { kind: "new", mode: "published" }, sessions: [empty], stored: { [OLD_ID]: empty } });
    await waitFor(() => expect(targets).toEqual([{ target: { kind: "session", sessionId: OLD_ID }, replace: true }]));
    await waitFor(() => expect(ops()).toContain("ChatEvents"));
    expect(ops()).not.toContain("StartChat");
  });

  it("says so when the session in the URL does not exist", async () => {
    setup({ target: { kind: "session", sessionId: OLD_ID } });
    expect(await screen.findByText("This chat doesn't exist")).toBeTruthy();
    expect((screen.queryByLabelText("Your question") as HTMLTextAreaElement | null)?.disabled ?? true).toBe(true);
  });
});
