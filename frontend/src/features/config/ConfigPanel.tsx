import { AlertCircle, Trash2, X } from "lucide-react";
import { useCallback, useMemo } from "react";
import { IconButton } from "../../ui/Button";
import { cx } from "../../ui/cx";
import { EditableText } from "../../ui/InlineInput";
import { useCommands } from "../builder/context";
import type { Config } from "../builder/graph";
import { KIND_LOOK, KIND_TITLE } from "../builder/nodes/kinds";
import { useSpecs } from "../builder/specs";
import { useCanvasStore } from "../builder/store";
import { DocumentsSection } from "../documents/DocumentsSection";
import { ConnectionsSection } from "./ConnectionsSection";
import { SchemaForm } from "./SchemaForm";
import { fieldsOf, maskSecrets } from "./schemaForm";

export function ConfigPanel({ nodeId }: { nodeId: string }) {
  const node = useCanvasStore((s) => s.nodes.find((n) => n.id === nodeId));
  const dispatch = useCanvasStore((s) => s.dispatch);
  const spec = useSpecs((s) => (node ? s.byKind.get(node.data.kind) : undefined));
  const commands = useCommands();
  const fields = useMemo(() => fieldsOf(spec?.configSchema), [spec]);

  const onSubmit = useCallback(
    (patch: Config) => commands.configureNode(nodeId, patch, maskSecrets(fields, patch)),
    [commands, nodeId, fields],
  );

  if (!node) return null;
  const look = KIND_LOOK[node.data.kind];
  const Icon = look.icon;
  const close = () => dispatch({ type: "nodesChanged", changes: [{ type: "select", id: nodeId, selected: false }] });

  return (
    <div className="flex h-full flex-col" aria-label={`Settings of ${node.data.label}`} role="region">
      <div className="flex items-start gap-3 border-b border-slate-100 px-5 py-4">
        <span className={cx("flex size-10 shrink-0 items-center justify-center rounded-xl ring-1", look.tile)}>
          <Icon className="size-5" aria-hidden />
        </span>
        <div className="min-w-0 flex-1">
          <h2 className="-mx-1.5 min-w-0">
            <EditableText
              value={node.data.label}
              buttonLabel={`Rename node ${node.data.label}`}
              fieldLabel="Node name"
              className="h-7 max-w-full text-[15px] font-semibold text-slate-900"
              inputClassName="w-full"
              onSave={(label) => void commands.relabelNode(nodeId, label)}
            />
          </h2>
          <p className="text-xs text-slate-500">{spec?.description ?? KIND_TITLE[node.data.kind]}</p>
        </div>
        <IconButton label="Delete node" tone="danger" onClick={() => void commands.removeNode(nodeId)}>
          <Trash2 className="size-4" />
        </IconButton>
        <IconButton label="Close settings" onClick={close}>
          <X className="size-4" />
        </IconButton>
      </div>
      <div className="flex-1 overflow-y-auto px-5 pt-4">
        {node.data.issues.length > 0 && (
          <ul className="mb-4 space-y-1 rounded-lg bg-red-50 px-3 py-2 text-xs text-red-700 ring-1 ring-red-100">
            {node.data.issues.map((issue) => (
              <li key={issue.code + issue.message} className="flex gap-1.5">
                <AlertCircle className="mt-px size-3.5 shrink-0" aria-hidden />
                {issue.message}
              </li>
            ))}
          </ul>
        )}
        <ConnectionsSection nodeId={nodeId} />
        {/* A knowledge base is mostly its documents: they come first. */}
        {node.data.kind === "KNOWLEDGE_BASE" && <DocumentsSection nodeId={nodeId} />}
        {node.data.kind === "KNOWLEDGE_BASE" && (
          <h3 className="mt-6 mb-3 border-t border-slate-100 pt-5 text-[13px] font-semibold text-slate-800">Retrieval settings</h3>
        )}
        {spec ? (
          <SchemaForm
            key={nodeId}
            schema={spec.configSchema}
            config={node.data.config}
            onSubmit={onSubmit}
            idPrefix={`cfg-${nodeId}`}
            listModels={commands.listModels}
          />
        ) : null}
        <div className="h-4" />
      </div>
    </div>
  );
}

