import { FlaskConical, Sparkles } from "lucide-react";
import { useEffect, useRef } from "react";
import { Spinner } from "../../ui/Spinner";
import { cx } from "../../ui/cx";
import { stageLabel, type ChatState } from "./chatReducer";
import { ChatItemView, StreamingView, ThinkingView } from "./MessageView";

const SUGGESTIONS = ["What are these documents about?", "Summarize the key points.", "What should I know first?"];

export interface ConversationProps {
  chat: Pick<ChatState, "items" | "streaming" | "thinking" | "joinedLate"> & { sessionId?: string | null };
  /** The chat's history is being read. */
  loading: boolean;
  /** A question is on its way or awaits its answer. */
  busy: boolean;
  draft: boolean;
  /** Questions can be asked (the suggestions are enabled). */
  ready: boolean;
  onAsk: (question: string) => void;
}

/** The messages of one chat, the answer streaming in, and for an empty chat a few questions to start with. */
export function Conversation({ chat, loading, busy, draft, ready, onAsk }: ConversationProps) {
  const scroller = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTo({ top: el.scrollHeight, behavior: "smooth" });
  }, [chat.items.length, chat.streaming?.content, chat.thinking]);

  return (
    <div ref={scroller} className="flex-1 space-y-5 overflow-y-auto px-6 py-6" aria-live="polite" aria-label="Conversation">
      {loading ? (
        <div className="flex h-full items-center justify-center text-slate-400">
          <Spinner label="Opening the chat" />
        </div>
      ) : (
        <>
          {chat.items.length === 0 && !busy && <EmptyChat draft={draft} ready={ready} onAsk={onAsk} />}
          {chat.items.map((item) => (
            <ChatItemView key={item.id} item={item} sessionId={chat.sessionId} />
          ))}
        </>
      )}
      {chat.streaming ? <StreamingView content={chat.streaming.content} joinedLate={chat.joinedLate} /> : busy && <ThinkingView label={stageLabel(chat.thinking)} />}
    </div>
  );
}

function EmptyChat({ draft, ready, onAsk }: { draft: boolean; ready: boolean; onAsk: (question: string) => void }) {
  return (
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
      <p className="mt-1 text-sm text-slate-500">{draft ? "The draft answers, unpublished changes included. No Build needed." : "Answers cite the passages they come from."}</p>
      <div className="mt-5 flex flex-wrap justify-center gap-2">
        {SUGGESTIONS.map((s) => (
          <button
            key={s}
            type="button"
            disabled={!ready}
            onClick={() => onAsk(s)}
            className="rounded-full border border-slate-200 bg-white px-3 py-1.5 text-xs text-slate-600 shadow-xs hover:border-brand-300 hover:text-brand-700"
          >
            {s}
          </button>
        ))}
      </div>
    </div>
  );
}
