import { useEffect } from "react";
import { useBlocker } from "react-router";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { useDocuments, type DocumentsState } from "./documentsStore";

/** Uploads whose file has not reached the server yet (an upload's row stays until its answer). */
export function uploadsInFlight(state: Pick<DocumentsState, "uploads">): number {
  return state.uploads.filter((u) => u.error === undefined).length;
}

/**
 * Asks before a person leaves while files are still being uploaded: leaving stops them, and
 * the files would not be added. A reload or a closed tab gets the browser's own question; a
 * link within the app gets ours.
 */
export function UploadGuard() {
  const inFlight = useDocuments(uploadsInFlight);
  const blocker = useBlocker(({ currentLocation, nextLocation }) => inFlight > 0 && currentLocation.pathname !== nextLocation.pathname);

  useEffect(() => {
    if (inFlight === 0) return;
    const ask = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = ""; // older browsers ask only when this is set
    };
    window.addEventListener("beforeunload", ask);
    return () => window.removeEventListener("beforeunload", ask);
  }, [inFlight]);

  // Finished meanwhile: nothing is lost by leaving now.
  useEffect(() => {
    if (blocker.state === "blocked" && inFlight === 0) blocker.proceed();
  }, [blocker, inFlight]);

  const files = inFlight === 1 ? "A file is" : `${inFlight} files are`;
  return (
    <Dialog
      open={blocker.state === "blocked"}
      onClose={() => blocker.reset?.()}
      size="sm"
      title="Leave while uploading?"
      description={`${files} still uploading. If you leave now, the upload stops and the file won't be added to the knowledge base.`}
      footer={
        <>
          <Button variant="ghost" onClick={() => blocker.proceed?.()}>
            Leave anyway
          </Button>
          <Button variant="primary" onClick={() => blocker.reset?.()}>
            Stay
          </Button>
        </>
      }
    />
  );
}
