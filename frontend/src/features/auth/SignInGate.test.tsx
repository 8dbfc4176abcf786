import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { authErrorMessage, authorizationHeader, useSession } from "../../api/session";
import { SignInGate } from "./SignInGate";

type Route = (init?: RequestInit) => { status: number; body: unknown };

/** The server's /auth endpoints, as a script: each path answers with what the test says. */
function serve(routes: Record<string, Route>) {
  const calls: Array<{ path: string; body: unknown }> = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (path: string, init?: RequestInit) => {
      calls.push({ path, body: init?.body ? JSON.parse(String(init.body)) : undefined });
      const route = routes[path];
      if (!route) throw new Error(`no route ${path}`);
      const { status, body } = route(init);
      return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
    }),
  );
  return calls;
}

const refused = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  errors: [{ message, extensions: { code, ...extra } }],
});
const session = (user = "ada@example.com") => ({
  accessToken: "access-1",
  tokenType: "Bearer",
  expiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
  user: { id: "u1", email: user, name: "Ada", admin: false, local: false },
});

afterEach(() => {
  vi.unstubAllGlobals();
  useSession.setState({ status: "checking", accessToken: null, user: null, singleSignOn: null, signInError: null });
  document.cookie = "genai_sign_in_error=; Max-Age=0; Path=/";
});

describe("SignInGate", () => {
  it("shows the app at once when the server signs its owner in (loopback): no sign-in page", async () => {
    const calls = serve({ "/auth/session": () => ({ status: 200, body: { signInRequired: false, signedIn: true, setupRequired: false } }) });
    render(<SignInGate>the app</SignInGate>);
    expect(await screen.findByText("the app")).toBeTruthy();
    expect(screen.queryByRole("form", { name: "Sign in" })).toBeNull();
    expect(calls.map((c) => c.path)).toEqual(["/auth/session"]);
    expect(authorizationHeader()).toEqual({});
  });

  it("resumes a session from the refresh cookie without asking for the password", async () => {
    serve({
      "/auth/session": () => ({ status: 200, body: { signInRequired: true, signedIn: false, setupRequired: false } }),
      "/auth/refresh": () => ({ status: 200, body: session() }),
    });
    render(<SignInGate>the app</SignInGate>);
    expect(await screen.findByText("the app")).toBeTruthy();
    expect(authorizationHeader()).toEqual({ Authorization: "Bearer access-1" });
  });

  it("asks to sign in when required, says what went wrong, and lets the signed-in user in", async () => {
    let attempts = 0;
    const calls = serve({
      "/auth/session": () => ({ status: 200, body: { signInRequired: true, signedIn: false, setupRequired: false } }),
      "/auth/refresh": () => ({ status: 401, body: refused("UNAUTHENTICATED", "the session has ended: sign in again") }),
      "/auth/sign-in": () =>
        ++attempts === 1 ? { status: 401, body: refused("UNAUTHENTICATED", "wrong email or password") } : { status: 200, body: session() },
    });
    const user = userEvent.setup();
    render(<SignInGate>the app</SignInGate>);
    await user.type(await screen.findByLabelText("Email"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "not it");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Wrong email or password.");
    expect(screen.queryByText("the app")).toBeNull();

    await user.clear(screen.getByLabelText("Password"));
    await user.type(screen.getByLabelText("Password"), "correct horse battery");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("the app")).toBeTruthy();
    expect(calls.filter((c) => c.path === "/auth/sign-in").map((c) => c.body)).toEqual([
      { email: "ada@example.com", password: "not it" },
      { email: "ada@example.com", password: "correct horse battery" },
    ]);
    expect(useSession.getState().user?.email).toBe("ada@example.com");
  });
});

describe("single sign-on", () => {
  const required = (singleSignOn: unknown) => ({
    "/auth/session": () => ({ status: 200, body: { signInRequired: true, signedIn: false, setupRequired: false, singleSignOn } }),
    "/auth/refresh": () => ({ status: 401, body: refused("UNAUTHENTICATED", "the session has ended: sign in again") }),
  });

  it("offers the provider the server names, as a link to where its sign-in starts", async () => {
    serve(required({ name: "Keycloak", url: "/auth/oidc/start" }));
    render(<SignInGate>the app</SignInGate>);
    const button = await screen.findByRole("link", { name: "Sign in with Keycloak" });
    expect(button.getAttribute("href")).toBe("/auth/oidc/start");
    expect(screen.getByRole("button", { name: "Sign in" })).toBeTruthy(); // the password too
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("offers no provider when the server has none", async () => {
    serve(required(null));
    render(<SignInGate>the app</SignInGate>);
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeTruthy();
    expect(screen.queryByRole("link", { name: /Sign in with/ })).toBeNull();
  });

  it("says why a single sign-on failed, once: the server's cookie is read and deleted", async () => {
    document.cookie = "genai_sign_in_error=this%20account%20is%20disabled; Path=/";
    serve(required({ name: "Keycloak", url: "/auth/oidc/start" }));
    render(<SignInGate>the app</SignInGate>);
    expect((await screen.findByRole("alert")).textContent).toBe("This account is disabled.");
    expect(document.cookie).not.toContain("genai_sign_in_error");
  });

  it("shows no words from the address (another site could have written them)", async () => {
    window.history.replaceState(null, "", "/?signInError=call%20us%20to%20unlock");
    serve(required({ name: "Keycloak", url: "/auth/oidc/start" }));
    render(<SignInGate>the app</SignInGate>);
    expect(await screen.findByRole("link", { name: "Sign in with Keycloak" })).toBeTruthy();
    expect(screen.queryByRole("alert")).toBeNull();
    window.history.replaceState(null, "", "/");
  });
});

describe("auth errors", () => {
  it("says how long to wait when rate limited", () => {
    expect(authErrorMessage(refused("RATE_LIMITED", "too many attempts", { retryAfter: 42 }), 429)).toBe("Too many attempts. Try again in 42 seconds.");
    expect(authErrorMessage(null, 502)).toBe("Something went wrong on the server.");
  });
});
