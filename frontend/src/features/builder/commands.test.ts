// @vitest-environment node
import { CombinedError } from "urql";
import { describe, expect, it } from "vitest";
import { fakeClient, workflow } from "../../test/fakeClient";
import { useToasts } from "../../ui/toasts";
import { createCommands } from "./commands";
import { toSnapshot } from "./graph";
import { createCanvasStore } from "./store";

function conflict() {
  return new CombinedError({ graphQLErrors: [{ message: "version moved", extensions: { code: "CONFLICT" } }] });
}

function setup(version = 3) {
  const store = createCanvasStore();
  store.getState().dispatch({ type: "reset", workflowId: "wf" });
  store.getState().dispatch({
    type: "loaded",
    workflow: { ...workflow(version), nodes: [], edges: [], valid: false, issues: [], published: [], latestPublished: null },
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

  it("renames a node: drawn at once, sent with the version it was made on, confirmed by the answer", async () => {
    const store = setup(3);
    const { client, sent } = fakeClient([
      (v) => {
        const answer = workflow(4, ["n1"]);
        answer.nodes[0].label = v.label as string;
        return { data: { relabelNode: answer } };
      },
    ]);
    store.getState().dispatch({ type: "loaded", workflow: toSnapshot(workflow(3, ["n1"])) });
    const commands = createCommands(client, store, "wf");
    const done = commands.relabelNode("n1", "Customer question");
    expect(store.getState().nodes[0].data.label).toBe("Customer question");
    expect(await done).toBe(true);
    expect(sent).toEqual([{ op: "RelabelNode", vars: { workflowId: "wf", nodeId: "n1", label: "Customer question", expectedVersion: 3 } }]);
    expect(store.getState().server?.nodes[0].label).toBe("Customer question");
    expect(store.getState().pending).toEqual([]);
  });

  it("changes the description optimistically and puts it back when the server refuses", async () => {
    const store = setup(3);
    const tooLong = new CombinedError({ graphQLErrors: [{ message: "the description is longer than 2000 characters", extensions: { code: "BAD_USER_INPUT" } }] });
    const { client, sent } = fakeClient([() => ({ data: { describeWorkflow: workflow(4, [], "Stack", "Answers from the manual") } }), () => ({ error: tooLong })]);
    const commands = createCommands(client, store, "wf");
    const first = commands.describe("Answers from the manual");
    expect(store.getState().pending).toMatchObject([{ type: "describe", description: "Answers from the manual" }]);
    expect(await first).toBe(true);
    expect(store.getState().server?.description).toBe("Answers from the manual");
    expect(await commands.describe("x".repeat(2001))).toBe(false);
    expect(sent.map((s) => [s.op, s.vars.expectedVersion])).toEqual([
      ["DescribeWorkflowInBuilder", 3],
      ["DescribeWorkflowInBuilder", 4],
    ]);
    expect(store.getState().server?.description).toBe("Answers from the manual");
    expect(useToasts.getState().toasts.at(-1)?.title).toBe("Couldn't change the description: the description is longer than 2000 characters");
  });
});
