import { useEffect, useReducer, useRef, useState } from "react";
import { useClient, type CombinedError } from "urql";
import { useLinkStatus } from "../../api/connection";
import { describeError } from "../../api/errors";
import { toast } from "../../ui/toasts";
import { chatReducer, initialChatState } from "./chatReducer";
import { followSession, type SessionFeed } from "./followSession";

/**
 * One chat session, live: its stored messages and its events, merged (see followSession).
 * With no session (a new chat not started yet) the chat is empty. `synced` once the session
 * was read after its events began to be listened to: the moment to act on it, e.g. to send a
 * new chat's first question. A socket that comes back makes it read the session again.
 */
export function useChatSession(workflowId: string, sessionId: string | null) {
  const client = useClient();
  const [state, dispatch] = useReducer(chatReducer, initialChatState);
  const [read, setRead] = useState<{ sessionId: string; missing: boolean; error?: CombinedError } | null>(null);
  const feed = useRef<SessionFeed | null>(null);
  const loaded = sessionId !== null && state.sessionId === sessionId && state.loaded;
  const shown = useRef(loaded);
  shown.current = loaded;

  useEffect(() => {
    setRead(null);
    if (!sessionId) {
      dispatch({ type: "reset" });
      return;
    }
    dispatch({ type: "watch", sessionId });
    const following = followSession(client, sessionId, {
      event: (event) => dispatch({ type: "event", event }),
      read: ({ session, error }) => {
        if (error && !session) {
          if (!shown.current) toast.error(describeError(error, "open this chat"));
          setRead({ sessionId, missing: false, error });
          return;
        }
        const found = !!session && session.workflowId === workflowId;
        if (session && found) dispatch({ type: "opened", session });
        setRead({ sessionId, missing: !found });
      },
    });
    feed.current = following;
    return () => {
      following.close();
      feed.current = null;
    };
  }, [client, workflowId, sessionId]);

  // A socket that dropped and came back may have missed events: read the session again.
  const reconnects = useLinkStatus((s) => s.reconnects);
  const known = useRef(reconnects);
  useEffect(() => {
    if (reconnects === known.current) return;
    known.current = reconnects;
    feed.current?.resync();
  }, [reconnects]);

  const current = read !== null && read.sessionId === sessionId ? read : null;
  return {
    state,
    dispatch,
    /** The session is shown (read, or started here). */
    loaded,
    synced: !!current && !current.missing && !current.error,
    missing: !!current?.missing,
    /** The last read failed (the server or the network). */
    error: current?.error ?? null,
  };
}
