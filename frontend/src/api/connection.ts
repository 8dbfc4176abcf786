import { create } from "zustand";

export type LinkStatus = "connecting" | "live" | "offline";

/** The state of the WebSocket that carries live updates, shown in the builder's top bar. */
export const useLinkStatus = create<{ status: LinkStatus; reconnects: number }>(() => ({
  status: "connecting",
  reconnects: 0,
}));
