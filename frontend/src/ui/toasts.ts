import { create } from "zustand";

export type ToastTone = "info" | "success" | "error" | "warning";

export interface Toast {
  id: number;
  tone: ToastTone;
  title: string;
  detail?: string;
}

interface ToastStore {
  toasts: Toast[];
  push: (toast: Omit<Toast, "id">, ttlMs?: number) => void;
  dismiss: (id: number) => void;
}

let nextId = 1;

export const useToasts = create<ToastStore>((set, get) => ({
  toasts: [],
  push: (toast, ttlMs = toast.tone === "error" ? 8000 : 4000) => {
    const id = nextId++;
    // Identical messages (a burst of failures) collapse into one.
    const others = get().toasts.filter((t) => !(t.title === toast.title && t.detail === toast.detail));
    set({ toasts: [...others.slice(-3), { ...toast, id }] });
    setTimeout(() => get().dismiss(id), ttlMs);
  },
  dismiss: (id) => set({ toasts: get().toasts.filter((t) => t.id !== id) }),
}));

export const toast = {
  info: (title: string, detail?: string) => useToasts.getState().push({ tone: "info", title, detail }),
  success: (title: string, detail?: string) => useToasts.getState().push({ tone: "success", title, detail }),
  warning: (title: string, detail?: string) => useToasts.getState().push({ tone: "warning", title, detail }),
  error: (title: string, detail?: string) => useToasts.getState().push({ tone: "error", title, detail }),
};
