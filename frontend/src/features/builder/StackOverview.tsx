import { Hammer, MousePointerClick, Rocket } from "lucide-react";
import { fullTime, timeAgo } from "../../ui/time";
import { selectDescription, selectName, useCanvasStore } from "./store";

/** The right panel when no node is selected: what this stack is and how to go on. */
export function StackOverview() {
  const server = useCanvasStore((s) => s.server);
  const name = useCanvasStore(selectName);
  const description = useCanvasStore(selectDescription);
  const nodeCount = useCanvasStore((s) => s.nodes.length);
  const edgeCount = useCanvasStore((s) => s.edges.length);
  if (!server) return null;
  const published = [...server.published].reverse();
  return (
    <div className="flex h-full flex-col overflow-y-auto px-5 py-4">
      <h2 className="text-[15px] font-semibold text-slate-900">{name}</h2>
      <p className="mt-1 text-sm whitespace-pre-line text-slate-500">{description || "No description."}</p>
      <dl className="mt-4 grid grid-cols-3 gap-2 text-center">
        {[
          ["Nodes", nodeCount],
          ["Connections", edgeCount],
          ["Version", server.version],
        ].map(([label, value]) => (
          <div key={label} className="rounded-xl bg-slate-50 px-2 py-2.5 ring-1 ring-slate-100">
            <dt className="text-[11px] text-slate-500">{label}</dt>
            <dd className="text-lg font-semibold text-slate-900">{value}</dd>
          </div>
        ))}
      </dl>
      <div className="mt-6 rounded-xl border border-slate-200 p-4">
        <h3 className="mb-3 text-[13px] font-semibold text-slate-800">How to build a stack</h3>
        <ol className="space-y-3 text-[13px] text-slate-600">
          <li className="flex gap-2.5">
            <MousePointerClick className="mt-0.5 size-4 shrink-0 text-brand-500" aria-hidden />
            Drag User Query, Knowledge Base, LLM Engine and Output onto the canvas and connect ports of the same name.
          </li>
          <li className="flex gap-2.5">
            <Hammer className="mt-0.5 size-4 shrink-0 text-brand-500" aria-hidden />
            Select a node to configure it; upload PDFs to the Knowledge Base. Then press Build.
          </li>
          <li className="flex gap-2.5">
            <Rocket className="mt-0.5 size-4 shrink-0 text-brand-500" aria-hidden />
            Open Chat to ask questions. Answers cite your documents.
          </li>
        </ol>
      </div>
      <div className="mt-6">
        <h3 className="mb-2 text-[13px] font-semibold text-slate-800">Published versions</h3>
        {published.length === 0 ? (
          <p className="text-[13px] text-slate-500">Not built yet.</p>
        ) : (
          <ul className="space-y-1.5">
            {published.map((p) => (
              <li key={p.number} className="flex items-center justify-between rounded-lg bg-slate-50 px-3 py-2 text-[13px]">
                <span className="font-medium text-slate-800">v{p.number}</span>
                <span className="text-xs text-slate-500" title={fullTime(p.publishedAt)}>
                  change {p.workflowVersion} · {timeAgo(p.publishedAt)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
