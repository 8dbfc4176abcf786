import type { ChatEventsSubscription, ChatMessageFieldsFragment } from "../../gql/graphql";

export type Message = ChatMessageFieldsFragment;
export type ChatEvent = ChatEventsSubscription["chatEvents"];

export type ChatItem =
  | { kind: "message"; id: string; message: Message }
  | { kind: "failure"; id: string; code: string; text: string };

export interface ChatState {
  sessionId: string | null;
  items: ChatItem[];
  /** The answer being streamed, token by token, before it is stored. */
  streaming: { messageId: string; content: string } | null;
  /** What the workflow is doing now ("retrieving", "generating"), while no token has come. */
  thinking: string | null;
  /** A question is waiting for its answer. */
  waiting: boolean;
}

export type ChatAction =
  | { type: "opened"; sessionId: string; messages: Message[] }
  | { type: "sent"; message: Message }
  | { type: "sendFailed"; text: string }
  | { type: "event"; event: ChatEvent }
  | { type: "synced"; messages: Message[] };

export const initialChatState: ChatState = { sessionId: null, items: [], streaming: null, thinking: null, waiting: false };

function messageItem(message: Message): ChatItem {
  return { kind: "message", id: message.id, message };
}

function upsertMessage(items: ChatItem[], message: Message): ChatItem[] {
  const index = items.findIndex((i) => i.kind === "message" && i.id === message.id);
  if (index === -1) return [...items, messageItem(message)];
  const next = items.slice();
  next[index] = messageItem(message);
  return next;
}

function lastIsUnanswered(items: ChatItem[]): boolean {
  const last = items.at(-1);
  return !!last && last.kind === "message" && last.message.role === "USER";
}

/** One chat's state from the stored messages and the chatEvents stream. */
export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "opened": {
      const items = action.messages.map(messageItem);
      return { ...initialChatState, sessionId: action.sessionId, items };
    }
    case "sent":
      return { ...state, items: upsertMessage(state.items, action.message), waiting: true, thinking: null, streaming: null };
    case "sendFailed":
      return { ...state, waiting: false, items: [...state.items, { kind: "failure", id: `failure-${state.items.length}`, code: "SEND", text: action.text }] };
    case "synced": {
      // A stored history from the server (after a missed event): keep live failures, adopt messages.
      let items = state.items;
      for (const message of action.messages) items = upsertMessage(items, message);
      const answered = !lastIsUnanswered(items);
      return answered ? { ...state, items, waiting: false, streaming: null, thinking: null } : { ...state, items };
    }
    case "event": {
      const { event } = action;
      if (event.sessionId !== state.sessionId) return state;
      switch (event.__typename) {
        case "ChatMessageAdded": {
          const items = upsertMessage(state.items, event.message);
          if (event.message.role !== "ASSISTANT") return { ...state, items };
          return { ...state, items, streaming: null, thinking: null, waiting: false };
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
        case "ChatFailed":
          return {
            ...state,
            streaming: null,
            thinking: null,
            waiting: false,
            items: [...state.items, { kind: "failure", id: event.failedMessageId ?? `failure-${state.items.length}`, code: event.code, text: event.reason }],
          };
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
