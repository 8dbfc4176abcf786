import { useRef } from "react";
import { useLinkStatus } from "../../api/connection";
import { describeError } from "../../api/errors";
import { Dialog } from "../../ui/Dialog";
import { ErrorState } from "../../ui/States";
import type { ChatTarget } from "./chatTarget";
import { Composer } from "./Composer";
import { Conversation } from "./Conversation";
import { DraftBanner, ModeSwitch } from "./ModeSwitch";
import { SessionList } from "./SessionList";
import { useChat } from "./useChat";

export interface ChatModalProps {
  workflowId: string;
  /** The chat shown, as the URL names it. */
  target: ChatTarget;
  /** Shows another chat; `replace` rewrites the current history entry instead of adding one. */
  onTarget: (target: ChatTarget, how?: { replace?: boolean }) => void;
  onClose: () => void;
  /** The latest published version's number, or null when nothing is published yet. */
  latestPublished: number | null;
  /** The draft's version now (its change number), for the draft banner. */
  draftVersion: number | null;
  /** Resolves once the canvas's own edits are saved (a draft question must see them). */
  settle?: () => Promise<unknown>;
}

export default function ChatModal({ workflowId, target, onTarget, onClose, latestPublished, draftVersion, settle }: ChatModalProps) {
  const composer = useRef<HTMLTextAreaElement>(null);
  const offline = useLinkStatus((s) => s.status === "offline");
  const chat = useChat({ workflowId, target, onTarget, latestPublished, settle, onDelivered: () => composer.current?.focus() });
  const { mode, sessions } = chat;
  const draft = mode === "draft";
  const startNew = (next: typeof mode) => onTarget({ kind: "new", mode: next }, { replace: target.kind === "new" });

  return (
    <Dialog
      open
      onClose={onClose}
      size="xl"
      title="Chat"
      description={
        draft
          ? "Answers come from the draft, with your unpublished changes."
          : `Answers come from the published version${chat.publishedVersion ? ` v${chat.publishedVersion}` : ""}.`
      }
      bodyClassName="!px-0 !pb-0"
      className="h-[min(820px,calc(100vh-2rem))] max-h-none"
    >
      <div className="flex h-full min-h-0 border-t border-slate-100">
        <SessionList
          sessions={sessions.list}
          loading={sessions.fetching}
          activeId={chat.activeId}
          latestPublished={latestPublished}
          onOpen={(sessionId) => onTarget({ kind: "session", sessionId })}
          onNew={() => startNew(mode)}
        />
        <div className="flex min-w-0 flex-1 flex-col bg-slate-50/40">
          <div className="flex items-center justify-between gap-3 border-b border-slate-100 bg-white px-6 py-2.5">
            <ModeSwitch mode={mode} publishedVersion={mode === "published" ? chat.publishedVersion : latestPublished} onChange={startNew} />
            {target.kind === "session" && <span className="text-xs text-slate-400">Switching starts a new chat</span>}
          </div>
          {draft && <DraftBanner change={draftVersion} />}
          {sessions.error && !sessions.list ? (
            <ErrorState title="Couldn't load chats" detail={describeError(sessions.error)} onRetry={sessions.refresh} />
          ) : chat.missing ? (
            <ErrorState title="This chat doesn't exist" detail="It may belong to another stack, or the link is wrong. Start a new chat instead." />
          ) : (
            <>
              <Conversation chat={chat.state} loading={chat.loading} busy={chat.busy} draft={draft} ready={chat.ready} onAsk={(q) => void chat.send(q)} />
              <Composer
                ref={composer}
                text={chat.text}
                onText={chat.setText}
                onSend={() => void chat.send()}
                ready={chat.ready}
                busy={chat.busy}
                sending={chat.sending}
                draft={draft}
                offline={offline}
              />
            </>
          )}
        </div>
      </div>
    </Dialog>
  );
}
