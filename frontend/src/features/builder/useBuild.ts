import { useState } from "react";
import { useClient } from "urql";
import { describeError, errorCode, validationIssues } from "../../api/errors";
import { toast } from "../../ui/toasts";
import type { Commands } from "./commands";
import { PublishWorkflowMutation } from "./operations";
import { useCanvasStore } from "./store";

/** Build = validate and publish; refused builds put their issues on the nodes they concern. */
export function useBuild(workflowId: string, commands: Commands) {
  const client = useClient();
  const [building, setBuilding] = useState(false);

  async function build(): Promise<boolean> {
    setBuilding(true);
    await commands.idle(); // publish what the person sees, not an older graph
    const result = await client.mutation(PublishWorkflowMutation, { workflowId }).toPromise();
    setBuilding(false);
    const { dispatch } = useCanvasStore.getState();
    if (result.error || !result.data) {
      if (result.error && errorCode(result.error) === "INVALID_WORKFLOW") {
        const issues = validationIssues(result.error);
        dispatch({ type: "issuesShown", show: true });
        await commands.refresh();
        const general = issues.filter((i) => !i.nodeId).map((i) => i.message);
        toast.error(
          `Fix ${issues.length || "the"} issue${issues.length === 1 ? "" : "s"} to build`,
          general.length ? general.join(" ") : "They are marked on the nodes.",
        );
      } else {
        toast.error(result.error ? describeError(result.error, "build") : "The build got no answer.");
      }
      return false;
    }
    dispatch({ type: "issuesShown", show: false });
    await commands.refresh();
    toast.success(`Built and published v${result.data.publishWorkflow.number}`, "Open Chat to try it.");
    return true;
  }

  return { build, building };
}
