import { create } from "zustand";

/** Who the web app is signed in as, from the server's /auth endpoints. */
export interface SessionUser {
  id: string;
  email: string | null;
  name: string;
  admin: boolean;
  local: boolean;
}

type Status = "checking" | "open" | "signedOut" | "signedIn";

/** An OpenID Connect provider the server offers beside the password (its button's target). */
export interface SingleSignOn {
  name: string;
  url: string;
}

interface SessionState {
  /** open: the server signs this machine's owner in automatically (loopback); no sign-in page. */
  status: Status;
  /** The short-lived access token: in memory only (the refresh token is an HttpOnly cookie). */
  accessToken: string | null;
  user: SessionUser | null;
  /** The provider to offer on the sign-in page, when the server has one. */
  singleSignOn?: SingleSignOn | null;
  /** Why the last single sign-on failed (the server sends the browser back with it). */
  signInError?: string | null;
}

const SIGN_IN_ERROR_COOKIE = "genai_sign_in_error";

export const useSession = create<SessionState>(() => ({ status: "checking", accessToken: null, user: null }));

/** Why the last single sign-on failed: the server leaves it in a one-minute cookie (not in the
 * address, where another site could write words of its own); read once, then deleted. */
function takeSignInError(): string | null {
  const found = document.cookie.split("; ").find((c) => c.startsWith(`${SIGN_IN_ERROR_COOKIE}=`));
  if (!found) return null;
  document.cookie = `${SIGN_IN_ERROR_COOKIE}=; Max-Age=0; Path=/; SameSite=Lax`;
  let error: string;
  try {
    error = decodeURIComponent(found.slice(SIGN_IN_ERROR_COOKIE.length + 1));
  } catch {
    return null;
  }
  return error ? error.charAt(0).toUpperCase() + error.slice(1) + "." : null;
}

interface SignedInBody {
  accessToken: string;
  expiresAt: string;
  user: SessionUser;
}

let renewal: ReturnType<typeof setTimeout> | undefined;

function signedIn(body: SignedInBody, now = Date.now()) {
  useSession.setState({ status: "signedIn", accessToken: body.accessToken, user: body.user });
  clearTimeout(renewal);
  // a minute before the access token expires, the refresh cookie buys the next one
  const wait = Math.max(5_000, Date.parse(body.expiresAt) - now - 60_000);
  renewal = setTimeout(() => void refreshSession(), wait);
}

function signedOut() {
  clearTimeout(renewal);
  useSession.setState({ status: "signedOut", accessToken: null, user: null });
}

/** The message of an /auth error body (the GraphQL errors' shape), or a fallback. */
export function authErrorMessage(body: unknown, status: number): string {
  const errors = (body as { errors?: Array<{ message?: string; extensions?: { code?: string; retryAfter?: number } }> })?.errors;
  const first = errors?.[0];
  if (first?.extensions?.code === "RATE_LIMITED") {
    return `Too many attempts. Try again in ${first.extensions.retryAfter ?? 60} seconds.`;
  }
  if (first?.message) return first.message.charAt(0).toUpperCase() + first.message.slice(1) + ".";
  return status >= 500 ? "Something went wrong on the server." : "Couldn't sign in.";
}

async function post(path: string, body?: unknown): Promise<Response> {
  return fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** On load: asks the server whether sign-in is required, and resumes a session if there is one. */
export async function startSession(): Promise<void> {
  const response = await fetch("/auth/session", { credentials: "same-origin" });
  const info = (await response.json()) as { signInRequired: boolean; singleSignOn?: SingleSignOn | null };
  useSession.setState({ singleSignOn: info.singleSignOn ?? null, signInError: takeSignInError() });
  if (!info.signInRequired) {
    useSession.setState({ status: "open" });
    return;
  }
  if (!(await refreshSession())) signedOut();
}

const REFRESH_LOCK = "genai-stack-refresh";
let refreshing: Promise<boolean> | null = null;

/** The next access token, from the refresh cookie. The cookie rotates on each use and one
 * presented twice ends the sign-in (it was copied), so refreshes never overlap: one at a time
 * in this tab, and one at a time across this browser's tabs (Web Locks, in secure contexts),
 * so a tab that reloads while another refreshes sends the cookie that one received. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= oneAtATime(refreshOnce).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function oneAtATime(work: () => Promise<boolean>): Promise<boolean> {
  const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
  return locks ? ((await locks.request(REFRESH_LOCK, work)) as boolean) : work();
}

async function refreshOnce(): Promise<boolean> {
  const response = await post("/auth/refresh");
  if (!response.ok) return false;
  signedIn((await response.json()) as SignedInBody);
  return true;
}

/** Signs in; returns what went wrong, or null. */
export async function signIn(email: string, password: string): Promise<string | null> {
  let response: Response;
  try {
    response = await post("/auth/sign-in", { email, password });
  } catch {
    return "Can't reach the server.";
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) return authErrorMessage(body, response.status);
  signedIn(body as SignedInBody);
  return null;
}

export async function signOut(): Promise<void> {
  await post("/auth/sign-out").catch(() => undefined);
  signedOut();
}

/** The header a request to the API carries, when signed in. */
export function authorizationHeader(): Record<string, string> {
  const token = useSession.getState().accessToken;
  return token ? { Authorization: `Bearer ${token}` } : {};
}
