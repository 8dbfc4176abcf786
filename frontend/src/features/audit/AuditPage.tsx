import { ChevronLeft, ChevronRight, Download, ScrollText } from "lucide-react";
import { useState } from "react";
import { Link } from "react-router";
import { useQuery } from "urql";
import { describeError } from "../../api/errors";
import { authErrorMessage, authorizationHeader } from "../../api/session";
import { Button } from "../../ui/Button";
import { FieldShell, inputClass, selectClass } from "../../ui/Field";
import { EmptyState, ErrorState } from "../../ui/States";
import { Spinner } from "../../ui/Spinner";
import { fullTime, timeAgo } from "../../ui/time";
import { AdminPage } from "../admin/AdminPage";
import { AuditFiltersQuery, AuditLogQuery } from "./operations";

export const PAGE_SIZE = 50;

/** What the table shows: all empty is everything. Times are the inputs' local times. */
export interface AuditFilterValues {
  actor: string;
  stackId: string;
  kind: string;
  from: string; // datetime-local, e.g. 2026-12-01T10:00
  to: string;
}

export const NO_FILTERS: AuditFilterValues = { actor: "", stackId: "", kind: "", from: "", to: "" };

/** A datetime-local value (the browser's time zone) as an ISO instant; null when empty or not a time. */
export function instant(local: string): string | null {
  if (!local) return null;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The query's variables for these filters. */
export function auditVariables(workspaceId: string, f: AuditFilterValues, after: string | null) {
  return {
    workspaceId,
    actor: f.actor || null,
    stackId: f.stackId || null,
    kinds: f.kind ? [f.kind] : null,
    since: instant(f.from),
    until: instant(f.to),
    after,
    limit: PAGE_SIZE,
  };
}

/** The JSON Lines export of the same entries: GET /audit/export.jsonl with the same filters. */
export function exportUrl(workspaceId: string, f: AuditFilterValues): string {
  const params = new URLSearchParams({ workspace: workspaceId });
  if (f.actor) params.set("actor", f.actor);
  if (f.stackId) params.set("stack", f.stackId);
  if (f.kind) params.set("kind", f.kind);
  const since = instant(f.from);
  const until = instant(f.to);
  if (since) params.set("from", since);
  if (until) params.set("to", until);
  return `/audit/export.jsonl?${params.toString()}`;
}

/** NodeConfigured → Node configured. */
export function kindLabel(kind: string): string {
  const words = kind.replace(/(?<=[a-z0-9])(?=[A-Z])/g, " ").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function fileNameOf(disposition: string | null): string {
  const match = disposition?.match(/filename="?([^";]+)"?/);
  return match?.[1] ?? "audit.jsonl";
}

/** Downloads the export as the signed-in user (the access token is a header, not a cookie). */
async function download(url: string): Promise<string | null> {
  const response = await fetch(url, { headers: authorizationHeader(), credentials: "same-origin" });
  if (!response.ok) {
    const body: unknown = await response.json().catch(() => null);
    return authErrorMessage(body, response.status);
  }
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = href;
  link.download = fileNameOf(response.headers.get("content-disposition"));
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
  return null;
}

function Filters({
  workspaceId,
  values,
  onChange,
}: {
  workspaceId: string;
  values: AuditFilterValues;
  onChange: (values: AuditFilterValues) => void;
}) {
  const [{ data }] = useQuery({ query: AuditFiltersQuery, variables: { workspaceId }, requestPolicy: "cache-and-network" });
  const choices = data?.auditFilters;
  const set = (patch: Partial<AuditFilterValues>) => onChange({ ...values, ...patch });
  const filtered = Object.values(values).some(Boolean);
  return (
    <form aria-label="Filters" className="grid grid-cols-2 gap-3 rounded-2xl border border-slate-200 bg-white p-4 md:grid-cols-6" onSubmit={(e) => e.preventDefault()}>
      <FieldShell id="audit-actor" label="Who">
        <select id="audit-actor" className={selectClass} value={values.actor} onChange={(e) => set({ actor: e.target.value })}>
          <option value="">Anyone</option>
          {choices?.actors.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
        </select>
      </FieldShell>
      <FieldShell id="audit-stack" label="Stack">
        <select id="audit-stack" className={selectClass} value={values.stackId} onChange={(e) => set({ stackId: e.target.value })}>
          <option value="">Any stack</option>
          {choices?.stacks.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </FieldShell>
      <FieldShell id="audit-kind" label="What">
        <select id="audit-kind" className={selectClass} value={values.kind} onChange={(e) => set({ kind: e.target.value })}>
          <option value="">Any change</option>
          {choices?.kinds.map((k) => (
            <option key={k} value={k}>
              {kindLabel(k)}
            </option>
          ))}
        </select>
      </FieldShell>
      <FieldShell id="audit-from" label="From">
        <input id="audit-from" type="datetime-local" className={inputClass} value={values.from} onChange={(e) => set({ from: e.target.value })} />
      </FieldShell>
      <FieldShell id="audit-to" label="Until">
        <input id="audit-to" type="datetime-local" className={inputClass} value={values.to} onChange={(e) => set({ to: e.target.value })} />
      </FieldShell>
      <div className="flex items-end">
        <Button variant="ghost" disabled={!filtered} onClick={() => onChange(NO_FILTERS)}>
          Clear filters
        </Button>
      </div>
    </form>
  );
}

function AuditTable({ workspaceId, filters }: { workspaceId: string; filters: AuditFilterValues }) {
  // the cursors of the pages before this one: "Newer" goes back to the last
  const [cursors, setCursors] = useState<Array<string | null>>([]);
  const [after, setAfter] = useState<string | null>(null);
  const [{ data, error, fetching }, refetch] = useQuery({
    query: AuditLogQuery,
    variables: auditVariables(workspaceId, filters, after),
    requestPolicy: "cache-and-network",
  });

  if (error && !data)
    return <ErrorState title="Couldn't load the audit log" detail={describeError(error)} onRetry={() => refetch({ requestPolicy: "network-only" })} />;
  if (!data) return <Spinner className="mx-auto size-6 text-slate-400" label="Loading" />;
  const { entries, nextCursor } = data.auditLog;
  const page = cursors.length + 1;
  return (
    <div className="space-y-3">
      {entries.length === 0 ? (
        <EmptyState icon={<ScrollText className="size-7" />} title="Nothing here" detail="No change matches these filters." />
      ) : (
        <div className="overflow-x-auto rounded-2xl border border-slate-200 bg-white">
          <table className="w-full text-left text-sm" aria-label="Audit log">
            <thead className="bg-slate-50 text-xs text-slate-500">
              <tr>
                <th className="px-4 py-2 font-medium">When</th>
                <th className="px-4 py-2 font-medium">Who</th>
                <th className="px-4 py-2 font-medium">What</th>
                <th className="px-4 py-2 font-medium">Stack</th>
                <th className="px-4 py-2 font-medium">Change</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.position} className="border-t border-slate-100 align-top">
                  <td className="px-4 py-2.5 whitespace-nowrap text-slate-500" title={fullTime(entry.at)}>
                    {timeAgo(entry.at)}
                  </td>
                  <td className="px-4 py-2.5 text-slate-900">{entry.actor?.name ?? "—"}</td>
                  <td className="px-4 py-2.5 whitespace-nowrap text-slate-600">{kindLabel(entry.kind)}</td>
                  <td className="px-4 py-2.5 text-slate-600">
                    {entry.stack ? (
                      <Link to={`/stacks/${entry.stack.id}`} className="hover:underline">
                        {entry.stack.name}
                      </Link>
                    ) : (
                      <span className="text-slate-400">Workspace</span>
                    )}
                  </td>
                  <td className="px-4 py-2.5 break-words text-slate-900">{entry.summary}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav aria-label="Pages" className="flex items-center justify-between text-sm text-slate-500">
        <Button
          size="sm"
          variant="secondary"
          icon={<ChevronLeft className="size-4" />}
          disabled={cursors.length === 0 || fetching}
          onClick={() => {
            setAfter(cursors[cursors.length - 1] ?? null);
            setCursors(cursors.slice(0, -1));
          }}
        >
          Newer
        </Button>
        <span>Page {page}</span>
        <Button
          size="sm"
          variant="secondary"
          icon={<ChevronRight className="size-4" />}
          disabled={!nextCursor || fetching}
          onClick={() => {
            setCursors([...cursors, after]);
            setAfter(nextCursor ?? null);
          }}
        >
          Older
        </Button>
      </nav>
    </div>
  );
}

function WorkspaceAudit({ workspaceId }: { workspaceId: string }) {
  const [filters, setFilters] = useState<AuditFilterValues>(NO_FILTERS);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  return (
    <div className="space-y-4">
      <div className="flex items-start justify-between gap-4">
        <p className="text-sm text-slate-500">Every change in this workspace, newest first: stacks, documents, chats, members and tokens.</p>
        <Button
          icon={<Download className="size-4" />}
          loading={exporting}
          onClick={async () => {
            setExporting(true);
            try {
              setExportError(await download(exportUrl(workspaceId, filters)));
            } catch {
              setExportError("Couldn't reach the server.");
            } finally {
              setExporting(false);
            }
          }}
        >
          Export JSON Lines
        </Button>
      </div>
      {exportError && (
        <p role="alert" className="text-sm text-red-600">
          {exportError}
        </p>
      )}
      <Filters workspaceId={workspaceId} values={filters} onChange={setFilters} />
      {/* new filters start again from the newest page */}
      <AuditTable key={JSON.stringify(filters)} workspaceId={workspaceId} filters={filters} />
    </div>
  );
}

/** The audit log of each workspace the user administers: filters, pages and an export. */
export function AuditPage() {
  return (
    <AdminPage
      title="Audit log"
      selectId="audit-workspace"
      wide
      empty={{ icon: <ScrollText className="size-7" />, title: "Only admins read the audit log", detail: "Ask an admin of your workspace." }}
    >
      {(workspaceId) => <WorkspaceAudit key={workspaceId} workspaceId={workspaceId} />}
    </AdminPage>
  );
}
