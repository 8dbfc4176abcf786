import { AlertTriangle, Bot, FlaskConical, GitCommitHorizontal } from "lucide-react";
import { memo } from "react";
import { cx } from "../../ui/cx";
import { AnswerFeedback } from "./AnswerFeedback";
import { answeredByLabel, type AnsweredBy, type ChatItem } from "./chatReducer";
import { Markdown } from "./Markdown";
import { Sources } from "./Sources";
import { WebSources } from "./WebSources";

/** Which version answered: "v2 · change 17" or "Draft · change 23", in amber for the draft. */
function AnsweredByLine({ by }: { by: AnsweredBy }) {
  const label = answeredByLabel(by);
  if (!label) return null;
  const draft = by.publishedVersion == null;
  return (
    <p
      className={cx("mt-1.5 flex items-center gap-1 text-[11px]", draft ? "text-amber-700" : "text-slate-400")}
      data-testid="answered-by"
      title={draft ? "Answered by the unpublished draft at this change" : "Answered by this published version"}
    >
      {draft ? <FlaskConical className="size-3" aria-hidden /> : <GitCommitHorizontal className="size-3" aria-hidden />}
      {label}
    </p>
  );
}

function AssistantAvatar() {
  return (
    <span className="flex size-7 shrink-0 items-center justify-center rounded-full bg-gradient-to-br from-brand-500 to-violet-600 text-white shadow-sm">
      <Bot className="size-4" aria-hidden />
    </span>
  );
}

/** `sessionId`: the session the item is of, once it is one (its answers can then be rated). */
export const ChatItemView = memo(function ChatItemView({ item, sessionId }: { item: ChatItem; sessionId?: string | null }) {
  if (item.kind === "failure") {
    return (
      <div className="flex gap-3" role="alert">
        <span className="flex size-7 shrink-0 items-center justify-center rounded-full bg-red-100 text-red-600">
          <AlertTriangle className="size-4" aria-hidden />
        </span>
        <div className="max-w-[85%] rounded-2xl rounded-tl-sm bg-red-50 px-4 py-2.5 text-sm text-red-800 ring-1 ring-red-100">
          <p className="font-medium">The answer failed{item.code && item.code !== "SEND" ? ` (${item.code})` : ""}</p>
          <p className="mt-0.5 text-red-700">{item.text}</p>
          <AnsweredByLine by={item} />
        </div>
      </div>
    );
  }
  const { message } = item;
  if (message.role === "USER") {
    return (
      <div className="flex justify-end" data-testid="chat-user-message">
        <div className="max-w-[80%] rounded-2xl rounded-tr-sm bg-brand-600 px-4 py-2.5 text-sm whitespace-pre-wrap text-white shadow-sm">{message.content}</div>
      </div>
    );
  }
  return (
    <div className="flex gap-3" data-testid="chat-assistant-message">
      <AssistantAvatar />
      <div className="min-w-0 max-w-[85%]">
        <div className="rounded-2xl rounded-tl-sm bg-white px-4 py-2.5 shadow-xs ring-1 ring-slate-200">
          <Markdown>{message.content}</Markdown>
        </div>
        <Sources sources={message.sources} />
        <WebSources sources={message.webSources} />
        <AnsweredByLine by={message} />
        {sessionId && (
          <AnswerFeedback
            sessionId={sessionId}
            messageId={message.id}
            initial={message.feedback ? { rating: message.feedback.rating ?? null, note: message.feedback.note } : null}
          />
        )}
      </div>
    </div>
  );
});

/** The answer as it streams in; `joinedLate`: its beginning went out before this chat was opened. */
export function StreamingView({ content, joinedLate = false }: { content: string; joinedLate?: boolean }) {
  return (
    <div className="flex gap-3" data-testid="chat-streaming">
      <AssistantAvatar />
      <div className="min-w-0 max-w-[85%] rounded-2xl rounded-tl-sm bg-white px-4 py-2.5 shadow-xs ring-1 ring-slate-200">
        <Markdown>{joinedLate ? `…${content}` : content}</Markdown>
        <span className="ml-0.5 inline-block h-4 w-1.5 animate-pulse rounded-sm bg-brand-500 align-middle" aria-hidden />
      </div>
    </div>
  );
}

export function ThinkingView({ label }: { label: string }) {
  return (
    <div className="flex items-center gap-3" role="status" data-testid="chat-thinking">
      <AssistantAvatar />
      <div className="flex items-center gap-2 rounded-2xl rounded-tl-sm bg-white px-4 py-2.5 text-sm text-slate-500 shadow-xs ring-1 ring-slate-200">
        <span className="flex gap-1" aria-hidden>
          {[0, 150, 300].map((d) => (
            <span key={d} className="size-1.5 animate-bounce rounded-full bg-brand-400" style={{ animationDelay: `${d}ms` }} />
          ))}
        </span>
        {label}
      </div>
    </div>
  );
}
