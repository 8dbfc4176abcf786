// A server that requires sign-in: the sign-in page, then an API token created (shown once),
// used by a program, revoked; then signing out.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { REPO, appAndBrowser, screenshot } from "./helpers.mjs";

const EMAIL = "ada@example.com";
const PASSWORD = "correct horse battery";

const session = appAndBrowser({
  env: { GENAI_REQUIRE_SIGN_IN: "true" },
  prepare: (env) =>
    execFileSync(join(REPO, ".venv", "bin", "genai-stack"), ["users", "create", "--email", EMAIL, "--password", PASSWORD, "--admin"], {
      env,
      stdio: "pipe",
    }),
});

/** What a program holding `token` gets from the API. */
async function asProgram(token) {
  const response = await fetch(session.app.baseUrl + "/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: "{ workspaces { name } }" }),
  });
  return response.json();
}

test("a user signs in, creates and revokes an API token, and signs out", async () => {
  const { page } = session.browser;
  await page.goto(session.app.baseUrl + "/");
  const form = page.getByRole("form", { name: "Sign in" });
  await form.waitFor();
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "Wrong email or password." }).waitFor();
  await screenshot(page, "40-sign-in-refused");

  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("Build your first stack").waitFor();
  await page.getByText(EMAIL).waitFor();

  // a reload keeps the session (the refresh cookie), without the sign-in page
  await page.reload();
  await page.getByText("Build your first stack").waitFor();

  await page.getByRole("link", { name: "API tokens" }).click();
  await page.getByLabel(/Name/).fill("nightly import");
  await page.getByLabel("Chat").check();
  await page.getByRole("button", { name: "Create token" }).click();
  const shown = page.getByTestId("new-token");
  await shown.waitFor();
  const token = (await shown.textContent()).trim();
  assert.match(token, /^gst_/);
  await screenshot(page, "41-token-shown-once");
  assert.deepEqual(await asProgram(token), { data: { workspaces: [{ name: "My workspace" }] } });

  await page.getByRole("button", { name: "Done" }).click();
  assert.equal(await page.getByText(token).count(), 0);
  const row = page.getByRole("row").filter({ hasText: "nightly import" });
  await row.getByRole("button", { name: "Revoke nightly import" }).click();
  await row.getByText("Revoked").waitFor();
  const refused = await asProgram(token);
  assert.equal(refused.errors[0].extensions.code, "UNAUTHENTICATED");
  await screenshot(page, "42-token-revoked");

  // the workspace's monthly budget for questions, with the month's use
  const budget = page.getByRole("region", { name: "Monthly budget" });
  await budget.getByLabel(/Tokens a month/).fill("250000");
  await budget.getByRole("button", { name: "Save budget" }).click();
  await budget.getByText(/so far: 0 tokens of 250,000/).waitFor();
  await screenshot(page, "43-workspace-budget");

  await page.getByRole("link", { name: "Back to My Stacks" }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await form.waitFor();
  await page.reload();
  await form.waitFor(); // the session is over: the cookie no longer signs in
});

test("two tabs reloading at once both stay signed in", async () => {
  const { page, context } = session.browser;
  await page.goto(session.app.baseUrl + "/");
  await page.getByRole("form", { name: "Sign in" }).waitFor();
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("Build your first stack").waitFor();
  const other = await context.newPage();
  try {
    await other.goto(session.app.baseUrl + "/");
    await other.getByText("Build your first stack").waitFor();

    // both tabs resume the session from the one refresh cookie at once, three times over
    for (let round = 0; round < 3; round += 1) {
      const refreshed = [page, other].map((tab) => tab.waitForResponse("**/auth/refresh"));
      await Promise.all([page.reload(), other.reload()]);
      const statuses = await Promise.all(refreshed.map(async (response) => (await response).status()));
      assert.deepEqual(statuses, [200, 200]);
    }
    for (const tab of [page, other]) {
      await tab.getByText("Build your first stack").waitFor();
      await tab.getByText(EMAIL).waitFor();
    }
  } finally {
    await other.close();
  }
});
