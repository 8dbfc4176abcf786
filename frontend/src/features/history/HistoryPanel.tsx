import { GitCompareArrows, X } from "lucide-react";
import { useEffect, useMemo, useRef, useState } from "react";
import { useClient, useQuery } from "urql";
import { describeError } from "../../api/errors";
import { Button, IconButton } from "../../ui/Button";
import { Skeleton } from "../../ui/Spinner";
import { ErrorState } from "../../ui/States";
import { cx } from "../../ui/cx";
import { toast } from "../../ui/toasts";
import { toSnapshot } from "../builder/graph";
import { buildPreview } from "../builder/preview";
import { useCanvasStore } from "../builder/store";
import { useDocuments } from "../documents/documentsStore";
import { CompareDialog } from "./CompareDialog";
import { HistoryList } from "./HistoryList";
import { builtAt, comparePair, newestChange, publishedAt, togglePick, versionLabel } from "./historyModel";
import { HistoryQuery, VersionQuery } from "./operations";

/** Whatever the documents did last: when it moves, their events in the history have too. */
function documentsSignature(): string {
  const { docs } = useDocuments.getState();
  return Object.values(docs)
    .map((d) => `${d.id}:${d.status}:${d.updatedAt}`)
    .join("|");
}

/**
 * The stack's history in words: every change and its documents' events, newest first, by kind.
 * Choosing a change shows the canvas as it stood; Compare puts any two side by side.
 */
export function HistoryPanel({ workflowId, onClose }: { workflowId: string; onClose: () => void }) {
  const client = useClient();
  const current = useCanvasStore((s) => s.server?.version ?? 0);
  const published = useCanvasStore((s) => s.server?.published ?? []);
  const preview = useCanvasStore((s) => s.preview);
  const setPreview = useCanvasStore((s) => s.setPreview);
  const [loading, setLoading] = useState<number | null>(null);
  const [comparing, setComparing] = useState(false);
  const [picked, setPicked] = useState<number[]>([]);
  const [comparison, setComparison] = useState<[number, number] | null>(null);
  const [{ data, fetching, error }, refetch] = useQuery({ query: HistoryQuery, variables: { id: workflowId }, requestPolicy: "network-only" });
  const entries = useMemo(() => data?.workflowHistory ?? [], [data]);

  // A change made since (here or elsewhere) or a document that moved on: fetch again.
  const seenDocuments = useRef(documentsSignature());
  useEffect(() => {
    if (data && newestChange(entries) < current) refetch({ requestPolicy: "network-only" });
  }, [current, data, entries, refetch]);
  useEffect(
    () =>
      useDocuments.subscribe(() => {
        const now = documentsSignature();
        if (now === seenDocuments.current) return;
        seenDocuments.current = now;
        refetch({ requestPolicy: "network-only" });
      }),
    [refetch],
  );

  async function open(version: number) {
    if (version === current) {
      setPreview(null);
      return;
    }
    setLoading(version);
    const result = await client.query(VersionQuery, { id: workflowId, version, current }, { requestPolicy: "network-only" }).toPromise();
    setLoading(null);
    if (result.error || !result.data?.workflow) {
      toast.error(result.error ? describeError(result.error, `load change ${version}`) : `Change ${version} was not found.`);
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

  const pair = comparePair(picked);
  const selected = preview ? preview.version : current;

  return (
    <div className="flex h-full flex-col" role="region" aria-label="History">
      <div className="flex items-center gap-2 border-b border-slate-100 px-5 py-4">
        <div className="min-w-0 flex-1">
          <h2 className="text-[15px] font-semibold text-slate-900">History</h2>
          <p className="text-xs text-slate-500">
            {comparing ? "Pick two changes to compare them side by side." : "Every change, newest first. Choose one to see the stack as it was."}
          </p>
        </div>
        <Button
          size="sm"
          variant={comparing ? "secondary" : "ghost"}
          className={cx(comparing && "border-brand-200 bg-brand-50 text-brand-700 hover:bg-brand-50")}
          icon={<GitCompareArrows className="size-4" />}
          aria-pressed={comparing}
          onClick={() => {
            setComparing(!comparing);
            setPicked([]);
          }}
        >
          Compare
        </Button>
        <IconButton label="Close history" onClick={onClose}>
          <X className="size-4" />
        </IconButton>
      </div>
      {error && !data ? (
        <div className="p-4">
          <ErrorState title="Couldn't load the history" detail={describeError(error)} onRetry={() => refetch({ requestPolicy: "network-only" })} />
        </div>
      ) : fetching && !data ? (
        <div className="space-y-3 px-5 py-4">
          {[0, 1, 2, 3, 4].map((i) => (
            <Skeleton key={i} className="h-10 w-full" />
          ))}
        </div>
      ) : (
        <HistoryList
          entries={entries}
          current={current}
          selected={selected}
          built={builtAt(published)}
          loadingVersion={loading}
          onOpen={(version) => void open(version)}
          comparing={comparing}
          picked={picked}
          onPick={(version) => setPicked((p) => togglePick(p, version))}
        />
      )}
      {comparing && (
        <div className="flex items-center gap-3 border-t border-slate-200 bg-slate-50 px-4 py-3">
          <p className="min-w-0 flex-1 text-[12px] text-slate-600">
            {pair
              ? `${versionLabel(pair[0], publishedAt(pair[0], published))} → ${versionLabel(pair[1], publishedAt(pair[1], published))}`
              : picked.length === 1
                ? "Now pick a second change."
                : "Pick two changes."}
          </p>
          <Button size="sm" variant="primary" disabled={!pair} onClick={() => pair && setComparison(pair)}>
            Compare these
          </Button>
        </div>
      )}
      {comparison && <CompareDialog workflowId={workflowId} from={comparison[0]} to={comparison[1]} onClose={() => setComparison(null)} />}
    </div>
  );
}
