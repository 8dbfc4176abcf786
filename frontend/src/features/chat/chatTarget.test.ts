// @vitest-environment node
import { describe, expect, it } from "vitest";
import { availableMode, paramOf, reusableSession, startVariables, targetFromParam, type SessionSummary } from "./chatTarget";

const ID = "0b9d6c3e-5a4f-4d6b-9e1a-2f3c4d5e6f70";

function summary(partial: Partial<SessionSummary>): SessionSummary {
  return { id: "s", draft: false, publishedVersion: 2, createdAt: "2026-01-01T00:00:00Z", messages: [], ...partial };
}

describe("the chat in the URL", () => {
  it("reads a session id, a new published chat or a new draft chat, and nothing when closed", () => {
    expect(targetFromParam(null)).toBeNull();
    expect(targetFromParam(ID)).toEqual({ kind: "session", sessionId: ID });
    expect(targetFromParam(ID.toUpperCase())).toEqual({ kind: "session", sessionId: ID });
    expect(targetFromParam("new")).toEqual({ kind: "new", mode: "published" });
    expect(targetFromParam("draft")).toEqual({ kind: "new", mode: "draft" });
    expect(targetFromParam("not-a-session")).toEqual({ kind: "new", mode: "published" });
  });

  it("writes what it reads", () => {
    for (const param of [ID, "new", "draft"]) expect(paramOf(targetFromParam(param)!)).toBe(param);
  });
});

describe("choosing what a new chat is", () => {
  it("is a draft chat when nothing is published", () => {
    expect(availableMode("published", null)).toBe("draft");
    expect(availableMode("published", 3)).toBe("published");
    expect(availableMode("draft", 3)).toBe("draft");
  });

  it("continues the newest empty session of the same kind and version instead of starting one", () => {
    const sessions = [
      summary({ id: "old-empty-v1", publishedVersion: 1, createdAt: "2026-01-03T00:00:00Z" }),
      summary({ id: "asked-v2", messages: [{}], createdAt: "2026-01-04T00:00:00Z" }),
      summary({ id: "empty-v2", createdAt: "2026-01-02T00:00:00Z" }),
      summary({ id: "empty-draft", draft: true, publishedVersion: 0, createdAt: "2026-01-01T00:00:00Z" }),
    ];
    expect(reusableSession(sessions, "published", 2)).toBe("empty-v2");
    expect(reusableSession(sessions, "published", 3)).toBeNull();
    expect(reusableSession(sessions, "draft", 2)).toBe("empty-draft");
    expect(reusableSession([], "draft", null)).toBeNull();
  });

  it("starts a published chat on the version the person sees, a draft chat on no version", () => {
    expect(startVariables("wf", "published", 4)).toEqual({ workflowId: "wf", publishedVersion: 4, draft: false });
    expect(startVariables("wf", "draft", 4)).toEqual({ workflowId: "wf", publishedVersion: null, draft: true });
  });
});
