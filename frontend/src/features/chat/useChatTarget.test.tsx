import { act, render } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router";
import { describe, expect, it } from "vitest";
import type { ChatTarget } from "./chatTarget";
import { useChatTarget } from "./useChatTarget";

const ID = "0b9d6c3e-5a4f-4d6b-9e1a-2f3c4d5e6f70";

function setup(url: string) {
  const seen: { target: ChatTarget | null; show?: ReturnType<typeof useChatTarget>[1] } = { target: null };
  function Probe() {
    const [target, show] = useChatTarget();
    seen.target = target;
    seen.show = show;
    return null;
  }
  const router = createMemoryRouter([{ path: "/stacks/:workflowId", Component: Probe }], { initialEntries: [url] });
  render(<RouterProvider router={router} />);
  return { router, seen };
}

describe("useChatTarget", () => {
  it("reopens the chat the URL names (a reload or a shared link)", () => {
    expect(setup(`/stacks/wf?chat=${ID}`).seen.target).toEqual({ kind: "session", sessionId: ID });
    expect(setup("/stacks/wf?chat=draft").seen.target).toEqual({ kind: "new", mode: "draft" });
    expect(setup("/stacks/wf").seen.target).toBeNull();
  });

  it("puts the chat shown in the URL, a new entry per chat, so back and forward return to it", async () => {
    const { router, seen } = setup("/stacks/wf?history=1");
    await act(() => seen.show!({ kind: "new", mode: "published" }));
    expect(router.state.location.search).toBe("?history=1&chat=new");
    expect(router.state.historyAction).toBe("PUSH");

    // the first question creates the session: it takes the new chat's place in history
    await act(() => seen.show!({ kind: "session", sessionId: ID }, { replace: true }));
    expect(router.state.location.search).toBe(`?history=1&chat=${ID}`);
    expect(router.state.historyAction).toBe("REPLACE");

    await act(() => seen.show!(null));
    expect(router.state.location.search).toBe("?history=1");
    expect(seen.target).toBeNull();
    await act(() => router.navigate(-1));
    expect(seen.target).toEqual({ kind: "session", sessionId: ID });
  });
});
