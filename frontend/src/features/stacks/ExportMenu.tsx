import { Download, FileArchive, FileJson, ScrollText } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { downloadFile } from "../../api/download";
import { Button } from "../../ui/Button";
import { toast } from "../../ui/toasts";

const CHOICES = [
  { file: "export.json", label: "Stack (JSON)", detail: "Graph and settings, never a key", icon: FileJson },
  { file: "export.zip", label: "Stack with documents (zip)", detail: "The JSON and its PDFs", icon: FileArchive },
  { file: "history.jsonl", label: "History (JSON Lines)", detail: "Every event, keys redacted", icon: ScrollText },
] as const;

/** Downloads of a stack: to move it to another server, or for an auditor. */
export function ExportMenu({ workflowId }: { workflowId: string }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const menu = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === "Escape" : !menu.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    document.addEventListener("keydown", close);
    return () => {
      document.removeEventListener("mousedown", close);
      document.removeEventListener("keydown", close);
    };
  }, [open]);

  async function download(file: string) {
    setOpen(false);
    setBusy(true);
    try {
      await downloadFile(`/stacks/${workflowId}/${file}`, `stack-${file}`);
    } catch (error) {
      toast.error("Couldn't download", error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="relative" ref={menu}>
      <Button size="sm" variant="ghost" icon={<Download className="size-4" />} loading={busy} onClick={() => setOpen((o) => !o)} aria-expanded={open} aria-haspopup="menu">
        Export
      </Button>
      {open && (
        <div role="menu" aria-label="Export" className="absolute top-10 right-0 z-30 w-72 animate-fade-in rounded-xl bg-white p-1.5 shadow-xl ring-1 ring-slate-900/10">
          {CHOICES.map(({ file, label, detail, icon: Icon }) => (
            <button
              key={file}
              type="button"
              role="menuitem"
              onClick={() => void download(file)}
              className="flex w-full items-start gap-2.5 rounded-lg px-2.5 py-2 text-left hover:bg-slate-50 focus-visible:bg-slate-50 focus-visible:outline-none"
            >
              <Icon className="mt-0.5 size-4 shrink-0 text-slate-500" aria-hidden />
              <span>
                <span className="block text-[13px] font-medium text-slate-800">{label}</span>
                <span className="block text-xs text-slate-500">{detail}</span>
              </span>
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
