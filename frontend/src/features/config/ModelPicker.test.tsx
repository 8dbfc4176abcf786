import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { ModelList } from "../builder/commands";
import { SchemaForm } from "./SchemaForm";

/** The LLM Engine's settings as served, cut down to what the model picker depends on. */
const SCHEMA = {
  type: "object",
  properties: {
    provider: {
      type: "string",
      title: "Provider",
      enum: ["openai", "ollama", "extractive"],
      oneOf: [
        { const: "openai", title: "OpenAI" },
        { const: "ollama", title: "Ollama", description: "A model on your own Ollama server." },
        { const: "extractive", title: "Extractive (offline)" },
      ],
      default: "extractive",
    },
    model: { type: "string", title: "Model", maxLength: 200, "x-show-if": { provider: ["openai", "ollama"] }, "x-models-from": { provider: ["ollama"] } },
    baseUrl: { type: "string", title: "Base URL", format: "uri", "x-show-if": { provider: ["openai", "ollama"] } },
  },
};

function setup(config: Record<string, unknown>, answer: (provider: string, baseUrl: string | null) => ModelList) {
  const listModels = vi.fn(async (provider: string, baseUrl: string | null) => answer(provider, baseUrl));
  const onSubmit = vi.fn(async () => true);
  render(<SchemaForm schema={SCHEMA} config={config} onSubmit={onSubmit} idPrefix="t" listModels={listModels} />);
  return { listModels, onSubmit, user: userEvent.setup() };
}

const choices = () => Array.from(screen.getByTestId("provider-models").querySelectorAll("option")).map((o) => [o.value, o.label]);

describe("the model picker", () => {
  it("offers the models the Ollama server has, asked at the node's base URL", async () => {
    const { listModels, onSubmit, user } = setup({ provider: "ollama", baseUrl: "http://gpu-box:11434" }, () => ({
      models: [
        { name: "llama3.2:latest", detail: "3.2B Q4_K_M" },
        { name: "qwen2.5:7b", detail: "7.6B Q4_K_M" },
      ],
    }));
    await screen.findByText("2 models on the server.");
    expect(listModels).toHaveBeenCalledWith("ollama", "http://gpu-box:11434");
    expect(choices()).toEqual([
      ["llama3.2:latest", "3.2B Q4_K_M"],
      ["qwen2.5:7b", "7.6B Q4_K_M"],
    ]);
    const model = screen.getByLabelText("Model");
    expect(model.getAttribute("list")).toBe("t-model-models");
    await user.type(model, "qwen2.5:7b");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(onSubmit).toHaveBeenCalledWith({ model: "qwen2.5:7b" });
  });

  it("says why when the server cannot be asked, and asks again on Refresh", async () => {
    let up = false;
    const { listModels, user } = setup({ provider: "ollama" }, () => (up ? { models: [{ name: "llama3.2:latest", detail: "" }] } : { error: "Ollama: could not reach the server" }));
    await screen.findByText("Couldn't list the models: Ollama: could not reach the server");
    expect(listModels).toHaveBeenCalledWith("ollama", null);
    up = true;
    await user.click(screen.getByRole("button", { name: "Refresh list" }));
    await screen.findByText("1 model on the server.");
    expect(choices()).toEqual([["llama3.2:latest", ""]]);
  });

  it("lists nothing for a provider whose server lists no models", async () => {
    const { listModels, user } = setup({ provider: "openai" }, () => ({ models: [] }));
    expect(screen.queryByTestId("provider-models")).toBeNull();
    await user.selectOptions(screen.getByLabelText("Provider"), "ollama");
    await waitFor(() => expect(listModels).toHaveBeenCalledWith("ollama", null));
    await screen.findByText(/The server has no model yet/);
  });
});
