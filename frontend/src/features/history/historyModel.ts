import type { ChangeCategory, WorkflowHistoryQuery } from "../../gql/graphql";
import type { Published } from "../builder/graph";

/** One entry of the history as the server words it (a change, or a document's event). */
export type HistoryEntry = WorkflowHistoryQuery["workflowHistory"][number];

export type Filter = "ALL" | ChangeCategory;

export const FILTERS: ReadonlyArray<{ key: Filter; label: string }> = [
  { key: "ALL", label: "All" },
  { key: "STRUCTURE", label: "Structure" },
  { key: "SETTINGS", label: "Settings" },
  { key: "LAYOUT", label: "Layout" },
  { key: "VERSIONS", label: "Builds & rollbacks" },
  { key: "DOCUMENTS", label: "Documents" },
];

/** How many entries are drawn at first, and added by each "show older". */
export const PAGE = 100;

/** A change as people number it: the published version in force, then the change. */
export function versionLabel(version: number, publishedVersion: number | null | undefined): string {
  return `${publishedVersion != null ? `v${publishedVersion}` : "Draft"} · change ${version}`;
}

/** The published version in force at a change, from the stack's published versions. */
export function publishedAt(version: number, published: readonly Published[]): number | null {
  let number: number | null = null;
  for (const p of published) if (p.workflowVersion <= version) number = p.number;
  return number;
}

/** Published version numbers by the change that built them. */
export function builtAt(published: readonly Published[]): Map<number, number> {
  return new Map(published.map((p) => [p.workflowVersion, p.number]));
}

export function isDocument(entry: HistoryEntry): boolean {
  return entry.documentId != null;
}

/** Newest first, of one kind of change. */
export function shown(entries: readonly HistoryEntry[], filter: Filter): HistoryEntry[] {
  const kept = filter === "ALL" ? [...entries] : entries.filter((e) => e.category === filter);
  return kept.reverse();
}

export function countsByFilter(entries: readonly HistoryEntry[]): Record<Filter, number> {
  const counts = Object.fromEntries(FILTERS.map((f) => [f.key, 0])) as Record<Filter, number>;
  counts.ALL = entries.length;
  for (const e of entries) counts[e.category] += 1;
  return counts;
}

/** The lines worth showing under an entry's summary: none when the summary already says it. */
export function detailLines(entry: HistoryEntry): string[] {
  const lines = entry.changes.map((c) => c.text);
  if (lines.length === 1 && entry.summary.includes(lines[0])) return [];
  if (lines.length > 1 && lines.every((line) => entry.summary.includes(line))) return [];
  return lines;
}

export type Tone = "create" | "edit" | "remove" | "move" | "publish" | "rollback" | "undo" | "redo" | "document" | "failed";

export function toneOf(entry: HistoryEntry): Tone {
  const { type } = entry;
  if (isDocument(entry)) return type.includes("Failed") ? "failed" : type.includes("Removed") ? "remove" : "document";
  if (type === "ChangeUndone") return "undo";
  if (type === "ChangeRedone") return "redo";
  if (type.includes("Published")) return "publish";
  if (type.includes("RolledBack")) return "rollback";
  if (type.includes("Moved")) return "move";
  if (type.includes("Removed") || type.includes("Disconnected") || type.includes("Deleted")) return "remove";
  if (type.includes("Added") || type.includes("Created") || type.includes("Connected") || type.includes("Imported")) return "create";
  return "edit";
}

/** Picks for a comparison: at most two changes; picking a third lets go of the first. */
export function togglePick(picked: readonly number[], version: number): number[] {
  if (picked.includes(version)) return picked.filter((v) => v !== version);
  return [...picked, version].slice(-2);
}

/** Two picked changes as a comparison goes: from the older to the newer. */
export function comparePair(picked: readonly number[]): [number, number] | null {
  if (picked.length !== 2) return null;
  const [a, b] = picked;
  return a < b ? [a, b] : [b, a];
}

/** The newest change the entries know of (documents' events name the change then current). */
export function newestChange(entries: readonly HistoryEntry[]): number {
  let newest = 0;
  for (const e of entries) if (!isDocument(e)) newest = Math.max(newest, e.version);
  return newest;
}
