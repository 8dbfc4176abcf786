import { Globe } from "lucide-react";
import type { Message } from "./chatReducer";

/**
 * Where a web source may be opened from: only http(s) pages. A search result's address is
 * whatever the search server sent, so a javascript: or data: one must never become a link.
 */
export function webLink(url: string): { href: string; host: string } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
  return { href: parsed.href, host: parsed.hostname.replace(/^www\./, "") };
}

/** The web pages a web search gave the answer: title, site and the words it quoted. */
export function WebSources({ sources }: { sources: Message["webSources"] }) {
  if (sources.length === 0) return null;
  return (
    <div className="mt-2">
      <p className="flex items-center gap-1.5 text-xs font-medium text-slate-600">
        <Globe className="size-3.5" aria-hidden />
        {sources.length} web source{sources.length === 1 ? "" : "s"}
      </p>
      <ol className="mt-1.5 space-y-1.5" aria-label="Web sources">
        {sources.map((source, i) => {
          const link = webLink(source.url);
          const title = source.title || source.url;
          return (
            <li key={`${i}-${source.url}`} className="flex gap-2 rounded-lg border border-slate-200 bg-white px-3 py-2 text-xs">
              <span className="flex size-5 shrink-0 items-center justify-center rounded bg-sky-50 font-semibold text-sky-700">W{i + 1}</span>
              <div className="min-w-0 flex-1">
                {link ? (
                  <a
                    href={link.href}
                    target="_blank"
                    rel="noopener noreferrer"
                    className="block truncate font-medium text-brand-700 hover:underline"
                    title={link.href}
                  >
                    {title}
                  </a>
                ) : (
                  <span className="block truncate font-medium text-slate-700">{title}</span>
                )}
                <span className="block truncate text-slate-400">{link ? link.host : source.url}</span>
                {source.snippet && <p className="mt-0.5 line-clamp-2 leading-relaxed text-slate-600">{source.snippet}</p>}
              </div>
            </li>
          );
        })}
      </ol>
    </div>
  );
}
