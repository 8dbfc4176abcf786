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
  /** The session's stored messages have been read (or it was started here, empty). */
  loaded: boolean;
  /** Events heard before the stored messages were read, to be applied on top of them. */
  pending: ChatEvent[];
}

export type ChatAction =
  | { type: "reset" }
  /** Its events are being listened to; what it holds is read next. */
  | { type: "watch"; sessionId: string }
  /** The session as stored: the first read, or a later one merged with what is shown. */
  | { type: "opened"; session: OpenSession }
  | { type: "sent"; message: Message }
  | { type: "sendFailed"; text: string }
  | { type: "event"; event: ChatEvent };

export const initialChatState: ChatState = {
  sessionId: null,
  draft: false,
  publishedVersion: 0,
  items: [],
  streaming: null,
  thinking: null,
  waiting: false,
  joinedLate: false,
  loaded: false,
  pending: [],
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

/** Just after the item `id` and its failure, if it has one; at the end without it. */
function after(items: ChatItem[], id: string | null | undefined): number {
  if (id == null) return items.length;
  const at = Math.max(
    items.findIndex((i) => i.id === id),
    items.findIndex((i) => i.id === failureId(id)),
  );
  return at === -1 ? items.length : at + 1;
}

/** The items with `item` in place of the one with its id, or else inserted at `at`. */
function upsert(items: ChatItem[], item: ChatItem, at = items.length): ChatItem[] {
  const index = items.findIndex((i) => i.id === item.id);
  if (index !== -1) return items.map((i, n) => (n === index ? item : i));
  return [...items.slice(0, at), item, ...items.slice(at)];
}

function upsertMessage(items: ChatItem[], message: Message, at = items.length): ChatItem[] {
  const next = upsert(items, messageItem(message), at);
  const failure = storedFailure(message);
  return failure ? upsert(next, failure, after(next, message.id)) : next;
}

function lastIsUnanswered(items: ChatItem[]): boolean {
  const last = items.at(-1);
  return !!last && last.kind === "message" && last.message.role === "USER" && last.message.status !== "failed";
}

/** The stored messages merged into what is shown, by id: nothing twice, nothing lost. */
function adopt(state: ChatState, messages: Message[]): ChatState {
  let items = state.items;
  // A message not shown yet goes where the stored order puts it: after the one before it.
  messages.forEach((message, n) => {
    items = upsertMessage(items, message, n === 0 ? 0 : after(items, messages[n - 1].id));
  });
  if (!lastIsUnanswered(items)) return { ...state, items, waiting: false, streaming: null, thinking: null, joinedLate: false };
  // An unanswered question read but never heard of: its answer's first tokens may have gone by.
  const heard = state.items.some((i) => i.id === items.at(-1)?.id);
  return { ...state, items, waiting: true, joinedLate: state.joinedLate || !heard };
}

/** A token of an answer already stored, or a stage heard before the question it is about, is stale. */
function stale(state: ChatState, event: ChatEvent): boolean {
  switch (event.__typename) {
    case "ChatToken":
      return state.items.some((i) => i.id === event.messageId);
    case "ChatThinking":
      return !lastIsUnanswered(state.items);
    default:
      return false;
  }
}

/** The stored session, then the events heard while it was being read. */
function open(session: OpenSession, heard: ChatEvent[]): ChatState {
  const base = { ...initialChatState, sessionId: session.id, draft: session.draft, publishedVersion: session.publishedVersion, loaded: true };
  let next = adopt(base, session.messages);
  for (const event of heard) if (!stale(next, event)) next = live(next, event);
  return next;
}

/** One live event on a session whose stored messages are shown. */
function live(state: ChatState, event: ChatEvent): ChatState {
  switch (event.__typename) {
    case "ChatMessageAdded": {
      const items = upsertMessage(state.items, event.message);
      if (event.message.role !== "ASSISTANT") return { ...state, items, waiting: state.waiting || lastIsUnanswered(items) };
      return { ...state, items, streaming: null, thinking: null, waiting: false, joinedLate: false };
    }
    case "ChatThinking":
      return { ...state, thinking: event.stage, waiting: true };
    case "ChatToken": {
      if (stale(state, event)) return state;
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
      const items = upsert(state.items, failure, after(state.items, event.questionId));
      return { ...state, streaming: null, thinking: null, waiting: false, joinedLate: false, items };
    }
    default:
      return state;
  }
}

/**
 * One chat's state from its stored messages and its chatEvents stream. Events may come before
 * the stored messages are read (the subscription starts first): they wait in `pending`, and
 * are applied on top once the messages are in. Messages merge by id, so a message both read
 * and heard is shown once.
 */
export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "reset":
      return initialChatState;
    case "watch":
      // The session started here is already shown: keep it, its events apply as they come.
      if (action.sessionId === state.sessionId) return state;
      return { ...initialChatState, sessionId: action.sessionId };
    case "opened": {
      const { session } = action;
      if (session.id !== state.sessionId) return open(session, []);
      return state.loaded ? adopt(state, session.messages) : open(session, state.pending);
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
    case "event": {
      const { event } = action;
      if (event.sessionId !== state.sessionId) return state;
      return state.loaded ? live(state, event) : { ...state, pending: [...state.pending, event] };
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
