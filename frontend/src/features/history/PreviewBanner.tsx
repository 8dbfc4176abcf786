import { Eye, GitCompareArrows, RotateCcw, Undo2 } from "lucide-react";
import { useState } from "react";
import { useClient } from "urql";
import { describeError } from "../../api/errors";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { toast } from "../../ui/toasts";
import { useCommands } from "../builder/context";
import { toSnapshot } from "../builder/graph";
import { useCanvasStore } from "../builder/store";
import { CompareDialog } from "./CompareDialog";
import { publishedAt, versionLabel } from "./historyModel";
import { RollbackMutation } from "./operations";

/** Over the canvas while an old version is shown: what differs, and the way back or forward. */
export function PreviewBanner() {
  const preview = useCanvasStore((s) => s.preview);
  const setPreview = useCanvasStore((s) => s.setPreview);
  const dispatch = useCanvasStore((s) => s.dispatch);
  const commands = useCommands();
  const client = useClient();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [comparing, setComparing] = useState(false);
  const published = useCanvasStore((s) => s.server?.published ?? []);
  if (!preview) return null;
  const { counts } = preview;
  const label = versionLabel(preview.version, publishedAt(preview.version, published));

  async function rollback() {
    if (!preview) return;
    setBusy(true);
    await commands.idle();
    const result = await client.mutation(RollbackMutation, { workflowId: preview.snapshot.id, toVersion: preview.version }).toPromise();
    setBusy(false);
    setConfirming(false);
    if (result.error || !result.data) {
      toast.error(result.error ? describeError(result.error, "roll back") : "The rollback got no answer.");
      return;
    }
    dispatch({ type: "loaded", workflow: toSnapshot(result.data.rollbackWorkflow) });
    setPreview(null);
    toast.success(`Rolled back to ${label}`, "Nothing was erased: the rollback is a new entry in the history, and Undo takes it back.");
  }

  return (
    <>
      <div
        role="status"
        className="absolute top-4 left-1/2 z-10 flex max-w-[calc(100%-2rem)] -translate-x-1/2 animate-fade-in items-center gap-3 rounded-2xl bg-slate-900 py-2 pr-2 pl-4 text-sm whitespace-nowrap text-white shadow-xl"
      >
        <span className="flex items-center gap-2">
          <Eye className="size-4 shrink-0 text-slate-300" aria-hidden />
          <span>
            <strong className="font-semibold">{label}</strong>
            <span className="text-slate-400"> · read-only</span>
          </span>
        </span>
        <span className="flex items-center gap-1 text-[11px] font-medium" aria-label="Differences to the current version">
          <span className="rounded-full bg-emerald-500/20 px-2 py-0.5 text-emerald-300" title="Nodes added since">+{counts.added}</span>
          <span className="rounded-full bg-red-500/20 px-2 py-0.5 text-red-300" title="Nodes removed since">−{counts.removed}</span>
          <span className="rounded-full bg-amber-500/20 px-2 py-0.5 text-amber-300" title="Nodes changed since">~{counts.changed}</span>
          <span className="ml-1 text-slate-400">vs now</span>
        </span>
        <span className="flex gap-1">
          <Button
            size="sm"
            variant="ghost"
            className="!text-slate-200 hover:!bg-white/10 hover:!text-white"
            icon={<GitCompareArrows className="size-3.5" />}
            onClick={() => setComparing(true)}
          >
            Compare with now
          </Button>
          <Button size="sm" variant="ghost" className="!text-slate-200 hover:!bg-white/10 hover:!text-white" icon={<Undo2 className="size-3.5" />} onClick={() => setPreview(null)}>
            Back to current
          </Button>
          <Button size="sm" variant="primary" icon={<RotateCcw className="size-3.5" />} onClick={() => setConfirming(true)} aria-label="Roll back to this version">
            Roll back
          </Button>
        </span>
      </div>
      {comparing && <CompareDialog workflowId={preview.snapshot.id} from={preview.version} to={preview.currentVersion} onClose={() => setComparing(false)} />}
      <Dialog
        open={confirming}
        onClose={() => setConfirming(false)}
        size="sm"
        title={`Roll back to ${label}?`}
        description={`The stack will be restored as it stood at ${label}: its nodes, connections, settings, name and description. This is recorded as a new change, so Undo takes it back.`}
        footer={
          <>
            <Button variant="ghost" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
            <Button variant="primary" onClick={rollback} loading={busy}>
              Roll back
            </Button>
          </>
        }
      />
    </>
  );
}
