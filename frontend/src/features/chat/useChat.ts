import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { useClient, useQuery } from "urql";
import { describeError } from "../../api/errors";
import { toast } from "../../ui/toasts";
import { chatReducer, initialChatState } from "./chatReducer";
import { availableMode, modeOf, reusableSession, startVariables, type ChatMode, type ChatTarget } from "./chatTarget";
import { ChatEventsSubscription, ChatSessionQuery, ChatSessionsQuery, SendMessageMutation, StartChatMutation } from "./operations";

/** Without any event for this long while an answer is awaited, ask the server where it stands. */
const SYNC_AFTER_MS = 6000;
/** A subscription made an instant ago may not be registered by the server yet. */
const SUBSCRIBE_GRACE_MS = 400;

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
 * The chat modal's data: the session list, the chat shown (from the URL's target) with its
 * history and live events, and sending. A new chat is created on the server only when its
 * first question is sent, and then takes the new chat's place in the URL.
 */
export function useChat({ workflowId, target, onTarget, latestPublished, settle, onDelivered }: UseChatOptions) {
  const client = useClient();
  const [sessions, refetchSessions] = useQuery({ query: ChatSessionsQuery, variables: { workflowId }, requestPolicy: "network-only" });
  const [state, dispatch] = useReducer(chatReducer, initialChatState);
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const [missing, setMissing] = useState(false);
  const [lastEventAt, setLastEventAt] = useState(0);
  const subscribedAt = useRef(0);
  const firstQuestion = useRef<{ sessionId: string; content: string } | null>(null);
  const list = sessions.data?.chatSessions;

  const activeId = target.kind === "session" ? target.sessionId : null;
  const newMode = target.kind === "new" ? availableMode(target.mode, latestPublished) : null;
  const listed = activeId ? list?.find((s) => s.id === activeId) : undefined;
  const loaded = activeId !== null && state.sessionId === activeId;
  const mode: ChatMode = newMode ?? (loaded ? modeOf(state) : listed ? modeOf(listed) : "published");
  /** The published version answering: the session's own, or for a new chat the latest. */
  const publishedVersion = newMode ? latestPublished : loaded ? state.publishedVersion : (listed?.publishedVersion ?? null);

  const refresh = useCallback(() => refetchSessions({ requestPolicy: "network-only" }), [refetchSessions]);

  const deliver = async (sessionId: string, content: string) => {
    const wait = SUBSCRIBE_GRACE_MS - (Date.now() - subscribedAt.current);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const result = await client.mutation(SendMessageMutation, { sessionId, content }).toPromise();
    setSending(false);
    if (result.error || !result.data) {
      dispatch({ type: "sendFailed", text: result.error ? describeError(result.error) : "The message was not sent." });
      return;
    }
    setText("");
    dispatch({ type: "sent", message: result.data.sendMessage });
    setLastEventAt(Date.now());
    refresh(); // the list shows the first question as title
    onDelivered?.();
  };
  const deliverRef = useRef(deliver);
  deliverRef.current = deliver;

  // A new chat starts empty, or continues an empty session of the same kind left from before.
  useEffect(() => {
    if (newMode) dispatch({ type: "reset" });
  }, [newMode]);
  useEffect(() => {
    if (!newMode || !list || sending) return;
    const reuse = reusableSession(list, newMode, latestPublished);
    if (reuse) onTarget({ kind: "session", sessionId: reuse }, { replace: true });
  }, [newMode, list, latestPublished, sending, onTarget]);

  // The session shown: its stored history, and its live events.
  useEffect(() => {
    if (!activeId) return;
    let cancelled = false;
    const first = firstQuestion.current?.sessionId === activeId ? firstQuestion.current : null;
    firstQuestion.current = null;
    setMissing(false);
    if (!first) {
      client
        .query(ChatSessionQuery, { id: activeId }, { requestPolicy: "network-only" })
        .toPromise()
        .then((result) => {
          if (cancelled) return;
          const session = result.data?.chatSession;
          if (session && session.workflowId === workflowId) dispatch({ type: "opened", session });
          else if (result.error) toast.error(describeError(result.error, "open this chat"));
          else setMissing(true);
        });
    }
    subscribedAt.current = Date.now();
    const subscription = client.subscription(ChatEventsSubscription, { sessionId: activeId }).subscribe((result) => {
      if (!result.data) return;
      dispatch({ type: "event", event: result.data.chatEvents });
      setLastEventAt(Date.now());
    });
    if (first) void deliverRef.current(activeId, first.content);
    return () => {
      cancelled = true;
      subscription.unsubscribe();
    };
  }, [activeId, client, workflowId]);

  // A missed event (a reconnect, a race at the start) must not leave the chat waiting forever.
  useEffect(() => {
    if (!state.waiting || !state.sessionId) return;
    const sessionId = state.sessionId;
    const timer = setInterval(async () => {
      const result = await client.query(ChatSessionQuery, { id: sessionId }, { requestPolicy: "network-only" }).toPromise();
      if (result.data?.chatSession) dispatch({ type: "synced", messages: result.data.chatSession.messages });
    }, SYNC_AFTER_MS);
    return () => clearInterval(timer);
  }, [state.waiting, state.sessionId, lastEventAt, client]);

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
    const session = result.data.startChat;
    dispatch({ type: "opened", session });
    // The effect that subscribes to the new session sends the question.
    firstQuestion.current = { sessionId: session.id, content };
    onTarget({ kind: "session", sessionId: session.id }, { replace: true });
    refresh();
  }

  return {
    state,
    sessions,
    list,
    refresh,
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
