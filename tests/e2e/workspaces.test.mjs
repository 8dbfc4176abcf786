// Workspaces in the browser, on a server that requires sign-in: an invitation link accepted by a
// user who signs in; that viewer opens a stack and cannot edit it (a clear refusal); the admin's
// Audit page shows what was just done, filters it, and exports it as JSON Lines.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { REPO, appAndBrowser, openBrowser, screenshot } from "./helpers.mjs";

const PASSWORD = "correct horse battery";
const ADA = { email: "ada@example.com", name: "Ada Lovelace" };
const BOB = { email: "bob@example.com", name: "Bob Builder" };

const session = appAndBrowser({
  env: { GENAI_REQUIRE_SIGN_IN: "true" },
  prepare: (env) => {
    for (const [user, admin] of [
      [ADA, true],
      [BOB, false],
    ]) {
      const args = ["users", "create", "--email", user.email, "--password", PASSWORD, "--name", user.name];
      execFileSync(join(REPO, ".venv", "bin", "genai-stack"), admin ? [...args, "--admin"] : args, { env, stdio: "pipe" });
    }
  },
});

/** GraphQL as a program signed in as `email` would send it. */
async function signedIn(email) {
  const base = session.app.baseUrl;
  const response = await fetch(base + "/auth/sign-in", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  const { accessToken } = await response.json();
  return async (query, variables) => {
    const answer = await fetch(base + "/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await answer.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
}

async function signIn(page, user) {
  await page.getByRole("form", { name: "Sign in" }).waitFor();
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

let admin; // Ada's browser, beside Bob's (session.browser)
after(async () => admin?.close());

test("an admin invites, the invited user follows the link, signs in and joins", async () => {
  const ada = await signedIn(ADA.email);
  const [workspace] = (await ada("{ workspaces { id name } }")).workspaces;
  await ada('mutation { createWorkflow(name: "Support bot") { id } }');

  admin = await openBrowser();
  await admin.page.goto(session.app.baseUrl + "/");
  await signIn(admin.page, ADA);
  await admin.page.getByRole("link", { name: "Members" }).click();
  await admin.page.getByLabel("Email (optional)").fill(BOB.email);
  await admin.page.getByLabel("Role").selectOption("VIEWER");
  await admin.page.getByRole("button", { name: "Invite" }).click();
  const shown = admin.page.getByTestId("invitation-link");
  await shown.waitFor();
  const invitationLink = (await shown.textContent()).trim();
  assert.match(invitationLink, /\/invite\?token=gsi_/);
  await admin.page.getByText(`${BOB.email} (invited)`).waitFor();
  await screenshot(admin.page, "49-invitation-link");

  const { page } = session.browser;
  await page.goto(invitationLink);
  await signIn(page, BOB);
  await page.getByRole("heading", { name: "You're invited to a workspace" }).waitFor();
  await screenshot(page, "50-invitation");
  await page.getByRole("button", { name: "Join the workspace" }).click();
  await page.getByRole("heading", { name: `You joined ${workspace.name}` }).waitFor();
  await page.getByText("You are a viewer of this workspace.").waitFor();
  await screenshot(page, "51-invitation-accepted");

  await page.getByRole("link", { name: "Open My Stacks" }).click();
  await page.getByText("Support bot").first().waitFor();
  // a viewer administers nothing: no Audit link
  assert.equal(await page.getByRole("link", { name: "Audit" }).count(), 0);
});

test("a viewer opens a stack and is refused an edit, clearly", async () => {
  const { page } = session.browser;
  await page.getByText("Support bot").first().click();
  await page.waitForURL(/\/stacks\//);
  await page.locator(".react-flow").waitFor();
  await page.getByRole("button", { name: "Rename stack Support bot" }).click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.type("Renamed by a viewer");
  await page.keyboard.press("Enter");
  await page.getByText("Couldn't rename the stack: your role in this workspace does not allow edit").waitFor();
  await screenshot(page, "52-viewer-refused");
  // the name is the stored one again
  await page.getByRole("button", { name: "Rename stack Support bot" }).waitFor();
  const ada = await signedIn(ADA.email);
  const names = (await ada("{ workflows { name } }")).workflows.map((w) => w.name);
  assert.deepEqual(names, ["Support bot"]);
});

test("the admin's Audit page shows what was just done, filters it and exports JSON Lines", async () => {
  {
    const { page } = admin;
    await page.getByRole("link", { name: "Back to My Stacks" }).click();
    await page.getByRole("link", { name: "Audit" }).click();
    const table = page.getByRole("table", { name: "Audit log" });
    await table.getByText("Bob Builder accepted an invitation and joined as viewer").waitFor();
    await table.getByText("Invited someone (bob@example.com) as viewer").waitFor();
    await table.getByText("Created “Support bot”").waitFor();
    await screenshot(page, "53-audit-log");

    await page.getByLabel("Who").selectOption({ label: BOB.name });
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('table[aria-label="Audit log"] tbody tr')];
      return rows.length > 0 && rows.every((row) => row.textContent.includes("Bob Builder"));
    });
    const rows = table.locator("tbody tr");
    assert.equal(await rows.count(), 1); // Bob joined; his rename was refused, so it is not there
    await screenshot(page, "54-audit-filtered");

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export JSON Lines" }).click()]);
    assert.match(download.suggestedFilename(), /^audit-.*\.jsonl$/);
    const lines = readFileSync(await download.path(), "utf8").trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.map((l) => [l.kind, l.actor.name, l.summary]),
      [["InvitationAccepted", BOB.name, "Bob Builder accepted an invitation and joined as viewer"]],
    );
    // (the one 401 is the session check of a browser not signed in yet)
    assert.deepEqual(
      admin.errors.filter((e) => !e.includes("status of 401")),
      [],
    );
  }
});
