import { SendHorizontal } from "lucide-react";
import type { FormEvent, Ref } from "react";
import { Button } from "../../ui/Button";
import { inputClass } from "../../ui/Field";
import { cx } from "../../ui/cx";

export interface ComposerProps {
  text: string;
  onText: (text: string) => void;
  onSend: () => void;
  /** The chat can take a question (it is open, or new). */
  ready: boolean;
  /** A question is on its way or awaits its answer: no second one yet. */
  busy: boolean;
  /** The question is being stored. */
  sending: boolean;
  draft: boolean;
  /** The live connection is down and being made again. */
  offline: boolean;
  ref?: Ref<HTMLTextAreaElement>;
}

/** Where a question is typed: Enter sends, Shift+Enter starts a new line. */
export function Composer({ text, onText, onSend, ready, busy, sending, draft, offline, ref }: ComposerProps) {
  function submit(e: FormEvent) {
    e.preventDefault();
    onSend();
  }
  return (
    <form onSubmit={submit} className="border-t border-slate-200 bg-white p-4">
      <div className="flex items-end gap-2">
        <label htmlFor="chat-input" className="sr-only">
          Your question
        </label>
        <textarea
          id="chat-input"
          ref={ref}
          rows={1}
          value={text}
          onChange={(e) => onText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              onSend();
            }
          }}
          placeholder={ready ? (draft ? "Ask the draft a question…" : "Ask a question…") : "Opening the chat…"}
          disabled={!ready}
          className={cx(inputClass, "max-h-40 min-h-10 resize-none py-2.5 [field-sizing:content]", draft && "focus:border-amber-400 focus:ring-amber-200")}
          autoFocus
        />
        <Button type="submit" variant="primary" className="h-10" loading={sending} disabled={!text.trim() || busy || !ready} aria-label="Send">
          {!sending && <SendHorizontal className="size-4" aria-hidden />}
        </Button>
      </div>
      <p className="mt-1.5 text-[11px] text-slate-400">Enter to send · Shift+Enter for a new line{offline ? " · Reconnecting to the server…" : ""}</p>
    </form>
  );
}
