import { afterEach, describe, expect, it, vi } from "vitest";
import { refreshSession, useSession } from "./session";

const SIGNED_IN = {
  accessToken: "access-1",
  expiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
  user: { id: "u1", email: "ada@example.com", name: "Ada", admin: false, local: false },
};

/** A fetch whose /auth/refresh answers wait until `release` is called. */
function heldRefreshes() {
  const waiting: Array<() => void> = [];
  const fetch = vi.fn(
    (path: string) =>
      new Promise<Response>((resolve) => {
        expect(path).toBe("/auth/refresh");
        waiting.push(() => resolve(new Response(JSON.stringify(SIGNED_IN), { status: 200 })));
      }),
  );
  return { fetch, release: () => waiting.shift()?.() };
}

/** Web Locks as a browser has them: one holder of a name at a time, the others in turn. */
function fakeLocks() {
  const tails = new Map<string, Promise<unknown>>();
  const names: string[] = [];
  const request = vi.fn((name: string, work: () => Promise<unknown>) => {
    names.push(name);
    const turn = (tails.get(name) ?? Promise.resolve()).then(work);
    tails.set(name, turn.catch(() => undefined));
    return turn;
  });
  return { request, names };
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("refreshSession", () => {
  it("sends one refresh for calls made while one is in flight, and answers them all", async () => {
    vi.useFakeTimers();
    const held = heldRefreshes();
    vi.stubGlobal("fetch", held.fetch);
    const first = refreshSession();
    const second = refreshSession();
    await vi.waitFor(() => expect(held.fetch).toHaveBeenCalledTimes(1));
    held.release();
    expect(await Promise.all([first, second])).toEqual([true, true]);
    expect(useSession.getState()).toMatchObject({ status: "signedIn", accessToken: "access-1" });
    expect(held.fetch).toHaveBeenCalledTimes(1);
  });

  it("holds the browser-wide refresh lock while it refreshes, so tabs take turns", async () => {
    vi.useFakeTimers();
    const held = heldRefreshes();
    const locks = fakeLocks();
    vi.stubGlobal("fetch", held.fetch);
    vi.stubGlobal("navigator", { ...navigator, locks });
    const mine = refreshSession();
    // another tab's refresh, through the same lock: it may start only when this one is done
    let otherStarted = false;
    const other = locks.request("genai-stack-refresh", async () => {
      otherStarted = true;
    });
    await vi.waitFor(() => expect(held.fetch).toHaveBeenCalledTimes(1));
    await Promise.resolve();
    expect(otherStarted).toBe(false);
    held.release();
    expect(await mine).toBe(true);
    await other;
    expect(otherStarted).toBe(true);
    expect(locks.names).toEqual(["genai-stack-refresh", "genai-stack-refresh"]);
  });

  it("answers false when the server ends the session", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("{}", { status: 401 })));
    expect(await refreshSession()).toBe(false);
  });
});
