import { ThumbsDown, ThumbsUp } from "lucide-react";
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { useClient } from "urql";
import { describeError } from "../../api/errors";
import type { AnswerRating } from "../../gql/graphql";
import { Button } from "../../ui/Button";
import { cx } from "../../ui/cx";
import { toast } from "../../ui/toasts";
import { RateAnswerMutation } from "./operations";

export const MAX_NOTE = 1000;

export interface Rated {
  rating: AnswerRating | null;
  note: string;
}

/**
 * Thumbs up or down under an answer. Pressing the chosen thumb again withdraws the rating;
 * thumbs down asks (optionally) what was wrong, in a small popover that Escape closes.
 */
export function AnswerFeedback({ sessionId, messageId, initial }: { sessionId: string; messageId: string; initial: Rated | null }) {
  const client = useClient();
  const [rated, setRated] = useState<Rated>(initial ?? { rating: null, note: "" });
  const [asking, setAsking] = useState(false);
  const [saving, setSaving] = useState(false);
  const downRef = useRef<HTMLButtonElement>(null);

  async function rate(rating: AnswerRating | null, note = "") {
    if (saving) return false; // one rating at a time (the buttons stay focusable meanwhile)
    setSaving(true);
    const result = await client.mutation(RateAnswerMutation, { sessionId, messageId, rating, note }).toPromise();
    setSaving(false);
    if (result.error || !result.data) {
      toast.error("Your rating was not saved", result.error ? describeError(result.error) : undefined);
      return false;
    }
    const now = result.data.rateAnswer;
    setRated({ rating: now.rating ?? null, note: now.note });
    return true;
  }

  const up = rated.rating === "UP";
  const down = rated.rating === "DOWN";
  return (
    <div className="relative mt-1.5 flex items-center gap-1" role="group" aria-label="Rate this answer" data-testid="answer-feedback">
      <ThumbButton label="Good answer" pressed={up} busy={saving} onClick={() => void rate(up ? null : "UP")}>
        <ThumbsUp className="size-3.5" aria-hidden />
      </ThumbButton>
      <ThumbButton
        ref={downRef}
        label="Bad answer"
        pressed={down}
        busy={saving}
        expanded={asking}
        onClick={() => (down ? void rate(null) : setAsking(!asking))}
      >
        <ThumbsDown className="size-3.5" aria-hidden />
      </ThumbButton>
      {down && rated.note && (
        <span className="ml-1 max-w-72 truncate text-[11px] text-slate-400" title={rated.note}>
          “{rated.note}”
        </span>
      )}
      {asking && (
        <NotePopover
          saving={saving}
          onCancel={() => {
            setAsking(false);
            downRef.current?.focus();
          }}
          onSend={async (note) => {
            if (await rate("DOWN", note)) {
              setAsking(false);
              downRef.current?.focus();
            }
          }}
        />
      )}
    </div>
  );
}

interface ThumbButtonProps {
  label: string;
  pressed: boolean;
  busy: boolean;
  expanded?: boolean;
  onClick: () => void;
  children: React.ReactNode;
}

const ThumbButton = ({ ref, label, pressed, busy, expanded, onClick, children }: ThumbButtonProps & { ref?: React.Ref<HTMLButtonElement> }) => (
  <button
    ref={ref}
    type="button"
    aria-label={label}
    title={pressed ? `${label} (press again to take it back)` : label}
    aria-pressed={pressed}
    aria-expanded={expanded}
    aria-busy={busy || undefined}
    onClick={onClick}
    className={cx(
      "inline-flex size-7 items-center justify-center rounded-md transition-colors focus-visible:ring-2 focus-visible:ring-brand-400 focus-visible:outline-none aria-busy:opacity-50",
      pressed ? "bg-brand-50 text-brand-700 ring-1 ring-brand-200" : "text-slate-400 hover:bg-slate-100 hover:text-slate-700",
    )}
  >
    {children}
  </button>
);

function NotePopover({ saving, onCancel, onSend }: { saving: boolean; onCancel: () => void; onSend: (note: string) => void }) {
  const id = useId();
  const [note, setNote] = useState("");
  const field = useRef<HTMLTextAreaElement>(null);
  useEffect(() => field.current?.focus(), []);

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === "Escape") {
      e.stopPropagation(); // the popover closes, not the chat
      onCancel();
    } else if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) {
      e.preventDefault();
      onSend(note.trim());
    }
  }

  return (
    <div
      role="dialog"
      aria-labelledby={`${id}-title`}
      onKeyDown={onKeyDown}
      className="absolute top-8 left-0 z-10 w-80 rounded-xl bg-white p-3 shadow-lg ring-1 ring-slate-200"
    >
      <label id={`${id}-title`} htmlFor={`${id}-note`} className="text-[13px] font-medium text-slate-800">
        What was wrong? <span className="font-normal text-slate-400">(optional)</span>
      </label>
      <textarea
        ref={field}
        id={`${id}-note`}
        value={note}
        maxLength={MAX_NOTE}
        onChange={(e) => setNote(e.target.value)}
        rows={3}
        placeholder="e.g. It quoted the wrong page."
        className="mt-1.5 w-full resize-y rounded-lg border border-slate-200 px-2.5 py-1.5 text-sm focus:border-brand-400 focus:ring-2 focus:ring-brand-100 focus:outline-none"
      />
      <div className="mt-2 flex items-center gap-2">
        <span className="flex-1 text-[11px] text-slate-400">
          {note.length}/{MAX_NOTE}
        </span>
        <Button size="sm" variant="ghost" onClick={onCancel} disabled={saving}>
          Cancel
        </Button>
        <Button size="sm" variant="primary" onClick={() => onSend(note.trim())} loading={saving}>
          Send
        </Button>
      </div>
    </div>
  );
}
