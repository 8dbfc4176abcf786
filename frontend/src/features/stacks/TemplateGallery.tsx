import { Check, KeyRound, Sparkles, WifiOff } from "lucide-react";
import { useState } from "react";
import { useClient } from "urql";
import { describeError } from "../../api/errors";
import type { TemplatesQuery as TemplatesQueryResult } from "../../gql/graphql";
import { Spinner } from "../../ui/Spinner";
import { KIND_LOOK, KIND_TITLE } from "../builder/nodes/kinds";
import { CreateFromTemplateMutation } from "./operations";

export type StackTemplate = TemplatesQueryResult["templates"][number];

/** What a template needs, in words a newcomer reads before choosing it. */
export function needsLine(template: Pick<StackTemplate, "needs">): string {
  const missing = template.needs.filter((n) => !n.provided).map((n) => n.description);
  if (template.needs.length === 0) return "Runs offline: no key needed";
  if (missing.length === 0) return "Ready: this server has the keys it needs";
  return `Needs ${joinWords(missing)}`;
}

function joinWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

function TemplateCard({ template, busy, disabled, onUse }: { template: StackTemplate; busy: boolean; disabled: boolean; onUse: () => void }) {
  const offline = template.needs.length === 0;
  const ready = template.needs.every((n) => n.provided);
  const NeedIcon = offline ? WifiOff : ready ? Check : KeyRound;
  return (
    <li>
      <button
        type="button"
        onClick={onUse}
        disabled={disabled}
        aria-busy={busy || undefined}
        aria-label={`Use template ${template.title}`}
        data-testid="template-card"
        className="group flex h-full w-full flex-col rounded-2xl border border-slate-200 bg-white p-4 text-left shadow-xs transition-all hover:-translate-y-0.5 hover:border-brand-300 hover:shadow-md focus-visible:ring-3 focus-visible:ring-brand-500/30 focus-visible:outline-none disabled:cursor-wait disabled:opacity-70"
      >
        <div className="mb-3 flex items-center justify-between">
          <div className="flex -space-x-1.5" aria-label={template.kinds.map((k) => KIND_TITLE[k]).join(" → ")}>
            {template.kinds.map((kind, i) => {
              const { icon: Icon, tile } = KIND_LOOK[kind];
              return (
                <span key={`${kind}-${i}`} className={`flex size-7 items-center justify-center rounded-lg ring-2 ring-white ${tile}`}>
                  <Icon className="size-3.5" aria-hidden />
                </span>
              );
            })}
          </div>
          {busy && <Spinner className="size-4 text-brand-600" />}
        </div>
        <h3 className="text-sm font-semibold text-slate-900 group-hover:text-brand-700">{template.title}</h3>
        <p className="mt-1 line-clamp-3 text-[13px] text-slate-500">{template.description}</p>
        <p
          className={`mt-auto flex items-center gap-1.5 pt-3 text-xs font-medium ${offline || ready ? "text-emerald-700" : "text-amber-700"}`}
          data-testid="template-needs"
        >
          <NeedIcon className="size-3.5 shrink-0" aria-hidden />
          {needsLine(template)}
        </p>
      </button>
    </li>
  );
}

/** The templates My Stacks offers: one click makes a stack from one and opens it. */
export function TemplateGallery({ templates, onCreated }: { templates: StackTemplate[]; onCreated: (workflowId: string) => void }) {
  const client = useClient();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function use(template: StackTemplate) {
    setBusy(template.id);
    setError(null);
    const result = await client.mutation(CreateFromTemplateMutation, { templateId: template.id }).toPromise();
    setBusy(null);
    if (result.error || !result.data) {
      setError(result.error ? describeError(result.error, `create a stack from “${template.title}”`) : "No answer from the server.");
      return;
    }
    onCreated(result.data.createStackFromTemplate.id);
  }

  if (templates.length === 0) return null;
  return (
    <section aria-labelledby="templates-heading" className="mt-12">
      <div className="mb-4 flex items-center gap-2">
        <Sparkles className="size-4 text-brand-600" aria-hidden />
        <h2 id="templates-heading" className="text-base font-semibold text-slate-900">
          Start from a template
        </h2>
      </div>
      {error && (
        <p role="alert" className="mb-3 rounded-lg bg-red-50 px-3 py-2 text-sm text-red-700">
          {error}
        </p>
      )}
      <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3 xl:grid-cols-5" aria-label="Templates">
        {templates.map((t) => (
          <TemplateCard key={t.id} template={t} busy={busy === t.id} disabled={busy !== null} onUse={() => void use(t)} />
        ))}
      </ul>
    </section>
  );
}
