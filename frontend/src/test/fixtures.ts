import { NO_UNDO, type Snapshot } from "../features/builder/graph";
import type { Message } from "../features/chat/chatReducer";
import type { HistoryEntry } from "../features/history/historyModel";

export function snapshot(partial: Partial<Snapshot> = {}): Snapshot {
  return {
    id: "wf-1",
    name: "Manual assistant",
    description: "",
    version: 1,
    updatedAt: "2026-01-01T00:00:00Z",
    nodes: [],
    edges: [],
    valid: false,
    issues: [],
    published: [],
    latestPublished: null,
    unpublishedChanges: 0,
    undo: NO_UNDO,
    ...partial,
  };
}

export const LLM_SCHEMA = {
  type: "object",
  properties: {
    provider: {
      type: "string",
      title: "Provider",
      description: "Who writes the answer.",
      enum: ["openai", "gemini", "extractive"],
      oneOf: [
        { const: "openai", title: "OpenAI", description: "OpenAI's models." },
        { const: "gemini", title: "Gemini", description: "Google's Gemini models." },
        { const: "extractive", title: "Extractive (offline)", description: "Quotes your documents, offline." },
      ],
      default: "extractive",
    },
    model: {
      type: "string",
      title: "Model",
      description: "The provider's model name.",
      "x-show-if": { provider: ["openai", "gemini"] },
      "x-hint-by": { provider: { openai: "e.g. gpt-4o-mini", gemini: "e.g. gemini-2.5-flash" } },
    },
    apiKey: {
      type: "string",
      title: "API key",
      format: "password",
      "x-secret": true,
      "x-show-if": { provider: ["openai", "gemini"] },
    },
    temperature: { type: "number", title: "Temperature", minimum: 0, maximum: 2, default: 0.2, "x-show-if": { provider: ["openai", "gemini"] } },
    maxTokens: { type: "integer", title: "Max tokens", minimum: 1, maximum: 32768, default: 1024 },
    prompt: { type: "string", title: "Prompt", "x-widget": "prompt", default: "Context: {context}\nQuestion: {query}" },
    webSearch: { type: "boolean", title: "Web search", default: false },
    webSearchApiKey: { type: "string", title: "Web search API key", format: "password", "x-secret": true, "x-show-if": { webSearch: [true] } },
  },
};

export function historyEntry(partial: Partial<HistoryEntry> & { version: number }): HistoryEntry {
  return {
    id: `change-${partial.version}`,
    type: "NodeMoved",
    timestamp: "2026-01-01T00:00:00Z",
    actor: "local",
    actorName: "local (you)",
    summary: "Moved Knowledge Base",
    category: "LAYOUT",
    publishedVersion: null,
    undone: false,
    documentId: null,
    changes: [],
    ...partial,
  };
}

/** A chat message as the ChatMessageFields fragment gives it: an answered question unless told. */
export function chatMessage(partial: Partial<Message> = {}): Message {
  return {
    id: "m",
    role: "USER",
    content: "",
    createdAt: "2026-01-01T00:00:00Z",
    sources: [],
    webSources: [],
    status: "answered",
    replyTo: null,
    error: null,
    workflowVersion: null,
    publishedVersion: null,
    feedback: null,
    ...partial,
  };
}
