import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { LLM_SCHEMA } from "../../test/fixtures";
import { SchemaForm } from "./SchemaForm";

function setup(config: Record<string, unknown>, onSubmit = vi.fn(async () => true)) {
  const user = userEvent.setup();
  const utils = render(<SchemaForm schema={LLM_SCHEMA} config={config} onSubmit={onSubmit} idPrefix="t" />);
  return { user, onSubmit, ...utils };
}

describe("SchemaForm", () => {
  it("draws a select for enums and hides fields that don't apply", async () => {
    const { user } = setup({ provider: "extractive" });
    const provider = screen.getByLabelText("Provider") as HTMLSelectElement;
    expect(Array.from(provider.options).map((o) => o.value)).toEqual(["openai", "gemini", "extractive"]);
    expect(screen.queryByLabelText("Model")).toBeNull();
    expect(screen.queryByLabelText("Temperature")).toBeNull();
    await user.selectOptions(provider, "openai");
    expect(screen.getByLabelText("Model")).toBeTruthy();
    expect(screen.getByLabelText("Temperature")).toBeTruthy();
  });

  it("names each choice and helps with the one chosen, and the fields that depend on it", async () => {
    const { user } = setup({ provider: "extractive" });
    const provider = screen.getByLabelText("Provider") as HTMLSelectElement;
    expect(Array.from(provider.options).map((o) => o.textContent)).toEqual(["OpenAI", "Gemini", "Extractive (offline)"]);
    expect(screen.getByText("Quotes your documents, offline.")).toBeTruthy();
    await user.selectOptions(provider, "openai");
    expect(screen.queryByText("Quotes your documents, offline.")).toBeNull();
    expect(screen.getByText("OpenAI's models.")).toBeTruthy();
    expect(screen.getByText("e.g. gpt-4o-mini")).toBeTruthy();
    await user.selectOptions(provider, "gemini");
    expect(screen.getByText("e.g. gemini-2.5-flash")).toBeTruthy();
  });

  it("saves only the changed keys", async () => {
    const { user, onSubmit } = setup({ provider: "openai", model: "gpt-4o-mini" });
    const model = screen.getByLabelText("Model");
    await user.clear(model);
    await user.type(model, "gpt-4.1");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(onSubmit).toHaveBeenCalledWith({ model: "gpt-4.1" });
  });

  it("shows a stored key as its hint, never echoes it, and replaces it on request", async () => {
    const { user, onSubmit, container } = setup({ provider: "openai", apiKey: { secretRef: "ref-1", hint: "…abcd" } });
    expect(screen.getByText("Stored key …abcd")).toBeTruthy();
    expect(container.innerHTML).not.toContain("ref-1");
    for (const input of Array.from(container.querySelectorAll("input"))) expect(input.value).not.toContain("abcd");

    await user.click(screen.getByRole("button", { name: "Replace" }));
    const key = screen.getByLabelText("API key") as HTMLInputElement;
    expect(key.type).toBe("password");
    expect(key.value).toBe("");
    await user.type(key, "sk-new-key");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(onSubmit).toHaveBeenCalledWith({ apiKey: "sk-new-key" });
  });

  it("asks again for a key cleared by a new address, or saves that none is needed", async () => {
    const cleared = { provider: "openai", baseUrl: "http://new:11434/v1", apiKey: { cleared: "the address changed" } };
    const { user, onSubmit } = setup(cleared);
    expect(screen.getByText(/enter the key again/)).toBeTruthy();
    expect((screen.getByLabelText("API key") as HTMLInputElement).value).toBe("");
    await user.click(screen.getByRole("button", { name: "No key needed" }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(onSubmit).toHaveBeenCalledWith({ apiKey: null });
  });

  it("removes a stored key with null", async () => {
    const { user, onSubmit } = setup({ provider: "gemini", apiKey: { secretRef: "ref-1", hint: "…abcd" } });
    await user.click(screen.getByRole("button", { name: "Remove" }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(onSubmit).toHaveBeenCalledWith({ apiKey: null });
  });

  it("refuses numbers out of bounds", async () => {
    const { user, onSubmit } = setup({ provider: "openai" });
    const temperature = screen.getByLabelText("Temperature");
    await user.clear(temperature);
    await user.type(temperature, "5");
    expect(screen.getByText("At most 2.")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("inserts prompt placeholders and warns when one is missing", async () => {
    const { user } = setup({ prompt: "Answer: {query}" });
    expect(screen.getByText(/Missing \{context\}/)).toBeTruthy();
    const prompt = screen.getByLabelText("Prompt") as HTMLTextAreaElement;
    prompt.setSelectionRange(prompt.value.length, prompt.value.length);
    await user.click(screen.getByRole("button", { name: "Insert {context}" }));
    expect(prompt.value).toBe("Answer: {query}{context}");
  });

  it("toggles booleans as switches and reveals dependent fields", async () => {
    const { user, onSubmit } = setup({});
    const toggle = screen.getByRole("switch", { name: "Web search" });
    expect(toggle.getAttribute("aria-checked")).toBe("false");
    await user.click(toggle);
    expect(screen.getByLabelText("Web search API key")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(onSubmit).toHaveBeenCalledWith({ webSearch: true });
  });

  it("follows the server when nothing is being edited, and after a save", async () => {
    const onSubmit = vi.fn(async () => true);
    const { rerender, user } = setup({ provider: "openai", model: "a" }, onSubmit);
    rerender(<SchemaForm schema={LLM_SCHEMA} config={{ provider: "openai", model: "from-elsewhere" }} onSubmit={onSubmit} idPrefix="t" />);
    await waitFor(() => expect((screen.getByLabelText("Model") as HTMLInputElement).value).toBe("from-elsewhere"));

    const key = screen.getByLabelText("API key");
    fireEvent.change(key, { target: { value: "sk-1234" } });
    await user.click(screen.getByRole("button", { name: "Save" }));
    rerender(
      <SchemaForm
        schema={LLM_SCHEMA}
        config={{ provider: "openai", model: "from-elsewhere", apiKey: { secretRef: "r", hint: "…1234" } }}
        onSubmit={onSubmit}
        idPrefix="t"
      />,
    );
    await waitFor(() => expect(screen.getByText("Stored key …1234")).toBeTruthy());
    expect(screen.getByText("All changes saved")).toBeTruthy();
  });
});
