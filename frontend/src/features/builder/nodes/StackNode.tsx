import { Handle, Position, type NodeProps } from "@xyflow/react";
import { AlertCircle, FileText, Loader2 } from "lucide-react";
import { memo } from "react";
import { cx } from "../../../ui/cx";
import { countFor, useDocuments } from "../../documents/documentsStore";
import { keySettings } from "../../config/schemaForm";
import type { StackFlowNode } from "../canvasReducer";
import { useSpecs } from "../specs";
import { KIND_LOOK, KIND_TITLE, PORT_DOT } from "./kinds";
import { NodeTitle } from "./NodeTitle";

const DIFF_STYLE = {
  added: { ring: "ring-2 ring-emerald-400 border-dashed opacity-80", badge: "bg-emerald-500", text: "Added later" },
  removed: { ring: "ring-2 ring-red-400", badge: "bg-red-500", text: "Removed since" },
  changed: { ring: "ring-2 ring-amber-400", badge: "bg-amber-500", text: "Changed since" },
} as const;

function DocumentCount({ nodeId }: { nodeId: string }) {
  const count = useDocuments((s) => countFor(s, nodeId));
  return (
    <span className="inline-flex items-center gap-1">
      <FileText className="size-3" aria-hidden />
      {count === 0 ? "No documents" : `${count} document${count === 1 ? "" : "s"}`}
    </span>
  );
}

/** A canvas node: its kind, its key settings, its named ports; small and pure by design. */
function StackNodeView({ id, data, selected }: NodeProps<StackFlowNode>) {
  const spec = useSpecs((s) => s.byKind.get(data.kind));
  const look = KIND_LOOK[data.kind];
  const Icon = look.icon;
  const inputs = spec?.inputs ?? [];
  const outputs = spec?.outputs ?? [];
  const settings = keySettings(data.kind, data.config);
  const hasIssues = data.issues.length > 0;
  const diff = data.diff ? DIFF_STYLE[data.diff] : null;
  const title = KIND_TITLE[data.kind];

  return (
    <div
      className={cx(
        "relative w-60 rounded-[14px] border border-slate-200 bg-white shadow-[0_1px_2px_rgb(15_23_42/0.06),0_4px_14px_rgb(15_23_42/0.06)] transition-shadow",
        selected && "border-brand-400 ring-3 ring-brand-500/20",
        hasIssues && !selected && "border-red-300 ring-3 ring-red-500/15",
        diff?.ring,
      )}
      data-testid={`node-${data.kind}`}
    >
      {diff && (
        <span className={cx("absolute -top-2.5 right-3 rounded-full px-2 py-0.5 text-[10px] font-semibold text-white shadow", diff.badge)}>
          {diff.text}
        </span>
      )}
      <div className="flex items-center gap-2.5 px-3 pt-3 pb-2">
        <span className={cx("flex size-8 items-center justify-center rounded-lg ring-1", look.tile)}>
          <Icon className="size-4.5" aria-hidden />
        </span>
        <div className="min-w-0 flex-1">
          <NodeTitle nodeId={id} label={data.label} readOnly={data.readOnly} />
          {data.label !== title && <p className="truncate text-[11px] text-slate-500">{title}</p>}
        </div>
        {data.saving && <Loader2 className="size-3.5 animate-spin text-slate-400" aria-label="Saving" />}
        {hasIssues && <AlertCircle className="size-4 text-red-500" aria-hidden />}
      </div>

      {(settings.length > 0 || data.kind === "KNOWLEDGE_BASE") && (
        <div className="mx-3 mb-2 space-y-0.5 rounded-lg bg-slate-50 px-2.5 py-1.5 text-[11px] text-slate-600">
          {settings.map((line) => (
            <p key={line} className="truncate">
              {line}
            </p>
          ))}
          {data.kind === "KNOWLEDGE_BASE" && !data.readOnly && (
            <p className="text-slate-500">
              <DocumentCount nodeId={id} />
            </p>
          )}
        </div>
      )}

      <div className="border-t border-slate-100 py-1.5">
        {Array.from({ length: Math.max(inputs.length, outputs.length) }, (_, row) => (
          <div key={row} className="relative flex h-6 items-center justify-between px-3 text-[11px] text-slate-500">
            {inputs[row] ? (
              <>
                <Handle
                  type="target"
                  position={Position.Left}
                  id={inputs[row]}
                  className={cx("!size-3 !border-2 !border-white !shadow", PORT_DOT[inputs[row]] ?? "!bg-slate-400")}
                  aria-label={`${inputs[row]} input`}
                />
                <span>{inputs[row]}</span>
              </>
            ) : (
              <span />
            )}
            {outputs[row] ? (
              <>
                <span className="font-medium text-slate-600">{outputs[row]}</span>
                <Handle
                  type="source"
                  position={Position.Right}
                  id={outputs[row]}
                  className={cx("!size-3 !border-2 !border-white !shadow", PORT_DOT[outputs[row]] ?? "!bg-slate-400")}
                  aria-label={`${outputs[row]} output`}
                />
              </>
            ) : (
              <span />
            )}
          </div>
        ))}
      </div>

      {hasIssues && (
        <ul className="space-y-1 rounded-b-[14px] border-t border-red-100 bg-red-50/70 px-3 py-2 text-[11px] text-red-700" aria-label="Issues">
          {data.issues.slice(0, 3).map((issue) => (
            <li key={issue.code + issue.message} className="flex gap-1.5">
              <span aria-hidden>•</span>
              <span>{issue.message}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export const StackNode = memo(StackNodeView);

/** Defined once, outside any component, so React Flow never sees a new object. */
export const nodeTypes = { stack: StackNode };
