// GraphiQL at /graphql on a machine with no internet: everything it loads comes from this
// server, its editor completes from the schema, a query and a mutation typed in it run, and a
// subscription started in it receives the event of a mutation made elsewhere.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eventually, gql as request, openBrowser, screenshot, startApp } from "./helpers.mjs";

let app;
let browser;
const elsewhere = []; // requests for any other host, refused as an offline machine would

before(async () => {
  app = await startApp();
  browser = await openBrowser();
  const own = new URL(app.baseUrl).host;
  await browser.context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.host === own) return route.continue();
    elsewhere.push(url.href);
    return route.abort("internetdisconnected");
  });
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

function gql(query, variables) {
  return request(app.baseUrl, query, variables);
}

/** What a Monaco editor shows (it draws spaces as no-break spaces). */
function shown(editor) {
  return editor.locator(".view-lines").evaluate((el) => el.innerText.replace(/\u00a0/g, " "));
}

/** Replaces what an editor holds, as a paste would. */
async function replaceText(page, editor, text) {
  await editor.click();
  await page.keyboard.press("ControlOrMeta+KeyA");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
}

/** The prettify button: prettier, which GraphiQL loads on first use, lays the editors out. */
async function prettify(page, ...editors) {
  await page.getByRole("button", { name: /^Prettify query/ }).click();
  await eventually(async () => (await shown(editors[0])).trim().split("\n").length > 1, {
    message: "the operation laid out on several lines",
  });
  for (const editor of editors) {
    await editor.click();
    await page.keyboard.press("Control+Home"); // back from where the long line scrolled to
  }
}

test("GraphiQL runs queries, mutations and subscriptions with no internet", async () => {
  const { page, errors } = browser;
  await page.goto(app.baseUrl + "/graphql");
  assert.equal(await page.title(), "GenAI Stack — GraphiQL");
  const queryEditor = page.locator(".graphiql-query-editor .monaco-editor");
  const response = page.locator(".graphiql-response .monaco-editor");
  await queryEditor.waitFor();
  await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
  await page.locator(".graphiql-doc-explorer").getByText("Query", { exact: true }).waitFor();

  // Completion comes from the schema, in GraphiQL's GraphQL worker (bundled, not fetched).
  await replaceText(page, queryEditor, "");
  await page.keyboard.type("{ comp");
  await page.locator(".suggest-widget").getByText("components", { exact: true }).waitFor();
  await page.keyboard.press("Escape");

  await replaceText(page, queryEditor, "{ components { kind title } }");
  assert.equal((await shown(queryEditor)).trim(), "{ components { kind title } }");
  await prettify(page, queryEditor);
  await page.getByRole("button", { name: /^Execute query/ }).click();
  await eventually(async () => /"kind":\s*"KNOWLEDGE_BASE"/.test(await shown(response)), {
    timeout: 20_000,
    message: "the components in the response",
  });
  assert.match(await shown(response), /"title":\s*"Knowledge Base"/);
  await screenshot(page, "20-graphiql-query");

  // A mutation run here creates a stack...
  await replaceText(page, queryEditor, 'mutation CreateWatched { createWorkflow(name: "Watched") { id name } }');
  // GraphiQL reads an edit a moment later and until then would send it the way the last
  // operation went (a subscription sent over HTTP fails): the tab's title comes from that reading.
  await page.getByRole("tab", { name: "CreateWatched" }).waitFor();
  await page.getByRole("button", { name: /^Execute query/ }).click();
  let id;
  await eventually(async () => (id = /"id":\s*"([0-9a-f-]{36})"/.exec(await shown(response))?.[1]), {
    message: "the created stack's id in the response",
  });

  // ...whose events a subscription over the WebSocket at /graphql receives, here a rename made
  // over HTTP by someone else.
  await replaceText(
    page,
    queryEditor,
    "subscription WatchStack($id: UUID!) { workflowEvents(workflowId: $id) { type version data } }",
  );
  await page.getByRole("button", { name: "Variables", exact: true }).click();
  const variables = page.locator('.graphiql-editor-tool .monaco-editor[data-uri$="-variables.json"]');
  await replaceText(page, variables, JSON.stringify({ id }));
  await prettify(page, queryEditor, variables);
  await page.getByRole("tab", { name: "WatchStack" }).waitFor(); // read, as above
  await page.getByRole("button", { name: /^Execute query/ }).click();
  await page.getByRole("button", { name: /^Stop query/ }).waitFor();
  // The socket may still be joining when the first rename is stored: rename until one shows.
  let renames = 0;
  await eventually(
    async () => {
      if (/"type":\s*"WorkflowRenamed"/.test(await shown(response))) return true;
      renames += 1;
      await gql(`mutation($id: UUID!, $name: String!) { renameWorkflow(id: $id, name: $name) { id } }`, {
        id,
        name: `Watched ${renames}`,
      });
      return false;
    },
    { timeout: 20_000, interval: 500, message: "the rename in the subscription's response" },
  );
  assert.match(await shown(response), /"name":\s*"Watched \d+"/);
  await screenshot(page, "21-graphiql-subscription");
  await page.getByRole("button", { name: /^Stop query/ }).click();
  await page.getByRole("button", { name: /^Execute query/ }).waitFor();

  assert.deepEqual(elsewhere, [], "GraphiQL asked for nothing beyond this server");
  assert.deepEqual(errors, []);
});
