/**
 * Which chat the modal shows, as the `?chat=` search parameter holds it, so that a reload,
 * back and forward, or a shared link reopen the same chat.
 *
 * `?chat=<session id>` is a stored session; `?chat=new` and `?chat=draft` are a new chat on the
 * published version or on the draft, which exists on the server only once its first question
 * is sent (opening the modal, or building, never leaves an empty session behind).
 */

export type ChatMode = "published" | "draft";

export type ChatTarget = { kind: "session"; sessionId: string } | { kind: "new"; mode: ChatMode };

export const CHAT_PARAM = "chat";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function targetFromParam(param: string | null): ChatTarget | null {
  if (param === null) return null;
  if (UUID.test(param)) return { kind: "session", sessionId: param.toLowerCase() };
  return { kind: "new", mode: param === "draft" ? "draft" : "published" };
}

export function paramOf(target: ChatTarget): string {
  if (target.kind === "session") return target.sessionId;
  return target.mode === "draft" ? "draft" : "new";
}

/** With nothing published yet, only the draft can answer. */
export function availableMode(mode: ChatMode, latestPublished: number | null): ChatMode {
  return latestPublished === null ? "draft" : mode;
}

export interface SessionSummary {
  id: string;
  draft: boolean;
  publishedVersion: number;
  createdAt: string;
  messages: ReadonlyArray<unknown>;
}

/** Sessions as the list shows them: the newest first. */
export function newestFirst<S extends { createdAt: string }>(sessions: ReadonlyArray<S>): S[] {
  return [...sessions].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

export function modeOf(session: { draft: boolean }): ChatMode {
  return session.draft ? "draft" : "published";
}

/**
 * An empty session a new chat can continue instead of starting another: the newest one on the
 * same mode (and, for a published chat, on the latest published version).
 */
export function reusableSession(sessions: ReadonlyArray<SessionSummary>, mode: ChatMode, latestPublished: number | null): string | null {
  const fits = (s: SessionSummary) =>
    s.messages.length === 0 && modeOf(s) === mode && (mode === "draft" || s.publishedVersion === latestPublished);
  return newestFirst(sessions).find(fits)?.id ?? null;
}

/** What startChat is given to start a chat of this mode. */
export function startVariables(workflowId: string, mode: ChatMode, latestPublished: number | null) {
  // A published chat names the version the person sees: a Build elsewhere in the meantime
  // must not change which version answers.
  return mode === "draft" ? { workflowId, publishedVersion: null, draft: true } : { workflowId, publishedVersion: latestPublished, draft: false };
}
