import { ArrowRight, GitCompareArrows } from "lucide-react";
import type { ReactNode } from "react";
import { useQuery } from "urql";
import { describeError } from "../../api/errors";
import type { CompareVersionsQuery } from "../../gql/graphql";
import { Badge } from "../../ui/Badge";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { Skeleton } from "../../ui/Spinner";
import { ErrorState } from "../../ui/States";
import { cx } from "../../ui/cx";
import { KIND_LOOK } from "../builder/nodes/kinds";
import { CompareQuery } from "./operations";

type Diff = CompareVersionsQuery["workflowDiff"];
type Line = Diff["stackChanges"][number];

const STATUS: Record<Diff["nodeChanges"][number]["status"], { tone: "green" | "red" | "amber"; word: string }> = {
  ADDED: { tone: "green", word: "Added" },
  REMOVED: { tone: "red", word: "Removed" },
  CHANGED: { tone: "amber", word: "Changed" },
};

const GRID = "grid grid-cols-[minmax(9rem,13rem)_minmax(0,1fr)_minmax(0,1fr)] gap-x-4";

/** Two versions side by side, field by field (fromVersion is the older one). */
export function CompareDialog({ workflowId, from, to, onClose }: { workflowId: string; from: number; to: number; onClose: () => void }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: CompareQuery, variables: { id: workflowId, from, to }, requestPolicy: "network-only" });
  const diff = data?.workflowDiff;
  return (
    <Dialog
      open
      onClose={onClose}
      size="xl"
      title={
        <span className="flex items-center gap-2">
          <GitCompareArrows className="size-4 text-brand-600" aria-hidden /> Compare versions
        </span>
      }
      description={diff ? `What differs from ${diff.fromLabel} to ${diff.toLabel}` : `Change ${from} and change ${to}`}
      bodyClassName="max-h-[70vh] overflow-y-auto"
      footer={<Button onClick={onClose}>Close</Button>}
    >
      {error && !diff ? (
        <ErrorState title="Couldn't compare these versions" detail={describeError(error)} onRetry={() => refetch({ requestPolicy: "network-only" })} />
      ) : !diff || fetching ? (
        <div className="space-y-3">
          {[0, 1, 2].map((i) => (
            <Skeleton key={i} className="h-16 w-full" />
          ))}
        </div>
      ) : (
        <CompareView diff={diff} />
      )}
    </Dialog>
  );
}

export function CompareView({ diff }: { diff: Diff }) {
  const same = diff.stackChanges.length === 0 && diff.nodeChanges.length === 0 && diff.edgeChanges.length === 0;
  return (
    <div className="text-[13px]" data-testid="comparison">
      <div className={cx(GRID, "sticky top-0 z-10 -mx-1 mb-3 rounded-lg bg-slate-100 px-3 py-2 text-[12px] font-semibold text-slate-600")}>
        <span>What</span>
        <span>{diff.fromLabel}</span>
        <span className="flex items-center gap-1.5">
          <ArrowRight className="size-3.5 text-slate-400" aria-hidden /> {diff.toLabel}
        </span>
      </div>
      {same ? (
        <p className="py-10 text-center text-slate-500">These two versions hold the same stack (nodes may have been moved and moved back).</p>
      ) : (
        <div className="space-y-5">
          {diff.stackChanges.length > 0 && (
            <Section title="Stack">
              <Card>
                {diff.stackChanges.map((line) => (
                  <FieldRow key={line.field} line={line} />
                ))}
              </Card>
            </Section>
          )}
          {diff.nodeChanges.length > 0 && (
            <Section title={`Nodes (${diff.nodeChanges.length})`}>
              {diff.nodeChanges.map((node) => (
                <NodeCard key={node.nodeId} node={node} />
              ))}
            </Section>
          )}
          {diff.edgeChanges.length > 0 && (
            <Section title={`Connections (${diff.edgeChanges.length})`}>
              <Card>
                {diff.edgeChanges.map((edge) => (
                  <div key={edge.edgeId} className={cx(GRID, "px-3 py-2")} aria-label={edge.text}>
                    <span className="text-slate-700">{edge.connection}</span>
                    <Presence here={edge.status !== "ADDED"} />
                    <Presence here={edge.status !== "REMOVED"} />
                  </div>
                ))}
              </Card>
            </Section>
          )}
        </div>
      )}
    </div>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-label={title}>
      <h3 className="mb-2 text-[12px] font-semibold tracking-wide text-slate-500 uppercase">{title}</h3>
      <div className="space-y-3">{children}</div>
    </section>
  );
}

function Card({ children }: { children: ReactNode }) {
  return <div className="divide-y divide-slate-100 rounded-xl ring-1 ring-slate-200">{children}</div>;
}

function NodeCard({ node }: { node: Diff["nodeChanges"][number] }) {
  const look = KIND_LOOK[node.kind];
  const Icon = look.icon;
  const status = STATUS[node.status];
  const head = node.fields.find((f) => f.field === "node");
  const fields = node.fields.filter((f) => f !== head);
  return (
    <div className="rounded-xl ring-1 ring-slate-200" role="group" aria-label={`${node.label}: ${status.word.toLowerCase()}`}>
      <div className="flex items-center gap-2.5 rounded-t-xl border-b border-slate-100 bg-slate-50/70 px-3 py-2">
        <span className={cx("flex size-6 items-center justify-center rounded-md ring-1", look.tile)}>
          <Icon className="size-3.5" aria-hidden />
        </span>
        <span className="font-semibold text-slate-800">{node.label}</span>
        <Badge tone={status.tone}>{status.word}</Badge>
      </div>
      <div className="divide-y divide-slate-100">
        {head && (
          <div className={cx(GRID, "px-3 py-2 text-slate-500 italic")}>
            <span>Node</span>
            <span>{head.before ?? "Not in this version"}</span>
            <span>{head.after ?? "Not in this version"}</span>
          </div>
        )}
        {fields.map((line) => (
          <FieldRow key={line.field} line={line} />
        ))}
      </div>
    </div>
  );
}

/** One field side by side; a secret is only said to have changed. */
function FieldRow({ line }: { line: Line }) {
  const secret = line.before === null && line.after === null;
  return (
    <div className={cx(GRID, "px-3 py-2")} data-field={line.field}>
      <span className="font-medium text-slate-600">{line.label}</span>
      {secret ? (
        <span className="col-span-2 text-slate-600 italic">{line.text}</span>
      ) : (
        <>
          <Value value={line.before} tone="old" />
          <Value value={line.after} tone="new" />
        </>
      )}
    </div>
  );
}

function Value({ value, tone }: { value: string | null; tone: "old" | "new" }) {
  if (value === null) return <span className="text-slate-400">—</span>;
  return (
    <span
      className={cx(
        "max-h-32 overflow-y-auto rounded-md px-1.5 py-0.5 break-words whitespace-pre-wrap",
        tone === "old" ? "bg-red-50 text-red-800" : "bg-emerald-50 text-emerald-800",
      )}
    >
      {value}
    </span>
  );
}

function Presence({ here }: { here: boolean }) {
  return here ? <span className="text-emerald-700">Connected</span> : <span className="text-slate-400">—</span>;
}
