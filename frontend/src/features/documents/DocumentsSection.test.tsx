import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { CombinedError, Provider } from "urql";
import { beforeEach, describe, expect, it } from "vitest";
import { fakeClient, type Reply } from "../../test/fakeClient";
import { useToasts } from "../../ui/toasts";
import { snapshot } from "../../test/fixtures";
import { useCanvasStore } from "../builder/store";
import { DocumentsSection } from "./DocumentsSection";
import { useDocuments, type Doc } from "./documentsStore";

function doc(partial: Partial<Doc> = {}): Doc {
  return {
    id: "d1",
    workflowId: "wf",
    nodeId: "kb",
    filename: "manual.pdf",
    sizeBytes: 4096,
    status: "FAILED",
    pageCount: null,
    chunkCount: null,
    error: "The embedding service refused the key.",
    failedStage: "embed",
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:00:05+00:00",
    progress: null,
    indexes: [],
    ...partial,
  };
}

function setup(reply: () => Reply) {
  const { client, sent } = fakeClient([reply]);
  render(
    <Provider value={client}>
      <DocumentsSection nodeId="kb" />
    </Provider>,
  );
  return { sent, user: userEvent.setup(), row: () => screen.getByTestId("document-row") };
}

beforeEach(() => {
  useCanvasStore.getState().dispatch({ type: "reset", workflowId: "wf" });
  useDocuments.getState().dispatch({ type: "reset", workflowId: "wf" });
  useDocuments.getState().dispatch({ type: "changed", doc: doc() });
});

describe("DocumentsSection", () => {
  it("shows where a document failed and why, and retries it", async () => {
    const { user, sent, row } = setup(() => ({ data: { reindexDocument: doc({ status: "PENDING", error: null, failedStage: null, updatedAt: "2026-01-01T00:01:00+00:00" }) } }));
    expect(within(row()).getByText("Couldn't embed the passages")).toBeTruthy();
    expect(within(row()).getByText("The embedding service refused the key.")).toBeTruthy();
    await user.click(within(row()).getByRole("button", { name: "Retry manual.pdf" }));
    expect(sent).toEqual([{ op: "ReindexDocument", vars: { id: "d1" } }]);
    expect(row().dataset.status).toBe("PENDING");
    expect(within(row()).queryByRole("button", { name: /Retry/ })).toBeNull();
    expect(within(row()).getByRole("progressbar").getAttribute("aria-label")).toBe("manual.pdf: Waiting to be indexed…");

    // documentEvents then report the pages read and the passages embedded.
    useDocuments.getState().dispatch({
      type: "changed",
      doc: doc({
        status: "PENDING",
        error: null,
        failedStage: null,
        updatedAt: "2026-01-01T00:01:00+00:00",
        progress: { stage: "embedding", indexKey: null, pagesExtracted: 100, pageTotal: 100, chunksEmbedded: 40, chunkTotal: 310, fraction: 0.3 },
      }),
    });
    const bar = await within(row()).findByRole("progressbar", { name: "manual.pdf: Embedding 40 of 310 passages" });
    expect(Number(bar.getAttribute("aria-valuenow"))).toBe(44);
    expect(within(row()).getByTestId("document-progress").textContent).toBe("Embedding 40 of 310 passages · 4 KB");
  });

  it("keeps the failure and says why when the retry is refused", async () => {
    const { user, row } = setup(() => ({ error: new CombinedError({ graphQLErrors: [{ message: "there is no document d1", extensions: { code: "NOT_FOUND" } }] }) }));
    await user.click(within(row()).getByRole("button", { name: "Retry manual.pdf" }));
    expect(row().dataset.status).toBe("FAILED");
    expect(within(row()).getByRole("button", { name: "Retry manual.pdf" })).toBeTruthy();
    expect(useToasts.getState().toasts.at(-1)?.title).toMatch(/^Couldn't index “manual.pdf” again/);
  });

  it("says, unobtrusively, that the published version answers from the current index while the draft's settings are indexed", async () => {
    useCanvasStore.getState().dispatch({ type: "loaded", workflow: snapshot({ id: "wf", latestPublished: 2 }) });
    const live = { key: "k300", status: "INDEXED" as const, chunkCount: 10, chunkSize: 300, chunkOverlap: 0, embeddingModel: "m", draft: false, live: true };
    const draft = { ...live, key: "k1000", status: "PENDING" as const, chunkCount: null, chunkSize: 1000, draft: true, live: false };
    useDocuments.getState().dispatch({
      type: "changed",
      doc: doc({ status: "PENDING", error: null, failedStage: null, updatedAt: "2026-01-01T00:01:00+00:00", indexes: [live, draft] }),
    });
    const { row } = setup(() => ({ data: {} }));
    expect(within(row()).getByTestId("document-generation").textContent).toBe(
      "Indexing for the new settings · published v2 still answers from the current index",
    );
    expect(within(row()).getByRole("progressbar").getAttribute("aria-label")).toBe("manual.pdf: Waiting to be indexed…");

    useDocuments.getState().dispatch({
      type: "changed",
      doc: doc({ status: "INDEXED", error: null, failedStage: null, updatedAt: "2026-01-01T00:02:00+00:00", indexes: [live, { ...draft, status: "INDEXED", chunkCount: 3 }] }),
    });
    expect(
      await within(row()).findByText("Ready for the new settings · published v2 answers from the previous index until you build"),
    ).toBeTruthy();
  });
});
