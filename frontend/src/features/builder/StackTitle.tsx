import { Pencil } from "lucide-react";
import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type RefObject } from "react";
import { Button } from "../../ui/Button";
import { cx } from "../../ui/cx";
import { inputClass } from "../../ui/Field";
import { EditableText } from "../../ui/InlineInput";
import { useCommands } from "./context";
import { selectDescription, selectName, useCanvasStore } from "./store";

const MAX_DESCRIPTION = 2000;

export function NameEditor() {
  const shown = useCanvasStore(selectName);
  const commands = useCommands();
  return (
    <EditableText
      value={shown}
      placeholder="Untitled"
      buttonLabel={`Rename stack ${shown}`}
      fieldLabel="Stack name"
      className="h-7 text-[15px] font-semibold text-slate-900"
      inputClassName="w-72"
      onSave={(name) => void commands.rename(name)}
    />
  );
}

function DescriptionPopover({
  initial,
  onClose,
  within,
}: {
  initial: string;
  onClose: (refocus: boolean) => void;
  /** Clicks inside it (the popover and its trigger) don't close the popover. */
  within: RefObject<HTMLElement | null>;
}) {
  const id = useId();
  const commands = useCommands();
  const [value, setValue] = useState(initial);
  const field = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const text = field.current;
    text?.focus();
    text?.setSelectionRange(text.value.length, text.value.length);
    // A click elsewhere closes it, as a menu would; what was typed is dropped.
    const onPointerDown = (e: PointerEvent) => {
      if (!within.current?.contains(e.target as Node)) onClose(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [onClose, within]);

  function save(e?: FormEvent) {
    e?.preventDefault();
    const next = value.trim();
    if (next !== initial) void commands.describe(next);
    onClose(true);
  }

  return (
    <div
      role="dialog"
      aria-labelledby={`${id}-label`}
      className="absolute top-full left-0 z-30 mt-1.5 w-[26rem] animate-fade-in rounded-xl bg-white p-3 shadow-xl ring-1 ring-slate-900/10"
    >
      <form onSubmit={save}>
        <label id={`${id}-label`} htmlFor={`${id}-field`} className="text-[13px] font-medium text-slate-700">
          Description
        </label>
        <textarea
          ref={field}
          id={`${id}-field`}
          className={cx(inputClass, "mt-1.5 min-h-24 resize-y")}
          value={value}
          maxLength={MAX_DESCRIPTION}
          placeholder="What it answers, and for whom."
          onChange={(e) => setValue(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.stopPropagation();
              onClose(true);
            }
            if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) save();
          }}
        />
        <div className="mt-2.5 flex items-center justify-between gap-2">
          <span className="text-[11px] text-slate-400">Shown on My Stacks · Ctrl+Enter saves</span>
          <div className="flex gap-1.5">
            <Button size="sm" variant="ghost" onClick={() => onClose(true)}>
              Cancel
            </Button>
            <Button size="sm" variant="primary" type="submit">
              Save
            </Button>
          </div>
        </div>
      </form>
    </div>
  );
}

/** The description under the stack's name, edited in a small popover (it may be long). */
export function DescriptionEditor() {
  const shown = useCanvasStore(selectDescription);
  const [open, setOpen] = useState(false);
  const trigger = useRef<HTMLButtonElement>(null);
  const wrapper = useRef<HTMLDivElement>(null);
  const close = useCallback((refocus: boolean) => {
    setOpen(false);
    if (refocus) trigger.current?.focus();
  }, []);

  return (
    <div ref={wrapper} className="relative min-w-0">
      <button
        ref={trigger}
        type="button"
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
        aria-haspopup="dialog"
        aria-label={shown ? `Edit description: ${shown}` : "Add a description"}
        title={shown || undefined}
        className={cx(
          "group flex h-5 max-w-md min-w-0 items-center gap-1 rounded-md px-1.5 text-xs hover:bg-slate-100",
          shown ? "text-slate-500 hover:text-slate-700" : "text-slate-400 hover:text-slate-600",
        )}
      >
        <span className="truncate">{shown || "Add a description"}</span>
        <Pencil className="size-3 shrink-0 opacity-0 group-hover:opacity-100 group-focus-visible:opacity-100" aria-hidden />
      </button>
      {open && <DescriptionPopover initial={shown} onClose={close} within={wrapper} />}
    </div>
  );
}
