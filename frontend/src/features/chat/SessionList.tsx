import { FlaskConical, MessageSquarePlus } from "lucide-react";
import { Badge } from "../../ui/Badge";
import { Button } from "../../ui/Button";
import { Spinner } from "../../ui/Spinner";
import { cx } from "../../ui/cx";
import { timeAgo } from "../../ui/time";
import { sessionTitle } from "./chatReducer";
import { newestFirst } from "./chatTarget";

export interface ListedSession {
  id: string;
  draft: boolean;
  publishedVersion: number;
  createdAt: string;
  messages: ReadonlyArray<{ role: string; content: string }>;
}

export interface SessionListProps {
  /** Undefined until the list is read. */
  sessions: ReadonlyArray<ListedSession> | undefined;
  loading: boolean;
  activeId: string | null;
  /** The latest published version: its chats are marked as current. */
  latestPublished: number | null;
  onOpen: (sessionId: string) => void;
  onNew: () => void;
}

/** The stack's chats, newest first, each titled by its first question and marked with its version. */
export function SessionList({ sessions, loading, activeId, latestPublished, onOpen, onNew }: SessionListProps) {
  return (
    <nav aria-label="Chat sessions" className="flex w-60 shrink-0 flex-col border-r border-slate-100 bg-slate-50/70">
      <div className="p-3">
        <Button className="w-full" icon={<MessageSquarePlus className="size-4" />} onClick={onNew}>
          New chat
        </Button>
      </div>
      <ul className="flex-1 space-y-0.5 overflow-y-auto px-2 pb-3">
        {loading && !sessions && (
          <li className="flex justify-center py-6 text-slate-400">
            <Spinner label="Loading chats" />
          </li>
        )}
        {newestFirst(sessions ?? []).map((s) => (
          <li key={s.id}>
            <button
              type="button"
              onClick={() => onOpen(s.id)}
              aria-current={s.id === activeId ? "true" : undefined}
              className={cx("w-full rounded-lg px-3 py-2 text-left transition-colors", s.id === activeId ? "bg-white shadow-xs ring-1 ring-slate-200" : "hover:bg-white/70")}
            >
              <span className="block truncate text-[13px] font-medium text-slate-800">{sessionTitle(s.messages)}</span>
              <span className="mt-0.5 flex items-center gap-1.5 text-[11px] text-slate-500">
                {timeAgo(s.createdAt)}
                <VersionBadge session={s} latestPublished={latestPublished} />
              </span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function VersionBadge({ session, latestPublished }: { session: ListedSession; latestPublished: number | null }) {
  if (session.draft) {
    return (
      <Badge tone="amber" className="!px-1.5 !py-0">
        <FlaskConical className="size-2.5" aria-hidden />
        Draft
      </Badge>
    );
  }
  return (
    <Badge tone={session.publishedVersion === latestPublished ? "brand" : "slate"} className="!px-1.5 !py-0">
      v{session.publishedVersion}
    </Badge>
  );
}
