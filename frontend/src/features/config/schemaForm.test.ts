// @vitest-environment node
import { describe, expect, it } from "vitest";
import { LLM_SCHEMA } from "../../test/fixtures";
import { buildPatch, fieldsOf, initialDraft, isVisible, keySettings, maskSecrets, validateDraft } from "./schemaForm";

const fields = fieldsOf(LLM_SCHEMA);
const byName = (name: string) => fields.find((f) => f.name === name)!;

describe("fieldsOf", () => {
  it("picks a widget per property from the schema", () => {
    expect(Object.fromEntries(fields.map((f) => [f.name, f.widget]))).toEqual({
      provider: "select",
      model: "text",
      apiKey: "secret",
      temperature: "number",
      maxTokens: "number",
      prompt: "prompt",
      webSearch: "toggle",
      webSearchApiKey: "secret",
    });
  });

  it("returns nothing for a schema without properties", () => {
    expect(fieldsOf({ type: "object", properties: {} })).toEqual([]);
    expect(fieldsOf(null)).toEqual([]);
  });
});

describe("drafts", () => {
  it("start from the stored config, else the schema default", () => {
    const draft = initialDraft(fields, { provider: "openai", temperature: 0.7 });
    expect(draft.provider).toBe("openai");
    expect(draft.temperature).toBe("0.7");
    expect(draft.maxTokens).toBe("1024");
    expect(draft.webSearch).toBe(false);
    expect(draft.apiKey).toEqual({ mode: "empty" });
  });

  it("hold a stored secret as its hint only", () => {
    const draft = initialDraft(fields, { apiKey: { secretRef: "s1", hint: "…abcd" } });
    expect(draft.apiKey).toEqual({ mode: "keep", hint: "…abcd" });
    expect(JSON.stringify(draft)).not.toContain("s1");
  });

  it("ask again for a key the server cleared when the address changed", () => {
    const config = { provider: "openai", baseUrl: "http://new:11434/v1", apiKey: { cleared: "the address changed" } };
    const draft = initialDraft(fields, config);
    expect(draft.apiKey).toEqual({ mode: "again" });
    expect(buildPatch(fields, config, draft)).toEqual({});
    expect(buildPatch(fields, config, { ...draft, apiKey: { mode: "replace", value: " sk-new " } })).toEqual({ apiKey: "sk-new" });
    expect(buildPatch(fields, config, { ...draft, apiKey: { mode: "remove", hint: "cleared" } })).toEqual({ apiKey: null });
  });

  it("show fields by x-show-if", () => {
    const draft = initialDraft(fields, { provider: "extractive" });
    expect(isVisible(byName("model"), draft)).toBe(false);
    expect(isVisible(byName("maxTokens"), draft)).toBe(true);
    expect(isVisible(byName("model"), { ...draft, provider: "gemini" })).toBe(true);
    expect(isVisible(byName("webSearchApiKey"), draft)).toBe(false);
    expect(isVisible(byName("webSearchApiKey"), { ...draft, webSearch: true })).toBe(true);
  });
});

describe("validateDraft", () => {
  const base = initialDraft(fields, { provider: "openai" });
  it("checks bounds and integers of visible number fields", () => {
    expect(validateDraft(fields, { ...base, temperature: "3" })).toEqual({ temperature: "At most 2." });
    expect(validateDraft(fields, { ...base, maxTokens: "1.5" })).toEqual({ maxTokens: "Enter a whole number." });
    expect(validateDraft(fields, { ...base, maxTokens: "0" })).toEqual({ maxTokens: "At least 1." });
    expect(validateDraft(fields, base)).toEqual({});
  });

  it("skips hidden fields", () => {
    expect(validateDraft(fields, { ...base, provider: "extractive", temperature: "99" })).toEqual({});
  });
});

describe("buildPatch", () => {
  const config = { provider: "openai", model: "gpt-4o-mini", apiKey: { secretRef: "s1", hint: "…abcd" } };
  const draft = initialDraft(fields, config);

  it("sends only what changed, never a stored secret", () => {
    expect(buildPatch(fields, config, draft)).toEqual({});
    const patch = buildPatch(fields, config, { ...draft, model: "gpt-4.1", temperature: "0.5" });
    expect(patch).toEqual({ model: "gpt-4.1", temperature: 0.5 });
    expect("apiKey" in patch).toBe(false);
  });

  it("sends a replaced secret once, and null for a removed one", () => {
    expect(buildPatch(fields, config, { ...draft, apiKey: { mode: "replace", value: " sk-new " } })).toEqual({ apiKey: "sk-new" });
    expect(buildPatch(fields, config, { ...draft, apiKey: { mode: "remove", hint: "…abcd" } })).toEqual({ apiKey: null });
    expect(buildPatch(fields, config, { ...draft, apiKey: { mode: "replace", value: "" } })).toEqual({});
  });

  it("removes a cleared optional value and ignores hidden fields", () => {
    expect(buildPatch(fields, config, { ...draft, model: "" })).toEqual({ model: null });
    expect(buildPatch(fields, config, { ...draft, provider: "extractive", model: "changed" })).toEqual({ provider: "extractive" });
  });

  it("masks a new secret in what the canvas shows meanwhile", () => {
    const masked = maskSecrets(fields, { apiKey: "sk-secret-1234", model: "m" });
    expect(masked).toEqual({ apiKey: { secretRef: "pending", hint: "…1234" }, model: "m" });
    expect(JSON.stringify(masked)).not.toContain("sk-secret");
  });
});

describe("keySettings", () => {
  it("summarises the LLM and knowledge base on their nodes", () => {
    expect(keySettings("LLM_ENGINE", { provider: "openai", model: "gpt-4o-mini", webSearch: true })).toEqual(["OpenAI · gpt-4o-mini", "Web search on"]);
    expect(keySettings("LLM_ENGINE", { provider: "extractive" })).toEqual(["Extractive (offline)"]);
    expect(keySettings("KNOWLEDGE_BASE", { embedder: "local", topK: 6, chunkSize: 800 })).toEqual(["Local embeddings", "top 6 · chunks 800"]);
  });
});
