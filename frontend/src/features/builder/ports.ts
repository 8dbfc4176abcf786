import type { GraphEdge, GraphNode, NodeKind } from "./graph";

export interface PortSpec {
  kind: NodeKind;
  title: string;
  inputs: string[];
  outputs: string[];
}

export interface Attempt {
  source: string | null;
  target: string | null;
  sourceHandle: string | null;
  targetHandle: string | null;
}

const PORT_MEANING: Record<string, string> = {
  query: "the question",
  context: "the retrieved passages",
  answer: "the answer",
};

function describePort(port: string): string {
  return PORT_MEANING[port] ? `“${port}” (${PORT_MEANING[port]})` : `“${port}”`;
}

/**
 * Why a connection is refused, in words for the person dragging it; null when it is allowed.
 * Mirrors the backend's rule: an output joins only an input of the same name.
 */
export function connectionRefusal(
  attempt: Attempt,
  nodes: ReadonlyArray<Pick<GraphNode, "id" | "kind">>,
  edges: ReadonlyArray<GraphEdge>,
  specs: ReadonlyMap<NodeKind, PortSpec>,
): string | null {
  const { source, target, sourceHandle, targetHandle } = attempt;
  if (!source || !target) return "Drop the connection on a port.";
  if (source === target) return "A node can't be connected to itself.";
  const from = nodes.find((n) => n.id === source);
  const to = nodes.find((n) => n.id === target);
  if (!from || !to) return "That node no longer exists.";
  const fromSpec = specs.get(from.kind);
  const toSpec = specs.get(to.kind);
  if (!fromSpec || !toSpec) return "Unknown component.";
  if (!sourceHandle || !fromSpec.outputs.includes(sourceHandle)) {
    return "Start a connection from an output port (on the right of a node).";
  }
  if (toSpec.inputs.length === 0) return `${toSpec.title} has no inputs: it is where a flow starts.`;
  if (!targetHandle || !toSpec.inputs.includes(targetHandle)) {
    return "End a connection on an input port (on the left of a node).";
  }
  if (sourceHandle !== targetHandle) {
    const accepts = toSpec.inputs.includes(sourceHandle)
      ? `Use its “${sourceHandle}” input instead.`
      : `${toSpec.title} doesn't take ${describePort(sourceHandle)}.`;
    return `${describePort(sourceHandle)} can't go into ${describePort(targetHandle)}. ${accepts}`;
  }
  const duplicate = edges.some(
    (e) =>
      e.source === source && e.target === target && e.sourceHandle === sourceHandle && e.targetHandle === targetHandle,
  );
  if (duplicate) return "These ports are already connected.";
  return null;
}
