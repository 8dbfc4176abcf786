import type { ChatEventsSubscription, ChatMessageFieldsFragment } from "../../gql/graphql";
import { versionLabel } from "../history/historyModel";

export type Message = ChatMessageFieldsFragment;
export type ChatEvent = ChatEventsSubscription["chatEvents"];

/** The graph that answered or failed: its workflow version, and its published number (none for the draft). */
export interface AnsweredBy {
  workflowVersion?: number | null;
  publishedVersion?: number | null;
}

export type ChatItem =
  | { kind: "message"; id: string; message: Message }
  | ({ kind: "failure"; id: string; code: string; text: string } & AnsweredBy);

/** The session a chat is on, once it exists on the server. */
export interface OpenSession {
  id: string;
  draft: boolean;
  publishedVersion: number;
  messages: Message[];
}

export interface ChatState {
  sessionId: string | null;
  /** A preview of the draft rather than a published version. */
  draft: boolean;
  /** The published version a published session is on (0 for a draft one). */
  publishedVersion: number;
  items: ChatItem[];
  /** The answer being streamed, token by token, before it is stored. */
  streaming: { messageId: string; content: string } | null;
  /** What the workflow is doing now ("retrieving", "generating"), while no token has come. */
  thinking: string | null;
  /** A question is waiting for its answer. */
  waiting: boolean;
  /** The chat was opened (a reload, a link) while an answer was under way: its first tokens were missed. */
  joinedLate: boolean;
}

export type ChatAction =
  | { type: "reset" }
  | { type: "opened"; session: OpenSession }
  | { type: "sent"; message: Message }
  | { type: "sendFailed"; text: string }
  | { type: "event"; event: ChatEvent }
  | { type: "synced"; messages: Message[] };

export const initialChatState: ChatState = {
  sessionId: null,
  draft: false,
  publishedVersion: 0,
  items: [],
  streaming: null,
  thinking: null,
  waiting: false,
  joinedLate: false,
};

function messageItem(message: Message): ChatItem {
  return { kind: "message", id: message.id, message };
}

/** A failure is keyed by its question, whether it came live or with the stored history. */
function failureId(questionId: string): string {
  return `failed-${questionId}`;
}

/** A question whose answer failed, as the stored history holds it. */
function storedFailure(message: Message): ChatItem | null {
  if (message.role !== "USER" || message.status !== "failed" || !message.error) return null;
  const { workflowVersion, publishedVersion } = message;
  return { kind: "failure", id: failureId(message.id), code: message.error.code, text: message.error.message, workflowVersion, publishedVersion };
}

/** The items with `item` in place of the one with its id, or else inserted after `after` (or at the end). */
function upsert(items: ChatItem[], item: ChatItem, after?: string): ChatItem[] {
  const index = items.findIndex((i) => i.id === item.id);
  if (index !== -1) return items.map((i, n) => (n === index ? item : i));
  const at = after === undefined ? -1 : items.findIndex((i) => i.id === after);
  return at === -1 ? [...items, item] : [...items.slice(0, at + 1), item, ...items.slice(at + 1)];
}

function upsertMessage(items: ChatItem[], message: Message): ChatItem[] {
  const next = upsert(items, messageItem(message));
  const failure = storedFailure(message);
  return failure ? upsert(next, failure, message.id) : next;
}

function lastIsUnanswered(items: ChatItem[]): boolean {
  const last = items.at(-1);
  return !!last && last.kind === "message" && last.message.role === "USER" && last.message.status !== "failed";
}

function adopt(state: ChatState, messages: Message[]): ChatState {
  let items = state.items;
  for (const message of messages) items = upsertMessage(items, message);
  const answered = !lastIsUnanswered(items);
  return answered ? { ...state, items, waiting: false, streaming: null, thinking: null, joinedLate: false } : { ...state, items };
}

/** One chat's state from the stored messages and the chatEvents stream. */
export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "reset":
      return initialChatState;
    case "opened": {
      const { session } = action;
      // The same session again (its history arriving after its first live events): merge.
      if (session.id === state.sessionId) return adopt(state, session.messages);
      const base = { ...initialChatState, sessionId: session.id, draft: session.draft, publishedVersion: session.publishedVersion };
      const opened = adopt(base, session.messages);
      const waiting = lastIsUnanswered(opened.items);
      return { ...opened, waiting, joinedLate: waiting };
    }
    case "sent": {
      // The answer may have come over the socket before the reply to sendMessage did.
      const items = upsertMessage(state.items, action.message);
      const question = action.message.id;
      const settled = items.some((i) => (i.kind === "message" && i.message.replyTo === question) || i.id === failureId(question));
      return { ...state, items, waiting: !settled, joinedLate: false };
    }
    case "sendFailed":
      return { ...state, waiting: false, items: [...state.items, { kind: "failure", id: `failure-${state.items.length}`, code: "SEND", text: action.text }] };
    case "synced":
      // A stored history from the server (after a missed event): keep live failures, adopt messages.
      return adopt(state, action.messages);
    case "event": {
      const { event } = action;
      if (event.sessionId !== state.sessionId) return state;
      switch (event.__typename) {
        case "ChatMessageAdded": {
          const items = upsertMessage(state.items, event.message);
          if (event.message.role !== "ASSISTANT") return { ...state, items };
          return { ...state, items, streaming: null, thinking: null, waiting: false, joinedLate: false };
        }
        case "ChatThinking":
          return { ...state, thinking: event.stage, waiting: true };
        case "ChatToken": {
          const streaming =
            state.streaming && state.streaming.messageId === event.messageId
              ? { messageId: event.messageId, content: state.streaming.content + event.delta }
              : { messageId: event.messageId, content: event.delta };
          return { ...state, streaming, thinking: null, waiting: true };
        }
        case "ChatFailed": {
          const failure: ChatItem = {
            kind: "failure",
            id: event.questionId ? failureId(event.questionId) : `failure-${state.items.length}`,
            code: event.code,
            text: event.reason,
            workflowVersion: event.workflowVersion,
            publishedVersion: event.publishedVersion,
          };
          const items = upsert(state.items, failure, event.questionId ?? undefined);
          return { ...state, streaming: null, thinking: null, waiting: false, joinedLate: false, items };
        }
        default:
          return state;
      }
    }
  }
}

const STAGES: Record<string, string> = {
  retrieving: "Searching your documents…",
  generating: "Writing the answer…",
};

export function stageLabel(stage: string | null): string {
  if (!stage) return "Thinking…";
  return STAGES[stage] ?? `${stage.charAt(0).toUpperCase()}${stage.slice(1)}…`;
}

/** A session's title in the list: its first question. */
export function sessionTitle(messages: ReadonlyArray<{ role: string; content: string }>): string {
  const first = messages.find((m) => m.role === "USER")?.content.trim();
  if (!first) return "New chat";
  return first.length > 60 ? `${first.slice(0, 57)}…` : first;
}

/** The workflow version that gave an answer, as people read it: "v2 · change 17", "Draft · change 23". */
export function answeredByLabel(by: AnsweredBy): string | null {
  const change = by.workflowVersion;
  if (change == null) return null; // an answer stored before versions were recorded
  // The server records no published number when the draft answered.
  return versionLabel(change, by.publishedVersion);
}
