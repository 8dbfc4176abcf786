import { isSecretRef, type Config } from "../builder/graph";

/** The subset of JSON Schema that component configs use. */
export interface PropertySchema {
  type?: "string" | "number" | "integer" | "boolean";
  title?: string;
  description?: string;
  enum?: Array<string | number>;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  default?: unknown;
  format?: string;
  examples?: string[];
  "x-secret"?: boolean;
  "x-widget"?: string;
  "x-show-if"?: Record<string, unknown[]>;
  /** Labelled choices of an enum (JSON Schema's `oneOf` of `const`s): a name and help each. */
  oneOf?: Array<{ const: string | number; title?: string; description?: string }>;
  /** Choices listed by the provider's server while another setting has one of these values:
   * `{provider: ["ollama"]}` (the providerModels query). */
  "x-models-from"?: Record<string, unknown[]>;
  /** Help that depends on another setting: `{provider: {openai: "…", gemini: "…"}}`. */
  "x-hint-by"?: Record<string, Record<string, string>>;
}

export type Widget = "select" | "number" | "toggle" | "secret" | "prompt" | "text";

export interface Field {
  name: string;
  label: string;
  widget: Widget;
  schema: PropertySchema;
  required: boolean;
}

/** A secret is never shown or echoed: keep the stored one, type a replacement, or remove it. */
export type SecretDraft =
  | { mode: "keep"; hint: string }
  | { mode: "empty" }
  /** The node's address changed since its key was entered: the server cleared the key. */
  | { mode: "again" }
  | { mode: "replace"; value: string; hint?: string }
  | { mode: "remove"; hint: string };

export type DraftValue = string | boolean | SecretDraft;
export type Draft = Record<string, DraftValue>;

function humanize(name: string): string {
  const words = name.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function widgetFor(schema: PropertySchema): Widget {
  if (schema["x-secret"] || schema.format === "password") return "secret";
  if (schema.enum) return "select";
  if (schema["x-widget"] === "prompt") return "prompt";
  if (schema.type === "boolean") return "toggle";
  if (schema.type === "number" || schema.type === "integer") return "number";
  return "text";
}

export function fieldsOf(configSchema: unknown): Field[] {
  if (!configSchema || typeof configSchema !== "object") return [];
  const { properties, required } = configSchema as { properties?: Record<string, PropertySchema>; required?: string[] };
  if (!properties) return [];
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    label: schema.title ?? humanize(name),
    widget: widgetFor(schema),
    schema,
    required: required?.includes(name) ?? false,
  }));
}

/** What the server holds in place of a key once the node's address changed: `{cleared: …}`. */
export function isClearedKey(value: unknown): boolean {
  return !!value && typeof value === "object" && !("secretRef" in value) && "cleared" in value;
}

/** The value a field shows: the stored one, else the schema's default. */
function effective(field: Field, config: Config): unknown {
  return field.name in config ? config[field.name] : field.schema.default;
}

function fromValue(field: Field, value: unknown): DraftValue {
  switch (field.widget) {
    case "secret":
      if (isSecretRef(value)) return { mode: "keep", hint: value.hint ?? "stored" };
      return isClearedKey(value) ? { mode: "again" } : { mode: "empty" };
    case "toggle":
      return value === true;
    default:
      return value === undefined || value === null ? "" : String(value);
  }
}

export function initialDraft(fields: readonly Field[], config: Config): Draft {
  return Object.fromEntries(fields.map((f) => [f.name, fromValue(f, effective(f, config))]));
}

/** How a choice of a select is named: its `oneOf` title, else the value itself. */
export function optionLabel(field: Field, option: string | number): string {
  return field.schema.oneOf?.find((o) => o.const === option)?.title ?? String(option);
}

/** The help under a field for what the form holds now: the chosen option's own, else the
 * help for the value of the setting it depends on, else the field's description. */
export function hintOf(field: Field, draft: Draft): string | undefined {
  const { schema } = field;
  const chosen = schema.oneOf?.find((o) => String(o.const) === draft[field.name]);
  if (chosen?.description) return chosen.description;
  for (const [other, hints] of Object.entries(schema["x-hint-by"] ?? {})) {
    const hint = hints[String(draft[other])];
    if (hint) return hint;
  }
  return schema.description;
}

/** `x-show-if: {provider: ["openai"]}` shows a field only while provider is one of those. */
export function isVisible(field: Field, draft: Draft): boolean {
  const rule = field.schema["x-show-if"];
  if (!rule) return true;
  return Object.entries(rule).every(([other, allowed]) => {
    const value = draft[other];
    return allowed.some((a) => a === value || String(a) === value);
  });
}

/** The provider whose server lists this field's choices now (`x-models-from`), or null. */
export function modelsFrom(field: Field, draft: Draft): string | null {
  for (const [other, values] of Object.entries(field.schema["x-models-from"] ?? {})) {
    const value = draft[other];
    if (typeof value === "string" && values.some((v) => String(v) === value)) return value;
  }
  return null;
}

export function validateDraft(fields: readonly Field[], draft: Draft): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const field of fields) {
    if (!isVisible(field, draft)) continue;
    const value = draft[field.name];
    const { schema } = field;
    if (field.widget === "number" && typeof value === "string") {
      if (value.trim() === "") {
        if (field.required) errors[field.name] = "Required.";
        continue;
      }
      const n = Number(value);
      if (!Number.isFinite(n)) errors[field.name] = "Enter a number.";
      else if (schema.type === "integer" && !Number.isInteger(n)) errors[field.name] = "Enter a whole number.";
      else if (schema.minimum !== undefined && n < schema.minimum) errors[field.name] = `At least ${schema.minimum}.`;
      else if (schema.maximum !== undefined && n > schema.maximum) errors[field.name] = `At most ${schema.maximum}.`;
    } else if (typeof value === "string") {
      if (field.required && value.trim() === "") errors[field.name] = "Required.";
      else if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        errors[field.name] = `At most ${schema.maxLength} characters.`;
      } else if (schema.format === "uri" && value.trim() !== "" && !/^https?:\/\/\S+$/i.test(value.trim())) {
        errors[field.name] = "Enter a URL starting with http:// or https://.";
      }
    }
  }
  return errors;
}

function toValue(field: Field, value: DraftValue): unknown {
  if (typeof value === "boolean") return value;
  if (typeof value !== "string") return undefined;
  if (value.trim() === "") return null;
  if (field.widget === "number") return Number(value);
  if (field.widget === "select") return field.schema.enum?.find((e) => String(e) === value) ?? value;
  return value;
}

/**
 * The configureNode payload: only what the person changed. A stored secret is omitted (so the
 * server keeps it), a new one is sent once, a removed one is sent as null.
 */
export function buildPatch(fields: readonly Field[], config: Config, draft: Draft): Config {
  const base = initialDraft(fields, config);
  const patch: Config = {};
  for (const field of fields) {
    const value = draft[field.name];
    if (field.widget === "secret") {
      const secret = value as SecretDraft;
      if (secret.mode === "replace" && secret.value.trim() !== "") patch[field.name] = secret.value.trim();
      else if (secret.mode === "remove") patch[field.name] = null;
      continue;
    }
    if (!isVisible(field, draft)) continue;
    if (value === base[field.name]) continue;
    patch[field.name] = toValue(field, value);
  }
  return patch;
}

export function isDirty(fields: readonly Field[], config: Config, draft: Draft): boolean {
  return Object.keys(buildPatch(fields, config, draft)).length > 0;
}

const PROVIDER_NAMES: Record<string, string> = { openai: "OpenAI", gemini: "Gemini", ollama: "Ollama", local: "Local" };

/** The one-line summary a node shows on the canvas. */
export function keySettings(kind: string, config: Config): string[] {
  const get = (key: string) => (config[key] === undefined || config[key] === null ? undefined : String(config[key]));
  if (kind === "LLM_ENGINE") {
    const provider = get("provider") ?? "extractive";
    const name = PROVIDER_NAMES[provider] ?? provider;
    const lines = [provider === "extractive" ? "Extractive (offline)" : `${name} · ${get("model") ?? "no model"}`];
    if (config.webSearch === true) lines.push("Web search on");
    return lines;
  }
  if (kind === "KNOWLEDGE_BASE") {
    const embedder = get("embedder") ?? "local";
    return [`${PROVIDER_NAMES[embedder] ?? embedder} embeddings`, `top ${get("topK") ?? 4} · chunks ${get("chunkSize") ?? 1000}`];
  }
  if (kind === "USER_QUERY") return ["The question typed in the chat"];
  if (kind === "OUTPUT") return ["Shown in the chat, with sources"];
  return [];
}

/** The patch as the canvas may hold it until the server answers: a new key shows as its hint. */
export function maskSecrets(fields: readonly Field[], patch: Config): Config {
  const masked: Config = { ...patch };
  for (const field of fields) {
    const value = masked[field.name];
    if (field.widget === "secret" && typeof value === "string") {
      masked[field.name] = { secretRef: "pending", hint: `…${value.slice(-4)}` };
    }
  }
  return masked;
}
