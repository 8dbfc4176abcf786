import { useReactFlow } from "@xyflow/react";
import { GripVertical } from "lucide-react";
import { Skeleton } from "../../ui/Spinner";
import { cx } from "../../ui/cx";
import { addNodeAt, DRAG_MIME } from "./Canvas";
import { freeSpot } from "./layout";
import { useCommands } from "./context";
import { KIND_LOOK } from "./nodes/kinds";
import { useSpecs, type ComponentSpec } from "./specs";
import { useCanvasStore } from "./store";

function LibraryItem({ spec, disabled, onAdd }: { spec: ComponentSpec; disabled: boolean; onAdd: () => void }) {
  const look = KIND_LOOK[spec.kind];
  const Icon = look.icon;
  return (
    <li>
      <button
        type="button"
        draggable={!disabled}
        disabled={disabled}
        onDragStart={(e) => {
          e.dataTransfer.setData(DRAG_MIME, spec.kind);
          e.dataTransfer.effectAllowed = "copy";
        }}
        onClick={onAdd}
        data-testid={`library-${spec.kind}`}
        aria-label={`Add ${spec.title}: ${spec.description}`}
        className="group flex w-full cursor-grab items-start gap-3 rounded-xl border border-slate-200 bg-white p-3 text-left shadow-xs transition-all hover:-translate-y-px hover:border-slate-300 hover:shadow-md active:cursor-grabbing disabled:cursor-not-allowed disabled:opacity-50 disabled:hover:translate-y-0 disabled:hover:shadow-xs"
      >
        <span className={cx("flex size-9 shrink-0 items-center justify-center rounded-lg ring-1", look.tile)}>
          <Icon className="size-4.5" aria-hidden />
        </span>
        <span className="min-w-0 flex-1">
          <span className="block text-[13px] font-semibold text-slate-800">{spec.title}</span>
          <span className="mt-0.5 block text-xs leading-snug text-slate-500">{spec.description}</span>
          <span className="mt-1.5 flex flex-wrap gap-1">
            {spec.inputs.map((p) => (
              <span key={`in-${p}`} className="rounded bg-slate-100 px-1.5 py-px font-mono text-[10px] text-slate-500">
                ← {p}
              </span>
            ))}
            {spec.outputs.map((p) => (
              <span key={`out-${p}`} className="rounded bg-slate-100 px-1.5 py-px font-mono text-[10px] text-slate-600">
                {p} →
              </span>
            ))}
          </span>
        </span>
        <GripVertical className="mt-0.5 size-4 shrink-0 text-slate-300 group-hover:text-slate-400" aria-hidden />
      </button>
    </li>
  );
}

export function ComponentLibrary() {
  const specs = useSpecs((s) => s.list);
  const readOnly = useCanvasStore((s) => !!s.preview);
  const commands = useCommands();
  const { screenToFlowPosition } = useReactFlow();

  function addAtCenter(spec: ComponentSpec) {
    const pane = document.querySelector(".react-flow")?.getBoundingClientRect();
    const center = pane ? { x: pane.left + pane.width / 2, y: pane.top + pane.height / 2 } : { x: 400, y: 300 };
    const at = screenToFlowPosition(center);
    addNodeAt(commands, spec.kind, freeSpot({ x: at.x - 120, y: at.y - 60 }, useCanvasStore.getState().nodes));
  }

  return (
    <aside aria-label="Components" className="flex w-72 shrink-0 flex-col border-r border-slate-200 bg-slate-50/80">
      <div className="px-4 pt-4 pb-2">
        <h2 className="text-xs font-semibold tracking-wide text-slate-500 uppercase">Components</h2>
        <p className="mt-1 text-xs text-slate-500">Drag onto the canvas, or press Enter to add.</p>
      </div>
      <ul className="flex-1 space-y-2 overflow-y-auto px-3 pb-4">
        {specs.length === 0
          ? [0, 1, 2, 3].map((i) => (
              <li key={i}>
                <Skeleton className="h-20 w-full rounded-xl" />
              </li>
            ))
          : specs.map((spec) => <LibraryItem key={spec.kind} spec={spec} disabled={readOnly} onAdd={() => addAtCenter(spec)} />)}
      </ul>
      <div className="border-t border-slate-200 px-4 py-3 text-[11px] leading-relaxed text-slate-500">
        <kbd className="rounded border border-slate-300 bg-white px-1 font-sans">Del</kbd> removes the selection ·{" "}
        <kbd className="rounded border border-slate-300 bg-white px-1 font-sans">Shift</kbd>-drag selects many
      </div>
    </aside>
  );
}
