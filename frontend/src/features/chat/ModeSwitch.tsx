import { FlaskConical, Rocket } from "lucide-react";
import { cx } from "../../ui/cx";
import type { ChatMode } from "./chatTarget";

/** "Published vN | Draft": which graph answers a new chat. */
export function ModeSwitch({
  mode,
  publishedVersion,
  onChange,
}: {
  mode: ChatMode;
  /** The published version shown, or null when nothing is published (then only the draft can answer). */
  publishedVersion: number | null;
  onChange: (mode: ChatMode) => void;
}) {
  const options: Array<{ value: ChatMode; label: string; icon: React.ReactNode; disabled?: boolean; title: string }> = [
    {
      value: "published",
      label: publishedVersion ? `Published v${publishedVersion}` : "Published",
      icon: <Rocket className="size-3.5" aria-hidden />,
      disabled: publishedVersion === null,
      title: publishedVersion === null ? "Nothing is built yet: Build publishes a version" : "Answers from the published version",
    },
    {
      value: "draft",
      label: "Draft",
      icon: <FlaskConical className="size-3.5" aria-hidden />,
      title: "Answers from the unpublished draft, as it stands when you ask",
    },
  ];
  return (
    <div role="radiogroup" aria-label="Answer from" className="inline-flex rounded-lg bg-slate-100 p-0.5 ring-1 ring-slate-200 ring-inset">
      {options.map((o) => {
        const checked = o.value === mode;
        return (
          <button
            key={o.value}
            type="button"
            role="radio"
            aria-checked={checked}
            disabled={o.disabled}
            title={o.title}
            onClick={() => !checked && onChange(o.value)}
            className={cx(
              "inline-flex items-center gap-1.5 rounded-md px-3 py-1 text-[13px] font-medium transition-colors disabled:cursor-not-allowed disabled:text-slate-400",
              checked
                ? o.value === "draft"
                  ? "bg-amber-50 text-amber-800 shadow-xs ring-1 ring-amber-200"
                  : "bg-white text-slate-900 shadow-xs ring-1 ring-slate-200"
                : "text-slate-600 enabled:hover:text-slate-900",
            )}
          >
            {o.icon}
            {o.label}
          </button>
        );
      })}
    </div>
  );
}

/** Over a draft chat: the answers come from changes nobody has built. */
export function DraftBanner({ change }: { change: number | null }) {
  return (
    <div role="note" className="flex items-start gap-2.5 border-b border-amber-200 bg-amber-50 px-6 py-2.5 text-[13px] text-amber-900" data-testid="draft-banner">
      <FlaskConical className="mt-0.5 size-4 shrink-0 text-amber-600" aria-hidden />
      <p>
        <strong className="font-semibold">Draft preview — answers from unpublished changes.</strong>{" "}
        <span className="text-amber-800">
          Each question is answered by the draft as it stands then{change ? ` (now change ${change})` : ""}. Build to publish it.
        </span>
      </p>
    </div>
  );
}
