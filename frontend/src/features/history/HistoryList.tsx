import { Check, Eye, FileText, FileWarning, Move, Pencil, Plus, Redo2, Rocket, RotateCcw, Trash2, Undo2 } from "lucide-react";
import { useMemo, useState, type ReactNode } from "react";
import { Badge } from "../../ui/Badge";
import { Spinner } from "../../ui/Spinner";
import { cx } from "../../ui/cx";
import { fullTime, timeAgo } from "../../ui/time";
import { countsByFilter, detailLines, FILTERS, isDocument, PAGE, shown, toneOf, versionLabel, type Filter, type HistoryEntry, type Tone } from "./historyModel";

const TONE: Record<Tone, { dot: string; icon: ReactNode }> = {
  create: { dot: "bg-emerald-500", icon: <Plus className="size-3 text-white" aria-hidden /> },
  edit: { dot: "bg-sky-500", icon: <Pencil className="size-2.5 text-white" aria-hidden /> },
  remove: { dot: "bg-red-500", icon: <Trash2 className="size-3 text-white" aria-hidden /> },
  move: { dot: "bg-slate-400", icon: <Move className="size-3 text-white" aria-hidden /> },
  publish: { dot: "bg-brand-600", icon: <Rocket className="size-3 text-white" aria-hidden /> },
  rollback: { dot: "bg-amber-500", icon: <RotateCcw className="size-3 text-white" aria-hidden /> },
  undo: { dot: "bg-violet-500", icon: <Undo2 className="size-3 text-white" aria-hidden /> },
  redo: { dot: "bg-violet-500", icon: <Redo2 className="size-3 text-white" aria-hidden /> },
  document: { dot: "bg-teal-500", icon: <FileText className="size-3 text-white" aria-hidden /> },
  failed: { dot: "bg-red-500", icon: <FileWarning className="size-3 text-white" aria-hidden /> },
};

const MAX_LINES = 3;

export interface HistoryListProps {
  /** Oldest first, as the server gives them. */
  entries: readonly HistoryEntry[];
  /** The stack's current change. */
  current: number;
  /** The change drawn on the canvas (an old one while previewing). */
  selected: number;
  /** Published version numbers by the change that built them. */
  built: ReadonlyMap<number, number>;
  loadingVersion: number | null;
  onOpen: (version: number) => void;
  /** While comparing, a click picks a change instead of opening it. */
  comparing: boolean;
  picked: readonly number[];
  onPick: (version: number) => void;
}

/** The stack's timeline: newest first, by kind, in pages; changes open or are picked to compare. */
export function HistoryList({ entries, current, selected, built, loadingVersion, onOpen, comparing, picked, onPick }: HistoryListProps) {
  const [filter, setFilter] = useState<Filter>("ALL");
  const [limit, setLimit] = useState(PAGE);
  const counts = useMemo(() => countsByFilter(entries), [entries]);
  const list = useMemo(() => shown(entries, filter), [entries, filter]);
  const visible = list.slice(0, limit);

  return (
    <>
      <div className="flex flex-wrap gap-1.5 border-b border-slate-100 px-4 py-2.5" role="group" aria-label="Show changes of a kind">
        {FILTERS.map(({ key, label }) => (
          <button
            key={key}
            type="button"
            aria-pressed={filter === key}
            aria-label={`${label} (${counts[key]})`}
            onClick={() => {
              setFilter(key);
              setLimit(PAGE);
            }}
            className={cx(
              "rounded-full px-2.5 py-1 text-[12px] font-medium ring-1 transition-colors ring-inset",
              filter === key ? "bg-slate-900 text-white ring-slate-900" : "bg-white text-slate-600 ring-slate-200 hover:bg-slate-50",
            )}
          >
            {label}
            <span className={cx("ml-1 tabular-nums", filter === key ? "text-slate-300" : "text-slate-400")}>{counts[key]}</span>
          </button>
        ))}
      </div>
      <div className="flex-1 overflow-y-auto px-3 py-3">
        {visible.length === 0 ? (
          <p className="px-3 py-8 text-center text-[13px] text-slate-500">No changes of this kind yet.</p>
        ) : (
          <ol className="relative" aria-label="Changes">
            <span className="absolute top-3 bottom-3 left-[22px] w-px bg-slate-200" aria-hidden />
            {visible.map((entry) => (
              <li key={entry.id} className="relative">
                {isDocument(entry) ? (
                  <DocumentRow entry={entry} />
                ) : (
                  <ChangeRow
                    entry={entry}
                    built={built.get(entry.version)}
                    isCurrent={entry.version === current}
                    isSelected={!comparing && entry.version === selected}
                    loading={loadingVersion === entry.version}
                    comparing={comparing}
                    pick={picked.indexOf(entry.version)}
                    onClick={() => (comparing ? onPick(entry.version) : onOpen(entry.version))}
                  />
                )}
              </li>
            ))}
          </ol>
        )}
        {list.length > limit && (
          <button
            type="button"
            onClick={() => setLimit((n) => n + PAGE)}
            className="mx-auto mt-2 block rounded-lg px-3 py-1.5 text-[13px] font-medium text-brand-700 hover:bg-brand-50"
          >
            Show older ({list.length - limit} more)
          </button>
        )}
      </div>
    </>
  );
}

function Dot({ tone }: { tone: Tone }) {
  return (
    <span className={cx("relative z-10 mt-0.5 flex size-5 shrink-0 items-center justify-center rounded-full ring-4 ring-white", TONE[tone].dot)}>
      {TONE[tone].icon}
    </span>
  );
}

function Details({ entry }: { entry: HistoryEntry }) {
  const lines = detailLines(entry);
  if (lines.length === 0) return null;
  const more = lines.length - MAX_LINES;
  return (
    <ul className="mt-1 space-y-0.5 text-[12px] leading-snug text-slate-600">
      {lines.slice(0, MAX_LINES).map((line, i) => (
        <li key={i} className="flex gap-1.5">
          <span className="mt-[7px] size-1 shrink-0 rounded-full bg-slate-300" aria-hidden />
          <span className="min-w-0 break-words">{line}</span>
        </li>
      ))}
      {more > 0 && <li className="pl-2.5 text-slate-400">and {more} more</li>}
    </ul>
  );
}

function ChangeRow({
  entry,
  built,
  isCurrent,
  isSelected,
  loading,
  comparing,
  pick,
  onClick,
}: {
  entry: HistoryEntry;
  built: number | undefined;
  isCurrent: boolean;
  isSelected: boolean;
  loading: boolean;
  comparing: boolean;
  pick: number;
  onClick: () => void;
}) {
  const label = versionLabel(entry.version, entry.publishedVersion);
  const picked = pick >= 0;
  return (
    <button
      type="button"
      onClick={onClick}
      aria-current={isSelected ? "true" : undefined}
      aria-pressed={comparing ? picked : undefined}
      aria-label={`Change ${entry.version}: ${entry.summary}${built ? `, published v${built}` : ""}${entry.undone ? ", undone" : ""}`}
      className={cx(
        "group flex w-full items-start gap-3 rounded-xl px-2 py-2 text-left transition-colors",
        isSelected || picked ? "bg-brand-50 ring-1 ring-brand-200" : "hover:bg-slate-50",
      )}
    >
      <Dot tone={toneOf(entry)} />
      <span className="min-w-0 flex-1">
        <span className="flex items-start gap-2">
          <span className={cx("min-w-0 text-[13px] leading-snug font-medium break-words", entry.undone ? "text-slate-400 line-through" : "text-slate-800")}>
            {entry.summary}
          </span>
          {built && (
            <Badge tone="brand" className="mt-px">
              v{built} published
            </Badge>
          )}
          {entry.undone && <Badge className="mt-px">undone</Badge>}
        </span>
        <Details entry={entry} />
        <span className="mt-1 block text-[11px] text-slate-500" title={fullTime(entry.timestamp)}>
          <span className="font-medium text-slate-600">{label}</span> · {entry.actorName ?? entry.actor ?? "unknown"} · {timeAgo(entry.timestamp)}
          {isCurrent && " · current"}
        </span>
      </span>
      {comparing ? (
        <span
          className={cx(
            "mt-0.5 flex size-5 shrink-0 items-center justify-center rounded-full text-[11px] font-semibold ring-1",
            picked ? "bg-brand-600 text-white ring-brand-600" : "bg-white text-transparent ring-slate-300 group-hover:ring-slate-400",
          )}
          aria-hidden
        >
          {picked ? pick + 1 : <Check className="size-3" />}
        </span>
      ) : loading ? (
        <Spinner className="mt-1 size-3.5 text-slate-400" />
      ) : (
        !isCurrent && <Eye className="mt-1 size-3.5 shrink-0 text-slate-300 group-hover:text-slate-500" aria-hidden />
      )}
    </button>
  );
}

function DocumentRow({ entry }: { entry: HistoryEntry }) {
  const tone = toneOf(entry);
  return (
    <div className="flex items-start gap-3 px-2 py-2" aria-label={`Document: ${entry.summary}`} role="group">
      <Dot tone={tone} />
      <span className="min-w-0 flex-1">
        <span className={cx("line-clamp-3 text-[13px] leading-snug break-words", tone === "failed" ? "text-red-700" : "text-slate-700")} title={entry.summary}>
          {entry.summary}
        </span>
        <span className="mt-1 block text-[11px] text-slate-500" title={fullTime(entry.timestamp)}>
          {entry.publishedVersion ? `v${entry.publishedVersion}` : "Draft"} · after change {entry.version} · {entry.actorName ?? entry.actor ?? "unknown"} · {timeAgo(entry.timestamp)}
        </span>
      </span>
    </div>
  );
}
