import { CheckCircle2, FileText, FileUp, RotateCw, Trash2, XCircle } from "lucide-react";
import { useId, useRef, useState, type DragEvent } from "react";
import { useClient } from "urql";
import { useShallow } from "zustand/react/shallow";
import { describeError } from "../../api/errors";
import { uploadFile, UploadError } from "../../api/upload";
import { Button, IconButton } from "../../ui/Button";
import { cx } from "../../ui/cx";
import { fileSize } from "../../ui/time";
import { toast } from "../../ui/toasts";
import { newId } from "../builder/graph";
import { useCanvasStore } from "../builder/store";
import { docsFor, generationNote, progressOf, uploadsFor, useDocuments, type Doc, type Upload } from "./documentsStore";
import { ReindexDocumentMutation, RemoveDocumentMutation, UploadDocumentMutation } from "./operations";

const MAX_BYTES = 50 * 1024 * 1024;

function plural(count: number | null | undefined, word: string): string {
  if (count == null) return `? ${word}s`;
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function ProgressBar({ percent, tone, label }: { percent: number; tone: "active" | "done" | "failed"; label: string }) {
  return (
    <div
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      aria-label={label}
      className="h-1.5 overflow-hidden rounded-full bg-slate-100"
    >
      <div
        className={cx(
          "h-full rounded-full transition-[width] duration-500",
          tone === "done" && "bg-emerald-500",
          tone === "failed" && "bg-red-400",
          tone === "active" &&
            "animate-stripes bg-brand-500 bg-[length:24px_24px] bg-[linear-gradient(45deg,rgb(255_255_255/0.25)_25%,transparent_25%,transparent_50%,rgb(255_255_255/0.25)_50%,rgb(255_255_255/0.25)_75%,transparent_75%)]",
        )}
        style={{ width: `${percent}%` }}
      />
    </div>
  );
}

function DocumentRow({
  item,
  note,
  onRemove,
  onDismiss,
  onRetry,
}: {
  item: Doc | Upload;
  /** What the published version answers from meanwhile, when the draft's settings differ. */
  note?: string | null;
  onRemove?: () => void;
  onDismiss?: () => void;
  onRetry?: () => Promise<void>;
}) {
  const [retrying, setRetrying] = useState(false);
  const progress = progressOf(item);
  const isUpload = "tempId" in item;
  const name = item.filename;
  const size = isUpload ? item.size : item.sizeBytes;
  const done = !isUpload && item.status === "INDEXED";
  const failed = progress.tone === "failed";
  const retry =
    onRetry &&
    (async () => {
      setRetrying(true);
      await onRetry();
      setRetrying(false);
    });
  return (
    <li className={cx("rounded-xl border bg-white px-3 py-2.5", failed ? "border-red-200" : "border-slate-200")} data-testid="document-row" data-status={isUpload ? "UPLOADING" : item.status}>
      <div className="flex items-start gap-2.5">
        <span className={cx("mt-0.5 flex size-7 shrink-0 items-center justify-center rounded-lg", failed ? "bg-red-50 text-red-500" : done ? "bg-emerald-50 text-emerald-600" : "bg-slate-100 text-slate-500")}>
          {failed ? <XCircle className="size-4" aria-hidden /> : done ? <CheckCircle2 className="size-4" aria-hidden /> : <FileText className="size-4" aria-hidden />}
        </span>
        <div className="min-w-0 flex-1">
          <p className="truncate text-[13px] font-medium text-slate-800" title={name}>
            {name}
          </p>
          <p className={cx("text-xs", failed ? "font-medium text-red-600" : "text-slate-500")} data-testid="document-progress">
            {done
              ? `${plural(item.pageCount, "page")} · ${plural(item.chunkCount, "passage")} · ${fileSize(size)}`
              : `${progress.label}${failed ? "" : ` · ${fileSize(size)}`}`}
          </p>
          {note && (
            <p className="mt-0.5 text-[11px] leading-snug text-slate-400" data-testid="document-generation">
              {note}
            </p>
          )}
        </div>
        {onRemove && (
          <IconButton label={`Remove ${name}`} tone="danger" onClick={onRemove} className="size-7">
            <Trash2 className="size-3.5" />
          </IconButton>
        )}
        {onDismiss && (
          <IconButton label={`Dismiss ${name}`} onClick={onDismiss} className="size-7">
            <XCircle className="size-3.5" />
          </IconButton>
        )}
      </div>
      {!done && !failed && (
        <div className="mt-2">
          <ProgressBar percent={progress.percent} tone={progress.tone} label={`${name}: ${progress.label}`} />
        </div>
      )}
      {(progress.detail || retry) && (
        <div className="mt-2 pl-[38px]">
          {progress.detail && (
            <p className="rounded-lg bg-red-50 px-2.5 py-2 text-xs leading-relaxed text-red-700 ring-1 ring-red-100">{progress.detail}</p>
          )}
          {retry && (
            <Button
              size="sm"
              className="mt-2 h-7 px-2.5 text-xs"
              icon={<RotateCw className="size-3.5" />}
              loading={retrying}
              onClick={() => void retry()}
              aria-label={`Retry ${name}`}
            >
              Retry
            </Button>
          )}
        </div>
      )}
    </li>
  );
}

/** The knowledge base's PDFs: upload with progress, status, counts, errors, remove. */
export function DocumentsSection({ nodeId }: { nodeId: string }) {
  const client = useClient();
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const workflowId = useCanvasStore((s) => s.workflowId);
  const docs = useDocuments(useShallow((s) => docsFor(s, nodeId)));
  const uploads = useDocuments(useShallow((s) => uploadsFor(s, nodeId)));
  const dispatch = useDocuments((s) => s.dispatch);
  const latestPublished = useCanvasStore((s) => s.server?.latestPublished ?? null);

  async function upload(file: File) {
    if (!workflowId) return;
    const tempId = newId("upload");
    if (file.type && file.type !== "application/pdf" && !file.name.toLowerCase().endsWith(".pdf")) {
      toast.error(`“${file.name}” isn't a PDF`, "Only PDF files can be added to a knowledge base.");
      return;
    }
    if (file.size > MAX_BYTES) {
      toast.error(`“${file.name}” is too large`, `The limit is ${fileSize(MAX_BYTES)}.`);
      return;
    }
    dispatch({ type: "uploadStarted", upload: { tempId, nodeId, filename: file.name, size: file.size, loaded: 0 } });
    try {
      const data = await uploadFile(UploadDocumentMutation, { workflowId, nodeId, file: null as unknown as File }, "file", file, (p) =>
        dispatch({ type: "uploadProgress", tempId, loaded: p.loaded }),
      );
      dispatch({ type: "uploadFinished", tempId, doc: data.uploadDocument });
    } catch (error) {
      dispatch({ type: "uploadFailed", tempId, error: error instanceof UploadError ? error.message : "Upload failed." });
    }
  }

  function pick(files: FileList | null) {
    for (const file of Array.from(files ?? [])) void upload(file);
    if (input.current) input.current.value = "";
  }

  async function reindex(doc: Doc) {
    const result = await client.mutation(ReindexDocumentMutation, { id: doc.id }).toPromise();
    if (result.error || !result.data) toast.error(result.error ? describeError(result.error, `index “${doc.filename}” again`) : "The retry got no answer.");
    else dispatch({ type: "changed", doc: result.data.reindexDocument });
  }

  async function remove(doc: Doc) {
    const result = await client.mutation(RemoveDocumentMutation, { id: doc.id }).toPromise();
    if (result.error) toast.error(describeError(result.error, `remove “${doc.filename}”`));
    else dispatch({ type: "removed", id: doc.id });
  }

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    pick(e.dataTransfer.files);
  };

  return (
    <section aria-labelledby={`${inputId}-title`}>
      <div className="mb-3 flex items-baseline justify-between">
        <h3 id={`${inputId}-title`} className="text-[13px] font-semibold text-slate-800">
          Documents
        </h3>
        <span className="text-xs text-slate-500">
          {docs.length} file{docs.length === 1 ? "" : "s"}
        </span>
      </div>
      <label
        htmlFor={inputId}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        className={cx(
          "flex cursor-pointer flex-col items-center justify-center rounded-xl border-2 border-dashed px-4 py-5 text-center transition-colors",
          over ? "border-brand-400 bg-brand-50" : "border-slate-200 bg-slate-50/60 hover:border-brand-300 hover:bg-brand-50/40",
        )}
      >
        <FileUp className="mb-1.5 size-5 text-brand-500" aria-hidden />
        <span className="text-[13px] font-medium text-slate-700">Drop PDFs here or browse</span>
        <span className="mt-0.5 text-xs text-slate-500">Up to {fileSize(MAX_BYTES)} each; indexed in the background</span>
        <input
          ref={input}
          id={inputId}
          type="file"
          accept="application/pdf,.pdf"
          multiple
          className="sr-only"
          aria-label="Upload PDF documents"
          onChange={(e) => pick(e.target.files)}
        />
      </label>
      {(uploads.length > 0 || docs.length > 0) && (
        <ul className="mt-3 space-y-2" aria-label="Documents of this knowledge base">
          {uploads.map((u) => (
            <DocumentRow key={u.tempId} item={u} onDismiss={u.error ? () => dispatch({ type: "uploadDismissed", tempId: u.tempId }) : undefined} />
          ))}
          {docs.map((d) => (
            <DocumentRow
              key={d.id}
              item={d}
              note={generationNote(d, latestPublished)}
              onRemove={() => void remove(d)}
              onRetry={d.status === "FAILED" ? () => reindex(d) : undefined}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
