import { create } from "zustand";
import type { NodeKind } from "./graph";
import type { PortSpec } from "./ports";

export interface ComponentSpec extends PortSpec {
  description: string;
  configSchema: unknown;
}

/** The `components` query's answer, shared by the library, the nodes and the config panel. */
export const useSpecs = create<{ byKind: Map<NodeKind, ComponentSpec>; list: ComponentSpec[] }>(() => ({
  byKind: new Map(),
  list: [],
}));

export function setSpecs(list: ComponentSpec[]): void {
  useSpecs.setState({ list, byKind: new Map(list.map((s) => [s.kind, s])) });
}
