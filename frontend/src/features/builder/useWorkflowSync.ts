import { useCallback, useEffect, useState } from "react";
import { useClient, type CombinedError } from "urql";
import { useLinkStatus } from "../../api/connection";
import { DocumentEventsSubscription, DocumentsQuery } from "../documents/operations";
import { useDocuments } from "../documents/documentsStore";
import { isBehind } from "./canvasReducer";
import type { Commands } from "./commands";
import { toSnapshot } from "./graph";
import { BuilderQuery, WorkflowEventsSubscription } from "./operations";
import { setSpecs } from "./specs";
import { useCanvasStore } from "./store";

export type LoadState = { status: "loading" } | { status: "ready" } | { status: "notFound" } | { status: "error"; error: CombinedError };

/** Our own edits announce themselves too; give their answers a moment before refetching. */
const REFETCH_DELAY_MS = 150;
/** How often the documents are read again while one is still being indexed. */
const PENDING_REREAD_MS = 3_000;

/**
 * Loads a workflow into the canvas store and keeps it live: workflowEvents announce new
 * versions (refetched when beyond the store's), documentEvents update documents, and a
 * reconnected socket triggers a refetch of whatever was missed.
 */
export function useWorkflowSync(workflowId: string, commands: Commands): { load: LoadState; retry: () => void } {
  const client = useClient();
  const [load, setLoad] = useState<LoadState>({ status: "loading" });
  const [attempt, setAttempt] = useState(0);
  const reconnects = useLinkStatus((s) => s.reconnects);

  // Documents load on their own: the canvas must open even if they fail to.
  const loadDocuments = useCallback(async () => {
    const asOf = useDocuments.getState().tick;
    const result = await client.query(DocumentsQuery, { id: workflowId }, { requestPolicy: "network-only" }).toPromise();
    const docs = result.data?.workflow?.documents;
    if (docs) useDocuments.getState().dispatch({ type: "loaded", docs, asOf });
  }, [client, workflowId]);

  useEffect(() => {
    let cancelled = false;
    useCanvasStore.getState().dispatch({ type: "reset", workflowId });
    useCanvasStore.getState().setPreview(null);
    useDocuments.getState().dispatch({ type: "reset", workflowId });
    setLoad({ status: "loading" });
    client
      .query(BuilderQuery, { id: workflowId }, { requestPolicy: "network-only" })
      .toPromise()
      .then((result) => {
        if (cancelled) return;
        if (result.error) return setLoad({ status: "error", error: result.error });
        if (!result.data?.workflow) return setLoad({ status: "notFound" });
        setSpecs(result.data.components.map((c) => ({ ...c })));
        useCanvasStore.getState().dispatch({ type: "loaded", workflow: toSnapshot(result.data.workflow) });
        setLoad({ status: "ready" });
      });
    void loadDocuments();
    return () => {
      cancelled = true;
    };
  }, [client, workflowId, attempt, loadDocuments]);

  useEffect(() => {
    const events = client.subscription(WorkflowEventsSubscription, { workflowId }).subscribe((result) => {
      const event = result.data?.workflowEvents;
      if (event) useCanvasStore.getState().dispatch({ type: "eventReceived", event });
    });
    const documents = client.subscription(DocumentEventsSubscription, { workflowId }).subscribe((result) => {
      const doc = result.data?.documentEvents;
      if (doc) useDocuments.getState().dispatch({ type: "changed", doc });
    });
    return () => {
      events.unsubscribe();
      documents.unsubscribe();
    };
  }, [client, workflowId]);

  // Refetch when an event announced a version beyond the store's: one fetch at a time.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    const check = () => {
      if (timer || inFlight || !isBehind(useCanvasStore.getState())) return;
      timer = setTimeout(async () => {
        timer = undefined;
        if (!isBehind(useCanvasStore.getState())) return;
        inFlight = true;
        await commands.refresh();
        inFlight = false;
        check();
      }, REFETCH_DELAY_MS);
    };
    const unsubscribe = useCanvasStore.subscribe(check);
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [commands]);

  // A document's change that lands between the documents' read and the subscription's start
  // reaches neither: while a document is still being indexed, its list is read again now and
  // then (the store keeps the later of two states), so the panel cannot stay on "indexing".
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const pending = () => Object.values(useDocuments.getState().docs).some((doc) => doc.status === "PENDING");
    const check = () => {
      if (stopped || timer || !pending()) return;
      timer = setTimeout(async () => {
        try {
          await loadDocuments();
        } catch {
          // the next turn reads again
        } finally {
          timer = undefined;
          check();
        }
      }, PENDING_REREAD_MS);
    };
    check();
    const unsubscribe = useDocuments.subscribe(check);
    return () => {
      stopped = true;
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [loadDocuments]);

  useEffect(() => {
    if (reconnects === 0) return;
    void commands.refresh();
    void loadDocuments();
  }, [reconnects, commands, loadDocuments]);

  return { load, retry: () => setAttempt((n) => n + 1) };
}
