// Templates and moving stacks, as a newcomer does them: a stack from the "Ask your PDFs
// (offline)" template card, a PDF, Build, and a chat that answers from it; then the stack
// exported as a zip with its documents, imported again from My Stacks, and opened with the
// same nodes and its document indexed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { appAndBrowser, eventually, screenshot } from "./helpers.mjs";
import { ROVER_FACT, roverManual } from "./pdf.mjs";

const session = appAndBrowser();
const state = { stackUrl: null };

test("a template card makes a stack that answers from a PDF after one Build", async () => {
  const { page, errors } = session.browser;
  const { baseUrl } = session.app;
  await page.goto(baseUrl + "/");
  const gallery = page.getByRole("list", { name: "Templates" });
  await gallery.waitFor();
  const titles = await gallery.getByRole("heading").allInnerTexts();
  assert.deepEqual(titles, ["Ask your PDFs (offline)", "Ask your PDFs with OpenAI", "Chat with a model", "Research with web search", "Gemini with documents"]);
  const needs = await gallery.getByTestId("template-needs").allInnerTexts();
  assert.equal(needs[0], "Runs offline: no key needed");
  assert.equal(needs[1], "Needs an OpenAI API key");
  assert.equal(needs[3], "Needs an OpenAI API key and a web search (SerpAPI) key");
  await screenshot(page, "portable-01-gallery");

  await page.getByRole("button", { name: "Use template Ask your PDFs (offline)" }).click();
  await page.waitForURL(/\/stacks\/[0-9a-f-]+$/);
  state.stackUrl = page.url();
  await page.locator(".react-flow__node").nth(3).waitFor();
  assert.equal(await page.locator(".react-flow__node").count(), 4);
  assert.equal(await page.locator(".react-flow__edge").count(), 4);

  // a PDF to the template's knowledge base
  await page.locator(".react-flow__node").filter({ hasText: "Your PDFs" }).click();
  await page.getByLabel("Upload PDF documents").setInputFiles({ name: "rover-manual.pdf", mimeType: "application/pdf", buffer: roverManual(3) });
  await page.locator('[data-testid="document-row"][data-status="INDEXED"]').filter({ hasText: "rover-manual.pdf" }).waitFor({ timeout: 180_000 });

  await page.locator(".react-flow__pane").click({ position: { x: 20, y: 20 } });
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await page.getByText(/Built and published v1/).waitFor();

  await page.getByRole("button", { name: "Chat", exact: true }).click();
  const chat = page.getByRole("dialog");
  const input = chat.getByLabel("Your question");
  await eventually(async () => input.isEnabled(), { timeout: 20_000, message: "a chat session" });
  await input.fill("How long does the rover's battery last?");
  await input.press("Enter");
  const answer = chat.getByTestId("chat-assistant-message").last();
  await answer.waitFor({ timeout: 120_000 });
  await eventually(async () => /42 hours/.test(await answer.innerText()), { timeout: 60_000, message: "an answer from the manual" });
  assert.ok(ROVER_FACT.includes("42 hours"));
  await screenshot(page, "portable-02-template-chat");
  await chat.getByRole("button", { name: "Close" }).click();
  assert.deepEqual(errors, []);
});

test("a stack exported as a zip is imported again with the same nodes and its document", async () => {
  const { page, errors } = session.browser;
  const { baseUrl } = session.app;
  assert.ok(state.stackUrl, "the template's stack of the first test");
  await page.goto(state.stackUrl);
  await page.locator(".react-flow__node").nth(3).waitFor();
  const before = (await page.locator(".react-flow__node").allInnerTexts()).sort();

  await page.getByRole("button", { name: "Export" }).click();
  const menu = page.getByRole("menu", { name: "Export" });
  await screenshot(page, "portable-03-export-menu");
  const downloading = page.waitForEvent("download");
  await menu.getByRole("menuitem", { name: /Stack with documents/ }).click();
  const download = await downloading;
  assert.equal(download.suggestedFilename(), "Ask-your-PDFs-offline.genai-stack.zip");
  const path = await download.path();
  const bytes = readFileSync(path);
  assert.equal(bytes.subarray(0, 2).toString(), "PK");

  await page.goto(baseUrl + "/");
  await page.getByRole("list", { name: "Stacks" }).waitFor();
  await page.getByTestId("import-stack-input").setInputFiles({ name: "Ask-your-PDFs-offline.genai-stack.zip", mimeType: "application/zip", buffer: bytes });
  await page.waitForURL((url) => /\/stacks\/[0-9a-f-]+$/.test(url.pathname) && url.href !== state.stackUrl);
  await page.getByText(/Imported “Ask your PDFs \(offline\)” with 1 document/).waitFor();
  await page.locator(".react-flow__node").nth(3).waitFor();
  assert.deepEqual((await page.locator(".react-flow__node").allInnerTexts()).sort(), before);
  assert.equal(await page.locator(".react-flow__edge").count(), 4);

  await page.locator(".react-flow__node").filter({ hasText: "Your PDFs" }).click();
  await page.locator('[data-testid="document-row"][data-status="INDEXED"]').filter({ hasText: "rover-manual.pdf" }).waitFor({ timeout: 180_000 });
  await screenshot(page, "portable-04-imported");

  // My Stacks lists both
  await page.goto(baseUrl + "/");
  const stacks = page.getByRole("list", { name: "Stacks" });
  await stacks.waitFor();
  await eventually(async () => (await stacks.getByRole("link", { name: "Ask your PDFs (offline)" }).count()) === 2, { message: "both stacks listed" });

  // a file that is not a stack is refused with the server's reason
  await page.getByTestId("import-stack-input").setInputFiles({ name: "notes.json", mimeType: "application/json", buffer: Buffer.from('{"hello": "world"}') });
  await page.getByText(/this is not a stack file/).waitFor();
  await screenshot(page, "portable-05-refused");
  assert.deepEqual(errors, []);
});
