import type { Client } from "urql";
import { CombinedError } from "urql";
import { describe, expect, it, vi } from "vitest";
import type { WorkflowGraphFragment } from "../../gql/graphql";
import { useToasts } from "../../ui/toasts";
import { createCommands } from "./commands";
import { createCanvasStore } from "./store";

function workflow(version: number, nodeIds: string[] = [], name = "Stack"): WorkflowGraphFragment {
  return {
    id: "wf",
    name,
    description: "",
    version,
    updatedAt: "2026-01-01T00:00:00Z",
    nodes: nodeIds.map((id) => ({ id, kind: "USER_QUERY", label: "User Query", position: { x: 0, y: 0 }, config: {} })),
    edges: [],
    validation: { valid: false, issues: [] },
    publishedVersions: [],
  };
}

type Reply = { data?: Record<string, unknown>; error?: CombinedError };

/** A client whose answers the test scripts, recording what was sent and in what order. */
function fakeClient(replies: Array<(vars: Record<string, unknown>) => Promise<Reply> | Reply>, refreshed = workflow(9)) {
  const sent: Array<{ op: string; vars: Record<string, unknown> }> = [];
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

function conflict() {
  return new CombinedError({ graphQLErrors: [{ message: "version moved", extensions: { code: "CONFLICT" } }] });
}

function setup(version = 3) {
  const store = createCanvasStore();
  store.getState().dispatch({ type: "reset", workflowId: "wf" });
  store.getState().dispatch({
    type: "loaded",
    workflow: { ...workflow(version), nodes: [], edges: [], valid: false, issues: [], published: [] },
  });
  return store;
}

describe("canvas commands", () => {
  it("sends edits one at a time, in order, each drawn before its answer", async () => {
    const store = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { client, sent } = fakeClient([
      async (v) => {
        await gate;
        return { data: { addNode: workflow(4, [v.nodeId as string]) } };
      },
      () => ({ data: { renameWorkflow: workflow(5, [], "Renamed") } }),
    ]);
    const commands = createCommands(client, store, "wf");
    const id = commands.addNode({ kind: "USER_QUERY", label: "User Query", position: { x: 1, y: 2 }, config: {} });
    const renamed = commands.rename("Renamed");
    expect(store.getState().nodes.map((n) => n.id)).toEqual([id]);
    expect(store.getState().pending).toHaveLength(2);
    await Promise.resolve();
    expect(sent.map((s) => s.op)).toEqual(["AddNode"]); // the rename waits for the add
    release();
    expect(await renamed).toBe(true);
    expect(sent.map((s) => s.op)).toEqual(["AddNode", "RenameWorkflowInBuilder"]);
    expect(sent[1].vars.expectedVersion).toBe(4);
    expect(store.getState().pending).toEqual([]);
    expect(store.getState().server?.version).toBe(5);
  });

  it("on CONFLICT, drops the edit and refreshes instead of overwriting", async () => {
    const store = setup();
    const { client, query } = fakeClient([() => ({ error: conflict() })], workflow(9, ["theirs"]));
    const commands = createCommands(client, store, "wf");
    const ok = await commands.configureNode("n1", { topK: 2 });
    expect(ok).toBe(false);
    expect(query).toHaveBeenCalled();
    expect(store.getState().server?.version).toBe(9);
    expect(store.getState().nodes.map((n) => n.id)).toEqual(["theirs"]);
    expect(useToasts.getState().toasts.at(-1)?.title).toMatch(/changed in another window/);
  });

  it("reverts a refused edit and says why", async () => {
    const store = setup();
    const refusal = new CombinedError({ graphQLErrors: [{ message: "an edge must join an output to an input", extensions: { code: "BAD_USER_INPUT" } }] });
    const { client } = fakeClient([() => ({ error: refusal })]);
    const commands = createCommands(client, store, "wf");
    const done = commands.connect({ source: "a", target: "b", sourceHandle: "query", targetHandle: "query" });
    expect(store.getState().pending).toHaveLength(1);
    expect(await done).toBe(false);
    expect(store.getState().edges).toEqual([]);
    expect(useToasts.getState().toasts.at(-1)?.title).toBe("Couldn't connect the nodes: an edge must join an output to an input");
  });

  it("draws a new key as its hint while sending the key itself once", async () => {
    const store = setup();
    const { client, sent } = fakeClient([() => ({ data: { configureNode: workflow(4) } })]);
    const commands = createCommands(client, store, "wf");
    const done = commands.configureNode("n1", { apiKey: "sk-1234" }, { apiKey: { secretRef: "pending", hint: "…1234" } });
    expect(JSON.stringify(store.getState().pending)).not.toContain("sk-1234");
    await done;
    expect(sent[0].vars.config).toEqual({ apiKey: "sk-1234" });
  });
});
