// A stack past 300 changes (issue 8): built quickly through the API, it opens, takes an edit,
// shows its history a page at a time, compares two far-apart versions and rolls back; undo
// takes the rollback back.
import assert from "node:assert/strict";
import { test } from "node:test";
import { appAndBrowser, gql, screenshot, wiredStack } from "./helpers.mjs";

const session = appAndBrowser();

const MOVES = 320;

test("a stack past 300 changes opens, edits, diffs and rolls back", async () => {
  const { baseUrl } = session.app;
  const { page } = session.browser;
  const id = await wiredStack(baseUrl, "Long-lived stack");
  await gql(baseUrl, `mutation($w: UUID!) { configureNode(workflowId: $w, nodeId: "kb", config: {topK: 6}) { id } }`, { w: id });
  const move = `mutation($w: UUID!, $x: Float!) { moveNode(workflowId: $w, nodeId: "kb", position: {x: $x, y: 0}) { version } }`;
  let version = 0;
  for (let i = 1; i <= MOVES; i++) version = (await gql(baseUrl, move, { w: id, x: 300 + (i % 2) * 40 })).moveNode.version;
  assert.equal(version, MOVES + 3);
  await gql(baseUrl, `mutation($w: UUID!) { publishWorkflow(workflowId: $w) { number } }`, { w: id });

  await page.goto(`${baseUrl}/stacks/${id}`);
  await page.locator('.react-flow__node[data-id="kb"]').waitFor({ timeout: 20_000 });
  await page.getByTestId("published-status").getByText("Published v1").waitFor();

  // An edit: a node renamed in place.
  const llm = page.locator('.react-flow__node[data-id="llm"]');
  await llm.getByText("LLM Engine", { exact: true }).first().dblclick();
  await llm.getByRole("textbox", { name: "Node name" }).fill("Answer writer");
  await llm.getByRole("textbox", { name: "Node name" }).press("Enter");
  await page.getByRole("status").filter({ hasText: "Saved" }).waitFor();
  await page.getByTestId("published-status").getByText("1 change not built").waitFor();

  // The history: newest first, a page at a time.
  await page.getByRole("button", { name: "History", exact: true }).click();
  const history = page.getByRole("region", { name: "History" });
  const changes = history.getByRole("list", { name: "Changes" });
  await changes.getByText("Renamed node “LLM Engine” → “Answer writer”").waitFor({ timeout: 20_000 });
  assert.equal(await changes.locator(":scope > li").count(), 100);
  await history.getByRole("button", { name: /^Show older \(\d+ more\)$/ }).click();
  assert.equal(await changes.locator(":scope > li").count(), 200);
  await history.getByRole("button", { name: /^Layout \(320\)$/ }).waitFor();
  await screenshot(page, "long-01-history");

  // Change 3 (the topK setting, before any move) against now.
  await history.getByRole("button", { name: /^Settings \(\d+\)$/ }).click();
  const setting = changes.getByRole("button", { name: /^Change 3: Knowledge Base: Passages per question 4 → 6/ });
  await setting.click();
  const banner = page.getByRole("status").filter({ hasText: "read-only" });
  await banner.getByText("Draft · change 3").waitFor();
  await banner.getByRole("button", { name: "Compare with now" }).click();
  const dialog = page.getByRole("dialog", { name: "Compare versions" });
  const comparison = dialog.getByTestId("comparison");
  await comparison.getByRole("group", { name: "Answer writer: changed" }).waitFor();
  assert.equal(
    (await comparison.getByRole("group", { name: "Answer writer: changed" }).locator('[data-field="label"]').innerText()).replace(/\s+/g, " "),
    "Name LLM Engine Answer writer",
  );
  assert.match(await dialog.innerText(), /v1 · change 325/);
  await screenshot(page, "long-02-compare");
  await dialog.getByRole("button", { name: "Close" }).last().click();

  // Roll back to it: all it held comes back, as one more change.
  await banner.getByRole("button", { name: "Roll back to this version" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Roll back" }).click();
  await page.getByText("Rolled back to Draft · change 3").first().waitFor();
  await llm.getByText("LLM Engine", { exact: true }).first().waitFor();
  const wf = (await gql(baseUrl, `query($w: UUID!) { workflow(id: $w) { version nodes { id label position { x } } } }`, { w: id })).workflow;
  assert.equal(wf.version, MOVES + 6);
  assert.deepEqual(
    wf.nodes.map((n) => [n.id, n.label, n.position.x]),
    [
      ["q", "User Query", 0],
      ["kb", "Knowledge Base", 300],
      ["llm", "LLM Engine", 620],
      ["out", "Output", 940],
    ],
  );
  await history.getByRole("button", { name: /^All \(\d+\)$/ }).click();
  await changes.getByText(/^Rolled back to Draft · change 3: 1 node changed$/).waitFor();
  await screenshot(page, "long-03-rolled-back");

  // Undo takes the rollback back.
  await page.keyboard.press("Control+z");
  await llm.getByText("Answer writer", { exact: true }).waitFor();
  await changes.getByText(/^Undid: Rolled back to Draft · change 3/).waitFor();
  assert.deepEqual(session.browser.errors.filter((e) => !/WebSocket|Failed to load resource/.test(e)), []);
});
