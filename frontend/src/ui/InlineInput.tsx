import { Pencil } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { cx } from "./cx";

/**
 * A text edited in place: Enter or leaving the field keeps it, Escape drops it. `onDone` gets
 * the trimmed new text, or null when nothing is to be saved (cancelled, unchanged or empty),
 * and whether a key ended the edit (the focus then belongs back where the edit began).
 */
export function InlineInput({
  initial,
  onDone,
  label,
  maxLength = 200,
  className,
}: {
  initial: string;
  onDone: (value: string | null, byKey: boolean) => void;
  label: string;
  maxLength?: number;
  className?: string;
}) {
  const [value, setValue] = useState(initial);
  const input = useRef<HTMLInputElement>(null);
  // Enter ends the edit and unmounts the field, which may blur it once more: answer once.
  const finished = useRef(false);

  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);

  function finish(keep: boolean, byKey: boolean) {
    if (finished.current) return;
    finished.current = true;
    const next = value.trim();
    onDone(keep && next && next !== initial ? next : null, byKey);
  }

  return (
    <input
      ref={input}
      aria-label={label}
      className={cx(
        "min-w-0 rounded-md border border-brand-400 bg-white px-1.5 text-slate-900 ring-3 ring-brand-500/15 outline-none",
        className,
      )}
      value={value}
      maxLength={maxLength}
      onChange={(e) => setValue(e.target.value)}
      onBlur={() => finish(true, false)}
      onKeyDown={(e) => {
        // The keys belong to the text, not to what holds the field (a node on the canvas, a panel).
        e.stopPropagation();
        if (e.key === "Enter") {
          // No keypress after it: it would press the button that gets the focus back.
          e.preventDefault();
          finish(true, true);
        }
        if (e.key === "Escape") finish(false, true);
      }}
    />
  );
}

/**
 * A text shown as a button that turns into an InlineInput when pressed; the focus comes back
 * to the button when the edit ends by a key.
 */
export function EditableText({
  value,
  buttonLabel,
  fieldLabel,
  onSave,
  className,
  inputClassName,
  placeholder,
}: {
  value: string;
  buttonLabel: string;
  fieldLabel: string;
  onSave: (value: string) => void;
  /** The text's look, shared by the button and the field. */
  className?: string;
  inputClassName?: string;
  placeholder?: string;
}) {
  const [editing, setEditing] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const refocus = useRef(false);

  useEffect(() => {
    if (editing || !refocus.current) return;
    refocus.current = false;
    button.current?.focus();
  }, [editing]);

  if (editing) {
    return (
      <InlineInput
        initial={value}
        label={fieldLabel}
        className={cx(className, inputClassName)}
        onDone={(next, byKey) => {
          refocus.current = byKey;
          setEditing(false);
          if (next) onSave(next);
        }}
      />
    );
  }
  return (
    <button
      ref={button}
      type="button"
      onClick={() => setEditing(true)}
      aria-label={buttonLabel}
      className={cx("group flex min-w-0 items-center gap-1.5 rounded-md px-1.5 text-left hover:bg-slate-100", className)}
    >
      <span className="truncate">{value || placeholder}</span>
      <Pencil className="size-3.5 shrink-0 text-slate-400 opacity-0 group-hover:opacity-100 group-focus-visible:opacity-100" aria-hidden />
    </button>
  );
}
