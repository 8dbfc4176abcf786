// A history people can read (issue 8): entries in words with old → new values and one
// numbering, a filter by kind, documents' events, two versions side by side, the
// "changes not built" marker; and undo / redo by keys and buttons, surviving a reload.
import assert from "node:assert/strict";
import { test } from "node:test";
import { appAndBrowser, eventually, gql, screenshot, wiredStack as makeWiredStack } from "./helpers.mjs";
import { makePdf } from "./pdf.mjs";

const session = appAndBrowser();

const GRAPH = `id version unpublishedChanges nodes { id label position { x y } config } edges { id source target }`;

/** A wired stack made through the API, as another client would. */
const wiredStack = (name) => makeWiredStack(session.app.baseUrl, name, "Answers from the rover manual");

async function workflow(id) {
  return (await gql(session.app.baseUrl, `query($w: UUID!) { workflow(id: $w) { ${GRAPH} } }`, { w: id })).workflow;
}

async function configure(id, nodeId, config) {
  return gql(session.app.baseUrl, `mutation($w: UUID!, $n: String!, $c: JSON!) { configureNode(workflowId: $w, nodeId: $n, config: $c) { version } }`, {
    w: id,
    n: nodeId,
    c: config,
  });
}

async function openStack(page, id) {
  await page.goto(`${session.app.baseUrl}/stacks/${id}`);
  await page.locator(".react-flow__node").first().waitFor();
  await page.getByText("Live").waitFor({ timeout: 15_000 });
}

async function dragNode(page, nodeId, dx, dy) {
  const box = await page.locator(`.react-flow__node[data-id="${nodeId}"]`).boundingBox();
  const x = box.x + box.width / 2;
  const y = box.y + 14;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + dx / 2, y + dy / 2, { steps: 6 });
  await page.mouse.move(x + dx, y + dy, { steps: 6 });
  await page.mouse.up();
}

const positionOf = async (id, nodeId) => (await workflow(id)).nodes.find((n) => n.id === nodeId).position;

test("the history reads in words, by kind, with documents, and compares two versions", async () => {
  const { page } = session.browser;
  const { baseUrl } = session.app;
  const id = await wiredStack("Rover helper");
  await configure(id, "llm", { provider: "openai", model: "gpt-4o-mini", apiKey: "sk-e2e-secret-4321" });
  await configure(id, "llm", { provider: "extractive" });
  const built = (await gql(baseUrl, `mutation($w: UUID!) { publishWorkflow(workflowId: $w, note: "first cut") { number workflowVersion } }`, { w: id })).publishWorkflow;
  assert.deepEqual(built, { number: 1, workflowVersion: 5 });
  await configure(id, "kb", { topK: 3 });

  await openStack(page, id);
  const status = page.getByTestId("published-status");
  await status.getByText("Published v1").waitFor();
  await status.getByText("1 change not built").waitFor();

  // An edit made elsewhere arrives live, and with it the count.
  await configure(id, "kb", { chunkSize: 800 });
  await status.getByText("2 changes not built").waitFor({ timeout: 10_000 });

  // A PDF without text: its upload and its failure, with why, join the timeline.
  await page.locator('.react-flow__node[data-id="kb"]').click({ position: { x: 16, y: 10 } });
  await page.getByLabel("Upload PDF documents").setInputFiles({ name: "scanned.pdf", mimeType: "application/pdf", buffer: makePdf(["", ""]) });
  await page.locator('[data-testid="document-row"][data-status="FAILED"]').waitFor({ timeout: 60_000 });
  await page.locator(".react-flow__pane").click({ position: { x: 20, y: 20 } });

  await page.getByRole("button", { name: "History", exact: true }).click();
  const history = page.getByRole("region", { name: "History" });
  const changes = history.getByRole("list", { name: "Changes" });
  await changes.getByText("Knowledge Base: Chunk size 1000 → 800").waitFor();
  await changes.getByText("Knowledge Base: Passages per question 4 → 3").waitFor();
  await changes.getByText("LLM Engine: Provider Extractive (offline) → OpenAI; Model set to gpt-4o-mini; API key added").waitFor();
  await changes.getByText("Published v1: “first cut”").waitFor();
  // The draft's chunk size differs from v1's: the PDF is indexed for each, and fails for each.
  await changes.getByText(/^Couldn't index “scanned\.pdf” for the draft: /).waitFor({ timeout: 10_000 });
  await changes.getByText(/^Couldn't index “scanned\.pdf” for the published version: /).waitFor({ timeout: 10_000 });
  await changes.getByText("Uploaded “scanned.pdf” to Knowledge Base").waitFor();
  const topK = changes.getByRole("button", { name: /^Change 6: Knowledge Base: Passages per question 4 → 3/ });
  assert.match(await topK.innerText(), /v1 · change 6 · local/);
  assert.equal((await history.innerText()).includes("4321"), false, "no key, no hint in the history");
  await screenshot(page, "history-01-in-words");

  await history.getByRole("button", { name: /^Settings \(\d+\)$/ }).click();
  assert.equal(await changes.getByText("Connected User Query → Knowledge Base").count(), 0);
  await changes.getByText("Knowledge Base: Chunk size 1000 → 800").waitFor();
  await history.getByRole("button", { name: /^Documents \(\d+\)$/ }).click();
  await changes.getByText("Uploaded “scanned.pdf” to Knowledge Base").waitFor();
  assert.equal(await changes.getByText(/Passages per question/).count(), 0);
  await screenshot(page, "history-02-documents");
  await history.getByRole("button", { name: /^All \(\d+\)$/ }).click();

  // Two versions side by side: the build (change 5) and now.
  await history.getByRole("button", { name: "Compare", exact: true }).click();
  await changes.getByRole("button", { name: /^Change 5: Published v1/ }).click();
  await changes.getByRole("button", { name: /^Change 7: / }).click();
  await history.getByText("v1 · change 5 → v1 · change 7").waitFor();
  await history.getByRole("button", { name: "Compare these" }).click();
  const dialog = page.getByRole("dialog", { name: "Compare versions" });
  const comparison = dialog.getByTestId("comparison");
  const kb = comparison.getByRole("group", { name: "Knowledge Base: changed" });
  assert.equal(await kb.locator('[data-field="config.topK"]').innerText().then((t) => t.replace(/\s+/g, " ")), "Passages per question 4 3");
  assert.equal(await kb.locator('[data-field="config.chunkSize"]').innerText().then((t) => t.replace(/\s+/g, " ")), "Chunk size 1000 800");
  assert.equal(await comparison.getByRole("group", { name: "LLM Engine: changed" }).count(), 0);
  await screenshot(page, "history-03-compare");
  await dialog.getByRole("button", { name: "Close" }).last().click();

  // An old version, compared with now from its banner.
  await history.getByRole("button", { name: "Compare", exact: true }).click();
  await changes.getByRole("button", { name: /^Change 2: Imported a graph/ }).click();
  const banner = page.getByRole("status").filter({ hasText: "read-only" });
  await banner.getByText("Draft · change 2").waitFor();
  await banner.getByRole("button", { name: "Compare with now" }).click();
  await dialog.getByText("Draft · change 2", { exact: false }).first().waitFor();
  await dialog.getByTestId("comparison").getByRole("group", { name: "Knowledge Base: changed" }).waitFor();
  await screenshot(page, "history-04-compare-with-now");
  await dialog.getByRole("button", { name: "Close" }).last().click();
  await banner.getByRole("button", { name: "Back to current" }).click();

  // Building publishes the changes: the marker goes.
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await page.getByText(/Built and published v2/).waitFor();
  await status.getByText("Published v2").waitFor();
  await eventually(async () => (await status.getByText(/not built/).count()) === 0, { message: "no changes left to build" });
  await changes.getByText("Published v2").first().waitFor();
  assert.deepEqual(session.browser.errors.filter((e) => !/WebSocket|Failed to load resource/.test(e)), []);
});

test("undo and redo by keys and buttons, for one's own changes, surviving a reload", async () => {
  const { page } = session.browser;
  const id = await wiredStack("Undo me");
  await openStack(page, id);
  const start = await positionOf(id, "out");
  const undo = page.getByTestId("undo");
  const redo = page.getByTestId("redo");

  await dragNode(page, "out", 0, 140);
  await page.getByRole("status").filter({ hasText: "Saved" }).waitFor();
  await eventually(async () => (await positionOf(id, "out")).y > start.y + 100, { message: "the move saved" });
  await eventually(async () => (await undo.getAttribute("aria-label")) === "Undo: Moved Output (Ctrl+Z)", { message: "the undo tooltip" });
  await screenshot(page, "undo-01-moved");

  await page.keyboard.press("Control+z");
  await eventually(async () => (await positionOf(id, "out")).y === start.y, { message: "the move undone" });
  await eventually(async () => (await redo.getAttribute("aria-label")) === "Redo: Moved Output (Ctrl+Y)", { message: "redo offered" });
  await page.keyboard.press("Control+y");
  await eventually(async () => (await positionOf(id, "out")).y > start.y + 100, { message: "the move redone with Ctrl+Y" });
  await page.keyboard.press("Control+z");
  await eventually(async () => (await positionOf(id, "out")).y === start.y, { message: "and undone again" });
  await eventually(async () => {
    const box = await page.locator('.react-flow__node[data-id="out"]').boundingBox();
    const q = await page.locator('.react-flow__node[data-id="q"]').boundingBox();
    return Math.abs(box.y - q.y) < 2; // drawn where the server says: level with the User Query again
  }, { message: "the canvas in the server's state" });

  // A node deleted with the keyboard comes back with its connections; a new change ends redo.
  await page.locator('.react-flow__node[data-id="kb"]').click({ position: { x: 16, y: 10 } });
  await page.keyboard.press("Delete");
  await eventually(async () => (await workflow(id)).nodes.length === 3, { message: "the node removed" });
  await eventually(async () => (await undo.getAttribute("aria-label")) === "Undo: Removed Knowledge Base and its 2 connections (Ctrl+Z)", {
    message: "undo names the removal",
  });
  assert.equal(await redo.getAttribute("aria-label"), "Nothing to redo");
  await undo.click();
  await eventually(async () => (await workflow(id)).edges.length === 4, { message: "the node and its edges back" });
  await page.locator('.react-flow__node[data-id="kb"]').waitFor();
  await eventually(async () => (await page.locator(".react-flow__edge").count()) === 4, { message: "its edges drawn again" });

  // After a reload the stacks are still there: they come from the log.
  await page.reload();
  await page.locator(".react-flow__node").first().waitFor();
  await eventually(async () => (await redo.getAttribute("aria-label")) === "Redo: Removed Knowledge Base and its 2 connections (Ctrl+Y)", {
    message: "redo after a reload",
  });
  assert.equal(await undo.getAttribute("aria-label"), "Undo: Imported a graph: 4 nodes added, 4 connections added (Ctrl+Z)");
  await screenshot(page, "undo-02-after-reload");
  await page.keyboard.press("Control+Shift+z");
  await eventually(async () => (await workflow(id)).nodes.length === 3, { message: "the removal redone" });
  await page.keyboard.press("Control+z");
  await eventually(async () => (await workflow(id)).nodes.length === 4, { message: "and undone again" });
  await redo.click();
  await eventually(async () => (await workflow(id)).nodes.length === 3, { message: "redone by the button" });
  await eventually(async () => redo.isDisabled(), { message: "nothing left to redo" });
  assert.equal(await redo.getAttribute("aria-label"), "Nothing to redo");

  // The history says it in words, the undone entries marked.
  await page.getByRole("button", { name: "History", exact: true }).click();
  const changes = page.getByRole("region", { name: "History" }).getByRole("list", { name: "Changes" });
  await changes.getByText("Undid: Moved Output").first().waitFor();
  await changes.getByText("Redid: Removed Knowledge Base and its 2 connections").first().waitFor();
  await changes.getByRole("button", { name: /^Change 3: Moved Output, undone$/ }).waitFor();
  await screenshot(page, "undo-02-history");
  assert.deepEqual(session.browser.errors.filter((e) => !/WebSocket|Failed to load resource/.test(e)), []);
});
