import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { SessionList, type ListedSession } from "./SessionList";

function listed(id: string, createdAt: string, partial: Partial<ListedSession> = {}): ListedSession {
  return { id, draft: false, publishedVersion: 2, createdAt, messages: [], ...partial };
}

const SESSIONS = [
  listed("old", "2026-01-01T00:00:00Z", { publishedVersion: 1, messages: [{ role: "USER", content: "Where is the charger?" }] }),
  listed("new", "2026-01-03T00:00:00Z", { messages: [{ role: "USER", content: "How long does it last?" }] }),
  listed("draft", "2026-01-02T00:00:00Z", { draft: true, publishedVersion: 0 }),
];

function setup(props: Partial<Parameters<typeof SessionList>[0]> = {}) {
  const onOpen = vi.fn();
  const onNew = vi.fn();
  render(<SessionList sessions={SESSIONS} loading={false} activeId="draft" latestPublished={2} onOpen={onOpen} onNew={onNew} {...props} />);
  const nav = screen.getByRole("navigation", { name: "Chat sessions" });
  const chats = within(nav).queryAllByRole("listitem").flatMap((li) => within(li).queryAllByRole("button"));
  return { onOpen, onNew, nav, chats, user: userEvent.setup() };
}

describe("SessionList", () => {
  it("lists the chats newest first, each titled by its first question and marked with its version", () => {
    const { chats } = setup();
    expect(chats.map((b) => b.textContent)).toEqual([
      expect.stringMatching(/^How long does it last\?.*v2$/),
      expect.stringMatching(/^New chat.*Draft$/),
      expect.stringMatching(/^Where is the charger\?.*v1$/),
    ]);
  });

  it("marks the chat shown", () => {
    const { chats } = setup();
    expect(chats.map((b) => b.getAttribute("aria-current"))).toEqual([null, "true", null]);
  });

  it("opens a chat, or a new one", async () => {
    const { chats, nav, onOpen, onNew, user } = setup();
    await user.click(chats[2]);
    expect(onOpen).toHaveBeenCalledWith("old");
    await user.click(within(nav).getByRole("button", { name: "New chat" }));
    expect(onNew).toHaveBeenCalledOnce();
  });

  it("shows a spinner until the list is read", () => {
    setup({ sessions: undefined, loading: true });
    expect(screen.getByRole("status", { name: "Loading chats" })).toBeTruthy();
  });
});
