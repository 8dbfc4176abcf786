import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { CombinedError, Provider } from "urql";
import { describe, expect, it, vi } from "vitest";
import { fakeClient, type Reply } from "../../test/fakeClient";
import { importFollowUp } from "./ImportStackButton";
import { needsLine, TemplateGallery, type StackTemplate } from "./TemplateGallery";

const TEMPLATES: StackTemplate[] = [
  {
    id: "ask-your-pdfs-offline",
    title: "Ask your PDFs (offline)",
    description: "Everything runs on this server.",
    kinds: ["USER_QUERY", "KNOWLEDGE_BASE", "LLM_ENGINE", "OUTPUT"],
    needs: [],
  },
  {
    id: "research-with-web-search",
    title: "Research with web search",
    description: "Answers from fresh web results.",
    kinds: ["USER_QUERY", "LLM_ENGINE", "OUTPUT"],
    needs: [
      { provider: "openai", description: "an OpenAI API key", provided: true },
      { provider: "websearch", description: "a web search (SerpAPI) key", provided: false },
    ],
  },
];

function setup(replies: Array<() => Reply>) {
  const { client, sent } = fakeClient(replies);
  const onCreated = vi.fn();
  render(
    <Provider value={client}>
      <TemplateGallery templates={TEMPLATES} onCreated={onCreated} />
    </Provider>,
  );
  return { sent, onCreated, user: userEvent.setup() };
}

describe("TemplateGallery", () => {
  it("shows each template with its title, description and what it needs", () => {
    setup([]);
    const cards = screen.getAllByTestId("template-card");
    expect(cards.map((c) => within(c).getByRole("heading").textContent)).toEqual(["Ask your PDFs (offline)", "Research with web search"]);
    expect(within(cards[0]).getByText("Everything runs on this server.")).toBeTruthy();
    expect(screen.getAllByTestId("template-needs").map((n) => n.textContent)).toEqual([
      "Runs offline: no key needed",
      "Needs a web search (SerpAPI) key", // the server holds an OpenAI key: only the missing one is named
    ]);
    expect(within(cards[1]).getByLabelText("User Query → LLM Engine → Output")).toBeTruthy();
  });

  it("makes a stack from the template clicked, in one step, and opens it", async () => {
    const { user, sent, onCreated } = setup([() => ({ data: { createStackFromTemplate: { id: "new-stack", name: "Ask your PDFs (offline)" } } })]);
    await user.click(screen.getByRole("button", { name: "Use template Ask your PDFs (offline)" }));
    expect(sent).toEqual([{ op: "CreateStackFromTemplate", vars: { templateId: "ask-your-pdfs-offline" } }]);
    expect(onCreated).toHaveBeenCalledWith("new-stack");
  });

  it("says why a stack could not be made, and opens nothing", async () => {
    const refused = new CombinedError({ graphQLErrors: [{ message: "you are in no workspace: create one", extensions: { code: "FORBIDDEN" } }] });
    const { user, onCreated } = setup([() => ({ error: refused })]);
    await user.click(screen.getByRole("button", { name: "Use template Research with web search" }));
    expect(screen.getByRole("alert").textContent).toContain("you are in no workspace");
    expect(onCreated).not.toHaveBeenCalled();
    expect(screen.getByRole("button", { name: "Use template Research with web search" }).hasAttribute("disabled")).toBe(false);
  });
});

describe("needsLine", () => {
  it("says when the server holds every key a template needs", () => {
    expect(needsLine({ needs: [{ provider: "gemini", description: "a Gemini API key", provided: true }] })).toBe(
      "Ready: this server has the keys it needs",
    );
    const both = [
      { provider: "openai", description: "an OpenAI API key", provided: false },
      { provider: "websearch", description: "a web search (SerpAPI) key", provided: false },
    ];
    expect(needsLine({ needs: both })).toBe("Needs an OpenAI API key and a web search (SerpAPI) key");
  });
});

describe("importFollowUp", () => {
  const imported = {
    __typename: "ImportedStack" as const,
    workflow: { __typename: "Workflow" as const, id: "w", name: "Lighthouses" },
    documents: [],
    keysToReenter: [] as Array<{ nodeId: string; label: string; setting: string }>,
    documentsLeftOut: 0,
  };

  it("names the keys to enter again and the documents left out", () => {
    expect(importFollowUp(imported)).toBeNull();
    expect(
      importFollowUp({
        ...imported,
        keysToReenter: [
          { nodeId: "llm", label: "OpenAI", setting: "apiKey" },
          { nodeId: "llm", label: "OpenAI", setting: "webSearchApiKey" },
        ],
        documentsLeftOut: 2,
      }),
    ).toBe(
      "Enter the keys again, they never leave a server: OpenAI (API key), OpenAI (web search key). 2 documents were not in the file: upload them again, or export as a zip with documents.",
    );
  });
});
