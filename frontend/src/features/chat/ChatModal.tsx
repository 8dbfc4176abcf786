import { FlaskConical, MessageSquarePlus, SendHorizontal, Sparkles } from "lucide-react";
import { useEffect, useRef, type FormEvent } from "react";
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
import { sessionTitle, stageLabel } from "./chatReducer";
import type { ChatTarget } from "./chatTarget";
import { ChatItemView, StreamingView, ThinkingView } from "./MessageView";
import { DraftBanner, ModeSwitch } from "./ModeSwitch";
import { useChat } from "./useChat";

const SUGGESTIONS = ["What are these documents about?", "Summarize the key points.", "What should I know first?"];

export interface ChatModalProps {
  workflowId: string;
  /** The chat shown, as the URL names it. */
  target: ChatTarget;
  /** Shows another chat; `replace` rewrites the current history entry instead of adding one. */
  onTarget: (target: ChatTarget, how?: { replace?: boolean }) => void;
  onClose: () => void;
  /** The latest published version's number, or null when nothing is published yet. */
  latestPublished: number | null;
  /** The draft's version now (its change number), for the draft banner. */
  draftVersion: number | null;
  /** Resolves once the canvas's own edits are saved (a draft question must see them). */
  settle?: () => Promise<unknown>;
}

export default function ChatModal({ workflowId, target, onTarget, onClose, latestPublished, draftVersion, settle }: ChatModalProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const composer = useRef<HTMLTextAreaElement>(null);
  const link = useLinkStatus((s) => s.status);
  const chat = useChat({ workflowId, target, onTarget, latestPublished, settle, onDelivered: () => composer.current?.focus() });
  const { state, list, mode, busy } = chat;
  const draft = mode === "draft";

  useEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTo({ top: el.scrollHeight, behavior: "smooth" });
  }, [state.items.length, state.streaming?.content, state.thinking]);

  function submit(e: FormEvent) {
    e.preventDefault();
    void chat.send();
  }

  const sorted = [...(list ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt));

  return (
    <Dialog
      open
      onClose={onClose}
      size="xl"
      title="Chat"
      description={
        draft
          ? "Answers come from the draft, with your unpublished changes."
          : `Answers come from the published version${chat.publishedVersion ? ` v${chat.publishedVersion}` : ""}.`
      }
      bodyClassName="!px-0 !pb-0"
      className="h-[min(820px,calc(100vh-2rem))] max-h-none"
    >
      <div className="flex h-full min-h-0 border-t border-slate-100">
        <nav aria-label="Chat sessions" className="flex w-60 shrink-0 flex-col border-r border-slate-100 bg-slate-50/70">
          <div className="p-3">
            <Button className="w-full" icon={<MessageSquarePlus className="size-4" />} onClick={() => onTarget({ kind: "new", mode }, { replace: target.kind === "new" })}>
              New chat
            </Button>
          </div>
          <ul className="flex-1 space-y-0.5 overflow-y-auto px-2 pb-3">
            {chat.sessions.fetching && !list && (
              <li className="flex justify-center py-6 text-slate-400">
                <Spinner label="Loading chats" />
              </li>
            )}
            {sorted.map((s) => (
              <li key={s.id}>
                <button
                  type="button"
                  onClick={() => onTarget({ kind: "session", sessionId: s.id })}
                  aria-current={s.id === chat.activeId ? "true" : undefined}
                  className={cx(
                    "w-full rounded-lg px-3 py-2 text-left transition-colors",
                    s.id === chat.activeId ? "bg-white shadow-xs ring-1 ring-slate-200" : "hover:bg-white/70",
                  )}
                >
                  <span className="block truncate text-[13px] font-medium text-slate-800">{sessionTitle(s.messages)}</span>
                  <span className="mt-0.5 flex items-center gap-1.5 text-[11px] text-slate-500">
                    {timeAgo(s.createdAt)}
                    {s.draft ? (
                      <Badge tone="amber" className="!px-1.5 !py-0">
                        <FlaskConical className="size-2.5" aria-hidden />
                        Draft
                      </Badge>
                    ) : (
                      <Badge tone={s.publishedVersion === latestPublished ? "brand" : "slate"} className="!px-1.5 !py-0">
                        v{s.publishedVersion}
                      </Badge>
                    )}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </nav>

        <div className="flex min-w-0 flex-1 flex-col bg-slate-50/40">
          <div className="flex items-center justify-between gap-3 border-b border-slate-100 bg-white px-6 py-2.5">
            <ModeSwitch
              mode={mode}
              publishedVersion={mode === "published" ? chat.publishedVersion : latestPublished}
              onChange={(next) => onTarget({ kind: "new", mode: next }, { replace: target.kind === "new" })}
            />
            {target.kind === "session" && <span className="text-xs text-slate-400">Switching starts a new chat</span>}
          </div>
          {draft && <DraftBanner change={draftVersion} />}
          {chat.sessions.error && !list ? (
            <ErrorState title="Couldn't load chats" detail={describeError(chat.sessions.error)} onRetry={chat.refresh} />
          ) : chat.missing ? (
            <ErrorState title="This chat doesn't exist" detail="It may belong to another stack, or the link is wrong. Start a new chat instead." />
          ) : (
            <>
              <div ref={scroller} className="flex-1 space-y-5 overflow-y-auto px-6 py-6" aria-live="polite" aria-label="Conversation">
                {chat.loading ? (
                  <div className="flex h-full items-center justify-center text-slate-400">
                    <Spinner label="Opening the chat" />
                  </div>
                ) : (
                  state.items.length === 0 &&
                  !busy && (
                    <div className="flex h-full flex-col items-center justify-center text-center">
                      <span
                        className={cx(
                          "mb-3 flex size-12 items-center justify-center rounded-2xl text-white shadow-md",
                          draft ? "bg-gradient-to-br from-amber-400 to-orange-500 shadow-amber-500/20" : "bg-gradient-to-br from-brand-500 to-violet-600 shadow-brand-600/20",
                        )}
                      >
                        {draft ? <FlaskConical className="size-6" aria-hidden /> : <Sparkles className="size-6" aria-hidden />}
                      </span>
                      <h3 className="text-base font-semibold text-slate-900">{draft ? "Try your changes before you build" : "Ask your stack anything"}</h3>
                      <p className="mt-1 text-sm text-slate-500">
                        {draft ? "The draft answers, unpublished changes included. No Build needed." : "Answers cite the passages they come from."}
                      </p>
                      <div className="mt-5 flex flex-wrap justify-center gap-2">
                        {SUGGESTIONS.map((s) => (
                          <button
                            key={s}
                            type="button"
                            disabled={!chat.ready}
                            onClick={() => void chat.send(s)}
                            className="rounded-full border border-slate-200 bg-white px-3 py-1.5 text-xs text-slate-600 shadow-xs hover:border-brand-300 hover:text-brand-700"
                          >
                            {s}
                          </button>
                        ))}
                      </div>
                    </div>
                  )
                )}
                {!chat.loading && state.items.map((item) => <ChatItemView key={item.id} item={item} />)}
                {state.streaming ? (
                  <StreamingView content={state.streaming.content} joinedLate={state.joinedLate} />
                ) : (
                  busy && <ThinkingView label={stageLabel(state.thinking)} />
                )}
              </div>
              <form onSubmit={submit} className="border-t border-slate-200 bg-white p-4">
                <div className="flex items-end gap-2">
                  <label htmlFor="chat-input" className="sr-only">
                    Your question
                  </label>
                  <textarea
                    id="chat-input"
                    ref={composer}
                    rows={1}
                    value={chat.text}
                    onChange={(e) => chat.setText(e.target.value)}
                    onKeyDown={(e) => {
                      if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
                        e.preventDefault();
                        void chat.send();
                      }
                    }}
                    placeholder={chat.ready ? (draft ? "Ask the draft a question…" : "Ask a question…") : "Opening the chat…"}
                    disabled={!chat.ready}
                    className={cx(inputClass, "max-h-40 min-h-10 resize-none py-2.5 [field-sizing:content]", draft && "focus:border-amber-400 focus:ring-amber-200")}
                    autoFocus
                  />
                  <Button type="submit" variant="primary" className="h-10" loading={chat.sending} disabled={!chat.text.trim() || busy || !chat.ready} aria-label="Send">
                    {!chat.sending && <SendHorizontal className="size-4" aria-hidden />}
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
    </Dialog>
  );
}
