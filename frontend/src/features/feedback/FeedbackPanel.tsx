import { MessageSquareWarning, RotateCw, ThumbsDown, ThumbsUp, X } from "lucide-react";
import { useEffect, useState } from "react";
import { useClient } from "urql";
import { describeError } from "../../api/errors";
import type { StackFeedbackQuery as Feedback } from "../../gql/graphql";
import { Button, IconButton } from "../../ui/Button";
import { Skeleton } from "../../ui/Spinner";
import { ErrorState } from "../../ui/States";
import { fullTime, timeAgo } from "../../ui/time";
import { StackFeedbackQuery } from "./operations";

export const PAGE = 20;

type RatedDown = Feedback["feedback"]["ratedDown"][number];

interface Loaded {
  up: number;
  down: number;
  items: RatedDown[];
  hasMore: boolean;
}

/**
 * What people thought of the stack's answers: the thumbs up and down, and each answer rated
 * down with the question it answered and the note that says why, newest first, a page at a time.
 */
export function FeedbackPanel({ workflowId, onClose }: { workflowId: string; onClose: () => void }) {
  const client = useClient();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fetching, setFetching] = useState(false);

  async function load(offset: number) {
    setFetching(true);
    const result = await client.query(StackFeedbackQuery, { workflowId, first: PAGE, offset }, { requestPolicy: "network-only" }).toPromise();
    setFetching(false);
    if (result.error || !result.data) {
      setError(result.error ? describeError(result.error) : "No answer from the server.");
      return;
    }
    const page = result.data.feedback;
    setError(null);
    setLoaded((before) => ({
      up: page.up,
      down: page.down,
      items: offset === 0 || !before ? page.ratedDown : [...before.items, ...page.ratedDown],
      hasMore: page.hasMore,
    }));
  }

  useEffect(() => {
    void load(0); // once per stack; Refresh and Show more load again
  }, [workflowId]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <div className="flex h-full flex-col" role="region" aria-label="Feedback">
      <div className="flex items-center gap-2 border-b border-slate-100 px-5 py-4">
        <div className="min-w-0 flex-1">
          <h2 className="text-[15px] font-semibold text-slate-900">Feedback</h2>
          <p className="text-xs text-slate-500">How people rated this stack's answers.</p>
        </div>
        <IconButton label="Refresh feedback" onClick={() => void load(0)}>
          <RotateCw className="size-4" />
        </IconButton>
        <IconButton label="Close feedback" onClick={onClose}>
          <X className="size-4" />
        </IconButton>
      </div>
      {error && !loaded ? (
        <div className="p-4">
          <ErrorState title="Couldn't load the feedback" detail={error} onRetry={() => void load(0)} />
        </div>
      ) : !loaded ? (
        <div className="space-y-3 px-5 py-4">
          {[0, 1, 2].map((i) => (
            <Skeleton key={i} className="h-16 w-full" />
          ))}
        </div>
      ) : (
        <div className="flex-1 overflow-y-auto px-5 py-4">
          <dl className="mb-4 grid grid-cols-2 gap-2" aria-label="Ratings">
            <Count icon={<ThumbsUp className="size-4" aria-hidden />} label="Thumbs up" value={loaded.up} tone="text-emerald-700 bg-emerald-50 ring-emerald-100" />
            <Count icon={<ThumbsDown className="size-4" aria-hidden />} label="Thumbs down" value={loaded.down} tone="text-red-700 bg-red-50 ring-red-100" />
          </dl>
          {loaded.items.length === 0 ? (
            <div className="rounded-xl bg-slate-50 px-4 py-6 text-center text-sm text-slate-500">
              <MessageSquareWarning className="mx-auto mb-2 size-5 text-slate-400" aria-hidden />
              No answer has been rated down. Ratings appear here as people give them in the chat.
            </div>
          ) : (
            <>
              <h3 className="mb-2 text-[13px] font-semibold text-slate-800">Answers rated down</h3>
              <ol className="space-y-3" aria-label="Answers rated down">
                {loaded.items.map((item) => (
                  <RatedDownItem key={item.feedback.messageId} item={item} />
                ))}
              </ol>
              {loaded.hasMore && (
                <Button className="mt-3 w-full" size="sm" loading={fetching} onClick={() => void load(loaded.items.length)}>
                  Show more
                </Button>
              )}
            </>
          )}
          {error && <p className="mt-3 text-xs text-red-600">{error}</p>}
        </div>
      )}
    </div>
  );
}

function Count({ icon, label, value, tone }: { icon: React.ReactNode; label: string; value: number; tone: string }) {
  return (
    <div className={`flex items-center gap-2 rounded-xl px-3 py-2 ring-1 ${tone}`}>
      {icon}
      <dt className="text-xs">{label}</dt>
      <dd className="ml-auto text-base font-semibold tabular-nums">{value}</dd>
    </div>
  );
}

function RatedDownItem({ item }: { item: RatedDown }) {
  const { feedback } = item;
  return (
    <li className="rounded-xl border border-slate-200 p-3 text-sm" data-testid="rated-down">
      <p className="font-medium text-slate-900">{item.question || "(the question is not known)"}</p>
      <details className="mt-1 text-[13px] text-slate-600">
        <summary className="cursor-pointer text-xs text-slate-500 hover:text-slate-800">The answer</summary>
        <p className="mt-1 whitespace-pre-wrap">{item.answer}</p>
      </details>
      {feedback.note ? (
        <blockquote className="mt-2 border-l-2 border-red-200 pl-2 text-[13px] text-slate-700">{feedback.note}</blockquote>
      ) : (
        <p className="mt-2 text-xs text-slate-400">No note.</p>
      )}
      <p className="mt-2 text-[11px] text-slate-400">
        {feedback.actorName} · <time dateTime={feedback.ratedAt} title={fullTime(feedback.ratedAt)}>{timeAgo(feedback.ratedAt)}</time>
        {" · "}
        {item.publishedVersion == null ? "draft" : `v${item.publishedVersion}`}
        {item.model ? ` · ${item.model}` : ""}
      </p>
    </li>
  );
}
