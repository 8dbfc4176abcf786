import type { Client, CombinedError, OperationResult } from "urql";
import { describeError, errorCode } from "../../api/errors";
import { toast } from "../../ui/toasts";
import type { PendingOp } from "./canvasReducer";
import { newId, toSnapshot, type Config, type GraphEdge, type GraphNode, type XY } from "./graph";
import {
  ProviderModelsQuery,
  AddNodeMutation,
  ConfigureNodeMutation,
  ConnectNodesMutation,
  DescribeWorkflowMutation,
  DisconnectNodesMutation,
  MoveNodeMutation,
  RelabelNodeMutation,
  RemoveNodeMutation,
  RedoWorkflowMutation,
  RenameWorkflowMutation,
  UndoWorkflowMutation,
  WorkflowQuery,
} from "./operations";
import type { WorkflowGraphFragment } from "../../gql/graphql";
import type { useCanvasStore } from "./store";

export type ModelList = { models: Array<{ name: string; detail: string }> } | { error: string };

type Store = typeof useCanvasStore;
type Sent = Promise<{ workflow: WorkflowGraphFragment | null | undefined; error?: CombinedError }>;

const ACTIONS: Record<PendingOp["type"], string> = {
  addNode: "add the node",
  moveNode: "move the node",
  relabelNode: "rename the node",
  configureNode: "save the settings",
  removeNode: "delete the node",
  connect: "connect the nodes",
  disconnect: "remove the connection",
  rename: "rename the stack",
  describe: "change the description",
  undo: "undo",
  redo: "redo",
};

function unwrap<T>(result: OperationResult<T>, pick: (data: T) => WorkflowGraphFragment): Awaited<Sent> {
  if (result.error || !result.data) return { workflow: null, error: result.error };
  return { workflow: pick(result.data) };
}

/**
 * Canvas edits: each is drawn at once (a pending op), then sent. Sends go one at a time, in
 * order, so that an edge never reaches the server before the node it joins.
 */
export function createCommands(client: Client, store: Store, workflowId: string) {
  let queue: Promise<void> = Promise.resolve();

  async function refresh(): Promise<void> {
    const result = await client.query(WorkflowQuery, { id: workflowId }, { requestPolicy: "network-only" }).toPromise();
    if (result.data?.workflow) store.getState().dispatch({ type: "loaded", workflow: toSnapshot(result.data.workflow) });
  }

  function run(op: PendingOp, send: () => Sent): Promise<boolean> {
    const { dispatch } = store.getState();
    dispatch({ type: "opStarted", op });
    const done = queue.then(async () => {
      const { workflow, error } = await send();
      if (workflow) {
        dispatch({ type: "opSucceeded", opId: op.opId, workflow: toSnapshot(workflow) });
        return true;
      }
      dispatch({ type: "opFailed", opId: op.opId });
      if (error && errorCode(error) === "CONFLICT") {
        toast.warning("This stack changed in another window", "The canvas was refreshed; your last change was not applied.");
        await refresh();
      } else if (error) {
        toast.error(describeError(error, ACTIONS[op.type]));
        if (errorCode(error) === "NOT_FOUND") await refresh();
      }
      return false;
    });
    queue = done.then(() => undefined);
    return done;
  }

  const expectedVersion = () => store.getState().server?.version;

  /** The models of a provider's server (Ollama's), for the model picker: the names, or why not. */
  async function listModels(provider: string, baseUrl: string | null): Promise<ModelList> {
    const result = await client.query(ProviderModelsQuery, { workflowId, provider, baseUrl }, { requestPolicy: "network-only" }).toPromise();
    if (result.error || !result.data) return { error: result.error ? describeError(result.error) : "No answer from the server." };
    return { models: result.data.providerModels.map((m) => ({ name: m.name, detail: [m.parameterSize, m.quantization].filter(Boolean).join(" ") })) };
  }

  return {
    workflowId,
    listModels,
    refresh,
    /** Resolves once every edit sent so far has been answered. */
    idle: () => queue,
    addNode(node: Omit<GraphNode, "id">) {
      const full: GraphNode = { ...node, id: newId(node.kind.toLowerCase()) };
      void run({ opId: newId("op"), type: "addNode", node: full }, async () =>
        unwrap(
          await client
            .mutation(AddNodeMutation, { workflowId, kind: full.kind, position: full.position, nodeId: full.id })
            .toPromise(),
          (d) => d.addNode,
        ),
      );
      return full.id;
    },
    moveNode(nodeId: string, position: XY) {
      const rounded = { x: Math.round(position.x), y: Math.round(position.y) };
      return run({ opId: newId("op"), type: "moveNode", nodeId, position: rounded }, async () =>
        unwrap(await client.mutation(MoveNodeMutation, { workflowId, nodeId, position: rounded }).toPromise(), (d) => d.moveNode),
      );
    },
    relabelNode(nodeId: string, label: string) {
      return run({ opId: newId("op"), type: "relabelNode", nodeId, label }, async () =>
        unwrap(
          await client
            .mutation(RelabelNodeMutation, { workflowId, nodeId, label, expectedVersion: expectedVersion() })
            .toPromise(),
          (d) => d.relabelNode,
        ),
      );
    },
    /**
     * Sends only the keys that changed (null removes one; a stored secret is kept by omitting it).
     * `shownPatch` is what the canvas draws meanwhile: new secrets masked, never held as typed.
     */
    configureNode(nodeId: string, patch: Config, shownPatch: Config = patch) {
      return run({ opId: newId("op"), type: "configureNode", nodeId, patch: shownPatch }, async () =>
        unwrap(
          await client
            .mutation(ConfigureNodeMutation, { workflowId, nodeId, config: patch, expectedVersion: expectedVersion() })
            .toPromise(),
          (d) => d.configureNode,
        ),
      );
    },
    removeNode(nodeId: string) {
      return run({ opId: newId("op"), type: "removeNode", nodeId }, async () =>
        unwrap(await client.mutation(RemoveNodeMutation, { workflowId, nodeId }).toPromise(), (d) => d.removeNode),
      );
    },
    connect(edge: Omit<GraphEdge, "id">) {
      const full: GraphEdge = { ...edge, id: newId("edge") };
      return run({ opId: newId("op"), type: "connect", edge: full }, async () =>
        unwrap(
          await client
            .mutation(ConnectNodesMutation, {
              workflowId,
              source: full.source,
              target: full.target,
              sourceHandle: full.sourceHandle,
              targetHandle: full.targetHandle,
              edgeId: full.id,
            })
            .toPromise(),
          (d) => d.connectNodes,
        ),
      );
    },
    disconnect(edgeId: string) {
      return run({ opId: newId("op"), type: "disconnect", edgeId }, async () =>
        unwrap(await client.mutation(DisconnectNodesMutation, { workflowId, edgeId }).toPromise(), (d) => d.disconnectNodes),
      );
    },
    rename(name: string) {
      return run({ opId: newId("op"), type: "rename", name }, async () =>
        unwrap(
          await client.mutation(RenameWorkflowMutation, { id: workflowId, name, expectedVersion: expectedVersion() }).toPromise(),
          (d) => d.renameWorkflow,
        ),
      );
    },
    /** Takes back this person's latest change (after the edits still being sent). */
    undo() {
      return run({ opId: newId("op"), type: "undo" }, async () =>
        unwrap(await client.mutation(UndoWorkflowMutation, { workflowId }).toPromise(), (d) => d.undoWorkflow),
      );
    },
    redo() {
      return run({ opId: newId("op"), type: "redo" }, async () =>
        unwrap(await client.mutation(RedoWorkflowMutation, { workflowId }).toPromise(), (d) => d.redoWorkflow),
      );
    },
    describe(description: string) {
      return run({ opId: newId("op"), type: "describe", description }, async () =>
        unwrap(
          await client
            .mutation(DescribeWorkflowMutation, { id: workflowId, description, expectedVersion: expectedVersion() })
            .toPromise(),
          (d) => d.describeWorkflow,
        ),
      );
    },
  };
}

export type Commands = ReturnType<typeof createCommands>;
