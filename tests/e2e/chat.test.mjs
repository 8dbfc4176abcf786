// Chat before and after a Build (issue 8): the draft preview answers from an unpublished
// change, each answer says which version gave it, a reload reopens the same chat (and back
// and forward move between chats), and neither opening the chat nor building leaves an empty
// session behind.
import assert from "node:assert/strict";
import { test } from "node:test";
import { appAndBrowser, eventually, gql, screenshot } from "./helpers.mjs";
import { roverManual } from "./pdf.mjs";

const session = appAndBrowser();

const QUESTION = "How long does the rover's battery last?";

/** Once answered, nothing still says it is thinking (a quick answer can beat sendMessage's reply). */
async function settled(chat) {
  await eventually(async () => (await chat.getByTestId("chat-thinking").count()) === 0, { timeout: 3_000, message: "no thinking indicator left" });
}

async function sessions(baseUrl, workflowId) {
  const data = await gql(baseUrl, "query($w: UUID!) { chatSessions(workflowId: $w) { id draft publishedVersion messages { id } } }", { w: workflowId });
  return data.chatSessions;
}

async function version(baseUrl, workflowId) {
  return (await gql(baseUrl, "query($w: UUID!) { workflow(id: $w) { version } }", { w: workflowId })).workflow.version;
}

/** uploadDocument as the SPA sends it (GraphQL multipart); returns the document id. */
async function upload(baseUrl, workflowId, nodeId, filename, bytes) {
  const operations = {
    query: "mutation($w: UUID!, $f: Upload!, $n: String) { uploadDocument(workflowId: $w, file: $f, nodeId: $n) { id } }",
    variables: { w: workflowId, f: null, n: nodeId },
  };
  const form = new FormData();
  form.append("operations", JSON.stringify(operations));
  form.append("map", JSON.stringify({ 0: ["variables.f"] }));
  form.append("0", new Blob([bytes], { type: "application/pdf" }), filename);
  const res = await fetch(`${baseUrl}/graphql`, { method: "POST", body: form, headers: { "Apollo-Require-Preflight": "true" } });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data.uploadDocument.id;
}

/**
 * v1 published: User Query → LLM Engine (extractive) → Output, no knowledge base, so it has
 * nothing to quote. Then, unpublished: a Knowledge Base holding the rover manual, wired in.
 */
async function stackWithAnUnpublishedKnowledgeBase(baseUrl) {
  const add = "mutation($w: UUID!, $k: NodeKind!, $id: String!, $x: Float!, $c: JSON) { addNode(workflowId: $w, kind: $k, nodeId: $id, position: {x: $x, y: 200}, config: $c) { version } }";
  const connect = "mutation($w: UUID!, $s: String!, $t: String!) { connectNodes(workflowId: $w, source: $s, target: $t) { version } }";
  const w = (await gql(baseUrl, 'mutation { createWorkflow(name: "Rover helpdesk", description: "Tried before it is built.") { id } }')).createWorkflow.id;
  await gql(baseUrl, add, { w, k: "USER_QUERY", id: "q", x: 0 });
  await gql(baseUrl, add, { w, k: "LLM_ENGINE", id: "llm", x: 560, c: { provider: "extractive" } });
  await gql(baseUrl, add, { w, k: "OUTPUT", id: "out", x: 840 });
  await gql(baseUrl, connect, { w, s: "q", t: "llm" });
  await gql(baseUrl, connect, { w, s: "llm", t: "out" });
  const published = (await gql(baseUrl, "mutation($w: UUID!) { publishWorkflow(workflowId: $w) { number workflowVersion } }", { w })).publishWorkflow;

  await gql(baseUrl, add, { w, k: "KNOWLEDGE_BASE", id: "kb", x: 280 });
  await gql(baseUrl, connect, { w, s: "q", t: "kb" });
  await gql(baseUrl, connect, { w, s: "kb", t: "llm" });
  const doc = await upload(baseUrl, w, "kb", "rover-manual.pdf", roverManual(2));
  await eventually(async () => (await gql(baseUrl, "query($d: UUID!) { document(id: $d) { status } }", { d: doc })).document.status === "INDEXED", {
    timeout: 180_000,
    message: "the manual indexed",
  });
  return { w, published };
}

test("the draft preview answers from unpublished changes; chats stay in the URL; Build opens no empty chat", async () => {
  const { page } = session.browser;
  const { baseUrl } = session.app;
  const { w, published } = await stackWithAnUnpublishedKnowledgeBase(baseUrl);

  await page.goto(`${baseUrl}/stacks/${w}`);
  await page.locator(".react-flow").waitFor();
  await page.getByRole("button", { name: "Chat", exact: true }).click();
  const chat = page.getByRole("dialog");
  await chat.getByRole("radio", { name: "Published v1" }).waitFor();
  assert.equal(await chat.getByRole("radio", { name: "Published v1" }).getAttribute("aria-checked"), "true");
  assert.match(page.url(), /[?&]chat=new\b/);
  assert.deepEqual(await sessions(baseUrl, w), [], "opening the chat creates no session");

  // The published v1 has no knowledge base: nothing to quote. The answer names its version.
  const input = chat.getByLabel("Your question");
  await input.fill(QUESTION);
  await input.press("Enter");
  const answers = chat.getByTestId("chat-assistant-message");
  await answers.first().waitFor({ timeout: 60_000 });
  assert.match(await answers.first().innerText(), /I found nothing in the documents/);
  await settled(chat);
  assert.equal(await answers.first().getByTestId("answered-by").innerText(), `v1 · change ${published.workflowVersion}`);
  await page.waitForURL(/[?&]chat=[0-9a-f-]{36}/);
  const publishedChat = new URL(page.url()).searchParams.get("chat");

  // The draft, with the knowledge base nobody built, quotes the manual.
  await chat.getByRole("radio", { name: "Draft" }).click();
  await chat.getByTestId("draft-banner").waitFor();
  assert.match(await chat.getByTestId("draft-banner").innerText(), /Draft preview — answers from unpublished changes/);
  assert.match(page.url(), /[?&]chat=draft\b/);
  await input.fill(QUESTION);
  await input.press("Enter");
  await answers.first().waitFor({ timeout: 120_000 });
  assert.match(await answers.first().innerText(), /42 hours/);
  await settled(chat);
  const change = await version(baseUrl, w);
  assert.equal(await answers.first().getByTestId("answered-by").innerText(), `Draft · change ${change}`);
  await page.waitForURL(/[?&]chat=[0-9a-f-]{36}/);
  const draftChat = new URL(page.url()).searchParams.get("chat");
  const list = chat.getByRole("navigation", { name: "Chat sessions" });
  await list.getByRole("button", { name: /battery/ }).filter({ hasText: "Draft" }).waitFor();
  await screenshot(page, "20-chat-draft-preview");

  // A reload reopens the same chat, messages, versions and draft marking included.
  await page.reload();
  await chat.getByTestId("draft-banner").waitFor();
  await chat.getByTestId("chat-user-message").filter({ hasText: "battery" }).waitFor();
  assert.match(await answers.first().innerText(), /42 hours/);
  assert.equal(await answers.first().getByTestId("answered-by").innerText(), `Draft · change ${change}`);
  assert.equal(new URL(page.url()).searchParams.get("chat"), draftChat);
  assert.equal(await chat.getByRole("radio", { name: "Draft" }).getAttribute("aria-checked"), "true");
  await screenshot(page, "21-chat-reloaded");

  // Back goes to the published chat, forward returns to the draft one.
  await page.goBack();
  await chat.getByRole("radio", { name: "Published v1" }).and(chat.locator('[aria-checked="true"]')).waitFor();
  assert.equal(new URL(page.url()).searchParams.get("chat"), publishedChat);
  await answers.first().getByText(`v1 · change ${published.workflowVersion}`).waitFor();
  assert.equal(await chat.getByTestId("draft-banner").count(), 0);
  await screenshot(page, "21a-chat-back-to-published");
  await page.goForward();
  await chat.getByTestId("draft-banner").waitFor();
  assert.equal(new URL(page.url()).searchParams.get("chat"), draftChat);

  // Build twice, then open the chat: the list holds the two chats, and no empty one appears.
  await chat.getByRole("button", { name: "Close" }).click();
  await eventually(async () => !new URL(page.url()).searchParams.has("chat"), { message: "the chat closed" });
  for (const number of [2, 3]) {
    await page.getByRole("button", { name: "Build", exact: true }).click();
    await page.getByText(`Built and published v${number}`).waitFor();
  }
  await page.getByRole("button", { name: "Chat", exact: true }).click();
  await chat.getByRole("radio", { name: "Published v3" }).waitFor();
  await chat.getByText("Ask your stack anything").waitFor();
  await eventually(async () => (await list.getByRole("button").count()) === 3, { message: "New chat and the two chats in the list" });
  assert.equal(await list.getByRole("button", { name: /^New chat/ }).count(), 1, "only the New chat button says New chat");
  const stored = await sessions(baseUrl, w);
  assert.deepEqual(
    stored.map((s) => [s.draft, s.publishedVersion, s.messages.length]).sort(),
    [
      [false, 1, 2],
      [true, 0, 2],
    ],
    "no empty session was made by opening the chat or by building",
  );
  await screenshot(page, "22-chat-after-builds");
});
