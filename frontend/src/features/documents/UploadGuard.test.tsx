import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createMemoryRouter, Link, RouterProvider } from "react-router";
import { beforeEach, describe, expect, it } from "vitest";
import { initialDocumentsState, useDocuments } from "./documentsStore";
import { UploadGuard, uploadsInFlight } from "./UploadGuard";

function app() {
  const router = createMemoryRouter(
    [
      {
        path: "/stacks/s1",
        element: (
          <>
            <UploadGuard />
            <Link to="/">My Stacks</Link>
          </>
        ),
      },
      { path: "/", element: <p>The stacks page</p> },
    ],
    { initialEntries: ["/stacks/s1"] },
  );
  render(<RouterProvider router={router} />);
  return router;
}

function startUpload(tempId = "u1") {
  act(() => useDocuments.getState().dispatch({ type: "uploadStarted", upload: { tempId, nodeId: "kb", filename: "a.pdf", size: 10, loaded: 3 } }));
}

function beforeUnloadIsRefused(): boolean {
  const event = new Event("beforeunload", { cancelable: true });
  window.dispatchEvent(event);
  return event.defaultPrevented;
}

beforeEach(() => useDocuments.setState({ ...initialDocumentsState }));

describe("UploadGuard", () => {
  it("counts the uploads still on their way, not the failed ones", () => {
    expect(uploadsInFlight({ uploads: [] })).toBe(0);
    expect(
      uploadsInFlight({
        uploads: [
          { tempId: "a", nodeId: "kb", filename: "a.pdf", size: 10, loaded: 10 },
          { tempId: "b", nodeId: "kb", filename: "b.pdf", size: 10, loaded: 2, error: "Too large" },
        ],
      }),
    ).toBe(1);
  });

  it("lets a person leave freely when nothing is uploading", async () => {
    const router = app();
    expect(beforeUnloadIsRefused()).toBe(false);
    await userEvent.setup().click(screen.getByRole("link", { name: "My Stacks" }));
    expect(router.state.location.pathname).toBe("/");
  });

  it("asks before leaving with an upload in flight, and stays when asked to", async () => {
    const router = app();
    startUpload();
    expect(beforeUnloadIsRefused()).toBe(true);
    const user = userEvent.setup();
    await user.click(screen.getByRole("link", { name: "My Stacks" }));
    expect(screen.getByText(/A file is still uploading/)).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Stay" }));
    expect(router.state.location.pathname).toBe("/stacks/s1");

    await user.click(screen.getByRole("link", { name: "My Stacks" }));
    await user.click(screen.getByRole("button", { name: "Leave anyway" }));
    expect(router.state.location.pathname).toBe("/");
  });

  it("lets the person go once the upload it asked about has finished", async () => {
    const router = app();
    startUpload();
    await userEvent.setup().click(screen.getByRole("link", { name: "My Stacks" }));
    act(() => useDocuments.getState().dispatch({ type: "uploadDismissed", tempId: "u1" }));
    await screen.findByText("The stacks page");
    expect(router.state.location.pathname).toBe("/");
    expect(beforeUnloadIsRefused()).toBe(false);
  });
});
