// Two people on one stack: each sees the other's edits within a second or two.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createStack, eventually, openBrowser, screenshot, startApp } from "./helpers.mjs";

let app;
let alice;
let bob;

before(async () => {
  app = await startApp();
  alice = await openBrowser();
  bob = await openBrowser();
});

after(async () => {
  await alice?.close();
  await bob?.close();
  await app?.stop();
});

test("a second browser sees the first one's edits live", async () => {
  const url = await createStack(alice.page, app.baseUrl, "Shared stack", "Edited from two windows.");
  await bob.page.goto(url);
  await bob.page.locator(".react-flow").waitFor();
  await bob.page.getByText("Live").waitFor({ timeout: 15_000 });
  await alice.page.getByText("Live").waitFor({ timeout: 15_000 });

  // Alice adds a node with the keyboard (the library's Enter), Bob sees it appear.
  await alice.page.getByTestId("library-KNOWLEDGE_BASE").focus();
  await alice.page.keyboard.press("Enter");
  await alice.page.locator('[data-testid="node-KNOWLEDGE_BASE"]').waitFor();
  const started = Date.now();
  await bob.page.locator('[data-testid="node-KNOWLEDGE_BASE"]').waitFor({ timeout: 5_000 });
  const seenAfter = Date.now() - started;
  assert.ok(seenAfter < 3_000, `seen after ${seenAfter} ms`);

  // Alice connects a User Query to it without a pointer: the inputs list in the panel.
  await alice.page.getByTestId("library-USER_QUERY").focus();
  await alice.page.keyboard.press("Enter");
  await alice.page.locator('[data-testid="node-USER_QUERY"]').waitFor();
  await alice.page.locator('.react-flow__node:has([data-testid="node-KNOWLEDGE_BASE"])').click({ position: { x: 16, y: 10 } });
  await alice.page.getByLabel("Connect query from").selectOption({ label: "User Query" });
  await bob.page.locator(".react-flow__edge").waitFor({ timeout: 5_000 });

  // Alice renames the stack; Bob's title follows.
  await alice.page.getByRole("button", { name: /Rename stack/ }).click();
  await alice.page.getByLabel("Stack name").fill("Shared stack, renamed");
  await alice.page.getByLabel("Stack name").press("Enter");
  await bob.page.getByRole("button", { name: "Rename stack Shared stack, renamed" }).waitFor({ timeout: 5_000 });

  // Bob configures the knowledge base; Alice's node shows the new setting.
  await bob.page.locator('.react-flow__node:has([data-testid="node-KNOWLEDGE_BASE"])').click({ position: { x: 16, y: 10 } });
  const settings = bob.page.getByRole("region", { name: /Settings of/ });
  await settings.getByLabel("Passages per question").fill("7");
  await settings.getByRole("button", { name: "Save" }).click();
  await eventually(async () => (await alice.page.locator('[data-testid="node-KNOWLEDGE_BASE"]').innerText()).includes("top 7"), {
    timeout: 5_000,
    message: "Alice to see Bob's setting",
  });
  await screenshot(bob.page, "14-second-browser");
  await screenshot(alice.page, "15-first-browser");

  // Bob deletes the node; it disappears for Alice.
  await bob.page.keyboard.press("Escape");
  await bob.page.locator('.react-flow__node:has([data-testid="node-KNOWLEDGE_BASE"])').click({ position: { x: 16, y: 10 } });
  await bob.page.keyboard.press("Delete");
  await eventually(async () => (await alice.page.locator('[data-testid="node-KNOWLEDGE_BASE"]').count()) === 0, {
    timeout: 5_000,
    message: "the node to disappear for Alice",
  });
});
