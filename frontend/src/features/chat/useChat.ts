import { useEffect, useRef, useState } from "react";
import { useClient } from "urql";
import { describeError } from "../../api/errors";
import { toast } from "../../ui/toasts";
import { availableMode, modeOf, reusableSession, startVariables, type ChatMode, type ChatTarget } from "./chatTarget";
import { SendMessageMutation, StartChatMutation } from "./operations";
import { useChatSession } from "./useChatSession";
import { useChatSessions } from "./useChatSessions";

export interface UseChatOptions {
  workflowId: string;
  target: ChatTarget;
  /** Shows another chat (and puts it in the URL); `replace` rewrites the current history entry. */
  onTarget: (target: ChatTarget, how?: { replace?: boolean }) => void;
  /** The latest published version's number, or null when nothing is published yet. */
  latestPublished: number | null;
  /** Resolves once the canvas's own edits are saved, so that the draft answers what the person sees. */
  settle?: () => Promise<unknown>;
  /** Called once a question is stored (to give the composer its focus back). */
  onDelivered?: () => void;
}

/**
 * The chat modal's data: the session list, the chat the URL names (live, through
 * useChatSession), and asking. A new chat is created on the server only when its first
 * question is sent; it then takes the new chat's place in the URL, and the question goes out
 * once the new session is followed and read.
 */
export function useChat({ workflowId, target, onTarget, latestPublished, settle, onDelivered }: UseChatOptions) {
  const client = useClient();
  const sessions = useChatSessions(workflowId);
  const { list, refresh } = sessions;
  const activeId = target.kind === "session" ? target.sessionId : null;
  const session = useChatSession(workflowId, activeId);
  const { state, dispatch, loaded, missing } = session;
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const firstQuestion = useRef<{ sessionId: string; content: string } | null>(null);

  const newMode = target.kind === "new" ? availableMode(target.mode, latestPublished) : null;
  const listed = activeId ? list?.find((s) => s.id === activeId) : undefined;
  const mode: ChatMode = newMode ?? (loaded ? modeOf(state) : listed ? modeOf(listed) : "published");
  /** The published version answering: the session's own, or for a new chat the latest. */
  const publishedVersion = newMode ? latestPublished : loaded ? state.publishedVersion : (listed?.publishedVersion ?? null);

  const deliver = async (sessionId: string, content: string) => {
    const result = await client.mutation(SendMessageMutation, { sessionId, content }).toPromise();
    setSending(false);
    if (result.error || !result.data) {
      dispatch({ type: "sendFailed", text: result.error ? describeError(result.error) : "The message was not sent." });
      return;
    }
    setText("");
    dispatch({ type: "sent", message: result.data.sendMessage });
    refresh(); // the list shows the first question as title
    onDelivered?.();
  };
  const deliverRef = useRef(deliver);
  deliverRef.current = deliver;

  // A new chat continues an empty session of the same kind left from before.
  useEffect(() => {
    if (!newMode || !list || sending) return;
    const reuse = reusableSession(list, newMode, latestPublished);
    if (reuse) onTarget({ kind: "session", sessionId: reuse }, { replace: true });
  }, [newMode, list, latestPublished, sending, onTarget]);

  // The first question of a chat started here: once its session is listened to and read.
  const { synced, error: readError } = session;
  useEffect(() => {
    const first = firstQuestion.current;
    if (!first || first.sessionId !== activeId || !(synced || readError)) return;
    firstQuestion.current = null;
    if (readError) {
      setSending(false);
      dispatch({ type: "sendFailed", text: describeError(readError) });
      return;
    }
    void deliverRef.current(first.sessionId, first.content);
  }, [synced, readError, activeId, dispatch]);

  const busy = sending || state.waiting;
  const ready = !missing && (newMode !== null || loaded);

  async function send(preset?: string) {
    const content = (preset ?? text).trim();
    if (!content || busy || !ready) return;
    setSending(true);
    if (mode === "draft") await settle?.();
    if (loaded && activeId) {
      await deliver(activeId, content);
      return;
    }
    const result = await client.mutation(StartChatMutation, startVariables(workflowId, mode, latestPublished)).toPromise();
    if (result.error || !result.data) {
      setSending(false);
      toast.error(result.error ? describeError(result.error, "start a chat") : "Couldn't start a chat.");
      return;
    }
    const started = result.data.startChat;
    dispatch({ type: "opened", session: started });
    firstQuestion.current = { sessionId: started.id, content };
    onTarget({ kind: "session", sessionId: started.id }, { replace: true });
    refresh();
  }

  return {
    state,
    sessions,
    activeId,
    mode,
    publishedVersion,
    loading: activeId !== null && !loaded && !missing,
    missing,
    ready,
    busy,
    sending,
    text,
    setText,
    send,
  };
}
