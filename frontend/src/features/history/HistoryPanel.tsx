import { Eye, GitCommitVertical, RotateCcw, Rocket, Trash2, X } from "lucide-react";
import { useEffect, useMemo, useState } from "react";
import { useClient, useQuery } from "urql";
import { describeError } from "../../api/errors";
import { Badge } from "../../ui/Badge";
import { IconButton } from "../../ui/Button";
import { Skeleton, Spinner } from "../../ui/Spinner";
import { ErrorState } from "../../ui/States";
import { cx } from "../../ui/cx";
import { fullTime, timeAgo } from "../../ui/time";
import { toast } from "../../ui/toasts";
import { toSnapshot } from "../builder/graph";
import { buildPreview } from "../builder/preview";
import { useCanvasStore } from "../builder/store";
import { describeHistory, eventTone, publishedAt, type EventTone } from "./historyModel";
import { HistoryQuery, VersionQuery } from "./operations";

const TONE_DOT: Record<EventTone, string> = {
  create: "bg-emerald-500",
  edit: "bg-sky-500",
  remove: "bg-red-500",
  publish: "bg-brand-600",
  rollback: "bg-amber-500",
};

function ToneIcon({ tone }: { tone: EventTone }) {
  if (tone === "publish") return <Rocket className="size-3 text-white" aria-hidden />;
  if (tone === "rollback") return <RotateCcw className="size-3 text-white" aria-hidden />;
  if (tone === "remove") return <Trash2 className="size-3 text-white" aria-hidden />;
  return <GitCommitVertical className="size-3 text-white" aria-hidden />;
}

/** The audit trail: every event with its version; choosing one shows the canvas as it stood. */
export function HistoryPanel({ workflowId, onClose }: { workflowId: string; onClose: () => void }) {
  const client = useClient();
  const current = useCanvasStore((s) => s.server?.version ?? 0);
  const published = useCanvasStore((s) => s.server?.published ?? []);
  const preview = useCanvasStore((s) => s.preview);
  const setPreview = useCanvasStore((s) => s.setPreview);
  const [loading, setLoading] = useState<number | null>(null);
  const [{ data, fetching, error }, refetch] = useQuery({ query: HistoryQuery, variables: { id: workflowId }, requestPolicy: "network-only" });

  useEffect(() => {
    if (data && data.workflowHistory.length < current) refetch({ requestPolicy: "network-only" });
  }, [current, data, refetch]);

  async function view(version: number) {
    if (version === current) {
      setPreview(null);
      return;
    }
    setLoading(version);
    const result = await client.query(VersionQuery, { id: workflowId, version, current }, { requestPolicy: "network-only" }).toPromise();
    setLoading(null);
    if (result.error || !result.data?.workflow) {
      toast.error(result.error ? describeError(result.error, `load version ${version}`) : `Version ${version} was not found.`);
      return;
    }
    const { workflowDiff } = result.data;
    const diff = {
      ...workflowDiff,
      addedNodes: workflowDiff.addedNodes.map((n) => ({ ...n, position: { ...n.position }, config: (n.config ?? {}) as Record<string, unknown> })),
      addedEdges: workflowDiff.addedEdges.map((e) => ({ ...e, sourceHandle: e.sourceHandle ?? null, targetHandle: e.targetHandle ?? null })),
    };
    setPreview(buildPreview(toSnapshot(result.data.workflow), diff, current));
  }

  const marks = publishedAt(published);
  const events = useMemo(() => [...(data?.workflowHistory ?? [])].sort((a, b) => b.version - a.version), [data]);
  const lines = useMemo(() => describeHistory(events), [events]);

  return (
    <div className="flex h-full flex-col" role="region" aria-label="History">
      <div className="flex items-center gap-2 border-b border-slate-100 px-5 py-4">
        <div className="flex-1">
          <h2 className="text-[15px] font-semibold text-slate-900">History</h2>
          <p className="text-xs text-slate-500">Every change, newest first. Choose one to see the stack as it was.</p>
        </div>
        <IconButton label="Close history" onClick={onClose}>
          <X className="size-4" />
        </IconButton>
      </div>
      <div className="flex-1 overflow-y-auto px-3 py-3">
        {error && !data ? (
          <ErrorState title="Couldn't load the history" detail={describeError(error)} onRetry={() => refetch({ requestPolicy: "network-only" })} />
        ) : fetching && !data ? (
          <div className="space-y-3 px-2">
            {[0, 1, 2, 3, 4].map((i) => (
              <Skeleton key={i} className="h-10 w-full" />
            ))}
          </div>
        ) : (
          <ol className="relative" aria-label="Versions">
            <span className="absolute top-3 bottom-3 left-[22px] w-px bg-slate-200" aria-hidden />
            {events.map((event) => {
              const tone = eventTone(event.type);
              const pub = marks.get(event.version);
              const selected = preview ? preview.version === event.version : event.version === current;
              return (
                <li key={event.version} className="relative">
                  <button
                    type="button"
                    onClick={() => void view(event.version)}
                    aria-current={selected ? "true" : undefined}
                    aria-label={`Version ${event.version}: ${lines.get(event.version)}${pub ? `, published v${pub}` : ""}`}
                    className={cx(
                      "group flex w-full items-start gap-3 rounded-xl px-2 py-2 text-left transition-colors",
                      selected ? "bg-brand-50 ring-1 ring-brand-200" : "hover:bg-slate-50",
                    )}
                  >
                    <span className={cx("relative z-10 mt-0.5 flex size-5 shrink-0 items-center justify-center rounded-full ring-4 ring-white", TONE_DOT[tone])}>
                      <ToneIcon tone={tone} />
                    </span>
                    <span className="min-w-0 flex-1">
                      <span className="flex items-center gap-2">
                        <span className="truncate text-[13px] font-medium text-slate-800" title={lines.get(event.version)}>
                          {lines.get(event.version)}
                        </span>
                        {pub && <Badge tone="brand">v{pub} published</Badge>}
                      </span>
                      <span className="mt-0.5 block text-[11px] text-slate-500" title={fullTime(event.timestamp)}>
                        Version {event.version} · {event.actor ?? "unknown"} · {timeAgo(event.timestamp)}
                        {event.version === current && " · current"}
                      </span>
                    </span>
                    {loading === event.version ? (
                      <Spinner className="mt-1 size-3.5 text-slate-400" />
                    ) : (
                      event.version !== current && <Eye className="mt-1 size-3.5 text-slate-300 group-hover:text-slate-500" aria-hidden />
                    )}
                  </button>
                </li>
              );
            })}
          </ol>
        )}
      </div>
    </div>
  );
}
