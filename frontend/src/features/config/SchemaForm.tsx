import { KeyRound, RefreshCw, RotateCcw, Save } from "lucide-react";
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import type { ModelList } from "../builder/commands";
import type { Config } from "../builder/graph";
import { Button } from "../../ui/Button";
import { FieldShell, inputClass, selectClass } from "../../ui/Field";
import { cx } from "../../ui/cx";
import {
  buildPatch,
  fieldsOf,
  hintOf,
  initialDraft,
  isVisible,
  modelsFrom,
  optionLabel,
  validateDraft,
  type Draft,
  type DraftValue,
  type Field,
  type SecretDraft,
} from "./schemaForm";

export interface SchemaFormProps {
  /** The component's configSchema (JSON Schema). */
  schema: unknown;
  config: Config;
  /** Receives only what changed; resolves true when the server accepted it. */
  onSubmit: (patch: Config) => Promise<boolean>;
  idPrefix: string;
  readOnly?: boolean;
  /** The models a provider's server has, for a field whose choices it lists (`x-models-from`). */
  listModels?: (provider: string, baseUrl: string | null) => Promise<ModelList>;
}

/** A node's settings form, drawn from its configSchema. */
export function SchemaForm({ schema, config, onSubmit, idPrefix, readOnly, listModels }: SchemaFormProps) {
  const fields = useMemo(() => fieldsOf(schema), [schema]);
  const configKey = JSON.stringify(config);
  const [base, setBase] = useState<{ key: string; config: Config }>({ key: configKey, config });
  const [draft, setDraft] = useState<Draft>(() => initialDraft(fields, config));
  const [busy, setBusy] = useState(false);
  const [showErrors, setShowErrors] = useState(false);
  const [justSaved, setJustSaved] = useState(false);

  const patch = useMemo(() => buildPatch(fields, base.config, draft), [fields, base.config, draft]);
  const dirty = Object.keys(patch).length > 0;
  const errors = useMemo(() => validateDraft(fields, draft), [fields, draft]);
  const hasErrors = Object.keys(errors).length > 0;
  const changedElsewhere = configKey !== base.key;

  // Follow the server while nothing is being edited (another window, a rollback), and after
  // our own save, when the answer carries the stored form of what was sent (a secret's hint).
  useEffect(() => {
    if (busy) return;
    if (justSaved || (changedElsewhere && !dirty)) {
      setBase({ key: configKey, config });
      setDraft(initialDraft(fields, config));
      setJustSaved(false);
    }
  }, [justSaved, changedElsewhere, dirty, busy, configKey, config, fields]);

  const set = (name: string, value: DraftValue) => setDraft((d) => ({ ...d, [name]: value }));

  async function submit(e?: FormEvent) {
    e?.preventDefault();
    if (!dirty || busy) return;
    if (hasErrors) {
      setShowErrors(true);
      return;
    }
    setBusy(true);
    const ok = await onSubmit(patch);
    setBusy(false);
    if (ok) {
      setShowErrors(false);
      setJustSaved(true);
    }
  }

  function discard() {
    setBase({ key: configKey, config });
    setDraft(initialDraft(fields, config));
    setShowErrors(false);
  }

  if (fields.length === 0) {
    return <p className="rounded-lg bg-slate-50 px-3 py-2.5 text-[13px] text-slate-500">This component has no settings.</p>;
  }

  return (
    <form
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) void submit(e);
      }}
      className="space-y-4"
      aria-label="Node settings"
      noValidate
    >
      <fieldset disabled={readOnly} className="space-y-4">
        {fields
          .filter((f) => isVisible(f, draft))
          .map((field) => {
            const provider = listModels ? modelsFrom(field, draft) : null;
            const props = {
              key: field.name,
              id: `${idPrefix}-${field.name}`,
              field,
              hint: hintOf(field, draft),
              value: draft[field.name],
              error: showErrors || field.widget === "number" ? errors[field.name] : undefined,
              onChange: (v: DraftValue) => set(field.name, v),
            };
            if (provider && listModels) {
              const baseUrl = typeof draft.baseUrl === "string" && !errors.baseUrl ? draft.baseUrl.trim() || null : null;
              return <ModelPicker {...props} key={field.name} provider={provider} baseUrl={baseUrl} listModels={listModels} />;
            }
            return <FieldInput {...props} key={field.name} />;
          })}
      </fieldset>
      {changedElsewhere && dirty && !busy && (
        <p className="rounded-lg bg-amber-50 px-3 py-2 text-xs text-amber-800 ring-1 ring-amber-200">
          These settings were changed elsewhere. Discard to load the latest, or save to apply yours.
        </p>
      )}
      {!readOnly && (
        <div className="sticky bottom-0 -mx-5 flex items-center gap-2 border-t border-slate-100 bg-white/95 px-5 py-3 backdrop-blur">
          <span className="flex-1 text-xs text-slate-500" aria-live="polite">
            {busy ? "Saving…" : dirty ? "Unsaved changes" : "All changes saved"}
          </span>
          <Button size="sm" variant="ghost" icon={<RotateCcw className="size-3.5" />} onClick={discard} disabled={!dirty || busy}>
            Discard
          </Button>
          <Button size="sm" variant="primary" type="submit" icon={<Save className="size-3.5" />} loading={busy} disabled={!dirty}>
            Save
          </Button>
        </div>
      )}
    </form>
  );
}

interface FieldInputProps {
  id: string;
  field: Field;
  hint?: string;
  value: DraftValue;
  error?: string;
  onChange: (value: DraftValue) => void;
}

function FieldInput({ id, field, hint, value, error, onChange }: FieldInputProps) {
  const { schema } = field;
  const described = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  const common = { id, "aria-invalid": error ? true : undefined, "aria-describedby": described };

  switch (field.widget) {
    case "toggle":
      return (
        <div className="flex items-start justify-between gap-4 rounded-lg border border-slate-200 px-3 py-2.5">
          <div>
            <label htmlFor={id} className="text-[13px] font-medium text-slate-700">
              {field.label}
            </label>
            {hint && (
              <p id={`${id}-hint`} className="mt-0.5 text-xs text-slate-500">
                {hint}
              </p>
            )}
          </div>
          <button
            {...common}
            type="button"
            role="switch"
            aria-checked={value === true}
            onClick={() => onChange(value !== true)}
            className={cx(
              "relative mt-0.5 inline-flex h-5 w-9 shrink-0 items-center rounded-full transition-colors",
              value === true ? "bg-brand-600" : "bg-slate-300",
            )}
          >
            <span
              className={cx(
                "inline-block size-4 rounded-full bg-white shadow transition-transform",
                value === true ? "translate-x-4.5" : "translate-x-0.5",
              )}
            />
          </button>
        </div>
      );
    case "select":
      return (
        <FieldShell id={id} label={field.label} hint={hint} error={error} required={field.required}>
          <select {...common} className={selectClass} value={String(value)} onChange={(e) => onChange(e.target.value)}>
            {value === "" && <option value="">Choose…</option>}
            {schema.enum?.map((option) => (
              <option key={String(option)} value={String(option)}>
                {optionLabel(field, option)}
              </option>
            ))}
          </select>
        </FieldShell>
      );
    case "number":
      return (
        <FieldShell
          id={id}
          label={field.label}
          hint={hint ?? rangeHint(field)}
          error={error}
          required={field.required}
          aside={hint ? <span className="text-[11px] text-slate-400">{rangeHint(field)}</span> : undefined}
        >
          <input
            {...common}
            className={inputClass}
            type="number"
            inputMode={schema.type === "integer" ? "numeric" : "decimal"}
            min={schema.minimum}
            max={schema.maximum}
            step={schema.type === "integer" ? 1 : "any"}
            value={String(value)}
            onChange={(e) => onChange(e.target.value)}
          />
        </FieldShell>
      );
    case "prompt":
      return <PromptInput id={id} field={field} hint={hint} value={String(value)} error={error} onChange={onChange} />;
    case "secret":
      return <SecretInput id={id} field={field} hint={hint} value={value as SecretDraft} onChange={onChange} />;
    default:
      return (
        <FieldShell id={id} label={field.label} hint={hint} error={error} required={field.required}>
          <input
            {...common}
            className={inputClass}
            type={schema.format === "uri" ? "url" : "text"}
            list={schema.examples ? `${id}-examples` : undefined}
            maxLength={schema.maxLength}
            placeholder={schema.examples?.[0] ? `e.g. ${schema.examples[0]}` : undefined}
            value={String(value)}
            onChange={(e) => onChange(e.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
          {schema.examples && (
            <datalist id={`${id}-examples`}>
              {schema.examples.map((ex) => (
                <option key={ex} value={ex} />
              ))}
            </datalist>
          )}
        </FieldShell>
      );
  }
}

const LIST_DELAY_MS = 400;

/** A model's name, with the models the provider's server has as its choices. */
function ModelPicker({
  id,
  field,
  hint,
  value,
  error,
  onChange,
  provider,
  baseUrl,
  listModels,
}: FieldInputProps & { provider: string; baseUrl: string | null; listModels: NonNullable<SchemaFormProps["listModels"]> }) {
  const [listed, setListed] = useState<ModelList | null>(null);
  const [asked, setAsked] = useState(0);
  useEffect(() => {
    let current = true;
    setListed(null);
    // the address may still be being typed: ask once it rests
    const timer = setTimeout(() => {
      void listModels(provider, baseUrl).then((list) => current && setListed(list));
    }, asked ? 0 : LIST_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [provider, baseUrl, listModels, asked]);

  const models = listed && "models" in listed ? listed.models : [];
  const status = !listed
    ? "Asking the server for its models…"
    : "error" in listed
      ? `Couldn't list the models: ${listed.error}`
      : models.length === 0
        ? "The server has no model yet: pull one (ollama pull llama3.2)."
        : `${models.length} model${models.length === 1 ? "" : "s"} on the server.`;
  return (
    <FieldShell
      id={id}
      label={field.label}
      hint={hint}
      error={error}
      required={field.required}
      aside={
        <button type="button" className="inline-flex items-center gap-1 text-xs text-slate-500 hover:text-slate-800" onClick={() => setAsked((n) => n + 1)}>
          <RefreshCw className="size-3" aria-hidden /> Refresh list
        </button>
      }
    >
      <input
        id={id}
        className={inputClass}
        type="text"
        list={`${id}-models`}
        maxLength={field.schema.maxLength}
        placeholder={models[0] ? `e.g. ${models[0].name}` : undefined}
        value={String(value)}
        onChange={(e) => onChange(e.target.value)}
        autoComplete="off"
        spellCheck={false}
        aria-describedby={`${id}-models-status`}
      />
      <datalist id={`${id}-models`} data-testid="provider-models">
        {models.map((m) => (
          <option key={m.name} value={m.name} label={m.detail || undefined} />
        ))}
      </datalist>
      <p id={`${id}-models-status`} role="status" className={cx("mt-1 text-[11px]", listed && "error" in listed ? "text-red-600" : "text-slate-400")}>
        {status}
      </p>
    </FieldShell>
  );
}

function rangeHint(field: Field): string | undefined {
  const { minimum, maximum } = field.schema;
  if (minimum !== undefined && maximum !== undefined) return `${minimum}–${maximum}`;
  if (minimum !== undefined) return `≥ ${minimum}`;
  if (maximum !== undefined) return `≤ ${maximum}`;
  return undefined;
}

const PLACEHOLDERS = ["{query}", "{context}"];

function PromptInput({ id, field, hint, value, error, onChange }: { id: string; field: Field; hint?: string; value: string; error?: string; onChange: (v: string) => void }) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const missing = PLACEHOLDERS.filter((p) => !value.includes(p));

  function insert(token: string) {
    const el = ref.current;
    const start = el?.selectionStart ?? value.length;
    const end = el?.selectionEnd ?? value.length;
    onChange(value.slice(0, start) + token + value.slice(end));
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(start + token.length, start + token.length);
    });
  }

  return (
    <FieldShell
      id={id}
      label={field.label}
      hint={missing.length ? `Missing ${missing.join(" and ")}: the model won't see it.` : hint}
      error={error}
      required={field.required}
      aside={
        <div className="flex gap-1" role="group" aria-label="Insert placeholder">
          {PLACEHOLDERS.map((p) => (
            <button
              key={p}
              type="button"
              onClick={() => insert(p)}
              className="rounded-md bg-brand-50 px-1.5 py-0.5 font-mono text-[11px] text-brand-700 ring-1 ring-brand-200 hover:bg-brand-100"
              aria-label={`Insert ${p}`}
            >
              {p}
            </button>
          ))}
        </div>
      }
    >
      <textarea
        ref={ref}
        id={id}
        aria-invalid={error ? true : undefined}
        className={cx(inputClass, "min-h-40 resize-y font-mono text-[12.5px] leading-relaxed")}
        value={value}
        maxLength={field.schema.maxLength}
        onChange={(e) => onChange(e.target.value)}
        spellCheck={false}
      />
    </FieldShell>
  );
}

function SecretInput({ id, field, hint: description, value, onChange }: { id: string; field: Field; hint?: string; value: SecretDraft; onChange: (v: SecretDraft) => void }) {
  if (value.mode === "keep" || value.mode === "remove") {
    const removing = value.mode === "remove";
    return (
      <FieldShell id={id} label={field.label} hint={removing ? "The stored key will be removed when you save." : description}>
        <div
          id={id}
          className={cx(
            "flex items-center gap-2 rounded-lg border px-3 py-1.5 text-sm",
            removing ? "border-red-200 bg-red-50/60" : "border-slate-200 bg-slate-50",
          )}
        >
          <KeyRound className="size-4 text-slate-400" aria-hidden />
          <span className={cx("flex-1 font-mono text-[13px]", removing ? "text-red-700 line-through" : "text-slate-700")}>
            Stored key {value.hint}
          </span>
          {removing ? (
            <Button size="sm" variant="ghost" onClick={() => onChange({ mode: "keep", hint: value.hint })}>
              Undo
            </Button>
          ) : (
            <>
              <Button size="sm" variant="ghost" onClick={() => onChange({ mode: "replace", value: "", hint: value.hint })}>
                Replace
              </Button>
              <Button size="sm" variant="ghost" className="text-red-600 hover:bg-red-50 hover:text-red-700" onClick={() => onChange({ mode: "remove", hint: value.hint })}>
                Remove
              </Button>
            </>
          )}
        </div>
      </FieldShell>
    );
  }
  const current = value.mode === "replace" ? value.value : "";
  const hint = value.mode === "replace" ? value.hint : undefined;
  const again = value.mode === "again";
  const help = again
    ? "The address changed, so the key stored for the old one was cleared: enter the key again."
    : description
      ? `${description} Stored encrypted; never shown again.`
      : "Stored encrypted; never shown again.";
  return (
    <FieldShell
      id={id}
      label={field.label}
      hint={help}
      aside={
        hint ? (
          <button type="button" className="text-xs text-slate-500 hover:text-slate-800" onClick={() => onChange({ mode: "keep", hint })}>
            Keep stored key
          </button>
        ) : again ? (
          <button type="button" className="text-xs text-slate-500 hover:text-slate-800" onClick={() => onChange({ mode: "remove", hint: "cleared" })}>
            No key needed
          </button>
        ) : undefined
      }
    >
      <input
        id={id}
        className={cx(inputClass, "font-mono")}
        type="password"
        autoComplete="new-password"
        placeholder={hint ? `Replace ${hint}` : "Paste a key"}
        value={current}
        onChange={(e) => onChange({ mode: "replace", value: e.target.value, hint })}
        spellCheck={false}
      />
    </FieldShell>
  );
}
