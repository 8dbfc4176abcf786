import { useReactFlow } from "@xyflow/react";
import { AlertCircle, ArrowLeft, Check, CloudOff, Code2, Hammer, History, Loader2, MessageSquare, Redo2, ThumbsUp, Undo2 } from "lucide-react";
import { useState } from "react";
import { Link } from "react-router";
import { useLinkStatus } from "../../api/connection";
import { Badge } from "../../ui/Badge";
import { Button, IconButton } from "../../ui/Button";
import { cx } from "../../ui/cx";
import { Logo } from "../../ui/Logo";
import { timeAgo } from "../../ui/time";
import { ExportMenu } from "../stacks/ExportMenu";
import { DescriptionEditor, NameEditor } from "./StackTitle";
import { useCommands } from "./context";
import { selectUndo, useCanvasStore } from "./store";
import { isMac } from "./useUndoKeys";

function SaveStatus() {
  const saving = useCanvasStore((s) => s.pending.length > 0);
  const link = useLinkStatus((s) => s.status);
  if (link === "offline") {
    return (
      <span className="flex items-center gap-1.5 text-xs text-amber-700" role="status">
        <CloudOff className="size-3.5" aria-hidden /> Offline — reconnecting
      </span>
    );
  }
  return (
    <span className="flex items-center gap-1.5 text-xs text-slate-500" role="status" aria-live="polite">
      {saving ? <Loader2 className="size-3.5 animate-spin" aria-hidden /> : <Check className="size-3.5 text-emerald-600" aria-hidden />}
      {saving ? "Saving…" : "Saved"}
      {link === "live" && (
        <span className="ml-1 flex items-center gap-1 text-slate-400" title="Edits from other windows appear live">
          <span className="size-1.5 rounded-full bg-emerald-500" /> Live
        </span>
      )}
    </span>
  );
}

function IssuesMenu() {
  const show = useCanvasStore((s) => s.showIssues);
  const issues = useCanvasStore((s) => s.server?.issues ?? []);
  const dispatch = useCanvasStore((s) => s.dispatch);
  const { fitView } = useReactFlow();
  const [open, setOpen] = useState(false);
  if (!show || issues.length === 0) return null;

  function focusNode(nodeId: string) {
    const { nodes } = useCanvasStore.getState();
    dispatch({ type: "nodesChanged", changes: nodes.map((n) => ({ type: "select" as const, id: n.id, selected: n.id === nodeId })) });
    void fitView({ nodes: [{ id: nodeId }], duration: 300, maxZoom: 1.2 });
    setOpen(false);
  }

  return (
    <div className="relative">
      <Button
        size="sm"
        variant="ghost"
        className="text-red-600 hover:bg-red-50 hover:text-red-700"
        icon={<AlertCircle className="size-4" />}
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
        aria-haspopup="true"
      >
        {issues.length} issue{issues.length === 1 ? "" : "s"}
      </Button>
      {open && (
        <div className="absolute top-10 right-0 z-30 w-80 animate-fade-in rounded-xl bg-white p-2 shadow-xl ring-1 ring-slate-900/10">
          <p className="px-2 py-1.5 text-xs font-medium text-slate-500">Fix these to build</p>
          <ul>
            {issues.map((issue, i) => (
              <li key={i}>
                <button
                  type="button"
                  disabled={!issue.nodeId}
                  onClick={() => issue.nodeId && focusNode(issue.nodeId)}
                  className="flex w-full gap-2 rounded-lg px-2 py-1.5 text-left text-[13px] text-slate-700 enabled:hover:bg-slate-50"
                >
                  <AlertCircle className="mt-0.5 size-3.5 shrink-0 text-red-500" aria-hidden />
                  {issue.message}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

/** Undo and redo of one's own changes; the tooltips name what they would take back. */
export function UndoRedo() {
  const commands = useCommands();
  const undo = useCanvasStore(selectUndo);
  const readOnly = useCanvasStore((s) => !!s.preview);
  const mod = isMac() ? "⌘" : "Ctrl+";
  return (
    <div className="flex items-center" role="group" aria-label="Undo and redo">
      <IconButton
        label={undo.canUndo ? `Undo: ${undo.undoLabel} (${mod}Z)` : "Nothing of yours to undo"}
        disabled={!undo.canUndo || readOnly}
        onClick={() => void commands.undo()}
        data-testid="undo"
      >
        <Undo2 className="size-4" />
      </IconButton>
      <IconButton
        label={undo.canRedo ? `Redo: ${undo.redoLabel} (${mod}${isMac() ? "⇧Z" : "Y"})` : "Nothing to redo"}
        disabled={!undo.canRedo || readOnly}
        onClick={() => void commands.redo()}
        data-testid="redo"
      >
        <Redo2 className="size-4" />
      </IconButton>
    </div>
  );
}

/** The published version, and how many changes a Build would add to it. */
export function PublishedBadge() {
  const published = useCanvasStore((s) => s.server?.published.at(-1));
  const unbuilt = useCanvasStore((s) => s.server?.unpublishedChanges ?? 0);
  if (!published) return <Badge className="hidden sm:inline-flex">Draft</Badge>;
  return (
    <span className="hidden items-center gap-1.5 sm:inline-flex" data-testid="published-status">
      <Badge tone="green">
        <span title={`Published ${timeAgo(published.publishedAt)}`}>Published v{published.number}</span>
      </Badge>
      {unbuilt > 0 && (
        <Badge tone="amber">
          <span title="Changes to nodes, settings and connections since the last Build: Build to publish them">
            {unbuilt} change{unbuilt === 1 ? "" : "s"} not built
          </span>
        </Badge>
      )}
    </span>
  );
}

export function TopBar({
  workflowId,
  historyOpen,
  onToggleHistory,
  feedbackOpen = false,
  onToggleFeedback,
  onBuild,
  building,
  onChat,
  onEmbed,
}: {
  workflowId: string;
  historyOpen: boolean;
  onToggleHistory: () => void;
  feedbackOpen?: boolean;
  onToggleFeedback?: () => void;
  onBuild: () => void;
  building: boolean;
  onChat: () => void;
  onEmbed: () => void;
}) {
  const readOnly = useCanvasStore((s) => !!s.preview);

  return (
    <header className="relative z-20 flex h-14 shrink-0 items-center gap-3 border-b border-slate-200 bg-white px-3">
      <Link
        to="/"
        aria-label="Back to My Stacks"
        title="Back to My Stacks"
        className="inline-flex size-8 items-center justify-center rounded-lg text-slate-500 hover:bg-slate-100 hover:text-slate-900"
      >
        <ArrowLeft className="size-4" aria-hidden />
      </Link>
      <Logo compact />
      <div className="h-6 w-px bg-slate-200" aria-hidden />
      <div className="flex min-w-0 flex-col items-start">
        <div className="flex max-w-full min-w-0 items-center gap-2">
          <NameEditor />
          <PublishedBadge />
          <div className="ml-1 hidden md:block">
            <SaveStatus />
          </div>
        </div>
        <DescriptionEditor />
      </div>
      <div className="ml-auto flex items-center gap-2">
        <IssuesMenu />
        <UndoRedo />
        <div className="h-6 w-px bg-slate-200" aria-hidden />
        <Button
          size="sm"
          variant={historyOpen ? "secondary" : "ghost"}
          className={cx(historyOpen && "border-brand-200 bg-brand-50 text-brand-700 hover:bg-brand-50")}
          icon={<History className="size-4" />}
          onClick={onToggleHistory}
          aria-pressed={historyOpen}
        >
          History
        </Button>
        <ExportMenu workflowId={workflowId} />
        {onToggleFeedback && (
          <Button
            size="sm"
            variant={feedbackOpen ? "secondary" : "ghost"}
            className={cx(feedbackOpen && "border-brand-200 bg-brand-50 text-brand-700 hover:bg-brand-50")}
            icon={<ThumbsUp className="size-4" />}
            onClick={onToggleFeedback}
            aria-pressed={feedbackOpen}
          >
            Feedback
          </Button>
        )}
        <Button size="sm" variant="ghost" icon={<Code2 className="size-4" />} onClick={onEmbed} title="Embed this stack's chat on a website">
          Embed
        </Button>
        <Button size="sm" variant="secondary" icon={<MessageSquare className="size-4" />} onClick={onChat}>
          Chat
        </Button>
        <Button size="sm" variant="primary" icon={<Hammer className="size-4" />} onClick={onBuild} loading={building} disabled={readOnly}>
          Build
        </Button>
      </div>
    </header>
  );
}
