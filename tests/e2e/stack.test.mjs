// The journey of issue 5: create a stack, drag the four components, connect them, rename
// nodes, configure the LLM as extractive, upload a PDF and watch it index page by page and
// passage by passage, build, chat and see a streamed, cited answer, open history, view an old
// version, roll back.
import assert from "node:assert/strict";
import { test } from "node:test";
import { appAndBrowser, connect, createStack, eventually, nodeIdOf, screenshot } from "./helpers.mjs";
import { makePdf, roverManual } from "./pdf.mjs";

const session = appAndBrowser();

// Drop points inside the canvas (about 770 × 840 at 1440 × 900), zoomed out twice so that
// four 240-wide nodes fit side by side.
const KINDS = [
  ["USER_QUERY", 100, 400],
  ["KNOWLEDGE_BASE", 300, 250],
  ["LLM_ENGINE", 500, 420],
  ["OUTPUT", 680, 420],
];

test("builds a PDF question-answering stack and chats with it", async () => {
  const { page } = session.browser;
  // What the server pushes on the socket, in order: streamed tokens must come before the
  // stored answer. (The page may render both in one frame when the answer is short.)
  const chatFrames = [];
  page.on("websocket", (ws) =>
    ws.on("framereceived", ({ payload }) => {
      const text = String(payload);
      if (text.includes('"ChatToken"')) chatFrames.push("token");
      else if (text.includes('"ChatMessageAdded"') && text.includes('"ASSISTANT"')) chatFrames.push("answer");
    }),
  );

  await page.goto(session.app.baseUrl + "/");
  await page.getByRole("heading", { name: "My Stacks" }).waitFor();
  await screenshot(page, "01-my-stacks-empty");

  await page.getByRole("button", { name: /New stack|Create a stack/ }).first().click();
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("Rover manual assistant");
  await page.getByLabel("Description").fill("Answers questions about the Zephyr X200 rover from its field manual.");
  await screenshot(page, "02-create-dialog");
  await page.getByRole("button", { name: "Create stack" }).click();
  await page.waitForURL(/\/stacks\//);
  const pane = page.locator(".react-flow__pane");
  await pane.waitFor();
  await page.getByTestId("library-USER_QUERY").waitFor();
  await screenshot(page, "03-builder-empty");

  // Drag each component from the library onto the canvas.
  await page.getByRole("button", { name: "Zoom Out" }).click();
  await page.getByRole("button", { name: "Zoom Out" }).click();
  for (const [kind, x, y] of KINDS) {
    await page.getByTestId(`library-${kind}`).dragTo(pane, { targetPosition: { x, y } });
    await page.locator(`[data-testid="node-${kind}"]`).waitFor();
  }
  assert.equal(await page.locator(".react-flow__node").count(), 4);
  await page.getByRole("status").filter({ hasText: "Saved" }).waitFor();

  // Building an unconnected graph is refused, and the issues are drawn on the nodes.
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await page.getByText(/Fix \d+ issues? to build/).waitFor();
  await page.locator('.react-flow__node [aria-label="Issues"]').first().waitFor();
  await page.locator(".react-flow__pane").click({ position: { x: 20, y: 20 } });
  await screenshot(page, "04a-build-issues");

  // A refused connection explains itself: a query can't go into the LLM's context input.
  const ids = Object.fromEntries(await Promise.all(KINDS.map(async ([kind]) => [kind, await nodeIdOf(page, kind)])));
  await connect(page, ids.USER_QUERY, "query", ids.LLM_ENGINE, "context");
  await page.getByText("Can't connect these ports").waitFor();
  assert.equal(await page.locator(".react-flow__edge").count(), 0);

  await connect(page, ids.USER_QUERY, "query", ids.KNOWLEDGE_BASE);
  await connect(page, ids.USER_QUERY, "query", ids.LLM_ENGINE);
  await connect(page, ids.KNOWLEDGE_BASE, "context", ids.LLM_ENGINE);
  await connect(page, ids.LLM_ENGINE, "answer", ids.OUTPUT);
  await eventually(async () => (await page.locator(".react-flow__edge").count()) === 4, { message: "four edges" });
  await page.getByRole("status").filter({ hasText: "Saved" }).waitFor();
  await page.getByRole("button", { name: "Fit View" }).click();
  await screenshot(page, "04-builder-connected");

  // Rename a node in place by double-clicking its title; the canvas keeps its zoom.
  const viewport = page.locator(".react-flow__viewport");
  const zoomBefore = await viewport.getAttribute("style");
  const kbNode = page.locator(`.react-flow__node[data-id="${ids.KNOWLEDGE_BASE}"]`);
  await kbNode.getByText("Knowledge Base", { exact: true }).dblclick();
  await kbNode.getByRole("textbox", { name: "Node name" }).fill("Rover field manual");
  await kbNode.getByRole("textbox", { name: "Node name" }).press("Enter");
  await kbNode.getByText("Rover field manual", { exact: true }).waitFor();
  await kbNode.getByText("Knowledge Base", { exact: true }).waitFor(); // the kind, under the new name
  assert.equal(await viewport.getAttribute("style"), zoomBefore, "a double-click on a title does not zoom");

  // Configure the LLM: renamed from its panel's title, a key stored and shown only by its
  // hint, then the offline provider.
  await page.locator(`.react-flow__node[data-id="${ids.LLM_ENGINE}"]`).click();
  const settings = page.getByRole("region", { name: /Settings of/ });
  await settings.getByRole("button", { name: "Rename node LLM Engine" }).click();
  await settings.getByRole("textbox", { name: "Node name" }).fill("Answer writer");
  await settings.getByRole("textbox", { name: "Node name" }).press("Enter");
  await page.locator(`.react-flow__node[data-id="${ids.LLM_ENGINE}"]`).getByText("Answer writer", { exact: true }).waitFor();
  await page.getByRole("status").filter({ hasText: "Saved" }).waitFor();
  await settings.getByLabel("Provider").selectOption("openai");
  await settings.getByLabel("Model").fill("gpt-4o-mini");
  await settings.getByLabel("API key").fill("sk-test-secret-9876");
  await settings.getByRole("button", { name: "Save" }).click();
  await settings.getByText("Stored key …9876").waitFor();
  assert.equal(await page.locator("body").innerHTML().then((h) => h.includes("sk-test-secret")), false, "the key is never echoed");
  await screenshot(page, "05-config-llm-secret");
  await settings.getByLabel("Provider").selectOption("extractive");
  await settings.getByRole("button", { name: "Save" }).click();
  await settings.getByText("All changes saved").waitFor();
  await page.locator(`.react-flow__node[data-id="${ids.LLM_ENGINE}"]`).getByText("Extractive (offline)").waitFor();

  // Upload a 12-page PDF to the knowledge base and watch it index: the progress bar reports
  // the pages read, then the passages embedded, and only moves forward.
  await kbNode.click();
  await page.getByRole("region", { name: "Settings of Rover field manual" }).waitFor();
  await page.evaluate(() => {
    window.__progress = [];
    new MutationObserver(() => {
      for (const bar of document.querySelectorAll('[data-testid="document-row"] [role="progressbar"]')) {
        const status = bar.closest('[data-testid="document-row"]').dataset.status; // UPLOADING, then PENDING
        const seen = { status, label: bar.getAttribute("aria-label"), value: Number(bar.getAttribute("aria-valuenow")) };
        const last = window.__progress.findLast((p) => p.status === status);
        if (last?.label !== seen.label || last?.value !== seen.value) window.__progress.push(seen);
      }
    }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["aria-label", "aria-valuenow"] });
  });
  await page.getByLabel("Upload PDF documents").setInputFiles({ name: "rover-manual.pdf", mimeType: "application/pdf", buffer: roverManual(12) });
  const row = page.getByTestId("document-row").filter({ hasText: "rover-manual.pdf" });
  await row.waitFor();
  // Caught mid-way when it can be (the first embedding loads the model); indexed otherwise.
  await page.waitForFunction(
    () => /Embedding \d+ of/.test(document.querySelector('[data-testid="document-progress"]')?.textContent ?? "") || document.querySelector('[data-status="INDEXED"]'),
    null,
    { timeout: 180_000 },
  );
  await screenshot(page, "06-config-kb-indexing");
  await page.locator('[data-testid="document-row"][data-status="INDEXED"]').waitFor({ timeout: 180_000 });
  await row.getByText(/12 pages · \d+ passages/).waitFor();
  const progress = await page.evaluate(() => window.__progress);
  const seen = progress.map((p) => `${p.status} ${p.value}% ${p.label}`).join(" | ");
  const indexing = progress.filter((p) => p.status === "PENDING");
  const labels = indexing.map((p) => p.label.replace("rover-manual.pdf: ", ""));
  const firstPassage = labels.findIndex((l) => /^Embedding \d+ of \d+ passages$/.test(l));
  assert.ok(labels.some((l) => /^Reading page \d+ of 12$/.test(l)), `pages reported: ${seen}`);
  assert.ok(firstPassage > labels.findIndex((l) => l.startsWith("Reading page")), `passages reported after pages: ${seen}`);
  const values = indexing.map((p) => p.value);
  assert.deepEqual(values, [...values].sort((a, b) => a - b), `the bar only moves forward: ${seen}`);
  await screenshot(page, "07-config-kb-indexed");

  // A PDF without text fails where it failed, with why; Retry indexes it again (and it fails
  // again, as it must); then it is removed.
  await page.getByLabel("Upload PDF documents").setInputFiles({ name: "scanned.pdf", mimeType: "application/pdf", buffer: makePdf(["", ""]) });
  const scanned = page.locator('[data-testid="document-row"]').filter({ hasText: "scanned.pdf" });
  await page.locator('[data-testid="document-row"][data-status="FAILED"]').filter({ hasText: "scanned.pdf" }).waitFor({ timeout: 60_000 });
  await scanned.getByText("Couldn't read the text of the PDF").waitFor();
  await screenshot(page, "07a-config-kb-failed");
  const reindexed = page.waitForResponse((r) => r.url().endsWith("/graphql") && (r.request().postData() ?? "").includes("reindexDocument"));
  await scanned.getByRole("button", { name: "Retry scanned.pdf" }).click();
  assert.equal((await (await reindexed).json()).data.reindexDocument.status, "PENDING");
  await scanned.getByRole("button", { name: "Retry scanned.pdf" }).waitFor({ timeout: 60_000 });
  await scanned.getByRole("button", { name: "Remove scanned.pdf" }).click();
  await eventually(async () => (await scanned.count()) === 0, { message: "the failed document removed" });

  // Build: publish.
  await page.locator(".react-flow__pane").click({ position: { x: 20, y: 20 } });
  await page.getByRole("button", { name: "Build", exact: true }).click();
  await page.getByText(/Built and published v1/).waitFor();
  await screenshot(page, "08-built");

  // Chat: the question at once, then a streamed answer citing the manual.
  await page.getByRole("button", { name: "Chat", exact: true }).click();
  const chat = page.getByRole("dialog");
  const input = chat.getByLabel("Your question");
  await eventually(async () => input.isEnabled(), { timeout: 20_000, message: "a chat session" });
  await input.fill("How long does the rover's battery last?");
  await input.press("Enter");
  await chat.getByTestId("chat-user-message").filter({ hasText: "battery" }).waitFor();
  const answer = chat.getByTestId("chat-assistant-message").last();
  await answer.waitFor({ timeout: 120_000 });
  assert.match(await answer.innerText(), /42 hours/);
  const firstAnswer = chatFrames.indexOf("answer");
  assert.ok(firstAnswer > 0 && chatFrames.slice(0, firstAnswer).every((f) => f === "token"), `the answer streamed in token by token before it was stored: ${chatFrames.join(" ")}`);
  await answer.getByRole("button", { name: /source/ }).click();
  await answer.getByText("rover-manual.pdf").first().waitFor();
  await screenshot(page, "09-chat-answer");
  await chat.getByRole("button", { name: "Close" }).click();

  // A new chunk size in the draft is indexed beside the published one, which keeps answering
  // from its own index until the next Build: the document's row says so, quietly.
  await kbNode.click();
  const kbSettings = page.getByRole("region", { name: "Settings of Rover field manual" });
  await kbSettings.getByLabel("Chunk size").fill("600");
  await kbSettings.getByRole("button", { name: "Save" }).click();
  await row
    .getByTestId("document-generation")
    .filter({ hasText: "Ready for the new settings · published v1 answers from the previous index until you build" })
    .waitFor({ timeout: 180_000 });
  await row.scrollIntoViewIfNeeded();
  await screenshot(page, "09a-config-kb-new-settings");
  await page.locator(".react-flow__pane").click({ position: { x: 20, y: 20 } });

  // History: the timeline, an old version read-only with its diff, and a rollback.
  await page.getByRole("button", { name: "History", exact: true }).click();
  const history = page.getByRole("region", { name: "History" });
  const versions = history.getByRole("list", { name: "Changes" }).getByRole("button");
  await eventually(async () => (await versions.count()) > 8, { message: "the history" });
  await history.getByRole("button", { name: /published v1/ }).waitFor();
  // The version right after the four nodes were added: nothing connected yet.
  await history.getByRole("button", { name: /^Change 5: / }).click();
  await page.getByRole("status").filter({ hasText: "read-only" }).waitFor();
  await eventually(async () => (await page.locator(".react-flow__edge").count()) === 4, { message: "edges added since, as ghosts" });
  assert.ok((await page.locator(".edge-added").count()) >= 4, "edges added since are highlighted");
  await screenshot(page, "10-history-old-version");
  await page.getByRole("button", { name: "Roll back to this version" }).click();
  await screenshot(page, "11-rollback-confirm");
  await page.getByRole("dialog").getByRole("button", { name: "Roll back" }).click();
  await page.getByText("Rolled back to Draft · change 5").first().waitFor();
  await eventually(async () => (await page.locator(".react-flow__edge").count()) === 0, { message: "the canvas as it stood at version 5" });
  await history.getByText(/^Rolled back to Draft · change 5/).first().waitFor();
  await screenshot(page, "12-rolled-back");

  // My Stacks lists it as a published card.
  await page.getByRole("link", { name: "Back to My Stacks" }).click();
  await page.getByRole("link", { name: "Rover manual assistant" }).waitFor();
  await page.getByRole("list", { name: "Stacks" }).getByText("Published v1").waitFor();
  await screenshot(page, "13-my-stacks");

  assert.deepEqual(session.browser.errors.filter((e) => !/WebSocket|Failed to load resource/.test(e)), []);
});
