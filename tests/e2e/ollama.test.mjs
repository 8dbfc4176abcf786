// A local model (issue 11, item 5): the LLM Engine set to Ollama from its panel, the model
// picked from the models the server lists, built, and a chat answered by streaming from a
// fake that speaks Ollama's wire format (GET /api/tags, POST /api/chat as NDJSON) on loopback.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { appAndBrowser, eventually, gql, screenshot } from "./helpers.mjs";

const session = appAndBrowser();
const REPLY = "The battery lasts forty-two hours on a full charge.";
const MODELS = ["llama3.2:latest", "qwen2.5:7b"];

/** Ollama's API as the real server answers it, with every request recorded. */
function fakeOllama() {
  const requests = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      requests.push({ method: req.method, url: req.url, body: body ? JSON.parse(body) : null, authorization: req.headers.authorization });
      if (req.method === "GET" && req.url === "/api/tags") {
        const models = MODELS.map((name) => ({ name, model: name, modified_at: "2026-11-29T08:00:00Z", size: 2019393189, digest: "a80c4f17", details: { family: "llama", parameter_size: "3.2B", quantization_level: "Q4_K_M" } }));
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ models }));
        return;
      }
      if (req.method === "POST" && req.url === "/api/chat") {
        const { model } = JSON.parse(body);
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        for (const word of REPLY.match(/\S+\s*/g)) {
          res.write(`${JSON.stringify({ model, created_at: "2026-12-01T10:00:00Z", message: { role: "assistant", content: word }, done: false })}\n`);
        }
        res.end(`${JSON.stringify({ model, created_at: "2026-12-01T10:00:00Z", message: { role: "assistant", content: "" }, done: true, done_reason: "stop", prompt_eval_count: 31, eval_count: 9 })}\n`);
        return;
      }
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found" }));
    });
  });
  return { server, requests };
}

const ollama = fakeOllama();
let ollamaUrl;
before(async () => {
  await new Promise((resolve) => ollama.server.listen(0, "127.0.0.1", resolve));
  ollamaUrl = `http://127.0.0.1:${ollama.server.address().port}`;
});
after(() => new Promise((resolve) => ollama.server.close(resolve)));

test("an LLM Engine on Ollama: the model picked from the server's list, then a streamed answer", async () => {
  const { page } = session.browser;
  const { baseUrl } = session.app;
  const add = "mutation($w: UUID!, $k: NodeKind!, $id: String!, $x: Float!) { addNode(workflowId: $w, kind: $k, nodeId: $id, position: {x: $x, y: 200}) { version } }";
  const connect = "mutation($w: UUID!, $s: String!, $t: String!) { connectNodes(workflowId: $w, source: $s, target: $t) { version } }";
  const w = (await gql(baseUrl, 'mutation { createWorkflow(name: "Local model") { id } }')).createWorkflow.id;
  for (const [k, id, x] of [["USER_QUERY", "q", 0], ["LLM_ENGINE", "llm", 320], ["OUTPUT", "out", 640]]) await gql(baseUrl, add, { w, k, id, x });
  await gql(baseUrl, connect, { w, s: "q", t: "llm" });
  await gql(baseUrl, connect, { w, s: "llm", t: "out" });

  await page.goto(`${baseUrl}/stacks/${w}`);
  await page.locator('.react-flow__node[data-id="llm"]').click();
  const settings = page.getByRole("region", { name: /Settings of/ });
  await settings.getByLabel("Provider").selectOption("ollama");
  assert.equal(await settings.getByLabel("API key").count(), 0, "Ollama takes no key");
  await settings.getByLabel("Base URL").fill(ollamaUrl);
  await settings.getByText("2 models on the server.").waitFor({ timeout: 30_000 });
  const listed = await settings.getByTestId("provider-models").locator("option").evaluateAll((options) => options.map((o) => o.value));
  assert.deepEqual(listed, MODELS);
  await settings.getByLabel("Model").fill("llama3.2:latest");
  await screenshot(page, "45-ollama-model-picker");
  await settings.getByRole("button", { name: "Save" }).click();
  await settings.getByText("All changes saved").waitFor();
  await page.locator('.react-flow__node[data-id="llm"]').getByText("Ollama · llama3.2:latest").waitFor();

  await page.getByRole("button", { name: "Build", exact: true }).click();
  await page.getByText(/Built and published v1/).waitFor();
  await page.getByRole("button", { name: "Chat", exact: true }).click();
  const chat = page.getByRole("dialog");
  await chat.getByLabel("Your question").fill("How long does the battery last?");
  await chat.getByLabel("Your question").press("Enter");
  const answer = chat.getByTestId("chat-assistant-message").first();
  await answer.getByText(REPLY).waitFor({ timeout: 60_000 });
  await screenshot(page, "46-ollama-answer");

  const chats = ollama.requests.filter((r) => r.url === "/api/chat");
  assert.equal(chats.length, 1);
  assert.equal(chats[0].body.model, "llama3.2:latest");
  assert.equal(chats[0].body.stream, true);
  assert.ok(ollama.requests.every((r) => r.authorization === undefined), "no key goes to Ollama");
  const usage = async () => (await gql(baseUrl, "query($w: UUID!) { usage(workflowId: $w) { model promptTokens completionTokens costUsd } }", { w })).usage;
  await eventually(async () => (await usage()).length === 1, { message: "the answer's usage recorded" });
  assert.deepEqual(await usage(), [{ model: "ollama/llama3.2:latest", promptTokens: 31, completionTokens: 9, costUsd: 0 }]);
});
