// The embedded chat on another site (issue 11): the owner makes the snippet in the stack's
// Embed dialog for one site; a plain page of that site (another origin: a second server on
// another loopback port) shows the bubble, which opens with the keyboard, streams an answer
// with its sources, and closes with Escape, in light and dark. The same snippet on a site
// not listed says plainly that the site is not allowed.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { appAndBrowser, eventually, gql, screenshot } from "./helpers.mjs";
import { roverManual } from "./pdf.mjs";

const session = appAndBrowser();

const QUESTION = "How long does the rover's battery last?";

/** A plain web page of another site: its own server on a loopback port the system picks. */
async function site(title) {
  let html = "<!doctype html><title>waiting</title>";
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    show(snippet) {
      html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body { font: 16px Georgia, serif; margin: 40px auto; max-width: 640px; color: #333; }
button, textarea { font-size: 40px; color: red; } /* the page's styles stay out of the bubble */</style>
</head><body>
<h1>${title}</h1>
<p>Zephyr rovers for every terrain. <a href="#catalogue">See the catalogue</a>.</p>
${snippet}
</body></html>`;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

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

/** User Query → Knowledge Base (the rover manual) → LLM Engine (offline, extractive) → Output, published. */
async function publishedHelpdesk(baseUrl) {
  const add = "mutation($w: UUID!, $k: NodeKind!, $id: String!, $x: Float!, $c: JSON) { addNode(workflowId: $w, kind: $k, nodeId: $id, position: {x: $x, y: 200}, config: $c) { version } }";
  const connect = "mutation($w: UUID!, $s: String!, $t: String!) { connectNodes(workflowId: $w, source: $s, target: $t) { version } }";
  const w = (await gql(baseUrl, 'mutation { createWorkflow(name: "Rover helpdesk") { id } }')).createWorkflow.id;
  await gql(baseUrl, add, { w, k: "USER_QUERY", id: "q", x: 0 });
  await gql(baseUrl, add, { w, k: "KNOWLEDGE_BASE", id: "kb", x: 280 });
  await gql(baseUrl, add, { w, k: "LLM_ENGINE", id: "llm", x: 560, c: { provider: "extractive" } });
  await gql(baseUrl, add, { w, k: "OUTPUT", id: "out", x: 840 });
  for (const [s, t] of [["q", "kb"], ["q", "llm"], ["kb", "llm"], ["llm", "out"]]) await gql(baseUrl, connect, { w, s, t });
  const doc = await upload(baseUrl, w, "kb", "rover-manual.pdf", roverManual(2));
  await eventually(async () => (await gql(baseUrl, "query($d: UUID!) { document(id: $d) { status } }", { d: doc })).document.status === "INDEXED", {
    timeout: 180_000,
    message: "the manual indexed",
  });
  await gql(baseUrl, "mutation($w: UUID!) { publishWorkflow(workflowId: $w) { number } }", { w });
  return w;
}

/** The element focused inside the bubble's shadow root, as "tag[aria-label]". */
async function focusedInBubble(page) {
  return page.evaluate(() => {
    const host = document.querySelector("[data-genai-stack-embed]");
    const active = host?.shadowRoot?.activeElement;
    return active ? `${active.tagName.toLowerCase()}[${active.getAttribute("aria-label") ?? ""}]` : null;
  });
}

test("a site listed in the Embed dialog gets a keyboard-accessible bubble that streams cited answers; another site is told it is not allowed", async () => {
  const { page } = session.browser;
  const { baseUrl } = session.app;
  const w = await publishedHelpdesk(baseUrl);
  const shop = await site("Zephyr Rovers — shop");
  const elsewhere = await site("Someone else's blog");
  try {
    // the owner makes the snippet for the shop's site
    await page.goto(`${baseUrl}/stacks/${w}`);
    await page.locator(".react-flow").waitFor();
    await page.getByRole("button", { name: "Embed", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Embed on a website" });
    await dialog.getByLabel("Sites allowed").fill(shop.origin);
    await dialog.getByRole("button", { name: "Create snippet" }).click();
    const snippet = (await dialog.getByTestId("embed-snippet").textContent()).trim();
    assert.match(snippet, new RegExp(`^<script src="${baseUrl}/embed\\.js" data-stack="${w}" data-token="gsp_[^"]+" async></script>$`));
    await dialog.getByText(shop.origin).waitFor(); // listed among the stack's snippets
    await screenshot(page, "embed-dialog");
    await page.keyboard.press("Escape");

    const script = await fetch(`${baseUrl}/embed.js`);
    assert.equal(script.status, 200);
    assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.match(script.headers.get("cache-control"), /max-age=\d+/);
    assert.doesNotMatch(await script.text(), /react/i);

    shop.show(snippet);
    elsewhere.show(snippet);

    // the shop's page, its visitor on the keyboard
    const tokens = [];
    page.on("websocket", (ws) =>
      ws.on("framereceived", ({ payload }) => {
        if (String(payload).includes('"ChatToken"')) tokens.push(payload);
      }),
    );
    await page.emulateMedia({ colorScheme: "light" });
    await page.goto(shop.origin);
    const launcher = page.getByRole("button", { name: /^Open chat/ });
    await launcher.waitFor();
    for (let i = 0; i < 5 && (await focusedInBubble(page)) === null; i++) await page.keyboard.press("Tab");
    assert.equal(await focusedInBubble(page), "button[Open chat: Ask us]");
    await page.keyboard.press("Enter");
    const panel = page.getByRole("dialog", { name: "Ask us" });
    await panel.waitFor();
    assert.equal(await focusedInBubble(page), "textarea[Your question]");
    // the page's own styles (40px red buttons) do not reach into the bubble
    const size = await panel.getByRole("textbox", { name: "Your question" }).evaluate((e) => getComputedStyle(e).fontSize);
    assert.equal(size, "14px");

    await page.keyboard.type(QUESTION);
    await page.keyboard.press("Enter");
    const log = panel.getByRole("log", { name: "Conversation" });
    await log.getByText(QUESTION).waitFor();
    const answer = log.locator(".message.assistant:not(.streaming)").last();
    await answer.locator(".sources").waitFor({ timeout: 60_000 });
    assert.match(await answer.textContent(), /42 hours/);
    assert.ok(tokens.length > 0, "the answer arrived as ChatToken events, streamed");
    const sources = panel.getByRole("list", { name: "Sources" });
    assert.match(await sources.textContent(), /rover-manual\.pdf, page \d/);
    await sources.locator("summary").first().click();
    await screenshot(page, "embed-light");
    await page.emulateMedia({ colorScheme: "dark" });
    const background = await panel.evaluate((e) => getComputedStyle(e).backgroundColor);
    assert.equal(background, "rgb(15, 23, 42)"); // the dark theme's surface
    await screenshot(page, "embed-dark");
    // data-theme on the script wins over the visitor's preference
    const themed = async (theme) => {
      await page.evaluate((t) => document.querySelector("[data-genai-stack-embed]").setAttribute("data-theme", t), theme);
      return panel.evaluate((e) => getComputedStyle(e).backgroundColor);
    };
    assert.equal(await themed("light"), "rgb(255, 255, 255)");
    await page.emulateMedia({ colorScheme: "light" });
    assert.equal(await themed("dark"), "rgb(15, 23, 42)");
    await page.evaluate(() => document.querySelector("[data-genai-stack-embed]").removeAttribute("data-theme"));

    // Escape closes the panel and gives the focus back to the launcher
    await panel.getByRole("textbox", { name: "Your question" }).focus();
    await page.keyboard.press("Escape");
    await panel.waitFor({ state: "hidden" });
    assert.equal(await focusedInBubble(page), "button[Open chat: Ask us]");
    await page.emulateMedia({ colorScheme: "light" });

    // the same snippet on a site that is not listed
    await page.goto(elsewhere.origin);
    await page.getByRole("button", { name: /^Open chat/ }).click();
    const refused = page.getByRole("dialog", { name: "Ask us" });
    await refused.getByRole("textbox", { name: "Your question" }).fill(QUESTION);
    await refused.getByRole("button", { name: "Send" }).click();
    await refused.getByRole("status").getByText("This site is not allowed to use this chat.").waitFor({ timeout: 30_000 });
    assert.equal(await refused.locator(".message.assistant").count(), 0);
    await screenshot(page, "embed-refused");
  } finally {
    await shop.close();
    await elsewhere.close();
  }
});
