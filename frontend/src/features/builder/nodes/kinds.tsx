import { BookOpenText, BrainCircuit, MessageCircleQuestion, MonitorCheck, type LucideIcon } from "lucide-react";
import type { NodeKind } from "../graph";

export interface KindLook {
  icon: LucideIcon;
  /** Classes for the icon tile. */
  tile: string;
  minimap: string;
}

export const KIND_LOOK: Record<NodeKind, KindLook> = {
  USER_QUERY: { icon: MessageCircleQuestion, tile: "bg-sky-50 text-sky-600 ring-sky-200", minimap: "#0ea5e9" },
  KNOWLEDGE_BASE: { icon: BookOpenText, tile: "bg-emerald-50 text-emerald-600 ring-emerald-200", minimap: "#10b981" },
  LLM_ENGINE: { icon: BrainCircuit, tile: "bg-violet-50 text-violet-600 ring-violet-200", minimap: "#8b5cf6" },
  OUTPUT: { icon: MonitorCheck, tile: "bg-amber-50 text-amber-600 ring-amber-200", minimap: "#f59e0b" },
};

export const KIND_TITLE: Record<NodeKind, string> = {
  USER_QUERY: "User Query",
  KNOWLEDGE_BASE: "Knowledge Base",
  LLM_ENGINE: "LLM Engine",
  OUTPUT: "Output",
};

export const PORT_DOT: Record<string, string> = {
  query: "!bg-sky-500",
  context: "!bg-emerald-500",
  answer: "!bg-violet-500",
};
