import { Hammer, MessageSquarePlus, SendHorizontal, Sparkles } from "lucide-react";
import { useCallback, useEffect, useReducer, useRef, useState, type FormEvent } from "react";
import { useClient, useQuery } from "urql";
import { useLinkStatus } from "../../api/connection";
import { describeError } from "../../api/errors";
import { Badge } from "../../ui/Badge";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { inputClass } from "../../ui/Field";
import { Spinner } from "../../ui/Spinner";
import { ErrorState } from "../../ui/States";
import { cx } from "../../ui/cx";
import { timeAgo } from "../../ui/time";
import { toast } from "../../ui/toasts";
import { chatReducer, initialChatState, sessionTitle, stageLabel } from "./chatReducer";
import { ChatItemView, StreamingView, ThinkingView } from "./MessageView";
import { ChatEventsSubscription, ChatSessionQuery, ChatSessionsQuery, SendMessageMutation, StartChatMutation } from "./operations";

/** Without any event for this long while an answer is awaited, ask the server where it stands. */
const SYNC_AFTER_MS = 6000;
const SUGGESTIONS = ["What are these documents about?", "Summarize the key points.", "What should I know first?"];

export interface ChatModalProps {
  open: boolean;
  onClose: () => void;
  workflowId: string;
  /** The latest published version's number, or null when nothing is published yet. */
  latestPublished: number | null;
  onBuild: () => void;
}

export default function ChatModal({ open, onClose, workflowId, latestPublished, onBuild }: ChatModalProps) {
  const client = useClient();
  const [sessions, refetchSessions] = useQuery({
    query: ChatSessionsQuery,
    variables: { workflowId },
    pause: !open || latestPublished === null,
    requestPolicy: "network-only",
  });
  const [activeId, setActiveId] = useState<string | null>(null);
  const [state, dispatch] = useReducer(chatReducer, initialChatState);
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const [starting, setStarting] = useState(false);
  const [lastEventAt, setLastEventAt] = useState(0);
  const subscribedAt = useRef(0);
  const scroller = useRef<HTMLDivElement>(null);
  const composer = useRef<HTMLTextAreaElement>(null);
  const link = useLinkStatus((s) => s.status);

  const startSession = useCallback(async () => {
    setStarting(true);
    const result = await client.mutation(StartChatMutation, { workflowId }).toPromise();
    setStarting(false);
    if (result.error || !result.data) {
      toast.error(result.error ? describeError(result.error, "start a chat") : "Couldn't start a chat.");
      return;
    }
    setActiveId(result.data.startChat.id);
    dispatch({ type: "opened", sessionId: result.data.startChat.id, messages: result.data.startChat.messages });
    refetchSessions({ requestPolicy: "network-only" });
  }, [client, workflowId, refetchSessions]);

  // On opening: continue the newest session if it is empty and on the latest version, else start one.
  const list = sessions.data?.chatSessions;
  useEffect(() => {
    if (!open || latestPublished === null || !list || activeId || starting) return;
    const newest = [...list].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    if (newest && newest.messages.length === 0 && newest.publishedVersion >= latestPublished) setActiveId(newest.id);
    else void startSession();
  }, [open, latestPublished, list, activeId, starting, startSession]);

  useEffect(() => {
    if (!open) setActiveId(null);
  }, [open]);

  // Load the active session's history and follow its events.
  useEffect(() => {
    if (!activeId) return;
    let cancelled = false;
    client
      .query(ChatSessionQuery, { id: activeId }, { requestPolicy: "network-only" })
      .toPromise()
      .then((result) => {
        const session = result.data?.chatSession;
        if (!cancelled && session) dispatch({ type: "opened", sessionId: session.id, messages: session.messages });
      });
    subscribedAt.current = Date.now();
    const subscription = client.subscription(ChatEventsSubscription, { sessionId: activeId }).subscribe((result) => {
      if (!result.data) return;
      dispatch({ type: "event", event: result.data.chatEvents });
      setLastEventAt(Date.now());
    });
    return () => {
      cancelled = true;
      subscription.unsubscribe();
    };
  }, [activeId, client]);

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

  useEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTo({ top: el.scrollHeight, behavior: "smooth" });
  }, [state.items.length, state.streaming?.content, state.thinking]);

  async function send(e?: FormEvent, preset?: string) {
    e?.preventDefault();
    const content = (preset ?? text).trim();
    if (!content || !state.sessionId || sending || state.waiting) return;
    setSending(true);
    // A subscription made an instant ago may not be registered by the server yet.
    const wait = 400 - (Date.now() - subscribedAt.current);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const result = await client.mutation(SendMessageMutation, { sessionId: state.sessionId, content }).toPromise();
    setSending(false);
    if (result.error || !result.data) {
      dispatch({ type: "sendFailed", text: result.error ? describeError(result.error) : "The message was not sent." });
      return;
    }
    setText("");
    dispatch({ type: "sent", message: result.data.sendMessage });
    setLastEventAt(Date.now());
    refetchSessions({ requestPolicy: "network-only" }); // the list shows the first question as title
    composer.current?.focus();
  }

  const sorted = [...(list ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const active = sorted.find((s) => s.id === activeId);
  const busy = sending || state.waiting;

  return (
    <Dialog
      open={open}
      onClose={onClose}
      size="xl"
      title="Chat"
      description={
        latestPublished === null
          ? "Chat with your stack once it is built."
          : `Answers come from the published version${active ? ` v${active.publishedVersion}` : ""}.`
      }
      bodyClassName="!px-0 !pb-0"
      className="h-[min(820px,calc(100vh-2rem))] max-h-none"
    >
      {latestPublished === null ? (
        <div className="flex h-full flex-col items-center justify-center px-6 pb-16 text-center">
          <span className="mb-4 flex size-14 items-center justify-center rounded-2xl bg-brand-50 text-brand-600 ring-1 ring-brand-100">
            <Hammer className="size-6" aria-hidden />
          </span>
          <h3 className="text-base font-semibold text-slate-900">Build your stack first</h3>
          <p className="mt-1 max-w-sm text-sm text-slate-500">Build checks the stack and publishes it. Chat then answers with the published version.</p>
          <Button
            className="mt-5"
            variant="primary"
            icon={<Hammer className="size-4" />}
            onClick={() => {
              onClose();
              onBuild();
            }}
          >
            Build now
          </Button>
        </div>
      ) : (
        <div className="flex h-full min-h-0 border-t border-slate-100">
          <nav aria-label="Chat sessions" className="flex w-60 shrink-0 flex-col border-r border-slate-100 bg-slate-50/70">
            <div className="p-3">
              <Button className="w-full" icon={<MessageSquarePlus className="size-4" />} onClick={() => void startSession()} loading={starting}>
                New chat
              </Button>
            </div>
            <ul className="flex-1 space-y-0.5 overflow-y-auto px-2 pb-3">
              {sessions.fetching && !list && (
                <li className="flex justify-center py-6 text-slate-400">
                  <Spinner label="Loading chats" />
                </li>
              )}
              {sorted.map((s) => (
                <li key={s.id}>
                  <button
                    type="button"
                    onClick={() => setActiveId(s.id)}
                    aria-current={s.id === activeId ? "true" : undefined}
                    className={cx(
                      "w-full rounded-lg px-3 py-2 text-left transition-colors",
                      s.id === activeId ? "bg-white shadow-xs ring-1 ring-slate-200" : "hover:bg-white/70",
                    )}
                  >
                    <span className="block truncate text-[13px] font-medium text-slate-800">{sessionTitle(s.messages)}</span>
                    <span className="mt-0.5 flex items-center gap-1.5 text-[11px] text-slate-500">
                      {timeAgo(s.createdAt)}
                      <Badge tone={s.publishedVersion === latestPublished ? "brand" : "slate"} className="!px-1.5 !py-0">
                        v{s.publishedVersion}
                      </Badge>
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          </nav>

          <div className="flex min-w-0 flex-1 flex-col bg-slate-50/40">
            {sessions.error && !list ? (
              <ErrorState title="Couldn't load chats" detail={describeError(sessions.error)} onRetry={() => refetchSessions({ requestPolicy: "network-only" })} />
            ) : (
              <>
                <div ref={scroller} className="flex-1 space-y-5 overflow-y-auto px-6 py-6" aria-live="polite" aria-label="Conversation">
                  {state.items.length === 0 && !busy && (
                    <div className="flex h-full flex-col items-center justify-center text-center">
                      <span className="mb-3 flex size-12 items-center justify-center rounded-2xl bg-gradient-to-br from-brand-500 to-violet-600 text-white shadow-md shadow-brand-600/20">
                        <Sparkles className="size-6" aria-hidden />
                      </span>
                      <h3 className="text-base font-semibold text-slate-900">Ask your stack anything</h3>
                      <p className="mt-1 text-sm text-slate-500">Answers cite the passages they come from.</p>
                      <div className="mt-5 flex flex-wrap justify-center gap-2">
                        {SUGGESTIONS.map((s) => (
                          <button
                            key={s}
                            type="button"
                            disabled={!state.sessionId}
                            onClick={() => void send(undefined, s)}
                            className="rounded-full border border-slate-200 bg-white px-3 py-1.5 text-xs text-slate-600 shadow-xs hover:border-brand-300 hover:text-brand-700"
                          >
                            {s}
                          </button>
                        ))}
                      </div>
                    </div>
                  )}
                  {state.items.map((item) => (
                    <ChatItemView key={item.id} item={item} />
                  ))}
                  {state.streaming ? (
                    <StreamingView content={state.streaming.content} />
                  ) : (
                    busy && <ThinkingView label={stageLabel(state.thinking)} />
                  )}
                </div>
                <form onSubmit={send} className="border-t border-slate-200 bg-white p-4">
                  <div className="flex items-end gap-2">
                    <label htmlFor="chat-input" className="sr-only">
                      Your question
                    </label>
                    <textarea
                      id="chat-input"
                      ref={composer}
                      rows={1}
                      value={text}
                      onChange={(e) => setText(e.target.value)}
                      onKeyDown={(e) => {
                        if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) void send(e);
                      }}
                      placeholder={state.sessionId ? "Ask a question…" : "Starting a chat…"}
                      disabled={!state.sessionId}
                      className={cx(inputClass, "max-h-40 min-h-10 resize-none py-2.5 [field-sizing:content]")}
                      autoFocus
                    />
                    <Button type="submit" variant="primary" className="h-10" loading={sending} disabled={!text.trim() || busy || !state.sessionId} aria-label="Send">
                      {!sending && <SendHorizontal className="size-4" aria-hidden />}
                    </Button>
                  </div>
                  <p className="mt-1.5 text-[11px] text-slate-400">
                    Enter to send · Shift+Enter for a new line{link === "offline" ? " · Reconnecting to the server…" : ""}
                  </p>
                </form>
              </>
            )}
          </div>
        </div>
      )}
    </Dialog>
  );
}
