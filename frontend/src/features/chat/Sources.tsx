import { BookOpen, ChevronDown, FileText } from "lucide-react";
import { useState } from "react";
import { cx } from "../../ui/cx";
import type { Message } from "./chatReducer";

/** The passages an answer cites: a count that opens into the list; each passage opens to its full text. */
export function Sources({ sources }: { sources: Message["sources"] }) {
  const [open, setOpen] = useState(false);
  const [expanded, setExpanded] = useState<number | null>(null);
  if (sources.length === 0) return null;
  return (
    <div className="mt-2">
      <button
        type="button"
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
        className="inline-flex items-center gap-1.5 rounded-full bg-slate-100 px-2.5 py-1 text-xs font-medium text-slate-600 hover:bg-slate-200"
      >
        <BookOpen className="size-3.5" aria-hidden />
        {sources.length} source{sources.length === 1 ? "" : "s"}
        <ChevronDown className={cx("size-3.5 transition-transform", open && "rotate-180")} aria-hidden />
      </button>
      {open && (
        <ol className="mt-2 space-y-1.5" aria-label="Sources">
          {sources.map((source, i) => {
            const isOpen = expanded === i;
            return (
              <li key={`${source.documentId}-${source.chunk}`} className="rounded-lg border border-slate-200 bg-white">
                <button
                  type="button"
                  onClick={() => setExpanded(isOpen ? null : i)}
                  aria-expanded={isOpen}
                  className="flex w-full items-center gap-2 px-3 py-2 text-left text-xs"
                >
                  <span className="flex size-5 shrink-0 items-center justify-center rounded bg-brand-50 font-semibold text-brand-700">{i + 1}</span>
                  <FileText className="size-3.5 shrink-0 text-slate-400" aria-hidden />
                  <span className="min-w-0 flex-1 truncate font-medium text-slate-700">{source.filename}</span>
                  {source.page != null && <span className="shrink-0 text-slate-500">p. {source.page}</span>}
                  {source.ocr && (
                    <span className="shrink-0 rounded bg-amber-50 px-1 font-semibold text-amber-700" title="Read from a scanned page by OCR: words may be misread">
                      OCR
                    </span>
                  )}
                  <span className="shrink-0 text-slate-400" title="Relevance">
                    {Math.round(source.score * 100)}%
                  </span>
                  <ChevronDown className={cx("size-3.5 shrink-0 text-slate-400 transition-transform", isOpen && "rotate-180")} aria-hidden />
                </button>
                <div className="border-t border-slate-100 px-3 py-2">
                  <p className={cx("text-xs leading-relaxed whitespace-pre-line text-slate-600", !isOpen && "line-clamp-2")}>{source.text}</p>
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}
