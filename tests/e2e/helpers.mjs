// Shared e2e plumbing: Debian's Chromium (installed when missing, never downloaded), the
// real backend on a free port with a fresh data dir (unless E2E_BASE_URL points at one),
// fresh browser profiles, and screenshots.
import { execSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));

export const REPO = resolve(here, "..", "..");
export const SCREENSHOTS = join(here, "screenshots");
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  console.log("# Chromium missing: installing Debian's package");
  execSync("apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium", { stdio: "inherit" });
}

/** The address `serve --port 0` prints once it has bound the port the system chose (no
 * race with another backend started at the same moment for a port found free). */
function boundAddress(child, logs, timeoutMs = 120_000) {
  return new Promise((resolveAddress, reject) => {
    const timer = setTimeout(() => reject(new Error("the backend printed no address")), timeoutMs);
    const look = () => {
      const found = logs.join("").match(/open (http:\/\/\S+?)\/ /);
      if (found) {
        clearTimeout(timer);
        child.stdout.off("data", look);
        resolveAddress(found[1]);
      }
    };
    child.stdout.on("data", look);
    child.once("exit", (code) => reject(new Error(`the backend exited with code ${code}`)));
    look();
  });
}

async function waitForHealthy(baseUrl, child, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`the backend exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the backend did not become healthy at ${baseUrl} within ${timeoutMs / 1000}s`);
}

/** The app under test: E2E_BASE_URL, else a backend started here on the built SPA, with
 * `env` added to its environment and `prepare(env)` run first (e.g. to create users). */
export async function startApp({ env: extraEnv = {}, prepare } = {}) {
  if (process.env.E2E_BASE_URL) {
    const baseUrl = process.env.E2E_BASE_URL.replace(/\/$/, "");
    await waitForHealthy(baseUrl, null, 30_000);
    return { baseUrl, stop: async () => {} };
  }
  if (!existsSync(join(REPO, "frontend", "dist", "index.html"))) {
    throw new Error("frontend/dist is missing: run `npm ci && npm run build` in frontend/ first");
  }
  const bin = join(REPO, ".venv", "bin", "genai-stack");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: install the backend first`);
  const dataDir = mkdtempSync(join(tmpdir(), "genai-e2e-"));
  const logs = [];
  const env = { ...process.env, GENAI_DATA_DIR: dataDir, ...extraEnv };
  if (prepare) prepare(env);
  const child = spawn(bin, ["serve", "--host", "127.0.0.1", "--port", "0"], {
    cwd: REPO,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  for (const stream of [child.stdout, child.stderr]) stream.on("data", (d) => logs.push(String(d)));
  let baseUrl;
  try {
    baseUrl = await boundAddress(child, logs);
    await waitForHealthy(baseUrl, child);
  } catch (error) {
    console.error(logs.join(""));
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    throw error;
  }
  return {
    baseUrl,
    logs,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {}
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {}
        }, 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A browser with its own fresh profile, as a separate person would have. */
export async function openBrowser() {
  ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), "genai-e2e-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS, // the profile directory is passed as --user-data-dir by launchPersistentContext
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.waitForTimeout(250); // let transitions settle
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** The React Flow id of the node of a kind (the first one). */
export async function nodeIdOf(page, kind) {
  const node = page.locator(`.react-flow__node:has([data-testid="node-${kind}"])`).first();
  await node.waitFor();
  return node.getAttribute("data-id");
}

/** Drags a connection from an output port to an input port, as a person does with the mouse. */
export async function connect(page, sourceId, port, targetId, targetPort = port) {
  const from = page.locator(`.react-flow__handle.source[data-nodeid="${sourceId}"][data-handleid="${port}"]`);
  const to = page.locator(`.react-flow__handle.target[data-nodeid="${targetId}"][data-handleid="${targetPort}"]`);
  const a = await from.boundingBox();
  const b = await to.boundingBox();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}

export async function createStack(page, baseUrl, name, description = "") {
  await page.goto(baseUrl + "/");
  await page.getByRole("button", { name: /New stack|Create a stack/ }).first().click();
  await page.getByRole("textbox", { name: "Name", exact: true }).fill(name);
  if (description) await page.getByLabel("Description").fill(description);
  await page.getByRole("button", { name: "Create stack" }).click();
  await page.waitForURL(/\/stacks\//);
  await page.locator(".react-flow").waitFor();
  return page.url();
}

/**
 * The app and one browser for a test file: started before its tests, stopped after them.
 * Read `session.app` and `session.browser` inside the tests.
 */
export function appAndBrowser(options = {}) {
  const session = { app: undefined, browser: undefined };
  before(async () => {
    session.app = await startApp(options);
    session.browser = await openBrowser();
  });
  after(async () => {
    await session.browser?.close();
    await session.app?.stop();
  });
  return session;
}

/** A GraphQL request to the app over HTTP; throws on errors, returns `data`. */
export async function gql(baseUrl, query, variables) {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

export async function eventually(check, { timeout = 10_000, interval = 100, message = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out waiting for ${message}${last ? `: ${last}` : ""}`);
}

/** User Query → Knowledge Base → LLM Engine → Output, as importGraph takes it (ids q, kb, llm, out). */
export const WIRED_NODES = [
  { id: "q", kind: "USER_QUERY", position: { x: 0, y: 160 } },
  { id: "kb", kind: "KNOWLEDGE_BASE", position: { x: 300, y: 0 } },
  { id: "llm", kind: "LLM_ENGINE", position: { x: 620, y: 160 } },
  { id: "out", kind: "OUTPUT", position: { x: 940, y: 160 } },
];
export const WIRED_EDGES = [
  { source: "q", target: "kb" },
  { source: "q", target: "llm" },
  { source: "kb", target: "llm" },
  { source: "llm", target: "out" },
];

/** A wired stack made through the API, as another client would; returns its id. */
export async function wiredStack(baseUrl, name, description = "") {
  const created = await gql(baseUrl, `mutation($n: String!, $d: String) { createWorkflow(name: $n, description: $d) { id } }`, { n: name, d: description });
  const id = created.createWorkflow.id;
  await gql(baseUrl, `mutation($w: UUID!, $n: JSON!, $e: JSON!) { importGraph(workflowId: $w, nodes: $n, edges: $e) { id } }`, { w: id, n: WIRED_NODES, e: WIRED_EDGES });
  return id;
}
