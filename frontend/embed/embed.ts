/**
 * The embedded chat: `<script src="https://<server>/embed.js" data-stack="…" data-token="…" async>`
 * adds a chat bubble to any page. Everything it draws lives in a shadow root, with its own
 * styles; it talks to the server over the GraphQL WebSocket (graphql-ws), with the stack's
 * publishable token, which the server accepts only from the sites its owner listed.
 *
 * Optional attributes: data-title (the panel's heading), data-greeting (its first line),
 * data-theme ("light" or "dark"; the page's preference otherwise).
 */
import { createClient, type Client, type ExecutionResult } from "graphql-ws";
import { renderMarkdown } from "./markdown";
import { STYLES } from "./styles";

const START = `mutation($stack: UUID!) { startChat(workflowId: $stack) { id } }`;
const SEND = `mutation($session: UUID!, $content: String!) { sendMessage(sessionId: $session, content: $content) { id } }`;
const MESSAGE = `id role content status sources { filename page score text } error { code message }`;
const SESSION = `query($session: UUID!) { chatSession(id: $session) { messages { ${MESSAGE} } } }`;
const EVENTS = `subscription($session: UUID!) { chatEvents(sessionId: $session) {
  __typename
  ... on ChatListening { version }
  ... on ChatThinking { stage }
  ... on ChatToken { messageId delta }
  ... on ChatMessageAdded { message { ${MESSAGE} } }
  ... on ChatFailed { failedId: messageId code error: message } } }`;

const NOT_ALLOWED = "This site is not allowed to use this chat.";
const UNREACHABLE = "The chat cannot be reached right now. Try again later.";

interface Source {
  filename: string;
  page: number | null;
  score: number;
  text: string;
}
interface Message {
  id: string;
  role: "USER" | "ASSISTANT";
  content: string;
  status?: string;
  sources: Source[];
  error?: { code: string; message: string } | null;
}
type ChatEvent =
  | { __typename: "ChatListening"; version: number }
  | { __typename: "ChatThinking"; stage: string }
  | { __typename: "ChatToken"; messageId: string; delta: string }
  | { __typename: "ChatMessageAdded"; message: Message }
  | { __typename: "ChatFailed"; failedId: string | null; code: string; error: string };

interface GraphQLErrorLike {
  message: string;
  extensions?: { code?: string; retryAfter?: number };
}

/** Why a request failed, in words for the visitor. */
class ChatError extends Error {}

const STAGES: Record<string, string> = {
  retrieving: "Searching the documents…",
  searching: "Searching the web…",
  generating: "Writing the answer…",
};

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

const ICON_CHAT =
  '<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
const ICON_CLOSE =
  '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M6 6l12 12M18 6L6 18"/></svg>';
const ICON_SEND =
  '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><path fill="currentColor" d="M3 20l18-8L3 4v6l12 2-12 2z"/></svg>';

export class EmbeddedChat {
  private readonly host: HTMLElement;
  private readonly launcher: HTMLButtonElement;
  private readonly panel: HTMLElement;
  private readonly log: HTMLElement;
  private readonly status: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly bubbles = new Map<string, HTMLElement>();
  private client: Client | null = null;
  private sessionId: string | null = null;
  private unsubscribe: (() => void) | null = null;
  private opened = false; // the socket was acknowledged once
  private refusal: string | null = null; // the server's reason for closing, if it gave one
  private busy = false;

  constructor(
    private readonly server: string,
    private readonly stack: string,
    private readonly token: string,
    options: { title: string; greeting: string; theme: string | null },
  ) {
    this.host = element("div", { "data-genai-stack-embed": "" });
    if (options.theme === "light" || options.theme === "dark") this.host.setAttribute("data-theme", options.theme);
    const root = this.host.attachShadow({ mode: "open" });
    const style = element("style", {}, STYLES);

    this.launcher = element("button", {
      class: "launcher",
      type: "button",
      "aria-label": `Open chat: ${options.title}`,
      "aria-expanded": "false",
      "aria-controls": "genai-panel",
    });
    this.launcher.innerHTML = ICON_CHAT;

    this.panel = element("section", {
      class: "panel",
      id: "genai-panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "genai-title",
      hidden: "",
    });
    const header = element("header");
    const title = element("h2", { id: "genai-title" }, options.title);
    const close = element("button", { class: "icon", type: "button", "aria-label": "Close chat" });
    close.innerHTML = ICON_CLOSE;
    header.append(title, close);

    this.log = element("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
    if (options.greeting) this.log.append(element("p", { class: "greeting" }, options.greeting));
    this.status = element("p", { class: "status", role: "status", "aria-live": "polite" });

    const form = element("form", { class: "composer" });
    this.input = element("textarea", {
      rows: "1",
      "aria-label": "Your question",
      placeholder: "Ask a question…",
      maxlength: "4000",
    });
    this.sendButton = element("button", { class: "send", type: "submit", "aria-label": "Send" });
    this.sendButton.innerHTML = ICON_SEND;
    form.append(this.input, this.sendButton);
    const footer = element("p", { class: "footer" }, "Answers come from this site's assistant; check what matters.");
    this.panel.append(header, this.log, this.status, form, footer);
    root.append(style, this.panel, this.launcher);

    this.launcher.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
    close.addEventListener("click", () => this.close());
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.close();
      }
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    this.input.addEventListener("input", () => this.fitInput());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.ask();
    });
  }

  mount(): void {
    document.body.append(this.host);
  }

  open(): void {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.setAttribute("aria-label", "Close chat");
    this.input.focus();
  }

  close(): void {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-label", `Open chat: ${this.panel.querySelector("h2")?.textContent ?? ""}`);
    this.launcher.focus();
  }

  private fitInput(): void {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 120)}px`;
  }

  private async ask(): Promise<void> {
    const question = this.input.value.trim();
    if (!question || this.busy) return;
    this.busy = true;
    this.sendButton.disabled = true;
    this.showStatus("");
    try {
      const session = await this.session();
      const sent = await this.request<{ sendMessage: { id: string } }>(SEND, { session, content: question });
      this.input.value = "";
      this.fitInput();
      this.render({ id: sent.sendMessage.id, role: "USER", content: question, sources: [] });
      this.showStatus("Thinking…");
    } catch (error) {
      this.showStatus(error instanceof ChatError ? error.message : UNREACHABLE, true);
    } finally {
      this.busy = false;
      this.sendButton.disabled = false;
      this.input.focus();
    }
  }

  /** The visitor's session, started on the first question; its events followed from then. */
  private async session(): Promise<string> {
    if (this.sessionId) return this.sessionId;
    const started = await this.request<{ startChat: { id: string } }>(START, { stack: this.stack });
    try {
      await this.follow(started.startChat.id);
    } catch (problem) {
      this.unsubscribe?.();
      throw problem;
    }
    this.sessionId = started.startChat.id;
    return this.sessionId;
  }

  /** Subscribes to the session's events; resolves once the server listens (ChatListening):
   * a question sent after that cannot be missed. Each later ChatListening (after the socket
   * came back) reads the session, so nothing said in between is lost. */
  private follow(session: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let first = true;
      this.unsubscribe = this.connection().subscribe<{ chatEvents: ChatEvent }>(
        { query: EVENTS, variables: { session } },
        {
          next: (result) => {
            const event = result.data?.chatEvents;
            if (result.errors?.length) {
              const problem = this.problem(result.errors as unknown as GraphQLErrorLike[]);
              if (first) reject(problem);
              else this.showStatus(problem.message, true);
              return;
            }
            if (!event) return;
            if (event.__typename === "ChatListening") {
              if (first) resolve();
              else void this.reread(session);
              first = false;
              return;
            }
            this.apply(event);
          },
          error: (error) => {
            const problem = this.closed(error);
            if (first) reject(problem);
            else void problem.then((p) => this.showStatus(p.message, true));
          },
          complete: () => undefined,
        },
      );
    }).catch(async (problem: ChatError | Promise<ChatError>) => {
      throw await problem;
    }) as Promise<void>;
  }

  private async reread(session: string): Promise<void> {
    try {
      const data = await this.request<{ chatSession: { messages: Message[] } | null }>(SESSION, { session });
      for (const message of data.chatSession?.messages ?? []) this.render(message);
    } catch {
      // the next event, or the next question, says what is wrong
    }
  }

  private apply(event: ChatEvent): void {
    switch (event.__typename) {
      case "ChatThinking":
        this.showStatus(STAGES[event.stage] ?? "Thinking…");
        break;
      case "ChatToken": {
        this.showStatus("");
        const bubble = this.bubble(event.messageId, "ASSISTANT");
        const text = bubble.querySelector(".text");
        if (text) text.textContent += event.delta;
        bubble.classList.add("streaming");
        this.scroll();
        break;
      }
      case "ChatMessageAdded":
        if (event.message.role === "ASSISTANT") this.showStatus("");
        this.render(event.message);
        break;
      case "ChatFailed":
        this.showStatus(event.error || "The answer failed. Try again.", true);
        if (event.failedId) this.bubbles.get(event.failedId)?.remove();
        break;
    }
  }

  private bubble(id: string, role: Message["role"]): HTMLElement {
    let bubble = this.bubbles.get(id);
    if (!bubble) {
      bubble = element("div", { class: `message ${role === "USER" ? "user" : "assistant"}`, "data-message-id": id });
      bubble.append(element("span", { class: "sr" }, role === "USER" ? "You said:" : "Assistant:"), element("div", { class: "text" }));
      this.bubbles.set(id, bubble);
      this.log.append(bubble);
    }
    return bubble;
  }

  private render(message: Message): void {
    const bubble = this.bubble(message.id, message.role);
    bubble.classList.remove("streaming");
    const text = bubble.querySelector(".text");
    if (text && (message.error || message.role === "USER")) text.textContent = message.error ? message.error.message : message.content;
    else if (text) text.replaceChildren(renderMarkdown(message.content));
    if (message.error) bubble.classList.add("failed");
    bubble.querySelector(".sources")?.remove();
    if (message.role === "ASSISTANT" && message.sources.length > 0) bubble.append(this.sources(message.sources));
    this.scroll();
  }

  private sources(sources: Source[]): HTMLElement {
    const list = element("ol", { class: "sources", "aria-label": "Sources" });
    sources.forEach((source, i) => {
      const item = element("li");
      const details = element("details");
      const where = source.page ? `${source.filename}, page ${source.page}` : source.filename;
      details.append(element("summary", {}, `[${i + 1}] ${where}`), element("blockquote", {}, source.text));
      item.append(details);
      list.append(item);
    });
    return list;
  }

  private scroll(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }

  private showStatus(text: string, problem = false): void {
    this.status.textContent = text;
    this.status.classList.toggle("problem", problem);
  }

  private connection(): Client {
    if (this.client) return this.client;
    const scheme = this.server.startsWith("https:") ? "wss:" : "ws:";
    this.client = createClient({
      url: `${scheme}//${this.server.replace(/^https?:\/\//, "")}/graphql`,
      connectionParams: { authorization: `Bearer ${this.token}` },
      lazy: true,
      keepAlive: 15_000,
      retryAttempts: 3,
      // a socket that never opened was refused (or the server is down): say so at once
      shouldRetry: (event) => this.opened && !(event instanceof CloseEvent && event.code >= 4400 && event.code < 4500),
      on: {
        connected: () => {
          this.opened = true;
          this.refusal = null;
        },
        closed: (event) => {
          if (event instanceof CloseEvent && event.code >= 4400 && event.code < 4500) this.refusal = event.reason || "refused";
        },
      },
    });
    return this.client;
  }

  /** One query or mutation over the socket. */
  private request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      this.connection().subscribe<T>(
        { query, variables },
        {
          next: (result: ExecutionResult<T>) => {
            done = true;
            if (result.errors?.length) reject(this.problem(result.errors as unknown as GraphQLErrorLike[]));
            else resolve(result.data as T);
          },
          error: (error) => {
            done = true;
            void this.closed(error).then(reject);
          },
          complete: () => {
            if (!done) reject(new ChatError(UNREACHABLE));
          },
        },
      );
    });
  }

  private problem(errors: GraphQLErrorLike[]): ChatError {
    const [first] = errors;
    const code = first?.extensions?.code;
    if (code === "RATE_LIMITED") {
      const wait = first?.extensions?.retryAfter;
      return new ChatError(`Too many questions for now: try again in ${wait ?? 60} seconds.`);
    }
    if (code === "FORBIDDEN" && first?.message.startsWith("this site is not allowed")) return new ChatError(NOT_ALLOWED);
    if (code === "UNAUTHENTICATED") return new ChatError("This chat is no longer available on this site.");
    return new ChatError(first?.message ? `The chat could not answer: ${first.message}` : UNREACHABLE);
  }

  /** Why the socket closed, for the visitor. A socket refused before it opened says nothing
   * (browsers hide the reason): if the server answers at all, it refused this site. */
  private async closed(_error: unknown): Promise<ChatError> {
    if (this.refusal?.startsWith("this site is not allowed")) return new ChatError(NOT_ALLOWED);
    if (this.refusal) return new ChatError("This chat is no longer available on this site.");
    if (this.opened) return new ChatError(UNREACHABLE);
    try {
      await fetch(`${this.server}/healthz`, { mode: "no-cors", cache: "no-store" });
      return new ChatError(NOT_ALLOWED);
    } catch {
      return new ChatError(UNREACHABLE);
    }
  }
}

function start(script: HTMLScriptElement | null): void {
  if (!script) return;
  const { stack, token } = script.dataset;
  if (!stack || !token) {
    console.error("GenAI Stack embed: the script needs data-stack and data-token");
    return;
  }
  const chat = new EmbeddedChat(new URL(script.src, document.baseURI).origin, stack, token, {
    title: script.dataset.title || "Ask us",
    greeting: script.dataset.greeting ?? "Hi! Ask me anything about this site.",
    theme: script.dataset.theme ?? null,
  });
  const mount = () => chat.mount();
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
}

start(document.currentScript as HTMLScriptElement | null);
