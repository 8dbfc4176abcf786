// Single sign-on in the browser: "Sign in with Test IdP" on the sign-in page, through a real
// OpenID Connect provider (oidc-provider, tests/oidc) and back into the app signed in; an
// account the server does not know comes back to the sign-in page with the reason.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { REPO, openBrowser, screenshot, startApp } from "./helpers.mjs";

const EMAIL = "ada@example.com";
const CLIENT = { clientId: "genai-stack", clientSecret: "an e2e client's secret" };
const OIDC = join(REPO, "tests", "oidc");

/** The provider, on a free port of loopback; resolves with its issuer once it serves. */
async function startProvider() {
  if (!existsSync(join(OIDC, "node_modules", ".package-lock.json"))) {
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: OIDC, stdio: "inherit" });
  }
  const config = { ...CLIENT, redirectUris: ["http://127.0.0.1/unused"] };
  const child = spawn("node", [join(OIDC, "provider.mjs"), JSON.stringify(config)], { stdio: ["ignore", "pipe", "inherit"] });
  const issuer = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const found = out.match(/listening (\S+)/);
      if (found) resolve(found[1]);
    });
    child.once("exit", (code) => reject(new Error(`the OIDC provider exited (${code})`)));
  });
  return {
    issuer,
    set: async (state) => {
      const response = await fetch(`${issuer}/_test/state`, { method: "PUT", body: JSON.stringify(state) });
      if (!response.ok) throw new Error(`the provider refused the test's state: ${response.status}`);
    },
    stop: () => child.kill(),
  };
}

const s = {};
before(async () => {
  s.idp = await startProvider();
  s.app = await startApp({
    env: {
      GENAI_REQUIRE_SIGN_IN: "true",
      GENAI_OIDC_ISSUER: s.idp.issuer,
      GENAI_OIDC_CLIENT_ID: CLIENT.clientId,
      GENAI_OIDC_CLIENT_SECRET: CLIENT.clientSecret,
      GENAI_OIDC_NAME: "Test IdP",
    },
    prepare: (env) =>
      execFileSync(join(REPO, ".venv", "bin", "genai-stack"), ["users", "create", "--email", EMAIL, "--password", "correct horse battery", "--admin"], {
        env,
        stdio: "pipe",
      }),
  });
  await s.idp.set({
    redirectUris: [`${s.app.baseUrl}/auth/oidc/callback`],
    accounts: {
      "ada-at-idp": { email: EMAIL, email_verified: true, name: "Ada" },
      "bob-at-idp": { email: "bob@example.com", email_verified: true, name: "Bob" },
    },
  });
});
after(async () => {
  await s.app?.stop();
  s.idp?.stop();
});

test("an account the server does not know comes back to the sign-in page, told why", async () => {
  await s.idp.set({ login: "bob-at-idp" });
  const browser = await openBrowser();
  try {
    const { page } = browser;
    await page.goto(s.app.baseUrl + "/");
    await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
    await page.getByRole("alert").filter({ hasText: "There is no account for bob@example.com here: ask an admin to create one." }).waitFor();
    await page.getByRole("form", { name: "Sign in" }).waitFor();
    await screenshot(page, "45-sso-refused");
  } finally {
    await browser.close();
  }
});

test("a user signs in with the provider and stays signed in across a reload", async () => {
  await s.idp.set({ login: "ada-at-idp" });
  const browser = await openBrowser();
  try {
    const { page } = browser;
    await page.goto(s.app.baseUrl + "/");
    await page.getByRole("form", { name: "Sign in" }).waitFor();
    await screenshot(page, "44-sso-button");
    await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
    await page.getByText("Build your first stack").waitFor();
    await page.getByText(EMAIL).waitFor();
    await page.reload(); // the refresh cookie the callback set holds the session
    await page.getByText("Build your first stack").waitFor();
    await page.getByText(EMAIL).waitFor();
  } finally {
    await browser.close();
  }
});
