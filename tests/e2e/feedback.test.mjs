// Answer feedback (issue 11, item 8): an answer rated down with a note in the chat, the rating
// still there after a reload, and the question with its answer and note in the stack's
// Feedback panel; rated up again, it leaves the list.
import assert from "node:assert/strict";
import { test } from "node:test";
import { appAndBrowser, eventually, gql, screenshot } from "./helpers.mjs";

const session = appAndBrowser();

const QUESTION = "How long does the rover's battery last?";
const NOTE = "It did not answer: the manual says 42 hours.";

/** User Query → LLM Engine (extractive) → Output, published as v1. */
async function publishedStack(baseUrl) {
  const add = "mutation($w: UUID!, $k: NodeKind!, $id: String!, $x: Float!, $c: JSON) { addNode(workflowId: $w, kind: $k, nodeId: $id, position: {x: $x, y: 200}, config: $c) { version } }";
  const connect = "mutation($w: UUID!, $s: String!, $t: String!) { connectNodes(workflowId: $w, source: $s, target: $t) { version } }";
  const w = (await gql(baseUrl, 'mutation { createWorkflow(name: "Rover helpdesk", description: "Rated by its users.") { id } }')).createWorkflow.id;
  await gql(baseUrl, add, { w, k: "USER_QUERY", id: "q", x: 0 });
  await gql(baseUrl, add, { w, k: "LLM_ENGINE", id: "llm", x: 320, c: { provider: "extractive" } });
  await gql(baseUrl, add, { w, k: "OUTPUT", id: "out", x: 640 });
  await gql(baseUrl, connect, { w, s: "q", t: "llm" });
  await gql(baseUrl, connect, { w, s: "llm", t: "out" });
  await gql(baseUrl, "mutation($w: UUID!) { publishWorkflow(workflowId: $w) { number } }", { w });
  return w;
}

test("an answer rated down with a note shows in the stack's feedback, and leaves it when rated up", async () => {
  const { page } = session.browser;
  const { baseUrl } = session.app;
  const w = await publishedStack(baseUrl);

  await page.goto(`${baseUrl}/stacks/${w}`);
  await page.locator(".react-flow").waitFor();
  await page.getByRole("button", { name: "Chat", exact: true }).click();
  const chat = page.getByRole("dialog");
  const input = chat.getByLabel("Your question");
  await input.fill(QUESTION);
  await input.press("Enter");
  const answer = chat.getByTestId("chat-assistant-message").first();
  await answer.waitFor({ timeout: 60_000 });
  await page.waitForURL(/[?&]chat=[0-9a-f-]{36}/);

  // Thumbs down opens a note, typed and sent from the keyboard.
  const rating = answer.getByRole("group", { name: "Rate this answer" });
  const down = rating.getByRole("button", { name: "Bad answer" });
  await down.click();
  const note = rating.getByRole("textbox", { name: /What was wrong/ });
  await note.waitFor();
  await note.fill(NOTE);
  await screenshot(page, "40-feedback-note");
  await note.press("Control+Enter");
  await rating.getByRole("button", { name: "Bad answer", pressed: true }).waitFor();
  assert.equal(await rating.getByRole("button", { name: "Good answer" }).getAttribute("aria-pressed"), "false");
  await rating.getByText(`“${NOTE}”`).waitFor();
  await screenshot(page, "41-feedback-rated-down");

  // The rating is stored: a reload shows it again.
  await page.reload();
  await chat.getByTestId("chat-assistant-message").first().getByRole("button", { name: "Bad answer", pressed: true }).waitFor({ timeout: 30_000 });

  // The stack's Feedback panel lists the question, its answer and the note.
  await chat.getByRole("button", { name: "Close" }).click();
  await page.getByRole("button", { name: "Feedback", exact: true }).click();
  const panel = page.getByRole("region", { name: "Feedback" });
  const item = panel.getByTestId("rated-down");
  await item.waitFor();
  assert.equal(await item.count(), 1);
  assert.match(await item.innerText(), new RegExp(QUESTION.replace(/[?']/g, ".")));
  assert.match(await item.innerText(), /the manual says 42 hours/);
  assert.match(await item.innerText(), /local \(you\) · .* · v1 · extractive/);
  assert.equal(await panel.getByText("Thumbs down").locator("xpath=following-sibling::dd").innerText(), "1");
  await item.getByText("The answer").click();
  assert.match(await item.innerText(), /I found nothing in the documents about/);
  await screenshot(page, "42-feedback-panel");

  // Rated up after all: the panel, refreshed, has no answer rated down.
  await page.getByRole("button", { name: "Chat", exact: true }).click();
  await chat.getByRole("navigation", { name: "Chat sessions" }).getByRole("button", { name: /battery/ }).click();
  const reopened = chat.getByTestId("chat-assistant-message").first();
  await reopened.getByRole("button", { name: "Good answer" }).click();
  await reopened.getByRole("button", { name: "Good answer", pressed: true }).waitFor();
  await chat.getByRole("button", { name: "Close" }).click();
  await panel.getByRole("button", { name: "Refresh feedback" }).click();
  await eventually(async () => (await panel.getByTestId("rated-down").count()) === 0, { message: "the answer left the list" });
  await panel.getByText(/No answer has been rated down/).waitFor();
  assert.equal(await panel.getByText("Thumbs up").locator("xpath=following-sibling::dd").innerText(), "1");
});
