import { ReactFlowProvider } from "@xyflow/react";
import { lazy, Suspense, useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import { useClient } from "urql";
import { describeError } from "../../api/errors";
import { Spinner } from "../../ui/Spinner";
import { ErrorState } from "../../ui/States";
import { useTitle } from "../../ui/useTitle";
import { ConfigPanel } from "../config/ConfigPanel";
import { useChatTarget } from "../chat/useChatTarget";
import { UploadGuard } from "../documents/UploadGuard";
import { FeedbackPanel } from "../feedback/FeedbackPanel";
import { HistoryPanel } from "../history/HistoryPanel";
import { PreviewBanner } from "../history/PreviewBanner";
import { Canvas } from "./Canvas";
import { createCommands } from "./commands";
import { ComponentLibrary } from "./ComponentLibrary";
import { CommandsContext } from "./context";
import { StackOverview } from "./StackOverview";
import { selectSelectedNodeId, useCanvasStore } from "./store";
import { TopBar } from "./TopBar";
import { useBuild } from "./useBuild";
import { useUndoKeys } from "./useUndoKeys";
import { useWorkflowSync } from "./useWorkflowSync";

const ChatModal = lazy(() => import("../chat/ChatModal"));
const EmbedDialog = lazy(() => import("../embed/EmbedDialog").then((m) => ({ default: m.EmbedDialog })));

function FullPage({ children }: { children: React.ReactNode }) {
  return (
    <div className="flex h-full flex-col items-center justify-center">
      {children}
      <Link to="/" className="text-sm font-medium text-brand-600 hover:underline">
        Back to My Stacks
      </Link>
    </div>
  );
}

interface SidePanelProps {
  historyOpen: boolean;
  onCloseHistory: () => void;
  feedbackOpen: boolean;
  onCloseFeedback: () => void;
  workflowId: string;
}

function SidePanel({ historyOpen, onCloseHistory, feedbackOpen, onCloseFeedback, workflowId }: SidePanelProps) {
  const selected = useCanvasStore(selectSelectedNodeId);
  return (
    <aside className="w-[380px] shrink-0 border-l border-slate-200 bg-white" aria-label="Inspector">
      {feedbackOpen ? (
        <FeedbackPanel workflowId={workflowId} onClose={onCloseFeedback} />
      ) : historyOpen ? (
        <HistoryPanel workflowId={workflowId} onClose={onCloseHistory} />
      ) : selected ? (
        <ConfigPanel key={selected} nodeId={selected} />
      ) : (
        <StackOverview />
      )}
    </aside>
  );
}

function Builder({ workflowId }: { workflowId: string }) {
  const client = useClient();
  const commands = useMemo(() => createCommands(client, useCanvasStore, workflowId), [client, workflowId]);
  const { load, retry } = useWorkflowSync(workflowId, commands);
  const { build, building } = useBuild(workflowId, commands);
  useUndoKeys(commands);
  const [historyOpen, setHistoryOpen] = useState(false);
  const [feedbackOpen, setFeedbackOpen] = useState(false);
  const [embedOpen, setEmbedOpen] = useState(false);
  const [chat, showChat] = useChatTarget();
  const deleted = useCanvasStore((s) => s.deleted);
  const latestPublished = useCanvasStore((s) => s.server?.latestPublished ?? null);
  const draftVersion = useCanvasStore((s) => s.server?.version ?? null);
  const setPreview = useCanvasStore((s) => s.setPreview);
  useTitle(useCanvasStore((s) => s.server?.name));

  if (load.status === "notFound" || deleted) {
    return (
      <FullPage>
        <ErrorState title="This stack doesn't exist" detail={deleted ? "It was deleted, perhaps in another window." : "It may have been deleted."} />
      </FullPage>
    );
  }
  if (load.status === "error") {
    return (
      <FullPage>
        <ErrorState title="Couldn't open this stack" detail={describeError(load.error)} onRetry={retry} />
      </FullPage>
    );
  }
  if (load.status === "loading") {
    return (
      <div className="flex h-full items-center justify-center gap-3 text-sm text-slate-500">
        <Spinner className="size-5" /> Opening the stack…
      </div>
    );
  }

  return (
    <CommandsContext.Provider value={commands}>
      <ReactFlowProvider>
        <div className="flex h-full flex-col bg-white">
          <TopBar
            workflowId={workflowId}
            historyOpen={historyOpen}
            onToggleHistory={() => {
              if (historyOpen) setPreview(null);
              setHistoryOpen(!historyOpen);
              setFeedbackOpen(false);
            }}
            feedbackOpen={feedbackOpen}
            onToggleFeedback={() => {
              setPreview(null);
              setHistoryOpen(false);
              setFeedbackOpen(!feedbackOpen);
            }}
            onBuild={() => void build()}
            building={building}
            onChat={() => showChat({ kind: "new", mode: "published" })}
            onEmbed={() => setEmbedOpen(true)}
          />
          <div className="flex min-h-0 flex-1">
            <ComponentLibrary />
            <main className="relative min-w-0 flex-1 bg-slate-50">
              <Canvas />
              <PreviewBanner />
            </main>
            <SidePanel
              historyOpen={historyOpen}
              feedbackOpen={feedbackOpen}
              onCloseFeedback={() => setFeedbackOpen(false)}
              workflowId={workflowId}
              onCloseHistory={() => {
                setPreview(null);
                setHistoryOpen(false);
              }}
            />
          </div>
        </div>
        <UploadGuard />
        {embedOpen && (
          <Suspense fallback={null}>
            <EmbedDialog stackId={workflowId} published={latestPublished !== null} onClose={() => setEmbedOpen(false)} />
          </Suspense>
        )}
        {chat && (
          <Suspense fallback={null}>
            <ChatModal
              workflowId={workflowId}
              target={chat}
              onTarget={showChat}
              onClose={() => showChat(null)}
              latestPublished={latestPublished}
              draftVersion={draftVersion}
              settle={commands.idle}
            />
          </Suspense>
        )}
      </ReactFlowProvider>
    </CommandsContext.Provider>
  );
}

export function BuilderPage() {
  const { workflowId } = useParams();
  if (!workflowId) return null;
  return <Builder key={workflowId} workflowId={workflowId} />;
}
