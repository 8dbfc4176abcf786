import { Upload } from "lucide-react";
import { useRef, useState } from "react";
import { uploadFile } from "../../api/upload";
import type { ImportStackMutation as ImportStackResult } from "../../gql/graphql";
import { Button } from "../../ui/Button";
import { toast } from "../../ui/toasts";
import { ImportStackMutation } from "./operations";

type Imported = ImportStackResult["importStack"];

const SETTING_WORDS: Record<string, string> = { apiKey: "API key", webSearchApiKey: "web search key" };

/** What a person must still do after an import, in words; null when nothing. */
export function importFollowUp(imported: Imported): string | null {
  const parts: string[] = [];
  if (imported.keysToReenter.length > 0) {
    const keys = imported.keysToReenter.map((k) => `${k.label} (${SETTING_WORDS[k.setting] ?? k.setting})`);
    parts.push(`Enter the keys again, they never leave a server: ${keys.join(", ")}.`);
  }
  if (imported.documentsLeftOut > 0) {
    const n = imported.documentsLeftOut;
    parts.push(`${n} document${n === 1 ? " was" : "s were"} not in the file: upload ${n === 1 ? "it" : "them"} again, or export as a zip with documents.`);
  }
  return parts.length ? parts.join(" ") : null;
}

/** Imports a stack file (JSON) or archive (zip with its PDFs) as a new stack, and opens it. */
export function ImportStackButton({ onImported }: { onImported: (workflowId: string) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);

  async function importFile(file: File) {
    setBusy(true);
    try {
      const data = await uploadFile(ImportStackMutation, { file: null as unknown as File, name: null }, "file", file, () => undefined);
      const imported = data.importStack;
      const followUp = importFollowUp(imported);
      const docs = imported.documents.length;
      const title = `Imported “${imported.workflow.name}”${docs ? ` with ${docs} document${docs === 1 ? "" : "s"}` : ""}`;
      if (followUp) toast.warning(title, followUp);
      else toast.success(title);
      onImported(imported.workflow.id);
    } catch (error) {
      toast.error("Couldn't import this file", error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <input
        ref={input}
        type="file"
        accept=".json,.zip,application/json,application/zip"
        className="sr-only"
        tabIndex={-1}
        aria-label="Stack file to import"
        data-testid="import-stack-input"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = "";
          if (file) void importFile(file);
        }}
      />
      <Button icon={<Upload className="size-4" />} loading={busy} onClick={() => input.current?.click()} title="Import a stack exported from GenAI Stack (.json or .zip)">
        Import
      </Button>
    </>
  );
}
