import { Link2, Unlink } from "lucide-react";
import { useId, useMemo } from "react";
import { useShallow } from "zustand/react/shallow";
import { IconButton } from "../../ui/Button";
import { selectClass } from "../../ui/Field";
import { useCommands } from "../builder/context";
import { useSpecs } from "../builder/specs";
import { useCanvasStore } from "../builder/store";

/**
 * The node's inputs and what feeds them, editable without a pointer: a keyboard way to
 * connect and disconnect, beside dragging between ports on the canvas.
 */
export function ConnectionsSection({ nodeId }: { nodeId: string }) {
  const id = useId();
  const commands = useCommands();
  const byKind = useSpecs((s) => s.byKind);
  const kind = useCanvasStore((s) => s.nodes.find((n) => n.id === nodeId)?.data.kind);
  const flowNodes = useCanvasStore((s) => s.nodes);
  const nodes = useMemo(() => flowNodes.map((n) => ({ id: n.id, kind: n.data.kind, label: n.data.label })), [flowNodes]);
  const incoming = useCanvasStore(useShallow((s) => s.edges.filter((e) => e.target === nodeId)));
  const inputs = kind ? (byKind.get(kind)?.inputs ?? []) : [];
  if (inputs.length === 0) return null;
  const labelOf = (nid: string) => nodes.find((n) => n.id === nid)?.label ?? nid;

  return (
    <section aria-labelledby={`${id}-title`} className="mb-6">
      <h3 id={`${id}-title`} className="mb-2 text-[13px] font-semibold text-slate-800">
        Inputs
      </h3>
      <ul className="space-y-2">
        {inputs.map((port) => {
          const edges = incoming.filter((e) => e.targetHandle === port);
          const candidates = nodes.filter(
            (n) => n.id !== nodeId && (byKind.get(n.kind)?.outputs ?? []).includes(port) && !edges.some((e) => e.source === n.id),
          );
          return (
            <li key={port} className="rounded-lg border border-slate-200 px-3 py-2">
              <div className="flex items-center gap-2">
                <span className="font-mono text-xs text-slate-600">{port}</span>
                <span className="text-xs text-slate-400">←</span>
                {edges.length === 0 && <span className="text-xs text-amber-700">not connected</span>}
                <div className="flex flex-1 flex-wrap gap-1">
                  {edges.map((edge) => (
                    <span key={edge.id} className="inline-flex items-center gap-1 rounded-md bg-slate-100 py-0.5 pr-0.5 pl-2 text-xs text-slate-700">
                      {labelOf(edge.source)}
                      <IconButton label={`Disconnect ${labelOf(edge.source)} from ${port}`} className="size-5" onClick={() => void commands.disconnect(edge.id)}>
                        <Unlink className="size-3" />
                      </IconButton>
                    </span>
                  ))}
                </div>
              </div>
              {candidates.length > 0 && (
                <div className="mt-2 flex items-center gap-2">
                  <Link2 className="size-3.5 shrink-0 text-slate-400" aria-hidden />
                  <label htmlFor={`${id}-${port}`} className="sr-only">
                    Connect {port} from
                  </label>
                  <select
                    id={`${id}-${port}`}
                    className={`${selectClass} !py-1 text-xs`}
                    value=""
                    onChange={(e) => {
                      if (e.target.value) {
                        void commands.connect({ source: e.target.value, target: nodeId, sourceHandle: port, targetHandle: port });
                      }
                    }}
                  >
                    <option value="">Connect from…</option>
                    {candidates.map((n) => (
                      <option key={n.id} value={n.id}>
                        {n.label}
                      </option>
                    ))}
                  </select>
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
