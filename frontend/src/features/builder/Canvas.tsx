import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  Panel,
  ReactFlow,
  useConnection,
  useReactFlow,
  type Connection,
  type Edge,
  type FinalConnectionState,
  type IsValidConnection,
  type NodeChange,
  type OnDelete,
} from "@xyflow/react";
import { MousePointerClick } from "lucide-react";
import { useCallback, useRef, useState, type DragEvent } from "react";
import { toast } from "../../ui/toasts";
import type { StackFlowEdge, StackFlowNode } from "./canvasReducer";
import { useCommands } from "./context";
import { asConfig, type NodeKind } from "./graph";
import { KIND_LOOK } from "./nodes/kinds";
import { nodeTypes } from "./nodes/StackNode";
import { connectionRefusal, type Attempt } from "./ports";
import { useSpecs } from "./specs";
import { useCanvasStore } from "./store";

export const DRAG_MIME = "application/x-genai-stack-kind";

const defaultEdgeOptions = { type: "default" };
const proOptions = { hideAttribution: true };
const fitViewOptions = { padding: 0.12, maxZoom: 1.1 };
const DELETE_KEYS = ["Backspace", "Delete"];
const MINIMAP_SIZE = { width: 168, height: 112 };

function attemptOf(c: Connection | Edge): Attempt {
  return { source: c.source, target: c.target, sourceHandle: c.sourceHandle ?? null, targetHandle: c.targetHandle ?? null };
}

function refusalNow(attempt: Attempt): string | null {
  const { nodes, edges } = useCanvasStore.getState();
  const graphNodes = nodes.map((n) => ({ id: n.id, kind: n.data.kind }));
  const graphEdges = edges.map((e) => ({ ...e, sourceHandle: e.sourceHandle ?? null, targetHandle: e.targetHandle ?? null }));
  return connectionRefusal(attempt, graphNodes, graphEdges, useSpecs.getState().byKind);
}

function attemptFromState(state: {
  fromHandle: { nodeId: string; id?: string | null; type: "source" | "target" } | null;
  toHandle: { nodeId: string; id?: string | null; type: "source" | "target" } | null;
}): Attempt | null {
  const { fromHandle, toHandle } = state;
  if (!fromHandle || !toHandle) return null;
  const [src, dst] = fromHandle.type === "source" ? [fromHandle, toHandle] : [toHandle, fromHandle];
  if (src.type === dst.type) {
    return { source: src.nodeId, target: dst.nodeId, sourceHandle: src.type === "source" ? (src.id ?? null) : null, targetHandle: null };
  }
  return { source: src.nodeId, target: dst.nodeId, sourceHandle: src.id ?? null, targetHandle: dst.id ?? null };
}

/** While a connection is dragged over a port that refuses it, says why, next to the pointer. */
function ConnectionHint() {
  const connection = useConnection();
  if (!connection.inProgress || connection.isValid !== false) return null;
  const attempt = attemptFromState(connection);
  const reason = attempt ? refusalNow(attempt) : null;
  if (!reason) return null;
  // `to` is in the canvas element's pixels (not flow coordinates) while the target refuses.
  return (
    <div
      role="status"
      className="pointer-events-none absolute top-0 left-0 z-10 max-w-64 rounded-lg bg-slate-900 px-2.5 py-1.5 text-xs text-white shadow-lg"
      style={{ transform: `translate(${connection.to.x + 14}px, ${connection.to.y + 14}px)` }}
    >
      {reason}
    </div>
  );
}

function EmptyCanvasHint() {
  return (
    <Panel position="top-center" className="!pointer-events-none !mt-24">
      <div className="flex flex-col items-center rounded-2xl border border-dashed border-slate-300 bg-white/80 px-8 py-6 text-center backdrop-blur">
        <MousePointerClick className="mb-2 size-6 text-brand-500" aria-hidden />
        <p className="text-sm font-medium text-slate-700">Drag components here to start</p>
        <p className="mt-1 max-w-72 text-xs text-slate-500">
          A typical stack: User Query → Knowledge Base → LLM Engine → Output. Connect ports of the same name.
        </p>
      </div>
    </Panel>
  );
}

function minimapColor(node: StackFlowNode): string {
  return KIND_LOOK[node.data.kind]?.minimap ?? "#94a3b8";
}

export function Canvas() {
  const commands = useCommands();
  const { screenToFlowPosition } = useReactFlow();
  const preview = useCanvasStore((s) => s.preview);
  const liveNodes = useCanvasStore((s) => s.nodes);
  const liveEdges = useCanvasStore((s) => s.edges);
  const dispatch = useCanvasStore((s) => s.dispatch);
  const previewNodesChanged = useCanvasStore((s) => s.previewNodesChanged);
  const readOnly = !!preview;
  // Fit once to what was there on opening; an empty canvas keeps its zoom as nodes arrive.
  const [fitOnOpen] = useState(() => useCanvasStore.getState().nodes.length > 0);
  const nodes = preview ? preview.nodes : liveNodes;
  const edges = preview ? preview.edges : liveEdges;

  const isValidConnection: IsValidConnection<StackFlowEdge> = useCallback((c) => refusalNow(attemptOf(c)) === null, []);

  const onConnect = useCallback(
    (c: Connection) => {
      const reason = refusalNow(attemptOf(c));
      if (reason) {
        toast.warning("Can't connect these ports", reason);
        return;
      }
      void commands.connect({ source: c.source, target: c.target, sourceHandle: c.sourceHandle ?? null, targetHandle: c.targetHandle ?? null });
    },
    [commands],
  );

  const onConnectEnd = useCallback((_: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (state.isValid !== false) return;
    const attempt = attemptFromState(state);
    const reason = attempt && refusalNow(attempt);
    if (reason) toast.warning("Can't connect these ports", reason);
  }, []);

  const onDelete: OnDelete<StackFlowNode, StackFlowEdge> = useCallback(
    ({ nodes: gone, edges: cut }) => {
      const goneIds = new Set(gone.map((n) => n.id));
      for (const node of gone) void commands.removeNode(node.id);
      // Edges of a removed node go with it on the server.
      for (const edge of cut) if (!goneIds.has(edge.source) && !goneIds.has(edge.target)) void commands.disconnect(edge.id);
    },
    [commands],
  );

  // Mouse drags are sent once, when they end; arrow-key moves once the keys rest.
  const mouseDrag = useRef(false);
  const keyMoves = useRef(new Map<string, { x: number; y: number }>());
  const keyTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const onNodeDragStart = useCallback(() => {
    mouseDrag.current = true;
  }, []);
  const onNodeDragStop = useCallback(
    (_: unknown, _node: StackFlowNode, dragged: StackFlowNode[]) => {
      mouseDrag.current = false;
      for (const node of dragged) void commands.moveNode(node.id, node.position);
    },
    [commands],
  );
  const onSelectionDragStop = useCallback(
    (event: unknown, dragged: StackFlowNode[]) => onNodeDragStop(event, dragged[0], dragged),
    [onNodeDragStop],
  );
  const onNodesChange = useCallback(
    (changes: NodeChange<StackFlowNode>[]) => {
      dispatch({ type: "nodesChanged", changes });
      if (mouseDrag.current) return;
      for (const change of changes) {
        if (change.type === "position" && change.dragging === false && change.position) keyMoves.current.set(change.id, change.position);
      }
      if (keyMoves.current.size === 0) return;
      clearTimeout(keyTimer.current);
      keyTimer.current = setTimeout(() => {
        for (const [id, position] of keyMoves.current) void commands.moveNode(id, position);
        keyMoves.current.clear();
      }, 400);
    },
    [commands, dispatch],
  );

  const onDragOver = useCallback((e: DragEvent) => {
    if (!e.dataTransfer.types.includes(DRAG_MIME)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const kind = e.dataTransfer.getData(DRAG_MIME) as NodeKind;
      if (!kind || useCanvasStore.getState().preview) return;
      e.preventDefault();
      const at = screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addNodeAt(commands, kind, { x: at.x - 120, y: at.y - 40 });
    },
    [commands, screenToFlowPosition],
  );

  return (
    <ReactFlow<StackFlowNode, StackFlowEdge>
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      defaultEdgeOptions={defaultEdgeOptions}
      onNodesChange={readOnly ? previewNodesChanged : onNodesChange}
      onEdgesChange={readOnly ? undefined : (changes) => dispatch({ type: "edgesChanged", changes })}
      onConnect={onConnect}
      onConnectEnd={onConnectEnd}
      isValidConnection={isValidConnection}
      onDelete={onDelete}
      onNodeDragStart={onNodeDragStart}
      onNodeDragStop={onNodeDragStop}
      onSelectionDragStart={onNodeDragStart}
      onSelectionDragStop={onSelectionDragStop}
      onDragOver={onDragOver}
      onDrop={onDrop}
      nodesDraggable={!readOnly}
      nodesConnectable={!readOnly}
      elementsSelectable={!readOnly}
      deleteKeyCode={readOnly ? null : DELETE_KEYS}
      onlyRenderVisibleElements={nodes.length > 150}
      fitView={fitOnOpen}
      fitViewOptions={fitViewOptions}
      minZoom={0.1}
      maxZoom={2}
      proOptions={proOptions}
      aria-label={readOnly ? "Canvas of an earlier version (read-only)" : "Stack canvas"}
    >
      <Background variant={BackgroundVariant.Dots} gap={20} size={1.4} color="#cbd5e1" />
      <Controls showInteractive={false} position="bottom-left" fitViewOptions={fitViewOptions} />
      {nodes.length > 0 && <MiniMap<StackFlowNode> style={MINIMAP_SIZE} pannable zoomable nodeColor={minimapColor} nodeBorderRadius={6} maskColor="rgb(241 245 249 / 0.7)" ariaLabel="Mini map" />}
      {!readOnly && <ConnectionHint />}
      {!readOnly && nodes.length === 0 && <EmptyCanvasHint />}
    </ReactFlow>
  );
}

/** Adds a node of a kind with its schema defaults and selects it so its settings open. */
export function addNodeAt(commands: ReturnType<typeof useCommands>, kind: NodeKind, position: { x: number; y: number }): void {
  const spec = useSpecs.getState().byKind.get(kind);
  const schema = asConfig(spec?.configSchema);
  const properties = asConfig(schema.properties);
  const config = Object.fromEntries(
    Object.entries(properties)
      .map(([name, p]) => [name, asConfig(p).default] as const)
      .filter(([, value]) => value !== undefined),
  );
  const id = commands.addNode({ kind, label: spec?.title ?? kind, position: { x: Math.round(position.x), y: Math.round(position.y) }, config });
  const { nodes, dispatch } = useCanvasStore.getState();
  dispatch({
    type: "nodesChanged",
    changes: nodes.map((n) => ({ type: "select" as const, id: n.id, selected: n.id === id })),
  });
}
