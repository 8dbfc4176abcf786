import { CombinedError, type Client } from "urql";
import { vi } from "vitest";
import type { WorkflowGraphFragment } from "../gql/graphql";

export function workflow(version: number, nodeIds: string[] = [], name = "Stack", description = ""): WorkflowGraphFragment {
  return {
    id: "wf",
    name,
    description,
    version,
    updatedAt: "2026-01-01T00:00:00Z",
    nodes: nodeIds.map((id) => ({ id, kind: "USER_QUERY", label: "User Query", position: { x: 0, y: 0 }, config: {} })),
    edges: [],
    validation: { valid: false, issues: [] },
    publishedVersions: [],
    latestPublishedVersion: null,
    unpublishedChanges: 0,
    undo: { canUndo: false, canRedo: false, undoLabel: null, redoLabel: null },
  };
}

export type Reply = { data?: Record<string, unknown>; error?: CombinedError };
export type Sent = { op: string; vars: Record<string, unknown> };

/** A client whose answers the test scripts, recording what was sent and in what order. */
export function fakeClient(replies: Array<(vars: Record<string, unknown>) => Promise<Reply> | Reply>, refreshed = workflow(9)) {
  const sent: Sent[] = [];
  const client = {
    mutation: (doc: { definitions: Array<{ name?: { value: string } }> }, vars: Record<string, unknown>) => ({
      toPromise: async () => {
        sent.push({ op: doc.definitions[0].name?.value ?? "?", vars });
        const reply = replies.shift();
        return reply ? await reply(vars) : { error: new CombinedError({ graphQLErrors: [{ message: "no reply scripted" }] }) };
      },
    }),
    query: vi.fn(() => ({ toPromise: async () => ({ data: { workflow: refreshed } }) })),
  };
  return { client: client as unknown as Client, sent, query: client.query };
}
